//! The `Redactor`: takes the API key (as sent, JSON-escaped and
//! URL-encoded) and any `Bearer <token>` out of text that came from the
//! gateway, before it reaches an error, a snapshot, a log event or an
//! excerpt.
//!
//! Owns only the redaction of text and JSON values; it must not decide
//! what is shown or logged (callers pass everything from the gateway
//! through it).

use serde_json::Value;

/// What replaces a key or a bearer token in gateway text.
pub(crate) const REDACTED: &str = "<redacted>";

/// Takes the API key (as sent, JSON-escaped and URL-encoded) and any
/// `Bearer <token>` out of text that came from the gateway. Its `Debug` never
/// shows the key.
#[derive(Clone)]
pub(crate) struct Redactor {
    /// The key's spellings, longest first.
    needles: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor(<redacted>)")
    }
}

impl Redactor {
    /// A redactor for `key`.
    pub(crate) fn new(key: &str) -> Redactor {
        let mut needles = Vec::new();
        if !key.is_empty() {
            needles.push(key.to_owned());
            let json = serde_json::to_string(key).unwrap_or_default();
            needles.push(json.trim_matches('"').to_owned());
            needles.push(url::form_urlencoded::byte_serialize(key.as_bytes()).collect());
        }
        needles.retain(|needle| !needle.is_empty());
        needles.sort_by_key(|needle| std::cmp::Reverse(needle.len()));
        needles.dedup();
        Redactor { needles }
    }

    /// `text` without the key and without the token of any `Bearer <token>`.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), REDACTED);
            }
        }
        redact_bearer_tokens(&text)
    }

    /// Every string of `value` (object keys included) redacted in place.
    pub(crate) fn value(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                let redacted = self.text(text);
                if redacted != *text {
                    *text = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.value(item)),
            Value::Object(map) => {
                if map.keys().any(|key| self.text(key) != *key) {
                    for (key, mut item) in std::mem::take(map) {
                        self.value(&mut item);
                        map.insert(self.text(&key), item);
                    }
                } else {
                    map.values_mut().for_each(|item| self.value(item));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// The first bytes of a body, for messages: redacted whole before it is
    /// cut, so a key across the cut shows no prefix.
    pub(crate) fn excerpt(&self, bytes: &[u8]) -> String {
        const LIMIT: usize = 200;
        let text = self.text(&String::from_utf8_lossy(bytes));
        if text.len() <= LIMIT {
            return text;
        }
        let mut end = LIMIT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    }
}

/// `text` with the token after each `Bearer` (any case, then whitespace)
/// replaced by `REDACTED`; the token ends at whitespace or a quote, bracket,
/// comma or semicolon.
fn redact_bearer_tokens(text: &str) -> String {
    const WORD: &str = "bearer";
    let lowered = text.to_ascii_lowercase();
    if !lowered.contains(WORD) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lowered[from..].find(WORD) {
        let after_word = from + found + WORD.len();
        let spaces = text[after_word..]
            .find(|character: char| !matches!(character, ' ' | '\t'))
            .unwrap_or(text.len() - after_word);
        let token_start = after_word + spaces;
        let token_len = text[token_start..]
            .find(|character: char| {
                character.is_whitespace() || "\"'<>,;()[]{}".contains(character)
            })
            .unwrap_or(text.len() - token_start);
        if spaces > 0 && token_len > 0 {
            out.push_str(&text[copied..token_start]);
            out.push_str(REDACTED);
            copied = token_start + token_len;
        }
        from = (token_start + token_len).max(after_word);
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_key_is_redacted_as_sent_json_escaped_and_url_encoded() {
        let redactor = Redactor::new("sk-a/b+c\"d");
        for spelling in ["sk-a/b+c\"d", "sk-a/b+c\\\"d", "sk-a%2Fb%2Bc%22d"] {
            let text = format!("key [{spelling}] refused");
            assert_eq!(
                redactor.text(&text),
                "key [<redacted>] refused",
                "{spelling}"
            );
        }
    }

    #[test]
    fn any_bearer_token_is_redacted_whatever_its_case_and_surroundings() {
        let redactor = Redactor::new("sk-mine");
        assert_eq!(
            redactor.text("header 'Authorization: BEARER  tok.en-1' and bearer\ttok2, bearer"),
            "header 'Authorization: BEARER  <redacted>' and bearer\t<redacted>, bearer"
        );
        assert_eq!(
            redactor.text("a bearer of news"),
            "a bearer <redacted> news"
        );
        assert_eq!(redactor.text("bearerless text"), "bearerless text");
    }

    #[test]
    fn object_keys_holding_the_key_are_redacted_too() {
        let mut value = json!({"sk-mine": ["Bearer sk-other", {"k": "sk-mine"}]});
        Redactor::new("sk-mine").value(&mut value);
        assert_eq!(
            value,
            json!({"<redacted>": ["Bearer <redacted>", {"k": "<redacted>"}]})
        );
    }

    #[test]
    fn a_redactor_never_shows_the_key_in_debug() {
        assert!(!format!("{:?}", Redactor::new("sk-mine")).contains("sk-mine"));
    }
}
