//! Request ids: an incoming `X-Request-Id` is kept when it is a sane token,
//! otherwise a ULID is made. Handlers read it as an extension and put it in
//! their bodies and logs; the response always carries it in `X-Request-Id`.
//! [`current`] gives it to code that sees no request, such as an error's
//! response, so every 5xx body names the id its log line carries.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument as _;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest incoming id kept; longer ones are replaced, so a sender cannot
/// bloat our logs and rows.
const MAX_LEN: usize = 128;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being answered, when inside one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Letters, digits and `-_.:` only: safe in a header, a log line and a URL.
fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

pub async fn assign(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| ulid::Ulid::generate().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id);
    let mut resp = CURRENT.scope(id.clone(), next.run(req).instrument(span)).await;
    let value = HeaderValue::from_str(&id).expect("request ids are visible ASCII");
    resp.headers_mut().insert(HEADER, value);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bounded_tokens() {
        assert!(acceptable("req-123_abc.def:9"));
        assert!(acceptable("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable("<script>"));
        assert!(!acceptable(&"a".repeat(MAX_LEN + 1)));
    }
}
