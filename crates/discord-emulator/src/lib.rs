//! The embedded Discord: an in-process guild as strict as the real one.
//!
//! It enforces Discord's documented limits with Discord's status codes and
//! error codes, answers search with the same fuzziness and lag, applies
//! rate-limit buckets, counts every request by route, and keeps its state in
//! a data directory. If it were kinder than Discord, dbcord would break on
//! the real thing, so where in doubt it is the stricter of the two.
//!
//! It is a product of its own: any Discord bot can test against it, in
//! process through the [`Discord`] trait, or over HTTP as Discord API v10
//! with the `serve` feature ([`serve`]).
//!
//! Files: `config` (knobs), `state` (the guild, changed by events),
//! `journal` (durability), `ratelimit` (buckets), `counters` (cost),
//! `text` (search's reading of words), `channels`, `messages`, `search`
//! (the operations), `attachments` (file bytes and signed URLs), `faults`
//! (Discord's failures on demand, seeded) and `faulty` (them in process).

mod attachments;
mod channels;
mod config;
mod content;
mod counters;
mod draw;
mod faults;
mod faulty;
mod guild;
pub mod interactions;
mod journal;
mod messages;
mod ratelimit;
mod search;
mod search_config;
mod search_index;
#[cfg(feature = "serve")]
pub mod serve;
mod state;
mod text;

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use discord_api::{
    Attachment, ByteRange, Channel, Discord, DiscordError, DiscordResult, HistoryQuery, Member,
    Message, NewChannel, NewMessage, Role, Route, SearchQuery, SearchResults, SharedClock,
    Snowflake, ThreadPage, User,
};

pub use config::{EmulatorConfig, default_buckets};
pub use content::StripSet;
pub use counters::{Counters, RouteCount};
pub use faults::{Fault, FaultPlan, FaultSpec};
pub use faulty::Faulty;
pub use guild::PersonPost;
pub use journal::JournalError;
pub use ratelimit::{BucketInfo, BucketRule};
pub use search_config::{DeepIndex, LagModel, Matching, SearchConfig};

use self::attachments::AttachmentStore;
use self::counters::Outcome;
use self::journal::Journal;
use self::ratelimit::RateLimits;
use self::state::{Event, GuildState, Record};

tokio::task_local! {
    /// The rate-limit bucket of the last request made on this task. A server
    /// sets it up around a request to answer with `X-RateLimit-*` headers.
    pub(crate) static LAST_BUCKET: std::cell::RefCell<Option<BucketInfo>>;
}

/// The emulated guild. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Emulator {
    clock: SharedClock,
    inner: Mutex<Inner>,
}

/// Everything behind the lock. No lock is held across an `await`.
#[derive(Debug)]
struct Inner {
    config: EmulatorConfig,
    started_us: u64,
    state: GuildState,
    limits: RateLimits,
    counters: Counters,
    /// When the CDN link is free of the downloads booked on it (clock µs).
    cdn_link_free_us: u64,
    journal: Option<Journal>,
    files: AttachmentStore,
    /// Whether search has been asked anything yet (the first search of a guild answers 202).
    searched: bool,
    /// Searches answered so far: what the seeded page draws are about.
    search_requests: u64,
}

impl Emulator {
    /// Open the guild in `config.data_dir` (or in memory), replaying its journal.
    pub fn open(config: EmulatorConfig, clock: SharedClock) -> Result<Self, JournalError> {
        let (journal, records) = match &config.data_dir {
            Some(dir) => {
                let (j, r) = Journal::open(dir, config.fsync)?;
                (Some(j), r)
            }
            None => (None, Vec::new()),
        };
        let mut state = GuildState::default();
        for rec in &records {
            state.apply(rec, &config.search);
        }
        if let Some(last) = records.last() {
            clock.advance_to(last.at_us.max(Snowflake(state.last_id).unix_ms() * 1000));
        }
        let mut inner = Inner {
            limits: RateLimits::new(&config.buckets, config.global_per_second),
            started_us: clock.now_us(),
            counters: Counters::default(),
            cdn_link_free_us: 0,
            files: AttachmentStore::default(),
            searched: false,
            search_requests: 0,
            journal,
            state,
            config,
        };
        if inner.state.bot.is_none() {
            inner.genesis(clock.now_us())?;
        }
        Ok(Emulator {
            clock,
            inner: Mutex::new(inner),
        })
    }

