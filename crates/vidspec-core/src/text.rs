//! Untrusted text as messages show it: control and invisible characters
//! escaped, values quoted, and a value that only looks like an allowed one
//! explained character by character.
//!
//! Owns the one list of characters that must never reach a terminal raw
//! (controls, bidi overrides, zero-width and other invisible characters,
//! spaces other than U+0020) and the small table naming common look-alikes.
//! Every message that quotes a request value or key goes through here, and the
//! CLI escapes gateway text with the same function. It must not judge
//! validity: it only words what the schema already refused.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is escaped in messages: a control character (C0, DEL, C1), a
/// space other than U+0020, or a character that draws nothing or reorders the
/// text around it (bidi controls, zero-width characters, fillers, tags).
pub(crate) fn is_hidden(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// `text` with every hidden character (control and invisible characters) written as an
/// escape: `\n`, `\r`, `\t`, else `\u{1b}`. Nothing else changes, so text
/// without hidden characters is returned as it is, without a copy.
pub fn escape_hidden(text: &str) -> Cow<'_, str> {
    // Printable ASCII, the common case, is decided a byte at a time.
    if text.bytes().all(|byte| (0x20..0x7f).contains(&byte)) || !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_hidden(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// `text` in double quotes, with `"` and `\` escaped and hidden characters
/// escaped as [`escape_hidden`] does (Rust's string syntax).
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => push_escaped(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// Longer texts are cut to this many characters (then `…`) in messages.
const SHORT_CHARACTERS: usize = 57;

/// A request string or key for a message: cut to 57 characters (then `…`)
/// when longer than 60, and quoted when it needs quotes.
pub fn short(text: &str) -> String {
    let (kept, cut) = cut(text);
    let mut out = if needs_quotes(kept) {
        quote(kept)
    } else {
        kept.to_owned()
    };
    if cut {
        out.push('…');
    }
    out
}

/// `text` cut as [`short`] cuts it, always quoted: `"unknown model \"…\""`.
pub fn quote_short(text: &str) -> String {
    let (kept, cut) = cut(text);
    let mut out = quote(kept);
    if cut {
        out.push('…');
    }
    out
}

/// The first 57 characters of a text longer than 60, and whether it was cut.
fn cut(text: &str) -> (&str, bool) {
    match text.char_indices().nth(SHORT_CHARACTERS) {
        Some((end, _)) if text[end..].chars().nth(3).is_some() => (&text[..end], true),
        _ => (text, false),
    }
}

/// A JSON pointer for a text message: cut to 120 characters (then `…`) and
/// escaped ([`escape_hidden`]); a key megabytes long is not printed whole.
pub(crate) fn short_path(path: &str) -> Cow<'_, str> {
    const LONGEST: usize = 120;
    match path.char_indices().nth(LONGEST) {
        Some((end, _)) => Cow::Owned(format!("{}…", escape_hidden(&path[..end]))),
        None => escape_hidden(path),
    }
}

/// Whether a message must quote `text` to show it unambiguously: it is
/// empty, or holds a space, a quote, a backslash or a hidden character.
pub(crate) fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text
            .chars()
            .any(|c| c == ' ' || c == '"' || c == '\\' || is_hidden(c))
}

/// `U+200B ZERO WIDTH SPACE`: the code point, and its name when it is one of
/// the common invisible or look-alike characters.
pub(crate) fn describe_char(c: char) -> String {
    match char_name(c) {
        Some(name) => format!("U+{:04X} {name}", u32::from(c)),
        None => format!("U+{:04X}", u32::from(c)),
    }
}

/// The Unicode name of a common invisible or look-alike character.
fn char_name(c: char) -> Option<Cow<'static, str>> {
    const DIGITS: [&str; 10] = [
        "ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE",
    ];
    let name = match c {
        '\u{0009}' => "CHARACTER TABULATION",
        '\u{000A}' => "LINE FEED",
        '\u{000D}' => "CARRIAGE RETURN",
        '\u{001B}' => "ESCAPE",
        '\u{00A0}' => "NO-BREAK SPACE",
        '\u{00AD}' => "SOFT HYPHEN",
        '\u{034F}' => "COMBINING GRAPHEME JOINER",
        '\u{061C}' => "ARABIC LETTER MARK",
        '\u{2000}'..='\u{200A}' => "TYPOGRAPHIC SPACE",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{2010}' => "HYPHEN",
        '\u{2011}' => "NON-BREAKING HYPHEN",
        '\u{2013}' => "EN DASH",
        '\u{2014}' => "EM DASH",
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{202F}' => "NARROW NO-BREAK SPACE",
        '\u{205F}' => "MEDIUM MATHEMATICAL SPACE",
        '\u{2060}' => "WORD JOINER",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{2212}' => "MINUS SIGN",
        '\u{2236}' => "RATIO",
        '\u{3000}' => "IDEOGRAPHIC SPACE",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE",
        '\u{FF1A}' => "FULLWIDTH COLON",
        '\u{FF10}'..='\u{FF19}' => {
            let digit = (u32::from(c) - 0xFF10) as usize;
            return Some(Cow::Owned(format!("FULLWIDTH DIGIT {}", DIGITS[digit])));
        }
        '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
            let capital = c <= '\u{FF3A}';
            let base = if capital { 0xFF21 } else { 0xFF41 };
            let letter = char::from(b'A' + (u32::from(c) - base) as u8);
            let case = if capital { "CAPITAL" } else { "SMALL" };
            return Some(Cow::Owned(format!(
                "FULLWIDTH LATIN {case} LETTER {letter}"
            )));
        }
        _ => return look_alike(c).map(|(_, name)| Cow::Borrowed(name)),
    };
    Some(Cow::Borrowed(name))
}

