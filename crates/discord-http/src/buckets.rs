//! dbcord's own rate limiter for the real backend: bucket state learned from
//! Discord's headers, never hard-coded.
//!
//! A route's bucket is named by `X-RateLimit-Bucket`; its state is kept per
//! bucket and top-level resource (channel or guild). Before a request that a
//! known bucket has no room for, the limiter says how long to wait; the
//! global limit (50 requests a second) is kept by counting the last second's
//! requests. A 429 that still happens blocks the bucket, or everything if
//! it is global, for `retry_after`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use discord_api::Route;
use discord_api::limits::GLOBAL_PER_SECOND;
use reqwest::header::HeaderMap;

/// A route and its top-level resource: what Discord keys buckets by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteKey {
    pub route: Route,
    pub major: u64,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    remaining: u32,
    reset_at_us: u64,
}

#[derive(Debug, Default)]
struct State {
    /// Route name -> bucket name, as the headers said.
    names: HashMap<Route, String>,
    buckets: HashMap<(String, u64), Bucket>,
    /// Send times of the last second's requests.
    recent: VecDeque<u64>,
    global_until_us: u64,
}

/// Bucket state shared by all requests of one backend.
#[derive(Debug, Default)]
pub struct Buckets {
    state: Mutex<State>,
}

impl Buckets {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long to wait before sending on `key` at `now_us`; zero means go,
    /// and the request is counted as sent.
    pub fn reserve(&self, key: RouteKey, now_us: u64) -> Duration {
        let mut s = self.lock();
        if s.global_until_us > now_us {
            return Duration::from_micros(s.global_until_us - now_us);
        }
        while s.recent.front().is_some_and(|t| *t + 1_000_000 <= now_us) {
            s.recent.pop_front();
        }
        if s.recent.len() >= GLOBAL_PER_SECOND as usize {
            let oldest = *s.recent.front().expect("non-empty");
            return Duration::from_micros(oldest + 1_000_000 - now_us);
        }
        if let Some(name) = s.names.get(&key.route).cloned()
            && let Some(b) = s.buckets.get_mut(&(name, key.major))
            && now_us < b.reset_at_us
        {
            if b.remaining == 0 {
                return Duration::from_micros(b.reset_at_us - now_us);
            }
            b.remaining -= 1;
        }
        s.recent.push_back(now_us);
        Duration::ZERO
    }

    /// Learn from a response's `X-RateLimit-*` headers.
    pub fn observe(&self, key: RouteKey, headers: &HeaderMap, now_us: u64) {
        let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
        let (Some(name), Some(remaining), Some(reset_after)) = (
            get("x-ratelimit-bucket"),
            get("x-ratelimit-remaining").and_then(|v| v.parse::<u32>().ok()),
            get("x-ratelimit-reset-after").and_then(|v| v.parse::<f64>().ok()),
        ) else {
            return;
        };
        let mut s = self.lock();
        s.names.insert(key.route, name.to_string());
        let reset_at_us = now_us + (reset_after * 1e6) as u64;
        s.buckets.insert(
            (name.to_string(), key.major),
            Bucket {
                remaining,
                reset_at_us,
            },
        );
    }

    /// A 429 happened anyway: hold the bucket (or everything) for `retry_after`.
    pub fn blocked(&self, key: RouteKey, retry_after: Duration, global: bool, now_us: u64) {
        let until = now_us + retry_after.as_micros() as u64;
        let mut s = self.lock();
        if global {
            s.global_until_us = s.global_until_us.max(until);
        } else if let Some(name) = s.names.get(&key.route).cloned() {
            s.buckets.insert(
                (name, key.major),
                Bucket {
                    remaining: 0,
                    reset_at_us: until,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(remaining: u32, reset_after: f64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-bucket", HeaderValue::from_static("abc"));
        h.insert("x-ratelimit-limit", HeaderValue::from_static("5"));
        h.insert(
            "x-ratelimit-remaining",
            HeaderValue::from_str(&remaining.to_string()).unwrap(),
        );
        h.insert(
            "x-ratelimit-reset-after",
            HeaderValue::from_str(&reset_after.to_string()).unwrap(),
        );
        h
    }

    #[test]
    fn waits_before_a_request_the_bucket_has_no_room_for() {
        let b = Buckets::default();
        let key = RouteKey {
            route: Route::CreateMessage,
            major: 7,
        };
        assert_eq!(
            b.reserve(key, 0),
            Duration::ZERO,
            "unknown bucket: go and learn"
        );
        b.observe(key, &headers(1, 5.0), 0);
        assert_eq!(b.reserve(key, 10), Duration::ZERO);
        assert_eq!(b.reserve(key, 20), Duration::from_micros(5_000_000 - 20));
        let other = RouteKey {
            route: Route::CreateMessage,
            major: 8,
        };
        assert_eq!(
            b.reserve(other, 20),
            Duration::ZERO,
            "another channel, another bucket"
        );
        assert_eq!(b.reserve(key, 5_000_000), Duration::ZERO, "after the reset");
    }

    #[test]
    fn keeps_the_global_limit_and_global_429s() {
        let b = Buckets::default();
        let key = RouteKey {
            route: Route::GetMessage,
            major: 1,
        };
        for _ in 0..GLOBAL_PER_SECOND {
            assert_eq!(b.reserve(key, 100), Duration::ZERO);
        }
        assert_eq!(b.reserve(key, 200), Duration::from_micros(1_000_000 - 100));
        b.blocked(key, Duration::from_secs(2), true, 2_000_000);
        assert_eq!(b.reserve(key, 2_000_000), Duration::from_secs(2));
    }
}
