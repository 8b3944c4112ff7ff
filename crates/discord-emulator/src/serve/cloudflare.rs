//! What stands in front of Discord's API: Cloudflare. It refuses requests
//! without a `DiscordBot ($url, $version)` User-Agent (a plain-text 403,
//! "error code: 1010", as others report), and bans an IP that sends too
//! many invalid requests (401, 403, or 429 other than shared-scope) in ten
//! minutes: for a while every request gets an HTML 429 ("error code: 1015")
//! with no rate-limit headers.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use discord_api::limits::{INVALID_REQUEST_LIMIT, INVALID_REQUEST_WINDOW};

use super::AppState;

/// How strict the edge is.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeRules {
    /// Refuse API requests without a `DiscordBot (...)` User-Agent.
    pub require_user_agent: bool,
    /// Invalid requests in ten minutes that bring a ban.
    pub ban_after: u32,
    /// How long a ban lasts, in emulator time ("up to an hour").
    pub ban_for: Duration,
}

impl Default for EdgeRules {
    fn default() -> Self {
        EdgeRules {
            require_user_agent: true,
            ban_after: INVALID_REQUEST_LIMIT,
            ban_for: Duration::from_secs(3600),
        }
    }
}

/// Invalid requests seen, and a ban in force.
#[derive(Debug, Default)]
pub struct Edge {
    invalid: Mutex<VecDeque<u64>>,
    banned_until_us: Mutex<u64>,
    /// Every request that reached the edge, banned or not.
    requests: AtomicU64,
}

impl Edge {
    /// Requests that reached the server so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn banned(&self, now_us: u64) -> bool {
        now_us
            < *self
                .banned_until_us
                .lock()
                .unwrap_or_else(|p| p.into_inner())
    }

    /// Count an invalid request; start a ban when there are too many.
    fn count_invalid(&self, rules: &EdgeRules, now_us: u64) {
        let mut invalid = self.invalid.lock().unwrap_or_else(|p| p.into_inner());
        let window = INVALID_REQUEST_WINDOW.as_micros() as u64;
        while invalid.front().is_some_and(|t| t + window <= now_us) {
            invalid.pop_front();
        }
        invalid.push_back(now_us);
        if invalid.len() >= rules.ban_after as usize {
            invalid.clear();
            *self
                .banned_until_us
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = now_us + rules.ban_for.as_micros() as u64;
        }
    }
}

/// The middleware: ban, User-Agent, then the request, then the count.
pub async fn edge(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let rules = &s.options.edge;
    let now = s.emulator.clock().now_us();
    s.edge.requests.fetch_add(1, Ordering::Relaxed);
    if s.edge.banned(now) {
        return banned();
    }
    let is_api = req.uri().path().starts_with("/api/");
    let agent_ok = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_discord_bot_agent);
    let resp = if is_api && rules.require_user_agent && !agent_ok {
        (StatusCode::FORBIDDEN, "error code: 1010").into_response()
    } else {
        next.run(req).await
    };
    if counts_as_invalid(&resp) {
        s.edge.count_invalid(rules, now);
    }
    let mut resp = resp;
    // The answer's time is the emulator's, which may run ahead of the wall clock.
    if let Ok(date) = HeaderValue::from_str(&http_date(s.emulator.clock().now_us())) {
        resp.headers_mut().insert(header::DATE, date);
    }
    resp
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`, as HTTP writes a date.
fn http_date(unix_us: u64) -> String {
    chrono::DateTime::from_timestamp_micros(unix_us as i64)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

/// `DiscordBot ($url, $versionNumber)`.
fn is_discord_bot_agent(agent: &str) -> bool {
    agent
        .strip_prefix("DiscordBot (")
        .and_then(|rest| {
            rest.strip_suffix(')')
                .or_else(|| rest.split_once(')').map(|p| p.0))
        })
        .is_some_and(|inner| {
            inner
                .split_once(", ")
                .is_some_and(|(u, v)| !u.is_empty() && !v.is_empty())
        })
}

fn counts_as_invalid(resp: &Response) -> bool {
    let shared =
        resp.headers().get("x-ratelimit-scope") == Some(&HeaderValue::from_static("shared"));
    match resp.status().as_u16() {
        401 | 403 => true,
        429 => !shared,
        _ => false,
    }
}

fn banned() -> Response {
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        "<!DOCTYPE html><html><head><title>Access denied | discord.com used Cloudflare to \
         restrict access</title></head><body>error code: 1015</body></html>",
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_discord_bot_agents_pass() {
        assert!(is_discord_bot_agent(
            "DiscordBot (https://github.com/serenity-rs/serenity, 0.12.5)"
        ));
        assert!(is_discord_bot_agent("DiscordBot (https://x.io, 1.0) extra"));
        assert!(!is_discord_bot_agent("curl/8.5.0"));
        assert!(!is_discord_bot_agent("DiscordBot"));
        assert!(!is_discord_bot_agent("DiscordBot ()"));
        assert!(!is_discord_bot_agent("Python/3.11 aiohttp"));
    }
}
