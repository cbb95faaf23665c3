//! The receiver's secret: 192 bits from the operating system's random
//! source, written as lowercase hex (URL-safe, one path segment), and the
//! comparison of a presented token with it in time independent of where
//! they differ.
//!
//! Owns making and comparing tokens; it must not log or display one (the
//! token is what stands between a forged callback and the receiver).

/// Bytes of randomness in a token (192 bits; at least 128 are needed).
const TOKEN_BYTES: usize = 24;

/// The secret path segment of a receiver's callback URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    /// A new token from the operating system's random source, or `None`
    /// when it cannot give one (no guessable fallback: the token is the
    /// receiver's only defence).
    pub(crate) fn generate() -> Option<Token> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).ok()?;
        Some(Token(
            bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
        ))
    }

    /// The token as it appears in the URL.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this token, compared without stopping at the
    /// first differing byte.
    pub(crate) fn matches(&self, presented: &str) -> bool {
        let expected = self.0.as_bytes();
        let presented = presented.as_bytes();
        if expected.len() != presented.len() {
            return false;
        }
        expected
            .iter()
            .zip(presented)
            .fold(0u8, |difference, (left, right)| difference | (left ^ right))
            == 0
    }
}

/// Never shows the token.
impl std::fmt::Debug for Token {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Token(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::Token;

    #[test]
    fn a_token_holds_at_least_128_bits_as_url_safe_hex() {
        let token = Token::generate().expect("the system has a random source");
        assert!(token.as_str().len() * 4 >= 128);
        assert!(
            token
                .as_str()
                .chars()
                .all(|character| character.is_ascii_hexdigit())
        );
    }

    #[test]
    fn two_tokens_differ() {
        let first = Token::generate().expect("random source");
        let second = Token::generate().expect("random source");
        assert_ne!(first.as_str(), second.as_str());
    }

    #[test]
    fn only_the_token_itself_matches() {
        let token = Token::generate().expect("random source");
        assert!(token.matches(token.as_str()));
        assert!(!token.matches(""));
        assert!(!token.matches(&token.as_str()[1..]));
        let mut other = token.as_str().to_owned();
        other.replace_range(0..1, if other.starts_with('0') { "1" } else { "0" });
        assert!(!token.matches(&other));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let token = Token::generate().expect("random source");
        assert!(!format!("{token:?}").contains(token.as_str()));
    }
}
