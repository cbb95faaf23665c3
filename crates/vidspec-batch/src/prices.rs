//! Prices: what one unit of a billing key costs, in USD, from the user's
//! price file and from the costs the ledger has seen the gateway report.
//!
//! Owns the price file format (a YAML map from billing-key patterns to
//! amounts, `*` matching any run of characters), the rule that picks the
//! most specific pattern, and the precedence between the file and learned
//! prices: **a line of the price file wins over a learned price**; a learned
//! price applies only to keys no line of the file matches. The user's file
//! says what they know (or want to assume); a learned price is the mean of
//! what this gateway reported, used where the user said nothing. So a `"*"`
//! line in the file shadows every learned price: leave it out to let them
//! apply.
//!
//! It must not know any model, billing key or price of its own: prices are
//! data. It does no network I/O and reads no ledger: learned prices are
//! handed in ([`PriceBook::with_learned`]).

use std::collections::HashMap;
use std::fmt;
use std::fmt::Write as _;
use std::path::Path;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_saphyr::Spanned;
use vidspec_core::{Charge, Problem};
use vidspec_journal::LearnedPrice;

/// Price files are limited to this many bytes (a price per billing key is a
/// few hundred lines at most).
pub const MAX_PRICE_FILE_BYTES: u64 = 1024 * 1024;

/// Prices per billing key: the lines of a price file and the learned prices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceBook {
    /// The file's lines in file order.
    lines: Vec<PriceLine>,
    /// Learned prices by billing key.
    learned: HashMap<String, LearnedPrice>,
}

/// One line of a price file, compiled for matching.
#[derive(Debug, Clone, PartialEq)]
struct PriceLine {
    /// The pattern as written.
    pattern: String,
    /// The pattern's literal pieces between its wildcards (runs of `*` count
    /// as one): `a*b*` is `["a", "b", ""]`.
    pieces: Vec<String>,
    /// The amount in USD.
    amount: f64,
}

impl PriceLine {
    fn wildcards(&self) -> usize {
        self.pieces.len() - 1
    }

    fn literal_characters(&self) -> usize {
        self.pieces.iter().map(|piece| piece.chars().count()).sum()
    }

    /// Whether the pattern matches the whole of `key`.
    fn matches(&self, key: &str) -> bool {
        let Some((first, rest)) = self.pieces.split_first() else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return key == first;
        };
        let Some(mut remaining) = key.strip_prefix(first.as_str()) else {
            return false;
        };
        // Each middle piece is taken at its first place: the leftmost
        // match leaves the most room for the pieces after it.
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.ends_with(last.as_str())
    }
}

/// A price and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    /// USD per unit of the billing key (a charge costs this × its multiplier).
    pub amount: f64,
    /// Where the amount came from.
    pub source: PriceSource,
}

/// Where a price came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriceSource {
    /// A line of the price file.
    File {
        /// The line's pattern.
        pattern: String,
    },
    /// The mean cost the gateway reported for this key, per unit.
    Learned {
        /// How many ended tasks it was learned from.
        tasks: u64,
    },
}

/// Why a price file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PriceFileError {
    /// The file could not be read.
    #[error("{file}: {error}")]
    Read {
        /// The file as the user named it.
        file: String,
        /// What went wrong.
        error: vidspec_core::load::FileReadError,
    },
    /// The file was read, and has problems (every one is listed).
    #[error("{}", list(problems))]
    Invalid {
        /// Each problem with its line and column.
        problems: Vec<Problem>,
    },
}

fn list(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (index, problem) in problems.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let _ = write!(out, "{problem}");
    }
    out
}

impl PriceBook {
    /// A book without prices.
    pub fn empty() -> PriceBook {
        PriceBook::default()
    }

    /// Reads a price file (see [`PriceBook::from_yaml_str`]).
    pub fn from_yaml_file(path: &Path) -> Result<PriceBook, PriceFileError> {
        let file = path.display().to_string();
        let bytes =
            vidspec_core::load::read_regular_file(path, MAX_PRICE_FILE_BYTES).map_err(|error| {
                PriceFileError::Read {
                    file: file.clone(),
                    error,
                }
            })?;
        match String::from_utf8(bytes) {
            Ok(text) => PriceBook::from_yaml_str(&file, &text),
            Err(_) => Err(PriceFileError::Invalid {
                problems: vec![Problem {
                    file,
                    line: 0,
                    column: 0,
                    message: "the file is not UTF-8 text: save it as UTF-8".to_owned(),
                }],
            }),
        }
    }

