//! How long Discord's search takes to see a write, as far as dbcord knows.
//!
//! Search lags writes, and the lag is heavy-tailed: seconds typically,
//! minutes sometimes, with no documented bound. A fresh read covers the lag
//! by also reading the history of the last `window`, so the window must
//! exceed the lag. Two things set it: the backend's known bound (the
//! emulator knows its own; Discord publishes none), below which a window is
//! refused, and the lag dbcord sees itself: a row that the fresh history
//! holds and that carries the searched token, but that search did not
//! return, was not indexed although it was that old. The window then grows
//! to twice the longest such age, with a warning.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The known lag bound and the longest lag observed.
#[derive(Debug, Default)]
pub struct LagWatch {
    bound: Option<Duration>,
    observed_us: AtomicU64,
}

impl LagWatch {
    pub fn new(bound: Option<Duration>) -> Self {
        LagWatch {
            bound,
            observed_us: AtomicU64::new(0),
        }
    }

    /// The backend's known lag: no fresh window may be shorter.
    pub fn floor(&self) -> Duration {
        self.bound.unwrap_or_default()
    }

    /// The longest lag seen so far (a lower bound of the true tail).
    pub fn observed(&self) -> Duration {
        Duration::from_micros(self.observed_us.load(Ordering::Relaxed))
    }

    /// The window a fresh read uses when the session asks for `setting`:
    /// never below the known lag, and twice the longest lag seen.
    pub fn window(&self, setting: Duration) -> Duration {
        setting.max(self.floor()).max(self.observed() * 2)
    }

    /// A row `age` old was not yet in search; warn when that widens the window.
    pub fn saw_unindexed(&self, age: Duration, setting: Duration) {
        let before = self.window(setting);
        let age_us = age.as_micros() as u64;
        if self.observed_us.fetch_max(age_us, Ordering::Relaxed) >= age_us {
            return;
        }
        let after = self.window(setting);
        if after > before {
            tracing::warn!(
                "search had not indexed a row {:.0} s old; fresh reads now cover the last {:.0} s \
                 (dbcord.fresh_window is {:.0} s)",
                age.as_secs_f64(),
                after.as_secs_f64(),
                setting.as_secs_f64()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_covers_the_known_and_the_observed_lag() {
        let w = LagWatch::new(Some(Duration::from_secs(120)));
        assert_eq!(w.window(Duration::from_secs(60)), Duration::from_secs(120));
        assert_eq!(w.window(Duration::from_secs(300)), Duration::from_secs(300));
        w.saw_unindexed(Duration::from_secs(200), Duration::from_secs(300));
        assert_eq!(w.window(Duration::from_secs(300)), Duration::from_secs(400));
        w.saw_unindexed(Duration::from_secs(10), Duration::from_secs(300));
        assert_eq!(
            w.observed(),
            Duration::from_secs(200),
            "only the longest counts"
        );
    }
}
