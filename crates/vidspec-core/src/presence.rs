//! Which of a model's watched request keys a request holds, as bits.
//!
//! Owns one pass over a request's keys that answers, for every key the engine
//! asks about (the fields conditions need, the keys shaping may act on), "is it
//! there?" — so gates and shaping test bits instead of searching the request
//! map once per question. Keys are compared by length first, so most pairs cost
//! one integer comparison. It must not judge requests: a missing bit only means
//! a key is absent.

use serde_json::Value;

/// Bits of watched keys; at most 128 keys are watched exactly.
pub(crate) type Bits = u128;

/// The keys one model watches, each with its bit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watch {
    keys: Vec<String>,
    /// For each key length below 64, the indices of the watched keys of that
    /// length (a request key of another length costs one look-up).
    by_length: Vec<Vec<u8>>,
}

/// Keys this long or longer are looked for in the whole list.
const SHORT: usize = 64;

impl Watch {
    /// Watches `keys` (duplicates ignored). Past 128 keys, every bit reads as
    /// set, which only makes callers look the slow way.
    pub fn new(mut keys: Vec<String>) -> Watch {
        keys.sort();
        keys.dedup();
        let mut by_length = vec![Vec::new(); SHORT];
        if keys.len() <= 128 {
            for (index, key) in keys.iter().enumerate() {
                if key.len() < SHORT {
                    by_length[key.len()].push(index as u8);
                }
            }
        }
        Watch { keys, by_length }
    }

    /// The bit of `key`: all bits when it is not watched exactly (so a test
    /// against it never says "absent" wrongly).
    pub fn bit(&self, key: &str) -> Bits {
        match self.keys.iter().position(|watched| watched == key) {
            Some(index) if self.keys.len() <= 128 => 1 << index,
            _ => Bits::MAX,
        }
    }

    /// The bits of the watched keys `request` holds (all bits past 128 keys).
    pub fn present(&self, request: &Value) -> Bits {
        if self.keys.len() > 128 {
            return Bits::MAX;
        }
        let Some(object) = request.as_object() else {
            return 0;
        };
        let mut bits = 0;
        for key in object.keys() {
            let found = match self.by_length.get(key.len()) {
                Some(candidates) => candidates
                    .iter()
                    .map(|&index| usize::from(index))
                    .find(|&index| same_length_equal(self.keys[index].as_bytes(), key.as_bytes())),
                None => self.keys.iter().position(|watched| watched == key),
            };
            if let Some(index) = found {
                bits |= 1 << index;
            }
        }
        bits
    }
}

/// Whether two keys of the same length are equal, without a call into the C
/// library's `memcmp`: keys are short, and up to 16 bytes two overlapping
/// eight-byte words decide (a call costs more than the comparison).
fn same_length_equal(a: &[u8], b: &[u8]) -> bool {
    match a.len() {
        0..8 => a == b,
        8..=16 => {
            a.first_chunk::<8>() == b.first_chunk::<8>()
                && a.last_chunk::<8>() == b.last_chunk::<8>()
        }
        _ => a == b,
    }
}

/// A condition's needs (groups of spellings, one of each group must be
/// present) as one bit mask per group.
pub(crate) fn masks(watch: &Watch, needs: &[Vec<String>]) -> Vec<Bits> {
    needs
        .iter()
        .map(|spellings| {
            spellings
                .iter()
                .fold(0, |mask, name| mask | watch.bit(name))
        })
        .collect()
}

/// Whether `present` has a bit of every mask.
pub(crate) fn has_all(masks: &[Bits], present: Bits) -> bool {
    masks.iter().all(|mask| mask & present != 0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_of_the_same_length_that_differ_in_one_byte_are_told_apart() {
        // Lengths 1 to 20 cover the byte-wise, the two-word and the long
        // comparison; each pair differs only in its first, a middle or last byte.
        for length in 1..=20 {
            for at in [0, length / 2, length - 1] {
                let key = "k".repeat(length);
                let mut other = key.clone().into_bytes();
                other[at] = b'x';
                let other = String::from_utf8(other).expect("ASCII");
                let watch = Watch::new(vec![key.clone(), other.clone()]);
                for (held, not) in [(&key, &other), (&other, &key)] {
                    let present = watch.present(&json!({ held.clone(): 1 }));
                    assert_eq!(present, watch.bit(held), "{held} / {not}");
                    assert_eq!(present & watch.bit(not), 0, "{held} / {not}");
                }
            }
        }
    }

    #[test]
    fn a_request_sets_the_bits_of_the_watched_keys_it_holds() {
        let watch = Watch::new(vec!["b".into(), "a".into(), "ccc".into()]);
        let present = watch.present(&json!({"a": 1, "ccc": 2, "zz": 3}));
        assert_eq!(present, watch.bit("a") | watch.bit("ccc"));
        assert_eq!(present & watch.bit("b"), 0);
    }

    #[test]
    fn a_needed_group_holds_when_any_spelling_is_present() {
        let watch = Watch::new(vec!["size".into(), "dimensions".into(), "seed".into()]);
        let needs = masks(&watch, &[vec!["size".into(), "dimensions".into()]]);
        assert!(has_all(&needs, watch.present(&json!({"dimensions": 1}))));
        assert!(!has_all(&needs, watch.present(&json!({"seed": 1}))));
        assert!(has_all(&[], 0), "nothing needed always passes");
    }

    #[test]
    fn long_keys_are_found_too() {
        let long = "k".repeat(100);
        let watch = Watch::new(vec![long.clone(), "a".into()]);
        assert_eq!(watch.present(&json!({ long.clone(): 1 })), watch.bit(&long));
    }

    #[test]
    fn past_128_keys_every_key_reads_as_maybe_present() {
        let watch = Watch::new((0..200).map(|index| format!("k{index}")).collect());
        assert_eq!(watch.present(&json!({})), Bits::MAX);
        assert_eq!(watch.bit("k199"), Bits::MAX);
    }
}
