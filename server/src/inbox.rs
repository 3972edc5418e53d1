//! The inbox as the routes meet it: the storing and admission live in
//! `jobs::inbox`; what belongs to HTTP (the header map) is turned into what
//! the inbox keeps here.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

pub use jobs::inbox::{Delivery, record};

/// Headers are kept for the audit, except secrets.
pub fn headers_json(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        let shown = if is_secret_header(name) {
            "<redacted>".to_string()
        } else {
            value.to_str().unwrap_or("<binary>").to_string()
        };
        map.insert(name.to_string(), Value::String(shown));
    }
    Value::Object(map)
}

fn is_secret_header(name: &str) -> bool {
    matches!(name, "authorization" | "x-drchrono-signature" | "x-deepcura-secret" | "cookie")
}
