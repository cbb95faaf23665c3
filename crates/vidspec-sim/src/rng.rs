//! The simulator's seeded random numbers (fastrand's generator), one
//! independent stream per use, so a seed replays the same faults and task
//! outcomes.
//!
//! It owns random numbers only; it must not be used for anything that needs
//! unpredictability (ids here only need to be unique, which a counter ensures).

/// A seeded generator for one stream of a seed.
#[derive(Clone, Debug)]
pub(crate) struct Rng(fastrand::Rng);

impl Rng {
    /// A generator for `seed`; `stream` separates independent sequences that
    /// share one seed (faults, task outcomes, names).
    pub(crate) fn new(seed: u64, stream: u64) -> Rng {
        // An odd multiplier spreads the stream number over all 64 bits, so
        // the streams of one seed start from unrelated states.
        Rng(fastrand::Rng::with_seed(
            seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        ))
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.u64(..)
    }

    /// A uniform number in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        self.0.f64()
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

    #[test]
    fn chance_is_never_for_nan_or_zero_and_always_for_one() {
        let mut rng = Rng::new(5, 0);
        for _ in 0..1_000 {
            assert!(!rng.chance(f64::NAN));
            assert!(!rng.chance(0.0));
            assert!(rng.chance(1.0));
        }
    }
}
