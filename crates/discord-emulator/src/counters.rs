//! Request counters: the cost of a workload on Discord, read by tests,
//! `EXPLAIN ANALYZE` and benchmarks.

use std::collections::BTreeMap;

use serde::Serialize;

use discord_api::Route;

/// Per-route tallies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RouteCount {
    /// Every request received, answered or not.
    pub requests: u64,
    /// Requests answered 429.
    pub rate_limited: u64,
    /// Requests answered with any other error.
    pub errors: u64,
}

/// What the emulator has been asked since it started (or was reset).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counters {
    pub by_route: BTreeMap<Route, RouteCount>,
    /// Sum of the `retry_after` of every 429 sent, in seconds.
    pub retry_after_total: f64,
    /// Bytes sent from the CDN (attachment downloads, ranges included).
    pub cdn_bytes: u64,
    /// Bytes of attachments uploaded with messages.
    pub uploaded_bytes: u64,
    /// Bytes of message text posted (content of created messages): with
    /// `uploaded_bytes`, all that writes sent.
    pub content_bytes: u64,
}

impl Counters {
    pub fn route(&self, route: Route) -> RouteCount {
        self.by_route.get(&route).copied().unwrap_or_default()
    }

    /// API requests: every route but the CDN's (which Discord does not
    /// rate-limit as API requests).
    pub fn total_requests(&self) -> u64 {
        self.by_route
            .iter()
            .filter(|(r, _)| !r.is_cdn())
            .map(|(_, c)| c.requests)
            .sum()
    }

    /// Downloads from the CDN, whole files and ranges.
    pub fn cdn_requests(&self) -> u64 {
        self.route(Route::DownloadAttachment).requests
    }

    pub fn total_rate_limited(&self) -> u64 {
        self.by_route.values().map(|c| c.rate_limited).sum()
    }

    pub(crate) fn record(&mut self, route: Route, outcome: Outcome) {
        let c = self.by_route.entry(route).or_default();
        c.requests += 1;
        match outcome {
            Outcome::Ok => {}
            Outcome::RateLimited(secs) => {
                c.rate_limited += 1;
                self.retry_after_total += secs;
            }
            Outcome::Error => c.errors += 1,
        }
    }

    /// The change from `earlier` to `self`: the cost of what ran in between.
    pub fn since(&self, earlier: &Counters) -> Counters {
        let mut out = Counters {
            retry_after_total: self.retry_after_total - earlier.retry_after_total,
            cdn_bytes: self.cdn_bytes - earlier.cdn_bytes,
            uploaded_bytes: self.uploaded_bytes - earlier.uploaded_bytes,
            content_bytes: self.content_bytes - earlier.content_bytes,
            ..Default::default()
        };
        for (route, now) in &self.by_route {
            let before = earlier.route(*route);
            let d = RouteCount {
                requests: now.requests - before.requests,
                rate_limited: now.rate_limited - before.rate_limited,
                errors: now.errors - before.errors,
            };
            if d != RouteCount::default() {
                out.by_route.insert(*route, d);
            }
        }
        out
    }
}

/// How one request ended, for counting.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    Ok,
    RateLimited(f64),
    Error,
}
