//! Typed errors at the Discord boundary.
//!
//! Each variant carries what the caller needs to decide: wait and retry
//! (rate limit, index not ready), fall back, or report. Messages name the
//! Discord status and code so that a user can look them up, and never
//! contain the bot token.

use thiserror::Error;

use crate::limits::code;

/// Whose limit a 429 is about, as `X-RateLimit-Scope` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitScope {
    /// The bot's own bucket on this route.
    User,
    /// The bot's global limit (50 requests a second).
    Global,
    /// A limit the resource shares with everyone (thread creation, say):
    /// often minutes long, and not counted as an invalid request.
    Shared,
}

impl RateLimitScope {
    pub fn name(self) -> &'static str {
        match self {
            RateLimitScope::User => "user",
            RateLimitScope::Global => "global",
            RateLimitScope::Shared => "shared",
        }
    }
}

/// An error answered by Discord (or the emulator), or a failure to reach it.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum DiscordError {
    /// HTTP 429. `retry_after` is in seconds, as Discord sends it.
    #[error(
        "rate limited (HTTP 429, {} scope): retry after {retry_after:.3}s{}",
        scope.name(),
        bucket.as_ref().map(|b| format!(", bucket {b}")).unwrap_or_default()
    )]
    RateLimited {
        retry_after: f64,
        scope: RateLimitScope,
        bucket: Option<String>,
    },
    /// HTTP 202 from guild search: the index is still being built.
    #[error("search index not ready (HTTP 202, code 110000): retry after {retry_after:.1}s")]
    IndexNotReady {
        retry_after: f64,
        documents_indexed: u64,
    },
    /// HTTP 404 with Discord's code (10003 unknown channel, 10008 unknown message, ...).
    #[error("not found (HTTP 404, Discord code {code}): {message}")]
    NotFound { code: u32, message: String },
    /// HTTP 403 with Discord's code (50001 missing access, 50013 missing permissions).
    #[error("forbidden (HTTP 403, Discord code {code}): {message}")]
    Forbidden { code: u32, message: String },
    /// HTTP 401: the token was refused. The token itself is never included.
    #[error("unauthorized (HTTP 401): the bot token was refused")]
    Unauthorized,
    /// HTTP 400 or 413 with Discord's code and message.
    #[error("invalid request (HTTP {status}, Discord code {code}): {message}")]
    Invalid {
        status: u16,
        code: u32,
        message: String,
    },
    /// HTTP 5xx from Discord.
    #[error("Discord server error (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    /// The request never got an answer (connection, timeout, malformed response).
    #[error("transport error: {0}")]
    Transport(String),
    /// A 429 whose wait is longer than the client agrees to wait: the
    /// statement fails rather than hang for minutes.
    #[error(
        "Discord asks to wait {retry_after:.0} s on {route}; longer than the {limit:.0} s \
         dbcord waits for one rate limit (raise it for long jobs)"
    )]
    WaitTooLong {
        route: String,
        retry_after: f64,
        limit: f64,
    },
    /// Cloudflare in front of Discord has banned this IP (an HTML 429
    /// without rate-limit headers): every request waits until it is over.
    #[error(
        "Cloudflare has banned this IP after too many invalid requests (HTTP 429, no \
         rate-limit headers); dbcord stopped all requests; try again in {retry_after:.0} s"
    )]
    CloudflareBan { retry_after: f64 },
    /// The client stopped itself before Discord's ban threshold.
    #[error(
        "dbcord stopped sending: {count} requests were answered 401, 403 or 429 in the last \
         10 minutes, and Discord bans an IP at {limit}; wait a few minutes",
        limit = crate::limits::INVALID_REQUEST_LIMIT
    )]
    InvalidRequestBudget { count: u32 },
}

impl DiscordError {
    /// A 400 "invalid form body" naming the offending field.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        DiscordError::Invalid {
            status: 400,
            code: code::INVALID_FORM_BODY,
            message: message.into(),
        }
    }

    pub fn invalid(code: u32, message: impl Into<String>) -> Self {
        DiscordError::Invalid {
            status: 400,
            code,
            message: message.into(),
        }
    }

    pub fn unknown_channel() -> Self {
        DiscordError::NotFound {
            code: code::UNKNOWN_CHANNEL,
            message: "Unknown Channel".into(),
        }
    }

    pub fn unknown_message() -> Self {
        DiscordError::NotFound {
            code: code::UNKNOWN_MESSAGE,
            message: "Unknown Message".into(),
        }
    }

    /// The HTTP status Discord answers with for this error (0 when no answer came).
    pub fn status(&self) -> u16 {
        match self {
            DiscordError::RateLimited { .. } => 429,
            DiscordError::IndexNotReady { .. } => 202,
            DiscordError::NotFound { .. } => 404,
            DiscordError::Forbidden { .. } => 403,
            DiscordError::Unauthorized => 401,
            DiscordError::Invalid { status, .. } | DiscordError::Server { status, .. } => *status,
            DiscordError::Transport(_) => 0,
            DiscordError::WaitTooLong { .. } | DiscordError::CloudflareBan { .. } => 429,
            DiscordError::InvalidRequestBudget { .. } => 0,
        }
    }

    /// Whether the same request may simply be sent again: Discord failed
    /// (5xx) or no answer came. A 429 is not "retryable" in this sense: it
    /// is waited out by the rate-limit policy.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DiscordError::Server { .. } | DiscordError::Transport(_)
        )
    }

    /// Discord's JSON error code, where the answer has one.
    pub fn code(&self) -> Option<u32> {
        match self {
            DiscordError::IndexNotReady { .. } => Some(code::INDEX_NOT_READY),
            DiscordError::NotFound { code, .. }
            | DiscordError::Forbidden { code, .. }
            | DiscordError::Invalid { code, .. } => Some(*code),
            _ => None,
        }
    }
}

pub type DiscordResult<T> = Result<T, DiscordError>;