/// Letters of other scripts drawn like a Latin letter: the Latin letter and
/// the Unicode name.
fn look_alike(c: char) -> Option<(char, &'static str)> {
    Some(match c {
        '\u{0410}' => ('A', "CYRILLIC CAPITAL LETTER A"),
        '\u{0412}' => ('B', "CYRILLIC CAPITAL LETTER VE"),
        '\u{0415}' => ('E', "CYRILLIC CAPITAL LETTER IE"),
        '\u{041A}' => ('K', "CYRILLIC CAPITAL LETTER KA"),
        '\u{041C}' => ('M', "CYRILLIC CAPITAL LETTER EM"),
        '\u{041D}' => ('H', "CYRILLIC CAPITAL LETTER EN"),
        '\u{041E}' => ('O', "CYRILLIC CAPITAL LETTER O"),
        '\u{0420}' => ('P', "CYRILLIC CAPITAL LETTER ER"),
        '\u{0421}' => ('C', "CYRILLIC CAPITAL LETTER ES"),
        '\u{0422}' => ('T', "CYRILLIC CAPITAL LETTER TE"),
        '\u{0425}' => ('X', "CYRILLIC CAPITAL LETTER HA"),
        '\u{0430}' => ('a', "CYRILLIC SMALL LETTER A"),
        '\u{0435}' => ('e', "CYRILLIC SMALL LETTER IE"),
        '\u{043E}' => ('o', "CYRILLIC SMALL LETTER O"),
        '\u{0440}' => ('p', "CYRILLIC SMALL LETTER ER"),
        '\u{0441}' => ('c', "CYRILLIC SMALL LETTER ES"),
        '\u{0443}' => ('y', "CYRILLIC SMALL LETTER U"),
        '\u{0445}' => ('x', "CYRILLIC SMALL LETTER HA"),
        '\u{0455}' => ('s', "CYRILLIC SMALL LETTER DZE"),
        '\u{0456}' => ('i', "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I"),
        '\u{0458}' => ('j', "CYRILLIC SMALL LETTER JE"),
        '\u{0391}' => ('A', "GREEK CAPITAL LETTER ALPHA"),
        '\u{0392}' => ('B', "GREEK CAPITAL LETTER BETA"),
        '\u{0395}' => ('E', "GREEK CAPITAL LETTER EPSILON"),
        '\u{0397}' => ('H', "GREEK CAPITAL LETTER ETA"),
        '\u{0399}' => ('I', "GREEK CAPITAL LETTER IOTA"),
        '\u{039A}' => ('K', "GREEK CAPITAL LETTER KAPPA"),
        '\u{039C}' => ('M', "GREEK CAPITAL LETTER MU"),
        '\u{039D}' => ('N', "GREEK CAPITAL LETTER NU"),
        '\u{039F}' => ('O', "GREEK CAPITAL LETTER OMICRON"),
        '\u{03A1}' => ('P', "GREEK CAPITAL LETTER RHO"),
        '\u{03A4}' => ('T', "GREEK CAPITAL LETTER TAU"),
        '\u{03A7}' => ('X', "GREEK CAPITAL LETTER CHI"),
        '\u{03BF}' => ('o', "GREEK SMALL LETTER OMICRON"),
        _ => return None,
    })
}

/// What `c` is drawn like, for comparing a value with an allowed one: hidden
/// characters draw nothing (`None`), other spaces are a space, fullwidth
/// forms and look-alike letters are their ASCII letter or digit.
fn drawn_as(c: char) -> Option<char> {
    if c.is_control() {
        return None;
    }
    if c.is_whitespace() {
        return Some(' ');
    }
    if is_hidden(c) {
        return None;
    }
    let folded = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{2010}' | '\u{2011}' | '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
        '\u{2236}' => ':',
        c => look_alike(c).map_or(c, |(latin, _)| latin),
    };
    Some(folded)
}