    /// An in-memory guild on the given clock.
    pub fn in_memory(config: EmulatorConfig, clock: SharedClock) -> Self {
        let config = EmulatorConfig {
            data_dir: None,
            ..config
        };
        Self::open(config, clock).expect("an in-memory emulator needs no storage")
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The bot's user, as `GET /users/@me` returns it.
    pub fn bot_user(&self) -> User {
        self.lock().bot()
    }

    /// The configuration the guild runs with.
    pub fn config(&self) -> EmulatorConfig {
        self.lock().config.clone()
    }

    /// What has been asked of the emulator so far.
    pub fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    /// `POST .../threads` with an `auto_archive_duration` (minutes); the
    /// trait's `start_thread` asks for a week.
    pub async fn start_thread_archiving_after(
        &self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
        minutes: u32,
    ) -> DiscordResult<Channel> {
        // Thread creation is limited per guild, not per channel.
        let guild = self.guild_id();
        self.request(Route::StartThread, guild, |i, now| {
            i.start_thread(channel, message, name, minutes, now)
        })
        .await
    }

    /// Every live message of a channel, oldest first, as the guild holds
    /// it now: for inspecting a guild (tests, tools), not a bot request,
    /// so neither rate limited nor counted.
    pub fn messages_of(&self, channel: Snowflake) -> Vec<Message> {
        let inner = self.lock();
        let messages = inner.state.messages.get(&channel);
        messages
            .map(|m| m.values().map(|m| Message::clone(m)).collect())
            .unwrap_or_default()
    }

    /// Every channel of the guild (threads too), for inspecting a guild
    /// like [`Emulator::messages_of`]: neither rate limited nor counted.
    pub fn channels(&self) -> Vec<Channel> {
        self.lock().state.channels.values().cloned().collect()
    }

    /// Post a message as a person (not the bot), as someone typing into a
    /// dbcord channel would. Not a bot request, so it is not counted.
    pub fn post_as_person(&self, channel: Snowflake, content: &str) -> DiscordResult<Message> {
        let now = self.clock.now_us();
        let mut inner = self.lock();
        let author = User {
            id: Snowflake(inner.state.guild_id.0 + 7),
            username: "a-person".into(),
            discriminator: "0".into(),
            bot: false,
        };
        inner.create_message_as(channel, &NewMessage::text(content), author, now)
    }

    /// The time `bytes` take to move at `bytes_per_second`, on the clock.
    async fn transfer(&self, bytes: usize, bytes_per_second: f64) {
        if bytes > 0 && bytes_per_second > 0.0 {
            let secs = bytes as f64 / bytes_per_second;
            self.clock
                .sleep(std::time::Duration::from_secs_f64(secs))
                .await;
        }
    }

    /// A download's time on the clock: at one connection's rate, and
    /// after the downloads already on the CDN link (their total rate is
    /// bounded too), whichever ends later.
    async fn download_time(&self, bytes: usize) {
        let now = self.clock.now_us();
        let end = {
            let mut inner = self.lock();
            let per = inner.config.cdn_bytes_per_second;
            let total = inner.config.cdn_total_bytes_per_second;
            let micros = |rate: f64| {
                if rate > 0.0 {
                    (bytes as f64 / rate * 1e6) as u64
                } else {
                    0
                }
            };
            let link_end = inner.cdn_link_free_us.max(now) + micros(total);
            inner.cdn_link_free_us = link_end;
            link_end.max(now + micros(per))
        };
        if end > now {
            self.clock
                .sleep(std::time::Duration::from_micros(end - now))
                .await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Run one request: latency, rate limits, the operation, counting.
    async fn request<T>(
        &self,
        route: Route,
        resource: Snowflake,
        op: impl FnOnce(&mut Inner, u64) -> DiscordResult<T>,
    ) -> DiscordResult<T> {
        let latency = self.lock().config.latency;
        if !latency.is_zero() {
            self.clock.sleep(latency).await;
        }
        let now = self.clock.now_us();
        let mut inner = self.lock();
        let result = match inner.limits.acquire(route, resource.0, now) {
            Ok(info) => {
                let _ = LAST_BUCKET.try_with(|b| *b.borrow_mut() = info);
                op(&mut inner, now)
            }
            Err(e) => Err(e),
        };
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err(DiscordError::RateLimited { retry_after, .. }) => {
                Outcome::RateLimited(*retry_after)
            }
            Err(_) => Outcome::Error,
        };
        inner.counters.record(route, outcome);
        result
    }
}

impl Inner {
    fn genesis(&mut self, now_us: u64) -> Result<(), JournalError> {
        let bot = User {
            id: self.mint(now_us),
            username: "dbcord".into(),
            discriminator: "0".into(),
            bot: true,
        };
        let guild_id = self.config.guild_id;
        self.commit(now_us, Event::Genesis { guild_id, bot })
    }

    /// A new snowflake for `now_us`, always larger than any before it.
    fn mint(&mut self, now_us: u64) -> Snowflake {
        let ms = now_us / 1000;
        let base = Snowflake::from_unix_ms(ms).0 | (1 << 17);
        let id = base.max(self.state.last_id + 1);
        self.state.last_id = id;
        Snowflake(id)
    }

    /// Make a change durable, then apply it.
    fn commit(&mut self, now_us: u64, event: Event) -> Result<(), JournalError> {
        let rec = Record {
            at_us: now_us,
            event,
        };
        if let Some(j) = &mut self.journal {
            j.append(&rec)?;
        }
        self.forget_files(&rec.event);
        self.state.apply(&rec, &self.config.search);
        Ok(())
    }

    /// Deleted messages' attachments go with them, as on Discord's CDN (and
    /// a long run of compactions and vacuums keeps no file ever posted).
    fn forget_files(&mut self, event: &Event) {
        let Event::MessagesDeleted { channel_id, ids } = event else {
            return;
        };
        let files: Vec<Snowflake> = ids
            .iter()
            .filter_map(|id| self.state.message(*channel_id, *id))
            .flat_map(|m| m.attachments.iter().map(|a| a.id))
            .collect();
        match &self.journal {
            Some(j) => files.iter().for_each(|id| j.forget_attachment(*id)),
            None => self.files.forget(&files),
        }
    }

    /// `commit` for request handlers: a storage failure is a 500.
    fn commit_or_500(&mut self, now_us: u64, event: Event) -> DiscordResult<()> {
        self.commit(now_us, event).map_err(|e| {
            tracing::error!("emulator could not store a change: {e}");
            DiscordError::Server {
                status: 500,
                message: "emulator storage failure".into(),
            }
        })
    }

    fn bot(&self) -> User {
        self.state.bot.clone().expect("genesis sets the bot")
    }
}

/// ISO-8601 as Discord writes it: `2017-07-11T17:27:07.299000+00:00`.
fn iso8601(unix_us: u64) -> String {
    chrono::DateTime::from_timestamp_micros(unix_us as i64)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string())
        .unwrap_or_default()
}

#[async_trait]
impl Discord for Emulator {
    fn guild_id(&self) -> Snowflake {
        self.lock().state.guild_id
    }

