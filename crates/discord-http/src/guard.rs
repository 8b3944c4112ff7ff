//! Staying clear of Cloudflare's ban, and stopping at once when it comes.
//!
//! Discord bans an IP for up to an hour after 10,000 invalid requests
//! (answers 401, 403 or 429, shared-scope 429s excepted) in 10 minutes.
//! The guard counts them and refuses to send once a budget below that is
//! spent, so dbcord stops itself before the ban. A ban that comes anyway is
//! an HTML (or plain) 429 without rate-limit headers; the guard then stops
//! every request until it should be over, and says so.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use discord_api::limits::{INVALID_REQUEST_LIMIT, INVALID_REQUEST_WINDOW};
use discord_api::{DiscordError, RateLimitScope};

/// How long a ban lasts when Cloudflare does not say ("up to an hour").
pub const DEFAULT_BAN: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
struct State {
    /// When each recent invalid answer came (µs).
    invalid: VecDeque<u64>,
    banned_until_us: u64,
}

/// Counts invalid answers and remembers a ban.
#[derive(Debug)]
pub struct Guard {
    budget: u32,
    state: Mutex<State>,
}

impl Guard {
    /// Refuse to send once `budget` invalid answers came in the window.
    pub fn new(budget: u32) -> Self {
        Guard {
            budget: budget.min(INVALID_REQUEST_LIMIT),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a request may be sent at `now_us`.
    pub fn check(&self, now_us: u64) -> Result<(), DiscordError> {
        let mut s = self.lock();
        if now_us < s.banned_until_us {
            return Err(DiscordError::CloudflareBan {
                retry_after: (s.banned_until_us - now_us) as f64 / 1e6,
            });
        }
        let window = INVALID_REQUEST_WINDOW.as_micros() as u64;
        while s.invalid.front().is_some_and(|t| t + window <= now_us) {
            s.invalid.pop_front();
        }
        if s.invalid.len() >= self.budget as usize {
            return Err(DiscordError::InvalidRequestBudget {
                count: s.invalid.len() as u32,
            });
        }
        Ok(())
    }

    /// Count an answer that Discord counts against the ban limit, and start
    /// the stop if it is the ban itself.
    pub fn observe(&self, err: &DiscordError, now_us: u64) {
        let mut s = self.lock();
        match err {
            DiscordError::CloudflareBan { retry_after } => {
                let until =
                    now_us + Duration::from_secs_f64(retry_after.max(0.0)).as_micros() as u64;
                s.banned_until_us = s.banned_until_us.max(until);
                tracing::error!(
                    "Cloudflare has banned this IP; dbcord stops all requests for {retry_after:.0} s"
                );
            }
            DiscordError::RateLimited {
                scope: RateLimitScope::Shared,
                ..
            } => {}
            e if matches!(e.status(), 401 | 403 | 429) => s.invalid.push_back(now_us),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_before_the_ban_limit_and_after_a_ban() {
        let g = Guard::new(3);
        for t in 0..3 {
            g.check(t).unwrap();
            g.observe(&DiscordError::Unauthorized, t);
        }
        let e = g.check(10).unwrap_err();
        assert!(
            matches!(e, DiscordError::InvalidRequestBudget { count: 3 }),
            "{e}"
        );
        let later = INVALID_REQUEST_WINDOW.as_micros() as u64 + 10;
        g.check(later).unwrap();
        let shared = DiscordError::RateLimited {
            retry_after: 200.0,
            scope: RateLimitScope::Shared,
            bucket: None,
        };
        g.observe(&shared, later);
        g.check(later).unwrap();
        g.observe(&DiscordError::CloudflareBan { retry_after: 60.0 }, later);
        assert!(matches!(
            g.check(later + 1),
            Err(DiscordError::CloudflareBan { .. })
        ));
        g.check(later + 60_000_000).unwrap();
    }
}