/// When `given` is drawn like `allowed` but is not it: the 1-based positions
/// (in characters of `given`) and the characters that differ. `None` when the
/// two are equal or look different anyway (letter case is not a look-alike:
/// other messages handle it).
pub(crate) fn look_alike_differences(given: &str, allowed: &str) -> Option<Vec<(usize, char)>> {
    if given == allowed {
        return None;
    }
    let mut expected = allowed.chars().peekable();
    let mut differences = Vec::new();
    for (index, c) in given.chars().enumerate() {
        let want = expected.peek().copied();
        if want == Some(c) {
            expected.next();
        } else if want.is_some() && drawn_as(c) == want {
            differences.push((index + 1, c));
            expected.next();
        } else if is_hidden(c) {
            // Draws nothing (or a space where none is expected): extra.
            differences.push((index + 1, c));
        } else {
            return None;
        }
    }
    if expected.next().is_some() || differences.is_empty() {
        return None;
    }
    Some(differences)
}

/// `; it differs from 720p at character 5: U+200B ZERO WIDTH SPACE` (up to
/// three characters named, then how many more), for the first of `allowed`
/// that `given` looks like; empty when it looks like none.
pub(crate) fn look_alike_note<S: AsRef<str>>(given: &str, allowed: &[S]) -> String {
    /// Values much longer than any allowed word are not compared.
    const LONGEST: usize = 256;
    if given.len() > LONGEST * 4 {
        return String::new();
    }
    let Some((word, differences)) = allowed.iter().find_map(|word| {
        look_alike_differences(given, word.as_ref()).map(|found| (word.as_ref(), found))
    }) else {
        return String::new();
    };
    let mut note = format!("; it differs from {} at ", escape_hidden(word));
    for (index, (position, c)) in differences.iter().take(3).enumerate() {
        if index > 0 {
            note.push_str(", ");
        }
        let _ = write!(note, "character {position}: {}", describe_char(*c));
    }
    if differences.len() > 3 {
        let _ = write!(note, " and {} more", differences.len() - 3);
    }
    note
}

/// `1,599,900`.
pub fn thousands(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_bidi_overrides_and_zero_width_characters_are_escaped() {
        assert_eq!(
            escape_hidden("a\u{1b}[2J\r\u{7}\u{202e}b\u{200b}\u{a0}\u{9b}"),
            "a\\u{1b}[2J\\r\\u{7}\\u{202e}b\\u{200b}\\u{a0}\\u{9b}"
        );
    }

    #[test]
    fn plain_text_is_not_copied_and_keeps_its_letters_and_spaces() {
        assert!(matches!(
            escape_hidden("a fox, 16:9 — größe 720p"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes_so_an_escape_cannot_be_faked() {
        assert_eq!(quote("a\"b\\u{1b}\u{1b}"), "\"a\\\"b\\\\u{1b}\\u{1b}\"");
        assert!(needs_quotes(""));
        assert!(needs_quotes("720p\u{200b}"));
        assert!(!needs_quotes("720p"));
    }

    #[test]
    fn a_zero_width_space_after_an_allowed_value_is_named_by_position_and_code_point() {
        assert_eq!(
            look_alike_note("720p\u{200b}", &["720p", "1080p"]),
            "; it differs from 720p at character 5: U+200B ZERO WIDTH SPACE"
        );
    }

    #[test]
    fn a_cyrillic_letter_inside_an_allowed_value_is_named() {
        assert_eq!(
            look_alike_note("720\u{440}", &["1080p", "720p"]),
            "; it differs from 720p at character 4: U+0440 CYRILLIC SMALL LETTER ER"
        );
    }

    #[test]
    fn fullwidth_digits_and_no_break_spaces_are_named_each() {
        assert_eq!(
            look_alike_note("\u{ff17}\u{ff12}0p", &["720p"]),
            "; it differs from 720p at character 1: U+FF17 FULLWIDTH DIGIT SEVEN, \
             character 2: U+FF12 FULLWIDTH DIGIT TWO"
        );
        assert_eq!(
            look_alike_note("slow\u{a0}motion", &["slow motion"]),
            "; it differs from slow motion at character 5: U+00A0 NO-BREAK SPACE"
        );
    }

    #[test]
    fn values_that_look_different_or_differ_only_in_case_get_no_note() {
        assert_eq!(look_alike_note("480p", &["720p"]), "");
        assert_eq!(look_alike_note("720P", &["720p"]), "");
        assert_eq!(look_alike_note("720p", &["720p"]), "");
        assert_eq!(look_alike_note("720", &["720p"]), "");
    }

    #[test]
    fn a_character_without_a_name_in_the_table_is_given_by_code_point() {
        assert_eq!(describe_char('\u{e9}'), "U+00E9");
        assert_eq!(describe_char('\u{1b}'), "U+001B ESCAPE");
    }

    #[test]
    fn a_path_megabytes_long_is_cut_for_a_message_and_escaped() {
        let path = format!("/\u{1b}{}", "y".repeat(1_000_000));
        let shown = short_path(&path);
        assert_eq!(shown.chars().count(), 126, "{shown}");
        assert!(shown.starts_with("/\\u{1b}yyy") && shown.ends_with("y…"));
        assert!(matches!(
            short_path("/duration"),
            Cow::Borrowed("/duration")
        ));
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_599_900), "1,599,900");
    }
}