    fn bot_user_id(&self) -> Snowflake {
        self.lock().bot().id
    }

    fn room_in(&self, route: Route, resource: Snowflake) -> std::time::Duration {
        let now = self.clock.now_us();
        self.lock().limits.room_in(route, resource.0, now)
    }

    fn search_lag_bound(&self) -> Option<std::time::Duration> {
        Some(self.lock().config.search.lag.bound())
    }

    fn server_time_ms(&self) -> Option<u64> {
        Some(self.clock.now_ms())
    }

    async fn list_channels(&self) -> DiscordResult<Vec<Channel>> {
        let guild = self.guild_id();
        self.request(
            Route::ListChannels,
            guild,
            |i, now| Ok(i.list_channels(now)),
        )
        .await
    }

    async fn create_channel(&self, channel: &NewChannel) -> DiscordResult<Channel> {
        let guild = self.guild_id();
        self.request(Route::CreateChannel, guild, |i, now| {
            i.create_channel(channel, now)
        })
        .await
    }

    async fn get_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        self.request(Route::GetChannel, channel, |i, now| {
            i.get_channel(channel, now)
        })
        .await
    }

    async fn edit_channel_topic(&self, channel: Snowflake, topic: &str) -> DiscordResult<Channel> {
        self.request(Route::EditChannel, channel, |i, now| {
            i.edit_topic(channel, topic, now)
        })
        .await
    }

