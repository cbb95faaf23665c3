//! Stable digests of specs and request bodies (FNV-1a, 64 bits, hex).
//!
//! Owns the one hash function vidspec uses to recognise "the same spec" (its
//! file and the gateway file it inherits from) and "the same request" across
//! runs (journal entries, the double-spend guard).
//! Not cryptographic: it detects repeats, it does not resist forgery.

use serde_json::Value;

/// FNV-1a 64 of `bytes`, as `fnv1a64:` and 16 hex digits.
pub fn digest(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{hash:016x}")
}

/// The digest of a spec as it is loaded: the spec file's text, and the text
/// of the gateway file it inherits its `endpoint:` and `task:` blocks from,
/// if it names one. A spec naming no gateway digests as its text alone
/// (`digest`), so its digest is what it always was; with a gateway, each
/// text is hashed after its length, so no two pairs of texts are read alike.
pub(crate) fn spec_digest(spec_text: &str, gateway_text: Option<&str>) -> String {
    match gateway_text {
        None => digest(spec_text.as_bytes()),
        Some(gateway_text) => {
            let mut bytes = Vec::with_capacity(spec_text.len() + gateway_text.len() + 16);
            for text in [spec_text, gateway_text] {
                bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
                bytes.extend_from_slice(text.as_bytes());
            }
            digest(&bytes)
        }
    }
}

/// The digest of a JSON value in its canonical form (keys sorted, no spaces),
/// so two bodies that differ only in key order or layout digest the same.
pub fn digest_json(value: &Value) -> String {
    digest(canonical(value).as_bytes())
}

fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|key| format!("{}:{}", Value::String(key.clone()), canonical(&map[key])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn known_vector() {
        assert_eq!(digest(b""), "fnv1a64:cbf29ce484222325");
        assert_eq!(digest(b"a"), "fnv1a64:af63dc4c8601ec8c");
        assert_eq!(spec_digest("a", None), digest(b"a"));
        assert_ne!(spec_digest("ab", Some("")), spec_digest("a", Some("b")));
    }

    #[test]
    fn key_order_does_not_matter() {
        assert_eq!(
            digest_json(&json!({"a": 1, "b": [1, {"c": 2, "d": 3}]})),
            digest_json(&json!({"b": [1, {"d": 3, "c": 2}], "a": 1}))
        );
        assert_ne!(digest_json(&json!({"a": 1})), digest_json(&json!({"a": 2})));
    }
}
