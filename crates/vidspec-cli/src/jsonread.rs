//! One request line read into a `serde_json::Value`, for `check` and
//! `check --batch`.
//!
//! Owns a fast path for the plain JSON requests are made of — objects,
//! arrays, strings without escapes, integers, `true`, `false`, `null` — that
//! builds exactly the `Value` serde_json builds for the same bytes, checking
//! the line's UTF-8 once and scanning strings eight bytes at a time. Anything
//! else (an escape, a float, deep nesting, any syntax
//! error) goes to `serde_json::from_slice` from the start, so what is accepted
//! and every error message are serde_json's own; a test holds the two equal
//! over every case file and over random and mutated lines. It must not judge
//! a request: that is the engine's job.

use serde_json::{Map, Number, Value};

/// Nesting deeper than this goes to serde_json (whose own limit is 128).
const MAX_DEPTH: u32 = 64;

/// Reads `bytes` as one JSON document, as `serde_json::from_slice` does.
pub fn parse(bytes: &[u8]) -> serde_json::Result<Value> {
    match fast(bytes) {
        Some(value) => Ok(value),
        None => serde_json::from_slice(bytes),
    }
}

/// The fast path: `None` hands the document to serde_json. The line's UTF-8
/// is checked once, so each string is a slice of it cut at two `"` (which are
/// always character boundaries); a line that is not UTF-8 is not JSON.
fn fast(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    Reader { text, bytes, at: 0 }.document()
}

/// The fast path's cursor; every method returns `None` to hand the whole
/// document over to serde_json.
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn document(&mut self) -> Option<Value> {
        self.skip_whitespace();
        let value = self.value(0)?;
        self.skip_whitespace();
        (self.at == self.bytes.len()).then_some(value)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: u32) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string().map(Value::String),
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.integer(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Option<Value> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| {
            self.at = end;
            value
        })
    }

    fn object(&mut self, depth: u32) -> Option<Value> {
        let mut map = Map::new();
        self.members(depth, b'}', |reader| {
            if reader.peek()? != b'"' {
                return None;
            }
            let key = reader.string()?;
            reader.skip_whitespace();
            if reader.peek()? != b':' {
                return None;
            }
            reader.at += 1;
            reader.skip_whitespace();
            let value = reader.value(depth)?;
            // A repeated key keeps its last value, as serde_json's does.
            map.insert(key, value);
            Some(())
        })?;
        Some(Value::Object(map))
    }

    fn array(&mut self, depth: u32) -> Option<Value> {
        let mut items = Vec::new();
        self.members(depth, b']', |reader| {
            items.push(reader.value(depth)?);
            Some(())
        })?;
        Some(Value::Array(items))
    }

    /// The members of an object or array, cursor on its opening bracket: each
    /// read by `member`, separated by commas, up to `close` (no trailing comma).
    fn members(
        &mut self,
        depth: u32,
        close: u8,
        mut member: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        self.skip_whitespace();
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            member(self)?;
            self.skip_whitespace();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.skip_whitespace();
                }
                byte if byte == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string without escapes or control characters, cursor on its `"`.
    fn string(&mut self) -> Option<String> {
        let start = self.at + 1;
        let rest = self.bytes.get(start..)?;
        let end = start + plain_length(rest)?;
        self.at = end + 1;
        self.text.get(start..end).map(str::to_owned)
    }

    /// An integer that fits; a float, `-0` or a long number goes to serde_json
    /// (which reads the first two as floats and knows the limits).
    fn integer(&mut self) -> Option<Value> {
        let negative = self.peek()? == b'-';
        if negative {
            self.at += 1;
        }
        let start = self.at;
        let mut magnitude: u64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            magnitude = magnitude * 10 + u64::from(digit - b'0');
            self.at += 1;
            if self.at - start > 18 {
                return None;
            }
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.bytes[start] == b'0';
        if digits == 0 || leading_zero || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        if !negative {
            return Some(Value::Number(Number::from(magnitude)));
        }
        if magnitude == 0 {
            return None;
        }
        // At most 18 digits, so the magnitude fits an i64.
        let signed = i64::try_from(magnitude).ok()?;
        Some(Value::Number(Number::from(-signed)))
    }
}

