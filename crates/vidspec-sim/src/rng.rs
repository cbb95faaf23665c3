//! A tiny seeded random generator (xorshift64*), enough for reproducible
//! fault injection and task outcomes without a dependency.
//!
//! It owns random numbers only; it must not be used for anything that needs
//! unpredictability (ids here only need to be unique, which a counter ensures).

/// xorshift64* seeded through splitmix64 (so seed 0 works too).
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for `seed`; `stream` separates independent sequences that
    /// share one seed (faults, task outcomes, names).
    pub(crate) fn new(seed: u64, stream: u64) -> Rng {
        let mut mixed = seed ^ stream.wrapping_mul(0xa076_1d64_78bd_642f);
        mixed = mixed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^= mixed >> 31;
        Rng {
            state: if mixed == 0 {
                0x2545_f491_4f6c_dd1d
            } else {
                mixed
            },
        }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A uniform number in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `true` with probability `rate` (NaN and rates ≤ 0 never, ≥ 1 always).
    pub(crate) fn chance(&mut self, rate: f64) -> bool {
        self.next_f64() < rate
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        let mut c = Rng::new(7, 2);
        let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let second: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let third: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(first, second);
        assert_ne!(first, third);
    }

    #[test]
    fn floats_stay_in_the_unit_interval_and_spread() {
        let mut rng = Rng::new(0, 0);
        let draws: Vec<f64> = (0..10_000).map(|_| rng.next_f64()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let below_half = draws.iter().filter(|x| **x < 0.5).count();
        assert!((4_000..6_000).contains(&below_half), "{below_half}");
    }
}
