//! Seeded randomness for the emulator's misbehaviour: every draw is a pure
//! function of the seed and what it is about (a message, a request), so a
//! run replays exactly, whatever order things happen in.

/// 64 well-mixed bits from a seed and the things the draw is about.
pub fn hash(seed: u64, about: &[u64]) -> u64 {
    discord_api::rng::mix(seed, about)
}

/// A number in [0, 1) from a seed and the things the draw is about.
pub fn unit(seed: u64, about: &[u64]) -> f64 {
    (hash(seed, about) >> 11) as f64 / (1u64 << 53) as f64
}

/// A whole number in `0..n` (n > 0), seeded likewise.
pub fn below(seed: u64, about: &[u64], n: u64) -> u64 {
    ((unit(seed, about) * n as f64) as u64).min(n.saturating_sub(1))
}

/// A hash of text, for drawing about a query.
pub fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_repeat_for_the_same_seed_and_spread_over_the_unit() {
        assert_eq!(unit(7, &[1, 2]), unit(7, &[1, 2]));
        assert_ne!(unit(7, &[1, 2]), unit(8, &[1, 2]));
        let draws: Vec<f64> = (0..10_000).map(|i| unit(3, &[i])).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let low = draws.iter().filter(|d| **d < 0.25).count();
        assert!((2_000..3_000).contains(&low), "{low}");
        assert!((0..100).all(|i| below(3, &[i], 5) < 5));
    }
}