/// Bytes up to the closing `"` of a plain string; `None` if a backslash, a
/// control character or the end comes first. The bytes a JSON writer must
/// escape are the ones that end a plain string, so `jsonline`'s scan serves.
fn plain_length(bytes: &[u8]) -> Option<usize> {
    crate::jsonline::first_escape(bytes).filter(|&at| bytes[at] == b'"')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path either builds serde_json's value or hands over.
    fn agrees(bytes: &[u8]) {
        let theirs = serde_json::from_slice::<Value>(bytes);
        let fast = fast(bytes);
        match (&fast, &theirs) {
            (Some(ours), Ok(theirs)) => assert_eq!(
                (ours, ours.to_string()),
                (theirs, theirs.to_string()),
                "{:?}",
                String::from_utf8_lossy(bytes)
            ),
            (Some(ours), Err(error)) => panic!(
                "fast path accepted what serde_json refuses ({error}): {:?} -> {ours}",
                String::from_utf8_lossy(bytes)
            ),
            (None, _) => {}
        }
        let parsed = parse(bytes);
        assert_eq!(
            parsed.as_ref().map_err(ToString::to_string),
            theirs.as_ref().map_err(ToString::to_string)
        );
    }

    fn fast_str(text: &str) -> Option<Value> {
        fast(text.as_bytes())
    }

    #[test]
    fn plain_requests_take_the_fast_path() {
        for text in [
            r#"{"model":"viduq3","prompt":"a cat","duration":5,"audio":true,"x":null}"#,
            r#" { "image_urls" : [ "https://e.com/a.png" , "https://e.com/b.png" ] } "#,
            r#"{"n":-7,"big":999999999999999999,"zero":0,"nested":{"a":[[],{}]}}"#,
            "{\"ünï\":\"漢字 🎬\"}",
            "[]",
            "\"text\"",
            "12",
        ] {
            assert!(fast_str(text).is_some(), "{text}");
            agrees(text.as_bytes());
        }
    }

    #[test]
    fn what_the_fast_path_leaves_goes_to_serde_json() {
        for text in [
            r#"{"a":"line\nbreak"}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":-0}"#,
            r#"{"a":18446744073709551615}"#,
            r#"{"a":-9223372036854775808}"#,
            r#"{"a":01}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":tru}"#,
            r#"{"a":truex}"#,
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"x",
            "{\"a\":",
            "",
            "   ",
            "{} {}",
            "\u{feff}{}",
            "[1,2",
        ] {
            assert!(fast_str(text).is_none(), "{text}");
            agrees(text.as_bytes());
        }
    }

    #[test]
    fn invalid_utf8_in_a_string_is_serde_jsons_error() {
        agrees(b"{\"a\":\"\xff\xfe\"}");
        agrees(b"{\"a\":\"abcdefgh\xc3\"}");
        agrees(b"{\"\xe6\xbc\xa2\":1}");
    }

    #[test]
    fn repeated_keys_keep_the_last_value() {
        agrees(br#"{"a":1,"b":2,"a":3}"#);
        assert_eq!(
            fast_str(r#"{"a":1,"a":3}"#),
            Some(serde_json::json!({"a": 3}))
        );
    }

    #[test]
    fn nesting_past_the_limit_goes_to_serde_json() {
        let deep = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(fast_str(&deep(64)).is_some());
        assert!(fast_str(&deep(65)).is_none());
        agrees(deep(200).as_bytes());
    }

    #[test]
    fn every_case_file_and_every_cut_and_flip_of_it_agrees() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        for dir in ["tests/cases", "examples"] {
            collect(&root.join(dir), &mut files);
        }
        assert!(files.len() > 50, "found only {} JSON files", files.len());
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for file in &files {
            let bytes = std::fs::read(file).expect("readable case file");
            agrees(&bytes);
            let compact = serde_json::to_vec(&serde_json::from_slice::<Value>(&bytes).ok())
                .expect("serialises");
            agrees(&compact);
            for _ in 0..200 {
                let mut mutated = compact.clone();
                let at = (next() as usize) % mutated.len().max(1);
                match next() % 4 {
                    0 => mutated.truncate(at),
                    1 if !mutated.is_empty() => mutated[at] = next() as u8,
                    2 => mutated.insert(at, b"\" ,:[]{}0-.e\\\x01\xc3tfn9"[next() as usize % 19]),
                    _ if !mutated.is_empty() => {
                        mutated.remove(at);
                    }
                    _ => {}
                }
                agrees(&mutated);
            }
        }
    }

    fn collect(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect(&path, files);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
            }
        }
    }
}
