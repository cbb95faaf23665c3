//! Which regular-expression features a spec `pattern` may not use, and why.
//!
//! Owns the scan of an ECMA-262 pattern for the features only a backtracking
//! matcher runs (look-ahead, look-behind, backreferences, atomic groups,
//! conditionals), each with advice on writing the pattern without it. The
//! engine runs patterns with a linear-time matcher (`model::build_validator`),
//! which refuses these features; this scan lets lint name the one used. It
//! must not compile or run patterns.

/// The first feature of `pattern` that needs a backtracking matcher, and
/// advice on writing the pattern without it.
pub(crate) fn backtracking_feature(pattern: &str) -> Option<(&'static str, &'static str)> {
    const LOOK_AROUND: &str = "match the whole value with anchors and character classes \
         instead (such as ^[0-9]+:[0-9]+$), or split the condition into one_of or a rule";
    const BACKREFERENCE: &str =
        "list the allowed values (one_of) or spell the repeated part out instead";
    let bytes = pattern.as_bytes();
    let mut in_class = false;
    let mut index = 0;
    while index < bytes.len() {
        let rest = &bytes[index..];
        match rest[0] {
            b'\\' => {
                let next = rest.get(1).copied();
                if !in_class {
                    if matches!(next, Some(b'1'..=b'9')) {
                        return Some(("a backreference (\\1)", BACKREFERENCE));
                    }
                    if next == Some(b'k') && rest.get(2) == Some(&b'<') {
                        return Some(("a named backreference (\\k<name>)", BACKREFERENCE));
                    }
                }
                // The escaped character is never special.
                index += 2;
                continue;
            }
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                let found = if rest.starts_with(b"(?<=") {
                    Some(("a look-behind (?<=…)", LOOK_AROUND))
                } else if rest.starts_with(b"(?<!") {
                    Some(("a negative look-behind (?<!…)", LOOK_AROUND))
                } else if rest.starts_with(b"(?=") {
                    Some(("a look-ahead (?=…)", LOOK_AROUND))
                } else if rest.starts_with(b"(?!") {
                    Some(("a negative look-ahead (?!…)", LOOK_AROUND))
                } else if rest.starts_with(b"(?>") {
                    Some(("an atomic group (?>…)", LOOK_AROUND))
                } else if rest.starts_with(b"(?(") {
                    Some(("a conditional (?(…)…)", LOOK_AROUND))
                } else {
                    None
                };
                if found.is_some() {
                    return found;
                }
            }
            _ => {}
        }
        index += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::backtracking_feature;

    fn feature(pattern: &str) -> Option<&'static str> {
        backtracking_feature(pattern).map(|(feature, _)| feature)
    }

    #[test]
    fn look_around_backreferences_atomic_groups_and_conditionals_are_named() {
        assert_eq!(feature(r"(?<=(a+)+)b"), Some("a look-behind (?<=…)"));
        assert_eq!(feature(r"^(?<!x)y$"), Some("a negative look-behind (?<!…)"));
        assert_eq!(feature(r"^(?=.*[0-9])\w+$"), Some("a look-ahead (?=…)"));
        assert_eq!(feature(r"^(?!test)"), Some("a negative look-ahead (?!…)"));
        assert_eq!(feature(r"^(a)\1$"), Some("a backreference (\\1)"));
        assert_eq!(
            feature(r"^(?<x>a)\k<x>$"),
            Some("a named backreference (\\k<name>)")
        );
        assert_eq!(feature(r"(?>a+)b"), Some("an atomic group (?>…)"));
    }

    #[test]
    fn the_engine_refuses_to_compile_a_pattern_that_needs_backtracking() {
        // The run-time bound: whatever reaches the engine without lint (a
        // library user's schema), a look-behind never runs.
        for pattern in [r"(?<=(a+)+)b", r"^(a+)\1$", r"^(?=a)a+$"] {
            let schema = serde_json::json!({ "type": "string", "pattern": pattern });
            assert!(
                crate::model::build_validator(&schema).is_err(),
                "{pattern} compiled"
            );
        }
    }

    #[test]
    fn a_long_value_against_nested_quantifiers_is_matched_in_one_pass() {
        // Only that it completes: with a backtracking matcher such pairs take
        // exponential time; the linear engine reads the value once.
        let schema = serde_json::json!({ "type": "string", "pattern": "^(a+)+$" });
        let validator = crate::model::build_validator(&schema).expect("compiles");
        let value = serde_json::Value::String(format!("{}!", "a".repeat(200_000)));
        assert!(!validator.is_valid(&value));
        let value = serde_json::Value::String("a".repeat(200_000));
        assert!(validator.is_valid(&value));
    }

    #[test]
    fn the_same_characters_escaped_or_inside_a_class_are_plain_text() {
        assert_eq!(feature(r"^\(?=[0-9]+\)$"), None);
        assert_eq!(feature(r"^[(?<=]+$"), None);
        assert_eq!(feature(r"^[\1-\9]$"), None);
        assert_eq!(feature(r"^\\1$"), None);
        assert_eq!(feature(r"^(?<name>[0-9]+):(?:[0-9]+)$"), None);
        assert_eq!(feature(r"^[0-9]+:[0-9]+$"), None);
    }
}