    /// Parses a price file: a YAML map from billing-key patterns to amounts
    /// in USD, e.g. `"model@1080p/*": 0.4` and `"*": 0.2`. `file`
    /// names it in messages. Duplicate patterns, amounts that are not a
    /// finite number of zero or more, and empty patterns are refused, every
    /// one with its line. An empty file is a book without prices.
    pub fn from_yaml_str(file: &str, yaml: &str) -> Result<PriceBook, PriceFileError> {
        let problem = |line: u64, column: u64, message: String| Problem {
            file: file.to_owned(),
            line,
            column,
            message,
        };
        let mut options = serde_saphyr::options::Options::default();
        options.strict_booleans = true;
        let read: Option<PriceFile> =
            serde_saphyr::from_str_with_options(yaml, options).map_err(|error| {
                let (line, column) = error
                    .location()
                    .map(|location| (location.line(), location.column()))
                    .unwrap_or((0, 0));
                PriceFileError::Invalid {
                    problems: vec![problem(
                        line,
                        column,
                        yaml_message(&error.without_snippet().to_string()),
                    )],
                }
            })?;
        let mut problems = Vec::new();
        let mut lines = Vec::new();
        for (pattern, amount) in read.map(|file| file.0).unwrap_or_default() {
            let at = &pattern.referenced;
            if pattern.value.is_empty() {
                problems.push(problem(
                    at.line(),
                    at.column(),
                    "the pattern is empty: write a billing key, or `*` for every key".to_owned(),
                ));
                continue;
            }
            if !(amount.value.is_finite() && amount.value >= 0.0) {
                let at = &amount.referenced;
                problems.push(problem(
                    at.line(),
                    at.column(),
                    format!(
                        "the price of {} is {}; a price is an amount of USD, zero or more (e.g. 0.25)",
                        yaml_quote(&pattern.value),
                        amount.value
                    ),
                ));
                continue;
            }
            lines.push(PriceLine {
                pieces: pieces(&pattern.value),
                pattern: pattern.value,
                amount: amount.value,
            });
        }
        if problems.is_empty() {
            Ok(PriceBook {
                lines,
                learned: HashMap::new(),
            })
        } else {
            Err(PriceFileError::Invalid { problems })
        }
    }

    /// The book with prices learned from reported costs
    /// ([`vidspec_journal::TaskStore::learned_prices`]). They apply to keys
    /// no line of the file matches. A learned price that is not a finite
    /// amount of zero or more is ignored.
    pub fn with_learned(mut self, learned: Vec<LearnedPrice>) -> PriceBook {
        for price in learned {
            if price.price.is_finite() && price.price >= 0.0 {
                self.learned.insert(price.key.clone(), price);
            }
        }
        self
    }

    /// Whether the book has no price at all.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.learned.is_empty()
    }

    /// The price of one unit of `key`: the most specific matching line of
    /// the file (fewest wildcards, then most literal characters, then the
    /// earliest line), else the learned price, else none.
    pub fn price(&self, key: &str) -> Option<Price> {
        let best = self
            .lines
            .iter()
            .filter(|line| line.matches(key))
            .min_by_key(|line| {
                (
                    line.wildcards(),
                    std::cmp::Reverse(line.literal_characters()),
                )
            });
        if let Some(line) = best {
            return Some(Price {
                amount: line.amount,
                source: PriceSource::File {
                    pattern: line.pattern.clone(),
                },
            });
        }
        self.learned.get(key).map(|learned| Price {
            amount: learned.price,
            source: PriceSource::Learned {
                tasks: learned.tasks,
            },
        })
    }

    /// What a charge is estimated to cost in USD: its key's price × its
    /// multiplier (the price rounded to whole micro-USD first, as budgets
    /// and plans count); `None` when the key has no price.
    pub fn estimate(&self, charge: &Charge) -> Option<f64> {
        self.estimate_micros(charge).map(usd)
    }

    /// [`PriceBook::estimate`] in whole micro-USD.
    pub(crate) fn estimate_micros(&self, charge: &Charge) -> Option<u64> {
        self.price(&charge.key)
            .map(|price| micros(price.amount).saturating_mul(charge.multiplier))
    }
}

