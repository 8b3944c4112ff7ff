//! How the emulator behaves: lag, warm-up, latency, rate-limit buckets, storage.

use std::path::PathBuf;
use std::time::Duration;

use discord_api::limits::{GLOBAL_PER_SECOND, permission};
use discord_api::{Route, Snowflake};

use crate::ratelimit::BucketRule;

/// Everything that makes one emulated guild behave as it does.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// The guild's ID when the data directory is new (an existing one keeps its own).
    pub guild_id: Snowflake,
    /// How long a new, edited or deleted message takes to show in search.
    pub search_lag: Duration,
    /// Send a full search page one hit short when more hits follow, as
    /// Discord sometimes does: a client must never stop on a short page.
    pub search_short_pages: bool,
    /// How long after start search answers 202 "index not yet available".
    pub search_warmup: Duration,
    /// Time each request takes, accounted on the clock.
    pub latency: Duration,
    /// Per-route buckets; routes without a rule are limited only globally.
    pub buckets: Vec<(Route, BucketRule)>,
    /// Requests per second per bot, across all routes.
    pub global_per_second: u32,
    /// Where state is kept; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Flush every journal record to disk (fsync) before acknowledging it.
    pub fsync: bool,
    /// How long attachment URLs stay valid.
    pub attachment_url_ttl: Duration,
    /// Scheme and host that attachment URLs point at (the emulator itself).
    pub attachment_url_base: String,
    /// Whether the bot has the privileged Message Content intent; without it
    /// Discord sends empty content for messages the bot did not write.
    pub message_content_intent: bool,
    /// The bot's permission bits in the guild (Discord's numbering).
    pub bot_permissions: u64,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            guild_id: Snowflake(1_300_000_000_000_000_000),
            search_lag: Duration::from_secs(5),
            search_short_pages: true,
            search_warmup: Duration::ZERO,
            latency: Duration::ZERO,
            buckets: default_buckets(),
            global_per_second: GLOBAL_PER_SECOND,
            data_dir: None,
            fsync: true,
            attachment_url_ttl: Duration::from_secs(24 * 3600),
            attachment_url_base: "emulator://cdn".into(),
            message_content_intent: true,
            bot_permissions: permission::ADMINISTRATOR,
        }
    }
}

impl EmulatorConfig {
    /// An in-memory guild with no search lag: for tests that are not about lag.
    pub fn in_memory() -> Self {
        EmulatorConfig {
            search_lag: Duration::ZERO,
            fsync: false,
            ..Default::default()
        }
    }
}

/// Buckets shaped like the ones others observe on Discord (it documents none of them):
/// about 5 message creates per 5 s per channel, a few history reads per second,
/// two topic edits per 10 minutes per channel.
pub fn default_buckets() -> Vec<(Route, BucketRule)> {
    let rule = |limit, secs: f64| BucketRule {
        limit,
        per: Duration::from_secs_f64(secs),
    };
    vec![
        (Route::ListChannels, rule(10, 1.0)),
        (Route::CreateChannel, rule(10, 10.0)),
        (Route::EditChannel, rule(2, 600.0)),
        (Route::DeleteChannel, rule(5, 5.0)),
        (Route::CreateMessage, rule(5, 5.0)),
        (Route::GetMessage, rule(5, 1.0)),
        (Route::ListMessages, rule(5, 1.0)),
        (Route::EditMessage, rule(5, 5.0)),
        (Route::DeleteMessage, rule(5, 1.0)),
        (Route::BulkDelete, rule(1, 1.0)),
        (Route::Search, rule(5, 5.0)),
        (Route::StartThread, rule(5, 5.0)),
    ]
}
