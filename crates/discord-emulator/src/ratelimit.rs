//! Rate-limit buckets as Discord applies them: per route and top-level
//! resource (channel or guild), plus a global per-bot ceiling.

use std::collections::HashMap;
use std::time::Duration;

use discord_api::{DiscordError, RateLimitScope, Route};

/// `limit` requests per `per`, per route and resource.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketRule {
    pub limit: u32,
    pub per: Duration,
    /// A limit shared by everyone using the resource (429s in "shared" scope).
    pub shared: bool,
}

/// What the `X-RateLimit-*` headers of an answer say.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketInfo {
    pub bucket: String,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket refills.
    pub reset_after: f64,
    /// Unix seconds at which it refills.
    pub reset_at: f64,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    used: u32,
    reset_at_us: u64,
}

/// The emulator's bucket state.
#[derive(Debug)]
pub struct RateLimits {
    rules: HashMap<Route, BucketRule>,
    windows: HashMap<(Route, u64), Window>,
    global_limit: u32,
    global: Window,
}

impl RateLimits {
    pub fn new(rules: &[(Route, BucketRule)], global_per_second: u32) -> Self {
        RateLimits {
            rules: rules.iter().copied().collect(),
            windows: HashMap::new(),
            global_limit: global_per_second,
            global: Window {
                used: 0,
                reset_at_us: 0,
            },
        }
    }

    /// Take one request from the global and the route's bucket, or answer 429.
    pub fn acquire(
        &mut self,
        route: Route,
        resource: u64,
        now_us: u64,
    ) -> Result<Option<BucketInfo>, DiscordError> {
        if route.is_cdn() {
            return Ok(None); // the CDN is not rate limited like the API
        }
        self.take_global(now_us)?;
        let Some(rule) = self.rules.get(&route).copied() else {
            return Ok(None);
        };
        let w = self.windows.entry((route, resource)).or_insert(Window {
            used: 0,
            reset_at_us: 0,
        });
        if now_us >= w.reset_at_us {
            *w = Window {
                used: 0,
                reset_at_us: now_us + rule.per.as_micros() as u64,
            };
        }
        let reset_after = (w.reset_at_us - now_us) as f64 / 1e6;
        if w.used >= rule.limit {
            return Err(DiscordError::RateLimited {
                retry_after: round_ms(reset_after),
                scope: if rule.shared {
                    RateLimitScope::Shared
                } else {
                    RateLimitScope::User
                },
                bucket: Some(route.name().to_string()),
            });
        }
        w.used += 1;
        Ok(Some(BucketInfo {
            bucket: route.name().to_string(),
            limit: rule.limit,
            remaining: rule.limit - w.used,
            reset_after: round_ms(reset_after),
            reset_at: round_ms(w.reset_at_us as f64 / 1e6),
        }))
    }

    /// How long until `route`'s bucket for `resource`, and the global one,
    /// have room again: what the headers of the last answers said
    /// (`remaining` 0, `reset_after`). Zero if there is room.
    pub fn room_in(&self, route: Route, resource: u64, now_us: u64) -> Duration {
        if route.is_cdn() {
            return Duration::ZERO;
        }
        let full = |w: &Window, limit: u32| {
            if w.used >= limit && now_us < w.reset_at_us {
                w.reset_at_us - now_us
            } else {
                0
            }
        };
        let bucket = match (self.rules.get(&route), self.windows.get(&(route, resource))) {
            (Some(rule), Some(w)) => full(w, rule.limit),
            _ => 0,
        };
        let global = full(&self.global, self.global_limit);
        Duration::from_micros(bucket.max(global))
    }

    fn take_global(&mut self, now_us: u64) -> Result<(), DiscordError> {
        let g = &mut self.global;
        if now_us >= g.reset_at_us {
            *g = Window {
                used: 0,
                reset_at_us: now_us + 1_000_000,
            };
        }
        if g.used >= self.global_limit {
            return Err(DiscordError::RateLimited {
                retry_after: round_ms((g.reset_at_us - now_us) as f64 / 1e6),
                scope: RateLimitScope::Global,
                bucket: None,
            });
        }
        g.used += 1;
        Ok(())
    }
}

/// Discord sends seconds with millisecond precision; never round a wait down to zero.
fn round_ms(secs: f64) -> f64 {
    ((secs * 1000.0).ceil() / 1000.0).max(0.001)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_spends_then_refills() {
        let rule = BucketRule {
            limit: 2,
            per: Duration::from_secs(5),
            shared: false,
        };
        let mut rl = RateLimits::new(&[(Route::CreateMessage, rule)], 50);
        assert_eq!(
            rl.acquire(Route::CreateMessage, 1, 0)
                .unwrap()
                .unwrap()
                .remaining,
            1
        );
        rl.acquire(Route::CreateMessage, 1, 1).unwrap();
        let err = rl.acquire(Route::CreateMessage, 1, 1_000_000).unwrap_err();
        match err {
            DiscordError::RateLimited {
                retry_after, scope, ..
            } => {
                assert_eq!(scope, RateLimitScope::User);
                assert!((retry_after - 4.0).abs() < 0.01);
            }
            e => panic!("unexpected {e:?}"),
        }
        // another channel has its own bucket
        rl.acquire(Route::CreateMessage, 2, 1_000_000).unwrap();
        rl.acquire(Route::CreateMessage, 1, 5_000_000).unwrap();
    }

    #[test]
    fn global_limit_applies_across_routes() {
        let mut rl = RateLimits::new(&[], 3);
        for i in 0..3 {
            rl.acquire(Route::GetMessage, i, 10).unwrap();
        }
        let err = rl.acquire(Route::Search, 9, 10).unwrap_err();
        assert!(matches!(
            err,
            DiscordError::RateLimited {
                scope: RateLimitScope::Global,
                ..
            }
        ));
    }
}