    async fn delete_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        self.request(Route::DeleteChannel, channel, |i, now| {
            i.delete_channel(channel, now)
        })
        .await
    }

    async fn create_message(&self, channel: Snowflake, msg: &NewMessage) -> DiscordResult<Message> {
        let upload: usize = msg.files.iter().map(|f| f.bytes.len()).sum();
        if upload > 0 {
            let rate = self.lock().config.upload_bytes_per_second;
            self.transfer(upload, rate).await;
            self.lock().counters.uploaded_bytes += upload as u64;
        }
        self.lock().counters.content_bytes += msg.content.len() as u64;
        self.request(Route::CreateMessage, channel, |i, now| {
            let bot = i.bot();
            i.create_message_as(channel, msg, bot, now)
        })
        .await
    }

    async fn get_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<Message> {
        self.request(Route::GetMessage, channel, |i, now| {
            i.get_message(channel, message, now)
        })
        .await
    }

    async fn list_messages(
        &self,
        channel: Snowflake,
        q: &HistoryQuery,
    ) -> DiscordResult<Vec<Message>> {
        self.request(Route::ListMessages, channel, |i, now| {
            i.list_messages(channel, q, now)
        })
        .await
    }

    async fn edit_message(
        &self,
        channel: Snowflake,
        message: Snowflake,
        content: &str,
    ) -> DiscordResult<Message> {
        self.request(Route::EditMessage, channel, |i, now| {
            i.edit_message(channel, message, content, now)
        })
        .await
    }

    async fn delete_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<()> {
        self.request(Route::DeleteMessage, channel, |i, now| {
            i.delete_message(channel, message, now)
        })
        .await
    }

    async fn bulk_delete(&self, channel: Snowflake, messages: &[Snowflake]) -> DiscordResult<()> {
        self.request(Route::BulkDelete, channel, |i, now| {
            i.bulk_delete(channel, messages, now)
        })
        .await
    }

    async fn search(&self, query: &SearchQuery) -> DiscordResult<SearchResults> {
        let guild = self.guild_id();
        self.request(Route::Search, guild, |i, now| i.search(query, now))
            .await
    }

    async fn list_members(&self, after: Snowflake, limit: u32) -> DiscordResult<Vec<Member>> {
        let guild = self.guild_id();
        self.request(Route::ListMembers, guild, |i, _| {
            i.list_members(after, limit)
        })
        .await
    }

    async fn list_roles(&self) -> DiscordResult<Vec<Role>> {
        let guild = self.guild_id();
        self.request(Route::GuildRoles, guild, |i, _| Ok(i.list_roles()))
            .await
    }

    async fn list_active_threads(&self) -> DiscordResult<Vec<Channel>> {
        let guild = self.guild_id();
        self.request(Route::ActiveThreads, guild, |i, now| {
            Ok(i.list_active_threads(now))
        })
        .await
    }

    async fn list_archived_threads(
        &self,
        channel: Snowflake,
        before: Option<&str>,
    ) -> DiscordResult<ThreadPage> {
        self.request(Route::ArchivedThreads, channel, |i, now| {
            i.list_archived_threads(channel, before, now)
        })
        .await
    }

    async fn start_thread(
        &self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
    ) -> DiscordResult<Channel> {
        self.start_thread_archiving_after(channel, message, name, 10080)
            .await
    }

    async fn download_attachment(
        &self,
        _channel: Snowflake,
        _message: Snowflake,
        attachment: &Attachment,
        range: Option<ByteRange>,
    ) -> DiscordResult<Vec<u8>> {
        let bytes = self
            .request(Route::DownloadAttachment, attachment.id, |i, now| {
                i.download(attachment, range, now)
            })
            .await?;
        self.download_time(bytes.len()).await;
        Ok(bytes)
    }
}
