//! Seeded randomness, the other half of a simulation's environment beside
//! [`crate::clock`]: one generator for everything that must replay from a
//! seed (the simulation's workload, the emulator's faults and
//! misbehaviour, tests' data).
//!
//! It is PCG-64 (MCG variant, from `rand_pcg`), whose output is fixed by
//! its published algorithm: a seed replays across versions and platforms.
//! The helpers on top (`below`, `range`, `chance`, `pick`) are written here
//! rather than taken from `rand`, whose sampling may change between
//! versions.

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// A seeded generator.
#[derive(Clone, Debug)]
pub struct SeededRng(Pcg64Mcg);

impl SeededRng {
    pub fn new(seed: u64) -> SeededRng {
        SeededRng(Pcg64Mcg::seed_from_u64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in [0, 1), of 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A whole number in `0..n` (`n > 0`); the modulo's bias is below
    /// 2^-40 for the `n` a simulation uses.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in `lo..hi` (`hi > lo`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below(hi.abs_diff(lo)) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items`, or `None` if there are none.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len() as u64) as usize])
    }
}

/// 64 well-mixed bits from a seed and what a draw is about: a draw that
/// depends on nothing but its subject replays whatever order the subjects
/// come in (the emulator's search lag, per message).
pub fn mix(seed: u64, about: &[u64]) -> u64 {
    about.iter().fold(SeededRng::new(seed).next_u64(), |h, a| {
        SeededRng::new(h ^ a).next_u64()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_and_draws_stay_in_bounds() {
        let (mut a, mut b) = (SeededRng::new(7), SeededRng::new(7));
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(SeededRng::new(8).next_u64(), xs[0]);
        let mut r = SeededRng::new(1);
        for _ in 0..1000 {
            assert!((-3..4).contains(&r.range(-3, 4)));
            assert!((0.0..1.0).contains(&r.unit()));
        }
        let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2200..2800).contains(&hits), "{hits}");
        assert_eq!(r.pick::<u8>(&[]), None);
        assert_eq!(mix(3, &[1, 2]), mix(3, &[1, 2]));
        assert_ne!(mix(3, &[1, 2]), mix(3, &[2, 1]));
    }

    /// PCG-64 MCG's output is fixed by its algorithm: the simulation's
    /// documented replay seeds depend on these numbers never changing
    /// (with a new version of `rand_pcg` or `rand_core`, say).
    #[test]
    fn the_output_stays_what_the_replay_seeds_were_found_with() {
        let mut r = SeededRng::new(0);
        let first: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(
            first,
            [
                6_198_063_878_555_692_194,
                15_457_584_781_082_106_573,
                6_494_991_894_978_360_344
            ]
        );
        assert_eq!(mix(1, &[2, 3]), 11_134_167_316_484_627_730);
    }
}
