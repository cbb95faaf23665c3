//! Compact JSON for `check --format json` and `check --batch` lines, written
//! straight into a byte buffer.
//!
//! Owns the bytes of a result line: exactly what `serde_json::to_writer`
//! writes for the same object (a test holds the two equal), but strings are
//! scanned eight bytes at a time for what needs escaping and copied in one
//! piece, and no serde machinery runs per token — on a batch of short requests
//! writing results costs as much as checking them otherwise. It must not decide
//! what goes into a line: `output` does.

use serde_json::Value;

/// Appends `value` as compact JSON.
pub fn value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => number_to(out, number),
        Value::String(text) => string(out, text),
        Value::Array(items) => array(out, items, self::value),
        Value::Object(map) => object(out, map.iter()),
    }
}

/// Appends an object from its entries, in the order given.
pub fn object<'a, K: AsRef<str>>(out: &mut Vec<u8>, entries: impl Iterator<Item = (K, &'a Value)>) {
    out.push(b'{');
    for (index, (key, item)) in entries.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        entry(out, key.as_ref(), item);
    }
    out.push(b'}');
}

/// Appends one object entry, `"key":value`.
pub fn entry(out: &mut Vec<u8>, key: &str, item: &Value) {
    string(out, key);
    out.push(b':');
    value(out, item);
}

/// Appends an array, each item written by `each`.
pub fn array<T>(out: &mut Vec<u8>, items: &[T], each: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        each(out, item);
    }
    out.push(b']');
}

/// Appends an optional string, `null` for none.
pub fn optional_string(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => string(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends an unsigned integer.
pub fn unsigned(out: &mut Vec<u8>, number: u64) {
    let mut buffer = itoa::Buffer::new();
    out.extend_from_slice(buffer.format(number).as_bytes());
}

fn number_to(out: &mut Vec<u8>, number: &serde_json::Number) {
    if let Some(unsigned) = number.as_u64() {
        self::unsigned(out, unsigned);
    } else if let Some(signed) = number.as_i64() {
        let mut buffer = itoa::Buffer::new();
        out.extend_from_slice(buffer.format(signed).as_bytes());
    } else {
        // Floats as serde_json writes them (shortest round-trip form).
        if serde_json::to_writer(&mut *out, number).is_err() {
            out.extend_from_slice(b"null");
        }
    }
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is a control character, `"` or `\`.
fn needs_escape(word: u64) -> bool {
    let control = word.wrapping_sub(LOW * 0x20) & !word;
    let quote = word ^ (LOW * b'"' as u64);
    let quote = quote.wrapping_sub(LOW) & !quote;
    let backslash = word ^ (LOW * b'\\' as u64);
    let backslash = backslash.wrapping_sub(LOW) & !backslash;
    (control | quote | backslash) & HIGH != 0
}

/// Appends `text` as a JSON string, escaped the way serde_json escapes.
pub fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(offset) = first_escape(&bytes[start..]) {
        let at = start + offset;
        out.extend_from_slice(&bytes[start..at]);
        escape(out, bytes[at]);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Where the first byte that needs escaping is (a control character, `"` or
/// `\`), eight bytes at a time.
pub fn first_escape(bytes: &[u8]) -> Option<usize> {
    // The first word holding such a byte, then that byte; past the last whole
    // word, the tail byte by byte.
    let (words, _) = bytes.as_chunks::<8>();
    let at = words
        .iter()
        .position(|word| needs_escape(u64::from_le_bytes(*word)))
        .unwrap_or(words.len())
        * 8;
    bytes[at..]
        .iter()
        .position(|byte| escaped(*byte))
        .map(|offset| at + offset)
}

fn escaped(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

fn escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xf)],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn written(input: &Value) -> String {
        let mut out = Vec::new();
        value(&mut out, input);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn every_byte_that_needs_escaping_is_escaped_as_serde_json_does() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        for text in [
            every_ascii.clone(),
            format!("{every_ascii}{every_ascii}"),
            "plain words and more plain words".to_owned(),
            "ünïcødé — 漢字 \u{2028} 🎬 \"quoted\" back\\slash".to_owned(),
            String::new(),
            "\u{7f}\u{1f}\u{0}".to_owned(),
        ] {
            for cut in 0..text.len().min(17) {
                let Some(piece) = text.get(cut..) else {
                    continue;
                };
                let input = Value::String(piece.to_owned());
                assert_eq!(
                    written(&input),
                    serde_json::to_string(&input).expect("serialises"),
                    "{piece:?}"
                );
            }
        }
    }

    #[test]
    fn values_of_every_kind_match_serde_json() {
        let input = json!({
            "b": [1, -2, 3.5, 1e300, 0.1, true, false, null, [], {}],
            "a": {"nested": {"deeper": ["x\ny", 18446744073709551615u64, -9223372036854775808i64]}},
            "": "",
        });
        assert_eq!(
            written(&input),
            serde_json::to_string(&input).expect("serialises")
        );
    }
}
