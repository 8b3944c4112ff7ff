//! Sending one request: wait for the limiter, send, read the answer, map
//! errors to Discord's, and retry what may be retried.

use std::sync::atomic::Ordering;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use discord_api::{DiscordError, DiscordResult, RateLimitScope};

use crate::HttpDiscord;
use crate::buckets::RouteKey;
use crate::guard::DEFAULT_BAN;

impl HttpDiscord {
    /// Send the request `build` makes (again on each retry) and return the body.
    pub(crate) async fn call(
        &self,
        key: RouteKey,
        build: impl Fn() -> DiscordResult<reqwest::RequestBuilder>,
    ) -> DiscordResult<Vec<u8>> {
        self.call_with(key, build, self.config.max_retries).await
    }

    /// `call` for a message create with an enforced nonce: a repeat returns
    /// the first message only within Discord's nonce window, so once a try
    /// may have been done, no repeat is sent after half that window; the
    /// error stands instead (the create may or may not have happened).
    pub(crate) async fn call_nonced(
        &self,
        key: RouteKey,
        build: impl Fn() -> DiscordResult<reqwest::RequestBuilder>,
    ) -> DiscordResult<Vec<u8>> {
        let window = discord_api::limits::NONCE_WINDOW / 2;
        let started = (
            self.clock().now_ms(),
            self.server_time_ms.load(Ordering::Relaxed),
        );
        let mut doubt: Option<DiscordError> = None;
        self.call_checked(key, build, self.config.max_retries, |err| {
            if let Some(e) = err.filter(|e| e.is_retryable()) {
                doubt.get_or_insert_with(|| e.clone());
            }
            match &doubt {
                Some(e) if self.elapsed_since(started) > window => Err(e.clone()),
                _ => Ok(()),
            }
        })
        .await
    }

    /// Time since `started` (local and Discord's clock, as last seen): the
    /// larger of the two, since either may lag (no answers, or a slow clock).
    fn elapsed_since(&self, (local, server): (u64, u64)) -> Duration {
        let local = self.clock().now_ms().saturating_sub(local);
        let server_now = self.server_time_ms.load(Ordering::Relaxed);
        let server = if server > 0 {
            server_now.saturating_sub(server)
        } else {
            0
        };
        Duration::from_millis(local.max(server))
    }

    /// `call`, retrying 5xx and transport failures at most `max_retries` times.
    pub(crate) async fn call_with(
        &self,
        key: RouteKey,
        build: impl Fn() -> DiscordResult<reqwest::RequestBuilder>,
        max_retries: u32,
    ) -> DiscordResult<Vec<u8>> {
        self.call_checked(key, build, max_retries, |_| Ok(())).await
    }

    /// `call_with`, asking `may_resend` (with the last failure) before each
    /// repeat of the request.
    async fn call_checked(
        &self,
        key: RouteKey,
        build: impl Fn() -> DiscordResult<reqwest::RequestBuilder>,
        max_retries: u32,
        mut may_resend: impl FnMut(Option<&DiscordError>) -> DiscordResult<()>,
    ) -> DiscordResult<Vec<u8>> {
        let (mut failures, mut limited) = (0u32, 0u32);
        let mut backoff = backoff();
        let mut last: Option<DiscordError> = None;
        loop {
            self.wait_for_slot(key).await?;
            if last.is_some() {
                may_resend(last.as_ref())?;
            }
            let err = match self.send_once(key, build()?).await {
                Ok(body) => return Ok(body),
                Err(e) => e,
            };
            last = Some(err.clone());
            match &err {
                DiscordError::RateLimited {
                    retry_after, scope, ..
                } => {
                    limited += 1;
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    let wait = Duration::from_secs_f64(retry_after.max(0.001));
                    let global = *scope == RateLimitScope::Global;
                    self.buckets
                        .blocked(key, wait, global, self.clock().now_us());
                    // Wait here too: a 429 may come before the route's bucket is known.
                    self.waiter.wait_out(key.route, limited, err).await?;
                }
                e if e.is_retryable() && failures < max_retries => {
                    failures += 1;
                    let wait = backoff.next().unwrap_or(MAX_BACKOFF);
                    tracing::debug!("{} failed ({err}); retry {failures} in {wait:?}", key.route);
                    self.clock().sleep(wait).await;
                }
                _ => return Err(err),
            }
        }
    }

