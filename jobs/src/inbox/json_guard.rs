//! Postgres refuses the NUL character (`\u0000`) in `text` and `jsonb`
//! (error 22P05). A body that carries one would fail its insert with a 500,
//! which DrChrono retries for hours, or become a job that fails forever. So
//! every authenticated JSON body is checked once, at the door, and refused
//! with a 400 naming the field.

use serde_json::Value;

/// The path of the first string or key holding a NUL, such as
/// `$.object.first_name` or `$.notes[2]`. Keys that are not plain names are
/// shown as `<key>`: a path is logged and answered, and must not echo
/// arbitrary text from the body.
pub fn nul_field(value: &Value) -> Option<String> {
    find(value, "$".to_owned())
}

fn find(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| find(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = format!("{path}.{}", shown(k));
            if k.contains('\0') { Some(here) } else { find(v, here) }
        }),
        _ => None,
    }
}

fn shown(key: &str) -> &str {
    let plain = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plain { key } else { "<key>" }
}

/// The 400 message for a body with a NUL at `field`.
pub fn nul_message(field: &str) -> String {
    format!("{field} contains a NUL character (\\u0000), which cannot be stored; remove it and send again")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_nul_in_values_keys_and_arrays_and_names_the_path() {
        assert_eq!(nul_field(&json!({"a": {"first_name": "Ann\u{0}"}})).as_deref(), Some("$.a.first_name"));
        assert_eq!(nul_field(&json!({"notes": ["ok", "b\u{0}d"]})).as_deref(), Some("$.notes[1]"));
        assert_eq!(nul_field(&json!({"k\u{0}": 1})).as_deref(), Some("$.<key>"));
        assert_eq!(nul_field(&json!({"Ann Smith": "x\u{0}"})).as_deref(), Some("$.<key>"), "no free text echoed");
        assert_eq!(nul_field(&json!({"a": "fine", "n": 1, "b": [true, null]})), None);
    }
}
