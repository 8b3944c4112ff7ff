//! The real backend: Discord (or the served emulator) over HTTP.
//!
//! Requests are built with serenity's `Http` (routes, headers, the proxy
//! pointed at the API base, serenity's own ratelimiter disabled because it
//! ignores the proxy and Discord's bucket headers) and sent with a reqwest
//! client whose answers dbcord reads in full: status, body and the
//! `X-RateLimit-*` headers that feed [`buckets::Buckets`]. Guild search,
//! which serenity lacks, is our own request with percent-encoded values.
//!
//! Retries: a 429 is waited out under the shared rate-limit policy
//! ([`discord_api::RateLimitWaiter`]); 5xx answers, timeouts and
//! broken connections get bounded exponential backoff with jitter. Message
//! creates carry a nonce with `enforce_nonce`, so a retried insert never
//! stores a row twice; other writes are checked before a retry repeats them.

pub mod buckets;
mod check;
pub mod config;
pub mod gateway;
mod guard;
pub mod interactions;
mod ops;
pub mod secret;
mod send;

use std::sync::atomic::AtomicU64;

use serde_json::{Value, json};
use serenity::http::{Http, HttpBuilder, LightMethod, Route};
use serenity::model::id::{ChannelId, GuildId, MessageId};

pub use check::StartupError;
pub use config::DiscordConfig;
pub use interactions::{ReplyBody, plain_client, signature_valid};
pub use secret::Secret;

use discord_api::{
    DiscordError, DiscordResult, HistoryAnchor, HistoryQuery, NewMessage, RateLimitWaiter,
    Route as ApiRoute, SharedClock, Snowflake, User,
};

use self::buckets::{Buckets, RouteKey};

/// Discord refuses API requests without a User-Agent of this form
/// (`DiscordBot ($url, $version)`); Cloudflare answers them 403.
pub const USER_AGENT: &str = concat!(
    "DiscordBot (https://github.com/dbcord/dbcord, ",
    env!("CARGO_PKG_VERSION"),
    ")"
);

/// Discord over HTTP, for one guild.
pub struct HttpDiscord {
    http: Http,
    client: reqwest::Client,
    config: DiscordConfig,
    buckets: Buckets,
    bot: User,
    /// The rate-limit policy, its clock, and what was waited.
    waiter: RateLimitWaiter,
    /// 429 answers received (each one a limit the limiter did not foresee).
    rate_limited: AtomicU64,
    /// Invalid answers counted against Discord's ban limit, and a ban.
    guard: guard::Guard,
    /// The latest `Date` Discord answered with (Unix ms): its own clock.
    server_time_ms: AtomicU64,
}

impl std::fmt::Debug for HttpDiscord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpDiscord")
            .field("api_base", &self.config.api_base)
            .field("guild_id", &self.config.guild_id)
            .finish_non_exhaustive()
    }
}

impl HttpDiscord {
    /// Connect and run the start-up check: token, guild, permissions, intent.
    pub async fn connect(config: DiscordConfig, clock: SharedClock) -> Result<Self, StartupError> {
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| StartupError::Unreachable(config.token.scrub(&e.to_string())))?;
        let mut builder = HttpBuilder::new(config.token.expose()).ratelimiter_disabled(true);
        if config.api_base != config::DEFAULT_API_BASE {
            builder = builder.proxy(config.api_base.clone());
        }
        let mut backend = HttpDiscord {
            http: builder.build(),
            client,
            waiter: RateLimitWaiter::new(clock, config.rate_limit),
            buckets: Buckets::default(),
            bot: User {
                id: Snowflake(0),
                username: String::new(),
                discriminator: String::new(),
                bot: true,
            },
            rate_limited: AtomicU64::new(0),
            guard: guard::Guard::new(config.invalid_request_budget),
            server_time_ms: AtomicU64::new(0),
            config,
        };
        backend.bot = backend.startup_check().await?;
        Ok(backend)
    }

    /// 429 answers received so far.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn clock(&self) -> &SharedClock {
        self.waiter.clock()
    }

    fn gid(&self) -> GuildId {
        GuildId::new(self.config.guild_id.0.max(1))
    }

    fn key(&self, route: ApiRoute, major: Snowflake) -> RouteKey {
        RouteKey {
            route,
            major: major.0,
        }
    }

    /// A request built by serenity, with a JSON body and query parameters.
    fn build(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&Value>,
        params: Vec<(&'static str, String)>,
    ) -> DiscordResult<reqwest::RequestBuilder> {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("JSON values serialise"));
        let params = (!params.is_empty()).then_some(params);
        serenity::http::Request::new(route, method)
            .body(bytes)
            .params(params)
            .build(&self.client, self.http.token(), self.http.proxy.as_deref())
            .map_err(|e| DiscordError::Transport(self.config.token.scrub(&e.to_string())))
    }
}

fn cid(id: Snowflake) -> ChannelId {
    ChannelId::new(id.0.max(1))
}

fn mid(id: Snowflake) -> MessageId {
    MessageId::new(id.0.max(1))
}

fn history_params(q: &HistoryQuery) -> Vec<(&'static str, String)> {
    let mut p = vec![("limit", q.limit.to_string())];
    match q.anchor {
        HistoryAnchor::Latest => {}
        HistoryAnchor::Before(id) => p.push(("before", id.to_string())),
        HistoryAnchor::After(id) => p.push(("after", id.to_string())),
        HistoryAnchor::Around(id) => p.push(("around", id.to_string())),
    }
    p
}

/// The JSON of a message create, mentions always disabled.
fn message_payload(msg: &NewMessage) -> Value {
    let mut v = json!({
        "content": msg.content,
        "allowed_mentions": {"parse": []},
        "flags": msg.flags,
    });
    if let Some(n) = &msg.nonce {
        v["nonce"] = json!(n);
        v["enforce_nonce"] = json!(msg.enforce_nonce);
    }
    if !msg.files.is_empty() {
        let list: Vec<Value> = msg
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| json!({"id": i, "filename": f.filename}))
            .collect();
        v["attachments"] = json!(list);
    }
    v
}
