//! Did-you-mean: the one policy for suggesting what a mistyped name meant —
//! unknown request fields, enum values, model ids and spec keys alike.
//!
//! A candidate equal but for letter case wins; else the only candidate that
//! starts with the name (three characters or more: `veo3.1-fast` for
//! `veo3.1-fast-official`); else the nearest by edit distance (`strsim`,
//! letter case ignored) when at most a third of the longer name differs. It
//! owns the choice only, never the message around it.

/// The candidate `name` most likely meant, if any is close enough.
pub fn did_you_mean<S: AsRef<str>>(name: &str, candidates: &[S]) -> Option<String> {
    let wanted = name.to_lowercase();
    let lowered: Vec<(String, &str)> = candidates
        .iter()
        .map(|candidate| (candidate.as_ref().to_lowercase(), candidate.as_ref()))
        .collect();
    if let Some((_, exact)) = lowered.iter().find(|(lower, _)| *lower == wanted) {
        return Some((*exact).to_owned());
    }
    let length = wanted.chars().count();
    let mut extending = lowered
        .iter()
        .filter(|(lower, _)| lower.starts_with(&wanted));
    if length >= 3
        && let (Some((_, only)), None) = (extending.next(), extending.next())
    {
        return Some((*only).to_owned());
    }
    lowered
        .iter()
        .filter_map(|(lower, original)| {
            let other = lower.chars().count();
            let limit = (length.max(other) / 3).max(1);
            // The distance is at least the difference in length: a
            // megabyte-long name from a request is never compared.
            if length.abs_diff(other) > limit {
                return None;
            }
            let distance = strsim::levenshtein(&wanted, lower);
            (distance <= limit).then_some((distance, *original))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, original)| original.to_owned())
}

/// A close enum value: the same but for case, or one edit away in a word of
/// five characters or more (short values such as `4k` differ from others by
/// one edit too often to guess).
pub fn close_value(text: &str, values: &[String]) -> Option<String> {
    values
        .iter()
        .find(|value| value.eq_ignore_ascii_case(text))
        .or_else(|| {
            let length = text.chars().count();
            values.iter().find(|value| {
                let value_length = value.chars().count();
                value_length >= 5
                    && length.abs_diff(value_length) <= 1
                    && strsim::levenshtein(&text.to_lowercase(), &value.to_lowercase()) <= 1
            })
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_letter_typo_finds_the_field() {
        assert_eq!(
            did_you_mean("durtion", &["duration", "resolution"]),
            Some("duration".into())
        );
    }

    #[test]
    fn unrelated_names_get_no_suggestion() {
        assert_eq!(did_you_mean("colour", &["duration", "seed"]), None);
        assert_eq!(did_you_mean("zzz", &["alpha-one", "beta-two"]), None);
    }

    #[test]
    fn a_match_but_for_case_wins() {
        assert_eq!(
            did_you_mean("alpha-one", &["Alpha-One", "alpha-onx"]),
            Some("Alpha-One".into())
        );
    }

    #[test]
    fn a_swapped_pair_of_letters_is_a_small_typo() {
        assert_eq!(
            did_you_mean("alpah-one", &["beta", "alpha-one"]),
            Some("alpha-one".into())
        );
    }

    #[test]
    fn the_only_name_that_starts_with_it_is_completed() {
        assert_eq!(
            did_you_mean("VEO-fast", &["veo-fast-official", "veo-quality-official"]),
            Some("veo-fast-official".into())
        );
    }

    #[test]
    fn a_prefix_of_several_names_or_a_short_prefix_is_not_completed() {
        assert_eq!(
            did_you_mean("veo-", &["veo-fast-official", "veo-quality-official"]),
            None
        );
        assert_eq!(did_you_mean("ve", &["veo-fast-official"]), None);
    }

    #[test]
    fn letters_outside_ascii_are_compared_ignoring_case() {
        assert_eq!(did_you_mean("GRÖSSE", &["größe"]), Some("größe".into()));
    }

    #[test]
    fn a_long_name_is_not_compared_with_short_ones() {
        let long = "x".repeat(1_000_000);
        assert_eq!(did_you_mean(&long, &["duration"]), None);
    }
}
