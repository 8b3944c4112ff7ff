//! The Discord REST operations a bot needs, as one async trait.
//!
//! This crate is the boundary between a program and Discord: the
//! [`Discord`] trait, the objects it exchanges ([`types`]), typed errors
//! ([`DiscordError`]), snowflake IDs, time ([`clock`]) and seeded
//! randomness ([`rng`]) for simulations, every Discord fact
//! in one place ([`limits`]), the routes that key rate-limit buckets and
//! request counters ([`Route`]), the one rate-limit policy
//! ([`waiter`]), and nonces for creates that a retry must not repeat.
//!
//! Backends live in their own crates: `discord-emulator` (an in-process
//! guild, also served over HTTP) and `discord-http` (the real Discord).

pub mod attachments;
pub mod clock;
pub mod error;
pub mod interactions;
pub mod limits;
pub mod nonce;
pub mod rng;
pub mod route;
pub mod snowflake;
pub mod types;
pub mod waiter;

use std::sync::Arc;

use async_trait::async_trait;

pub use clock::{AccountedClock, Clock, ManualClock, RealClock, ScaledClock, SharedClock};
pub use error::{DiscordError, DiscordResult, RateLimitScope};
pub use limits::channel_type;
pub use rng::SeededRng;
pub use route::Route;
pub use snowflake::Snowflake;
pub use types::*;
pub use waiter::{RateLimitPolicy, RateLimitWaiter, WaitStats, Waiting};

/// Every Discord REST operation dbcord needs. One guild per instance.
///
/// Implemented by the embedded emulator and the HTTP backend; the layers
/// above see only this trait, so they run unchanged on either.
#[async_trait]
pub trait Discord: Send + Sync + 'static {
    /// The guild this instance works in.
    fn guild_id(&self) -> Snowflake;
    /// The bot's own user: dbcord trusts only messages it authored.
    fn bot_user_id(&self) -> Snowflake;

    /// Total time spent waiting out rate limits so far (zero for backends
    /// that do not wait); scans report the difference as `rate_limit_wait`.
    fn rate_limit_waited(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// The longest time search may take to see a write, if the backend
    /// knows one (an emulator knows its own; Discord publishes none).
    fn search_lag_bound(&self) -> Option<std::time::Duration> {
        None
    }

    /// How long until `route`'s bucket for `resource` (a channel, or the
    /// guild) has room for one more request, as the rate-limit headers of
    /// the answers so far tell it: a client waits this long before the
    /// request instead of earning a 429. Zero: room now, or not known (the
    /// HTTP client keeps its own buckets from the headers).
    fn room_in(&self, _route: Route, _resource: Snowflake) -> std::time::Duration {
        std::time::Duration::ZERO
    }

    /// Discord's own time (Unix ms) as of its latest answer: the `Date` of
    /// the last response over HTTP, the emulator's clock in process. `None`
    /// before any answer. Never the local clock, which may be skewed.
    fn server_time_ms(&self) -> Option<u64> {
        None
    }

    /// `GET /guilds/{guild}/channels` (threads are not listed).
    async fn list_channels(&self) -> DiscordResult<Vec<Channel>>;
    /// `POST /guilds/{guild}/channels`.
    async fn create_channel(&self, channel: &NewChannel) -> DiscordResult<Channel>;
    /// `GET /channels/{id}`: its `last_message_id` tells whether anything
    /// was posted since a reader last looked.
    async fn get_channel(&self, channel: Snowflake) -> DiscordResult<Channel>;
    /// `PATCH /channels/{id}` with a new topic.
    async fn edit_channel_topic(&self, channel: Snowflake, topic: &str) -> DiscordResult<Channel>;
    /// `DELETE /channels/{id}`.
    async fn delete_channel(&self, channel: Snowflake) -> DiscordResult<Channel>;

    /// `POST /channels/{id}/messages`, mentions disabled.
    async fn create_message(&self, channel: Snowflake, msg: &NewMessage) -> DiscordResult<Message>;
    /// `GET /channels/{id}/messages/{mid}`.
    async fn get_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<Message>;
    /// `GET /channels/{id}/messages`: one history page, newest first.
    async fn list_messages(
        &self,
        channel: Snowflake,
        query: &HistoryQuery,
    ) -> DiscordResult<Vec<Message>>;
    /// `PATCH /channels/{id}/messages/{mid}` with new content.
    async fn edit_message(
        &self,
        channel: Snowflake,
        message: Snowflake,
        content: &str,
    ) -> DiscordResult<Message>;
    /// `DELETE /channels/{id}/messages/{mid}`.
    async fn delete_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<()>;
    /// `POST /channels/{id}/messages/bulk-delete`: 2 to 100 messages younger than 14 days.
    async fn bulk_delete(&self, channel: Snowflake, messages: &[Snowflake]) -> DiscordResult<()>;

    /// `GET /guilds/{guild}/messages/search`.
    async fn search(&self, query: &SearchQuery) -> DiscordResult<SearchResults>;

    /// `POST /channels/{id}/messages/{mid}/threads`: the thread's ID is the message's.
    async fn start_thread(
        &self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
    ) -> DiscordResult<Channel>;

    /// `GET /guilds/{guild}/members?limit=&after=`: members by user ID,
    /// `limit` 1 to 1000. Needs the Server Members intent (403 without).
    async fn list_members(&self, after: Snowflake, limit: u32) -> DiscordResult<Vec<Member>>;
    /// `GET /guilds/{guild}/roles`.
    async fn list_roles(&self) -> DiscordResult<Vec<Role>>;
    /// `GET /guilds/{guild}/threads/active`: every unarchived thread of the guild.
    async fn list_active_threads(&self) -> DiscordResult<Vec<Channel>>;
    /// `GET /channels/{id}/threads/archived/public?before=&limit=`: a
    /// channel's archived public threads, most recently archived first;
    /// `before` is an ISO-8601 archive time.
    async fn list_archived_threads(
        &self,
        channel: Snowflake,
        before: Option<&str>,
    ) -> DiscordResult<ThreadPage>;

    /// Fetch an attachment's bytes (or only `range` of them, with an HTTP
    /// range request) from its URL, on the CDN. The URL may have expired:
    /// [`attachments::download`] re-reads `message` in `channel` for a fresh one.
    async fn download_attachment(
        &self,
        channel: Snowflake,
        message: Snowflake,
        attachment: &Attachment,
        range: Option<ByteRange>,
    ) -> DiscordResult<Vec<u8>>;
}