/// The literal pieces of a pattern between its wildcards, runs of `*`
/// counted as one wildcard.
fn pieces(pattern: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut after_wildcard = false;
    for c in pattern.chars() {
        if c == '*' {
            if !after_wildcard {
                pieces.push(String::new());
            }
            after_wildcard = true;
        } else {
            after_wildcard = false;
            if let Some(last) = pieces.last_mut() {
                last.push(c);
            }
        }
    }
    pieces
}

/// A price file's content: its (pattern, amount) pairs in file order.
struct PriceFile(Vec<(Spanned<String>, Spanned<f64>)>);

impl<'de> Deserialize<'de> for PriceFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = PriceFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from billing-key patterns to prices in USD")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PriceFile, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(PriceFile(pairs))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// The reader's message without its own location suffix and its advice to
/// library users.
fn yaml_message(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(index) if message[index..].contains(", column ") => &message[..index],
        _ => message,
    };
    let message = message.trim();
    match message {
        "expected mapping start" => {
            "a price file is a map from billing-key patterns to prices in USD, one per line, e.g. `\"model@720p/*\": 0.3`".to_owned()
        }
        "invalid floating point" => {
            "a price is a number of USD, e.g. 0.25 (no currency sign, no quotes)".to_owned()
        }
        "expected string scalar" => {
            "expected a pattern and a number of USD, e.g. `\"model@720p/*\": 0.3`".to_owned()
        }
        _ => {
            let message = message
                .strip_suffix(", set DuplicateKeyPolicy in Options if acceptable")
                .unwrap_or(message);
            match message.strip_prefix("duplicate mapping key: ") {
                Some(pattern) => format!(
                    "the pattern {} is given twice: keep one price per pattern",
                    yaml_quote(pattern)
                ),
                None => vidspec_core::text::escape_hidden(message).into_owned(),
            }
        }
    }
}

/// `text` as a YAML double-quoted string that is safe to print: `"` and `\`
/// escaped, control and invisible characters written as `\uXXXX` or
/// `\UXXXXXXXX` (which YAML reads back as the same character), so a
/// message's advice can be copied into a price file as it is.
pub fn yaml_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut buffer = [0u8; 4];
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => {
                let one: &str = c.encode_utf8(&mut buffer);
                if matches!(
                    vidspec_core::text::escape_hidden(one),
                    std::borrow::Cow::Owned(_)
                ) {
                    let code = u32::from(c);
                    if code <= 0xFFFF {
                        let _ = write!(out, "\\u{code:04X}");
                    } else {
                        let _ = write!(out, "\\U{code:08X}");
                    }
                } else {
                    out.push(c);
                }
            }
        }
    }
    out.push('"');
    out
}

/// An amount of USD for messages and tables: `$0.40`, `$12.00`, and up to
/// six decimals when cents are not enough (`$0.0035`).
pub fn format_usd(amount: f64) -> String {
    if !amount.is_finite() {
        return format!("${amount}");
    }
    let mut text = format!("{amount:.6}");
    // Keep at least two decimals.
    while text.ends_with('0') && text.len() > text.find('.').map_or(0, |dot| dot + 3) {
        text.pop();
    }
    if let Some(rest) = text.strip_prefix('-') {
        format!("-${rest}")
    } else {
        format!("${text}")
    }
}

/// Micro-USD per USD.
const MICROS: f64 = 1_000_000.0;

/// USD as whole micro-USD (sums and comparisons of money are made on
/// these, so they are exact); anything not finite or below zero is 0.
pub(crate) fn micros(amount: f64) -> u64 {
    if amount.is_finite() && amount > 0.0 {
        // `as` saturates at u64::MAX for amounts beyond it.
        (amount * MICROS).round() as u64
    } else {
        0
    }
}

/// Micro-USD as USD.
pub(crate) fn usd(micros: u64) -> f64 {
    micros as f64 / MICROS
}
