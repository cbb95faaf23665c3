//! Lint of an endpoint's idempotency declaration (`endpoint: {idempotency:
//! {header: …}}`): the header is a valid HTTP header name (an RFC 9110
//! token) and not one the client writes itself.
//!
//! Owns the rule and its message only; `lint` reports it where the header is
//! written, and the transport asks the same question before sending. It must
//! not decide whether a gateway honours keys: the spec declares that.

/// Header names the client sets on every submit itself: a key written there
/// would replace or duplicate them.
const CLIENT_HEADERS: [&str; 7] = [
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "host",
    "te",
    "transfer-encoding",
];

/// What is wrong with `header` as the name of the header an idempotency key
/// is sent in, if anything: it must be a token (RFC 9110: letters, digits and
/// ``!#$%&'*+-.^_`|~``, at least one) and not a header the client sets itself
/// (`Authorization`, `Content-Type`, `Host`, …; compared without case).
pub fn idempotency_header_problem(header: &str) -> Option<String> {
    if header.is_empty() {
        return Some(
            "is empty: name the header the gateway reads the key from, such as Idempotency-Key"
                .to_owned(),
        );
    }
    if let Some((position, character)) = header
        .chars()
        .enumerate()
        .find(|(_, character)| !is_token_character(*character))
    {
        return Some(format!(
            "holds U+{:04X} at character {}: a header name holds only letters, digits and !#$%&'*+-.^_`|~",
            u32::from(character),
            position + 1
        ));
    }
    let lower = header.to_ascii_lowercase();
    if CLIENT_HEADERS.contains(&lower.as_str()) {
        return Some(format!(
            "is a header the client sets itself ({}): name the header the gateway reads the key from, such as Idempotency-Key",
            CLIENT_HEADERS.join(", ")
        ));
    }
    None
}

/// A `tchar` of RFC 9110, section 5.6.2.
fn is_token_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(character)
}

#[cfg(test)]
mod tests {
    use super::idempotency_header_problem;

    #[test]
    fn the_gateway_header_name_is_accepted() {
        assert_eq!(idempotency_header_problem("Idempotency-Key"), None);
    }

    #[test]
    fn a_header_name_with_a_space_or_colon_is_refused_with_its_position() {
        let problem = idempotency_header_problem("Idempotency Key").unwrap_or_default();
        assert!(problem.contains("U+0020 at character 12"), "{problem}");
        assert!(idempotency_header_problem("Key:").is_some());
        assert!(idempotency_header_problem("Schlüssel").is_some());
    }

    #[test]
    fn an_empty_header_name_is_refused() {
        assert!(idempotency_header_problem("").is_some());
    }

    #[test]
    fn a_header_the_client_sets_itself_is_refused_in_any_case() {
        let problem = idempotency_header_problem("AUTHORIZATION").unwrap_or_default();
        assert!(problem.contains("client sets itself"), "{problem}");
    }
}
