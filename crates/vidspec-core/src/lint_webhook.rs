//! Lint of an endpoint's callback declaration (`endpoint: {webhook: {field:
//! …, callback: …}}`): the field is a top-level body key the request cannot
//! also carry, and the callback is one plain path segment.
//!
//! Owns the two rules and their messages only; `lint` reports them where
//! the declaration is written. It must not decide whether a gateway calls
//! back: the spec declares that.

/// What is wrong with `callback` as the path segment the gateway appends to
/// a callback base URL, if anything: one non-empty segment of letters,
/// digits and `-._~` (URL-unreserved characters, so it reads the same
/// encoded or not), and not `.` or `..`.
pub fn webhook_callback_problem(callback: &str) -> Option<String> {
    if callback.is_empty() {
        return Some(
            "is empty: name the path segment the gateway appends to the URL, such as callback"
                .to_owned(),
        );
    }
    if callback == "." || callback == ".." {
        return Some(
            "is a relative path step: name the path segment the gateway appends to the URL, such as callback"
                .to_owned(),
        );
    }
    if let Some((position, character)) = callback
        .chars()
        .enumerate()
        .find(|(_, character)| !is_unreserved(*character))
    {
        return Some(format!(
            "holds U+{:04X} at character {}: a callback segment holds only letters, digits and -._~ (one path segment, no /)",
            u32::from(character),
            position + 1
        ));
    }
    None
}

/// What is wrong with `field` as the top-level body field a callback URL
/// goes in, if anything, given the names the request may carry itself
/// (`declared`: the spec's fields and aliases, and `model` when the body
/// carries it).
pub fn webhook_field_problem<'a>(
    field: &str,
    mut declared: impl Iterator<Item = &'a str>,
) -> Option<String> {
    if field.trim().is_empty() {
        return Some(
            "is empty: name the top-level body field the gateway reads the callback URL from, such as webhook"
                .to_owned(),
        );
    }
    if field.contains('.') || field.contains('/') {
        return Some(
            "is not a top-level field name: the callback URL goes in a top-level body field, so write its name without . or /"
                .to_owned(),
        );
    }
    if declared.any(|name| name == field) {
        return Some(
            "is also a field the spec declares: a request could set it, and the callback URL would replace it; rename one of them"
                .to_owned(),
        );
    }
    None
}

/// An unreserved character of RFC 3986 (section 2.3).
fn is_unreserved(character: char) -> bool {
    character.is_ascii_alphanumeric() || "-._~".contains(character)
}

#[cfg(test)]
mod tests {
    use super::{webhook_callback_problem, webhook_field_problem};

    #[test]
    fn a_plain_segment_is_a_callback() {
        assert_eq!(webhook_callback_problem("callback"), None);
        assert_eq!(webhook_callback_problem("task-done_1.v2~x"), None);
    }

    #[test]
    fn a_callback_with_a_slash_or_query_is_refused() {
        assert!(webhook_callback_problem("a/b").is_some());
        assert!(webhook_callback_problem("callback?x=1").is_some());
        assert!(webhook_callback_problem("%2F").is_some());
    }

    #[test]
    fn an_empty_or_relative_callback_is_refused() {
        assert!(webhook_callback_problem("").is_some());
        assert!(webhook_callback_problem(".").is_some());
        assert!(webhook_callback_problem("..").is_some());
    }

    #[test]
    fn a_field_clashing_with_a_declared_one_is_refused() {
        let problem = webhook_field_problem("prompt", ["model", "prompt"].into_iter());
        assert!(problem.is_some_and(|problem| problem.contains("rename one of them")));
        assert_eq!(
            webhook_field_problem("webhook", ["model", "prompt"].into_iter()),
            None
        );
    }

    #[test]
    fn a_nested_or_empty_field_is_refused() {
        assert!(webhook_field_problem("a.b", std::iter::empty()).is_some());
        assert!(webhook_field_problem(" ", std::iter::empty()).is_some());
    }
}
