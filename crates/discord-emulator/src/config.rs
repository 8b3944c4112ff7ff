//! How the emulator behaves: lag, warm-up, latency, rate-limit buckets, storage.

use std::path::PathBuf;
use std::time::Duration;

use discord_api::limits::{GLOBAL_PER_SECOND, permission};
use discord_api::{Route, Snowflake};

use crate::content::StripSet;
use crate::ratelimit::BucketRule;
use crate::search_config::SearchConfig;

/// Everything that makes one emulated guild behave as it does.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// The guild's ID when the data directory is new (an existing one keeps its own).
    pub guild_id: Snowflake,
    /// How search answers: lag, matching, pages, totals, 202s (strict by default).
    pub search: SearchConfig,
    /// Time each request takes, accounted on the clock.
    pub latency: Duration,
    /// Bytes per second a CDN download moves (one connection), accounted on
    /// the clock. Others report about 3 MB/s per channel and 60+ MB/s over
    /// many connections; the default is 10 MB/s.
    pub cdn_bytes_per_second: f64,
    /// Bytes per second all CDN downloads move together: concurrent range
    /// reads share it, so eight of them are not eight times as fast once
    /// the link is full. The default is 60 MB/s.
    pub cdn_total_bytes_per_second: f64,
    /// Bytes per second an attachment upload moves.
    pub upload_bytes_per_second: f64,
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
    /// Whether the bot has the privileged Server Members intent; without it
    /// listing the guild's members answers 403.
    pub server_members_intent: bool,
    /// The bot's permission bits in the guild (Discord's numbering).
    pub bot_permissions: u64,
    /// Characters stripped from message content, as Discord strips some.
    pub strip: StripSet,
    /// Threads that may be active (not archived) in the guild at once.
    pub max_active_threads: usize,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            guild_id: Snowflake(1_300_000_000_000_000_000),
            search: SearchConfig::strict(),
            latency: Duration::ZERO,
            cdn_bytes_per_second: 10e6,
            cdn_total_bytes_per_second: 60e6,
            upload_bytes_per_second: 5e6,
            buckets: default_buckets(),
            global_per_second: GLOBAL_PER_SECOND,
            data_dir: None,
            fsync: true,
            attachment_url_ttl: Duration::from_secs(24 * 3600),
            attachment_url_base: "emulator://cdn".into(),
            message_content_intent: true,
            server_members_intent: true,
            bot_permissions: permission::ADMINISTRATOR,
            strip: StripSet::default(),
            // Observed by others; Discord documents no number.
            max_active_threads: 1000,
        }
    }
}

impl EmulatorConfig {
    /// An in-memory guild whose search is strict but sees every write at
    /// once: for tests that are not about lag.
    pub fn in_memory() -> Self {
        EmulatorConfig {
            search: SearchConfig::strict_with_lag(Duration::ZERO),
            fsync: false,
            ..Default::default()
        }
    }

    /// The same with every message searchable after exactly `lag`.
    pub fn in_memory_with_lag(lag: Duration) -> Self {
        EmulatorConfig {
            search: SearchConfig::strict_with_lag(lag),
            ..Self::in_memory()
        }
    }
}

/// Buckets shaped like the ones others observe on Discord (it documents none of them):
/// about 5 message creates per 5 s per channel, a few history reads per second,
/// two topic edits per 10 minutes per channel, and thread creation limited per
/// guild in a shared scope whose 429s ask for minutes (219 to 280 s observed).
pub fn default_buckets() -> Vec<(Route, BucketRule)> {
    let rule = |limit, secs: f64| BucketRule {
        limit,
        per: Duration::from_secs_f64(secs),
        shared: false,
    };
    let shared = |limit, secs: f64| BucketRule {
        shared: true,
        ..rule(limit, secs)
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
        (Route::StartThread, shared(10, 240.0)),
        (Route::ListMembers, rule(10, 10.0)),
        (Route::GuildRoles, rule(10, 10.0)),
        (Route::ActiveThreads, rule(10, 10.0)),
        (Route::ArchivedThreads, rule(5, 1.0)),
    ]
}