    /// Sleep until the limiter has room for `key` (within the policy's cap).
    async fn wait_for_slot(&self, key: RouteKey) -> DiscordResult<()> {
        loop {
            let wait = self.buckets.reserve(key, self.clock().now_us());
            if wait.is_zero() {
                return Ok(());
            }
            self.waiter.sleep(key.route, wait).await?;
        }
    }

    async fn send_once(
        &self,
        key: RouteKey,
        req: reqwest::RequestBuilder,
    ) -> DiscordResult<Vec<u8>> {
        self.guard.check(self.clock().now_us())?;
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let (status, headers) = (resp.status(), resp.headers().clone());
        self.buckets.observe(key, &headers, self.clock().now_us());
        self.note_server_time(&headers);
        let body = resp.bytes().await.map_err(|e| self.transport(e))?;
        if status.is_success() && status != StatusCode::ACCEPTED {
            return Ok(body.to_vec());
        }
        let err = error_of(status, &headers, &body);
        self.guard.observe(&err, self.clock().now_us());
        Err(err)
    }

    /// Keep the latest `Date` header: Discord's clock, to a second.
    fn note_server_time(&self, headers: &HeaderMap) {
        let date = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok());
        if let Some(d) = date {
            let ms = d.timestamp_millis().max(0) as u64;
            self.server_time_ms.fetch_max(ms, Ordering::Relaxed);
        }
    }

    fn transport(&self, e: reqwest::Error) -> DiscordError {
        let what = if e.is_timeout() {
            "timed out"
        } else {
            "failed"
        };
        let detail = self.config.token.scrub(&e.to_string());
        DiscordError::Transport(format!("request {what}: {detail}"))
    }
}

/// The longest wait between two tries of a request.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// The waits between the tries of one request that failed on the way (a
/// 5xx, a dropped connection): 250 ms doubled per failure, at most
/// [`MAX_BACKOFF`], each with a random part so that clients that failed
/// together do not come back together. The waits are slept on the
/// client's clock (`call_checked`), so a simulation's virtual time
/// passes them at once.
fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_factor(2.0)
        .with_max_delay(MAX_BACKOFF)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Discord's error for a status, headers and JSON body.
pub(crate) fn error_of(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> DiscordError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = json["code"].as_u64().unwrap_or(0) as u32;
    let message = json["message"].as_str().unwrap_or_default().to_string();
    let header = |h: &str| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    match status.as_u16() {
        202 => DiscordError::IndexNotReady {
            retry_after: json["retry_after"].as_f64().unwrap_or(2.0),
            documents_indexed: json["documents_indexed"].as_u64().unwrap_or(0),
        },
        401 => DiscordError::Unauthorized,
        // Cloudflare's refusals (a missing User-Agent, say) are plain text.
        403 if json.is_null() => DiscordError::Forbidden {
            code: 0,
            message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        },
        403 => DiscordError::Forbidden { code, message },
        404 => DiscordError::NotFound { code, message },
        // A 429 that is not Discord's JSON and carries no rate-limit
        // headers comes from Cloudflare: a ban, not a bucket.
        429 if json.is_null() && header("x-ratelimit-scope").is_none() => {
            DiscordError::CloudflareBan {
                retry_after: header("retry-after")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(DEFAULT_BAN.as_secs_f64()),
            }
        }
        429 => DiscordError::RateLimited {
            retry_after: json["retry_after"]
                .as_f64()
                .or_else(|| header("retry-after").and_then(|v| v.parse().ok()))
                .unwrap_or(1.0),
            scope: rate_limit_scope(json["global"].as_bool(), header("x-ratelimit-scope")),
            bucket: header("x-ratelimit-bucket"),
        },
        s @ 500..=599 => DiscordError::Server { status: s, message },
        s => DiscordError::Invalid {
            status: s,
            code,
            message: detail(&message, &json),
        },
    }
}

/// The scope of a 429 from its headers (and the body's `global`).
fn rate_limit_scope(global: Option<bool>, scope: Option<String>) -> RateLimitScope {
    match scope.as_deref() {
        Some("shared") => RateLimitScope::Shared,
        Some("global") => RateLimitScope::Global,
        _ if global == Some(true) => RateLimitScope::Global,
        _ => RateLimitScope::User,
    }
}

/// The message plus Discord's field errors, if it sent any.
fn detail(message: &str, json: &Value) -> String {
    match json.get("errors") {
        Some(errors) => format!("{message}: {errors}"),
        None => message.to_string(),
    }
}

/// A JSON answer as `T`.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> DiscordResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| DiscordError::Transport(format!("unreadable answer from Discord: {e}")))
}