/// A shared backend is a backend: lets one emulator serve a wrapper and its counters' reader.
#[async_trait]
impl<D: Discord + ?Sized> Discord for Arc<D> {
    fn guild_id(&self) -> Snowflake {
        (**self).guild_id()
    }
    fn bot_user_id(&self) -> Snowflake {
        (**self).bot_user_id()
    }
    fn rate_limit_waited(&self) -> std::time::Duration {
        (**self).rate_limit_waited()
    }
    fn search_lag_bound(&self) -> Option<std::time::Duration> {
        (**self).search_lag_bound()
    }
    fn room_in(&self, route: Route, resource: Snowflake) -> std::time::Duration {
        (**self).room_in(route, resource)
    }
    fn server_time_ms(&self) -> Option<u64> {
        (**self).server_time_ms()
    }
    async fn list_channels(&self) -> DiscordResult<Vec<Channel>> {
        (**self).list_channels().await
    }
    async fn create_channel(&self, c: &NewChannel) -> DiscordResult<Channel> {
        (**self).create_channel(c).await
    }
    async fn get_channel(&self, c: Snowflake) -> DiscordResult<Channel> {
        (**self).get_channel(c).await
    }
    async fn edit_channel_topic(&self, c: Snowflake, t: &str) -> DiscordResult<Channel> {
        (**self).edit_channel_topic(c, t).await
    }
    async fn delete_channel(&self, c: Snowflake) -> DiscordResult<Channel> {
        (**self).delete_channel(c).await
    }
    async fn create_message(&self, c: Snowflake, m: &NewMessage) -> DiscordResult<Message> {
        (**self).create_message(c, m).await
    }
    async fn get_message(&self, c: Snowflake, m: Snowflake) -> DiscordResult<Message> {
        (**self).get_message(c, m).await
    }
    async fn list_messages(&self, c: Snowflake, q: &HistoryQuery) -> DiscordResult<Vec<Message>> {
        (**self).list_messages(c, q).await
    }
    async fn edit_message(&self, c: Snowflake, m: Snowflake, s: &str) -> DiscordResult<Message> {
        (**self).edit_message(c, m, s).await
    }
    async fn delete_message(&self, c: Snowflake, m: Snowflake) -> DiscordResult<()> {
        (**self).delete_message(c, m).await
    }
    async fn bulk_delete(&self, c: Snowflake, m: &[Snowflake]) -> DiscordResult<()> {
        (**self).bulk_delete(c, m).await
    }
    async fn search(&self, q: &SearchQuery) -> DiscordResult<SearchResults> {
        (**self).search(q).await
    }
    async fn start_thread(&self, c: Snowflake, m: Snowflake, n: &str) -> DiscordResult<Channel> {
        (**self).start_thread(c, m, n).await
    }
    async fn list_members(&self, after: Snowflake, limit: u32) -> DiscordResult<Vec<Member>> {
        (**self).list_members(after, limit).await
    }
    async fn list_roles(&self) -> DiscordResult<Vec<Role>> {
        (**self).list_roles().await
    }
    async fn list_active_threads(&self) -> DiscordResult<Vec<Channel>> {
        (**self).list_active_threads().await
    }
    async fn list_archived_threads(
        &self,
        c: Snowflake,
        before: Option<&str>,
    ) -> DiscordResult<ThreadPage> {
        (**self).list_archived_threads(c, before).await
    }
    async fn download_attachment(
        &self,
        c: Snowflake,
        m: Snowflake,
        a: &Attachment,
        r: Option<ByteRange>,
    ) -> DiscordResult<Vec<u8>> {
        (**self).download_attachment(c, m, a, r).await
    }
}
