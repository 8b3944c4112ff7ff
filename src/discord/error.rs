//! Typed errors at the Discord boundary.
//!
//! Each variant carries what the caller needs to decide: wait and retry
//! (rate limit, index not ready), fall back, or report. Messages name the
//! Discord status and code so that a user can look them up, and never
//! contain the bot token.

use thiserror::Error;

/// Discord's JSON error code for an invalid form body.
pub const CODE_INVALID_FORM_BODY: u32 = 50035;
pub const CODE_UNKNOWN_CHANNEL: u32 = 10003;
pub const CODE_UNKNOWN_MESSAGE: u32 = 10008;
pub const CODE_UNKNOWN_ATTACHMENT: u32 = 10046;
pub const CODE_MISSING_ACCESS: u32 = 50001;
pub const CODE_CANNOT_EDIT_OTHERS: u32 = 50005;
pub const CODE_MISSING_PERMISSIONS: u32 = 50013;
pub const CODE_BULK_DELETE_COUNT: u32 = 50016;
pub const CODE_BULK_DELETE_TOO_OLD: u32 = 50034;
pub const CODE_MAX_GUILD_CHANNELS: u32 = 30013;
pub const CODE_MAX_ATTACHMENTS: u32 = 30015;
pub const CODE_ENTITY_TOO_LARGE: u32 = 40005;
pub const CODE_THREAD_EXISTS: u32 = 160004;
pub const CODE_INDEX_NOT_READY: u32 = 110000;

/// An error answered by Discord (or the emulator), or a failure to reach it.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum DiscordError {
    /// HTTP 429. `retry_after` is in seconds, as Discord sends it.
    #[error(
        "rate limited (HTTP 429{}): retry after {retry_after:.3}s{}",
        if *global { ", global" } else { "" },
        bucket.as_ref().map(|b| format!(", bucket {b}")).unwrap_or_default()
    )]
    RateLimited {
        retry_after: f64,
        global: bool,
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
}

impl DiscordError {
    /// A 400 "invalid form body" naming the offending field.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        DiscordError::Invalid {
            status: 400,
            code: CODE_INVALID_FORM_BODY,
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
            code: CODE_UNKNOWN_CHANNEL,
            message: "Unknown Channel".into(),
        }
    }

    pub fn unknown_message() -> Self {
        DiscordError::NotFound {
            code: CODE_UNKNOWN_MESSAGE,
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
        }
    }

    /// Discord's JSON error code, where the answer has one.
    pub fn code(&self) -> Option<u32> {
        match self {
            DiscordError::IndexNotReady { .. } => Some(CODE_INDEX_NOT_READY),
            DiscordError::NotFound { code, .. }
            | DiscordError::Forbidden { code, .. }
            | DiscordError::Invalid { code, .. } => Some(*code),
            _ => None,
        }
    }
}

pub type DiscordResult<T> = Result<T, DiscordError>;
