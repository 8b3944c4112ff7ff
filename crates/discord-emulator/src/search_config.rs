//! How the emulator's search behaves: as unkindly as Discord's by default.
//!
//! Each knob models something Discord documents or others report (see
//! `shared/discord-api-notes.md`, "What the emulator got wrong"); every
//! draw is seeded, so a failing run replays. [`SearchConfig::kind`] is the
//! old, kinder behaviour, for tests that are about something else.

use std::time::Duration;

use crate::draw;

/// How several words in one `content` match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matching {
    /// As Discord: the words are one phrase, in order, with at most `slop`
    /// words skipped in all.
    Phrase,
    /// Kinder: every word anywhere (an AND of words).
    AllWords,
}

/// How long a new or edited message takes to become searchable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LagModel {
    /// Every message after the same delay.
    Fixed(Duration),
    /// A Pareto draw per message: `scale` at the least, `scale * 2^(1/alpha)`
    /// typically, heavy-tailed up to `max` (Discord's tail is unbounded;
    /// the emulator needs a bound that clients can be told).
    HeavyTailed {
        scale: Duration,
        alpha: f64,
        max: Duration,
    },
}

impl LagModel {
    /// The lag of one version of one message, drawn from `seed`.
    pub fn draw(&self, seed: u64, message: u64, version: u64) -> Duration {
        match *self {
            LagModel::Fixed(d) => d,
            LagModel::HeavyTailed { scale, alpha, max } => {
                let u = 1.0 - draw::unit(seed, &[message, version, 1]); // (0, 1]
                let factor = u.powf(-1.0 / alpha.max(0.01));
                scale.mul_f64(factor.min(1e6)).min(max)
            }
        }
    }

    /// The longest lag the model can draw: what a client may be told.
    pub fn bound(&self) -> Duration {
        match *self {
            LagModel::Fixed(d) => d,
            LagModel::HeavyTailed { max, .. } => max,
        }
    }
}

/// Periods in which the index is being rebuilt: older messages are missing
/// from results and answers say `doing_deep_historical_index: true`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeepIndex {
    /// A period starts every `every` of emulator time...
    pub every: Duration,
    /// ...and lasts this long.
    pub lasting: Duration,
    /// During it, messages older than this are missing.
    pub hides_older_than: Duration,
}

impl DeepIndex {
    /// Whether `now_us` falls in a period.
    pub fn active(&self, now_us: u64) -> bool {
        let every = self.every.as_micros().max(1) as u64;
        now_us % every < self.lasting.as_micros() as u64
    }
}

/// Everything about how search answers.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchConfig {
    pub matching: Matching,
    pub lag: LagModel,
    /// The share of new messages that search never sees until they are edited.
    pub unindexed_until_edit: f64,
    /// `total_results` is off by up to this share either way (never above
    /// 10,000 when more exist, never zero when one exists).
    pub inexact_totals: f64,
    /// The share of pages that come back shorter than `limit` although more
    /// hits follow.
    pub short_pages: f64,
    /// The share of pages that come back empty although hits remain.
    pub empty_pages: f64,
    /// The first search of a guild answers 202 (sometimes with `retry_after` 0).
    pub first_search_202: bool,
    /// Search answers 202 for this long after the emulator starts.
    pub warmup: Duration,
    pub deep_index: Option<DeepIndex>,
    /// Search refuses the bot (403), as it may where bots may not search.
    pub forbidden: bool,
    pub seed: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self::strict()
    }
}

impl SearchConfig {
    /// As unkind as Discord: phrase matching, a heavy-tailed lag of a few
    /// seconds typically and up to two minutes, inexact totals, short and
    /// empty pages, 202 on a guild's first search.
    pub fn strict() -> Self {
        SearchConfig {
            matching: Matching::Phrase,
            lag: LagModel::HeavyTailed {
                scale: Duration::from_secs(1),
                alpha: 1.0,
                max: Duration::from_secs(120),
            },
            unindexed_until_edit: 0.0,
            inexact_totals: 0.2,
            short_pages: 0.1,
            empty_pages: 0.05,
            first_search_202: true,
            warmup: Duration::ZERO,
            deep_index: None,
            forbidden: false,
            seed: 0x00d1_5c0d,
        }
    }

    /// The kinder search of earlier versions: words ANDed anywhere, a fixed
    /// lag, exact totals, full pages. Never the default.
    pub fn kind(lag: Duration) -> Self {
        SearchConfig {
            matching: Matching::AllWords,
            lag: LagModel::Fixed(lag),
            unindexed_until_edit: 0.0,
            inexact_totals: 0.0,
            short_pages: 0.0,
            empty_pages: 0.0,
            first_search_202: false,
            warmup: Duration::ZERO,
            deep_index: None,
            forbidden: false,
            seed: 0,
        }
    }

    /// Strict, but with every message searchable after exactly `lag`.
    pub fn strict_with_lag(lag: Duration) -> Self {
        SearchConfig {
            lag: LagModel::Fixed(lag),
            ..Self::strict()
        }
    }

    /// `total_results` as reported for `true_count` hits, drawn about `query`.
    pub fn reported_total(&self, true_count: u64, query: u64) -> u64 {
        const COUNT_CAP: u64 = 10_000;
        if true_count == 0 {
            return 0;
        }
        let err = (draw::unit(self.seed, &[query, 2]) * 2.0 - 1.0) * self.inexact_totals;
        let reported = ((true_count as f64) * (1.0 + err)).round().max(1.0) as u64;
        if true_count > COUNT_CAP {
            reported.min(COUNT_CAP)
        } else {
            reported
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_tailed_lag_is_short_typically_and_long_sometimes() {
        let lag = SearchConfig::strict().lag;
        let mut draws: Vec<Duration> = (0..10_000).map(|i| lag.draw(1, i, 0)).collect();
        draws.sort();
        assert!(
            draws[5_000] < Duration::from_secs(4),
            "median {:?}",
            draws[5_000]
        );
        assert!(
            draws[9_950] > Duration::from_secs(60),
            "tail {:?}",
            draws[9_950]
        );
        assert!(draws.iter().all(|d| *d <= lag.bound()));
        assert_eq!(lag.draw(1, 5, 0), lag.draw(1, 5, 0), "replayable");
    }

    #[test]
    fn totals_are_off_both_ways_but_never_zero_nor_over_the_cap() {
        let c = SearchConfig::strict();
        let reported: Vec<u64> = (0..200).map(|q| c.reported_total(100, q)).collect();
        assert!(reported.iter().any(|r| *r < 100) && reported.iter().any(|r| *r > 100));
        assert!((0..200).all(|q| c.reported_total(1, q) >= 1));
        assert!((0..200).all(|q| c.reported_total(50_000, q) <= 10_000));
        assert_eq!(
            SearchConfig::kind(Duration::ZERO).reported_total(123, 9),
            123
        );
    }
}
