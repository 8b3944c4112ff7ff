//! [`Faulty`]: any [`Discord`] with faults drawn from a [`FaultPlan`], in
//! process and on virtual time, so a simulation of many clients under
//! Discord's failures runs in milliseconds and replays from its seed.
//!
//! It also plays a client process dying: after [`Faulty::die_after`] more
//! calls, every call hangs forever, as the requests of a killed process
//! never complete, and [`Faulty::died`] wakes whoever waits to reap it.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use discord_api::{
    Attachment, ByteRange, Channel, Discord, DiscordError, DiscordResult, HistoryQuery, Member,
    Message, NewChannel, NewMessage, Role, SearchQuery, SearchResults, SharedClock, Snowflake,
    ThreadPage,
};
use tokio::sync::Notify;

use crate::faults::{Fault, FaultPlan};

/// A Discord whose calls fail as the plan draws.
#[derive(Debug)]
pub struct Faulty<D> {
    inner: D,
    plan: FaultPlan,
    clock: SharedClock,
    calls: AtomicU64,
    dies_at: AtomicU64,
    died: Notify,
}

impl<D: Discord> Faulty<D> {
    /// `inner` with faults from `plan`; stalls pass on `clock`.
    pub fn new(inner: D, plan: FaultPlan, clock: SharedClock) -> Self {
        Faulty {
            inner,
            plan,
            clock,
            calls: AtomicU64::new(0),
            dies_at: AtomicU64::new(u64::MAX),
            died: Notify::new(),
        }
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Calls made so far (faulted ones included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// The `n`-th call from now, and every call after it, never completes.
    pub fn die_after(&self, n: u64) {
        self.dies_at
            .store(self.calls() + n.max(1), Ordering::SeqCst);
    }

    /// Call off a death that has not come yet.
    pub fn spare(&self) {
        if !self.is_dead() {
            self.dies_at.store(u64::MAX, Ordering::SeqCst);
        }
    }

    /// Whether the client has died.
    pub fn is_dead(&self) -> bool {
        self.calls() >= self.dies_at.load(Ordering::SeqCst)
    }

    /// Returns once the client has died.
    pub async fn died(&self) {
        if !self.is_dead() {
            self.died.notified().await;
        }
    }

    /// One call: maybe die, then the fault drawn for it.
    async fn call<T: Send>(
        &self,
        request: impl Future<Output = DiscordResult<T>> + Send,
    ) -> DiscordResult<T> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.dies_at.load(Ordering::SeqCst) {
            self.died.notify_one();
            return std::future::pending().await;
        }
        match self.plan.draw() {
            Fault::None => request.await,
            Fault::RateLimit { scope, retry_after } => Err(DiscordError::RateLimited {
                retry_after,
                scope,
                bucket: None,
            }),
            Fault::ServerError { status, applied } => {
                if applied {
                    let _ = request.await;
                }
                Err(DiscordError::Server {
                    status,
                    message: format!("{status}: emulated server error"),
                })
            }
            Fault::Stall { hold, applied } => {
                self.clock.sleep(hold).await;
                if applied {
                    let _ = request.await;
                }
                Err(transport("timed out", hold))
            }
            Fault::Drop => Err(DiscordError::Transport(
                "request failed: connection closed before the request was sent (emulated)".into(),
            )),
            Fault::Lose => {
                let _ = request.await;
                Err(transport("timed out", self.plan.stall_for()))
            }
        }
    }
}

fn transport(what: &str, after: Duration) -> DiscordError {
    DiscordError::Transport(format!(
        "request {what}: no answer after {:.1} s (emulated)",
        after.as_secs_f64()
    ))
}

#[async_trait]
impl<D: Discord> Discord for Faulty<D> {
    fn guild_id(&self) -> Snowflake {
        self.inner.guild_id()
    }

    fn bot_user_id(&self) -> Snowflake {
        self.inner.bot_user_id()
    }

    fn rate_limit_waited(&self) -> Duration {
        self.inner.rate_limit_waited()
    }

    fn search_lag_bound(&self) -> Option<Duration> {
        self.inner.search_lag_bound()
    }

    fn room_in(&self, route: discord_api::Route, resource: Snowflake) -> Duration {
        self.inner.room_in(route, resource)
    }

    fn server_time_ms(&self) -> Option<u64> {
        self.inner.server_time_ms()
    }

    async fn list_channels(&self) -> DiscordResult<Vec<Channel>> {
        self.call(self.inner.list_channels()).await
    }

    async fn create_channel(&self, channel: &NewChannel) -> DiscordResult<Channel> {
        self.call(self.inner.create_channel(channel)).await
    }

    async fn get_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        self.call(self.inner.get_channel(channel)).await
    }

    async fn edit_channel_topic(&self, channel: Snowflake, topic: &str) -> DiscordResult<Channel> {
        self.call(self.inner.edit_channel_topic(channel, topic))
            .await
    }

    async fn delete_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        self.call(self.inner.delete_channel(channel)).await
    }

    async fn create_message(&self, channel: Snowflake, msg: &NewMessage) -> DiscordResult<Message> {
        self.call(self.inner.create_message(channel, msg)).await
    }

    async fn get_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<Message> {
        self.call(self.inner.get_message(channel, message)).await
    }

    async fn list_messages(
        &self,
        channel: Snowflake,
        query: &HistoryQuery,
    ) -> DiscordResult<Vec<Message>> {
        self.call(self.inner.list_messages(channel, query)).await
    }

    async fn edit_message(
        &self,
        channel: Snowflake,
        message: Snowflake,
        content: &str,
    ) -> DiscordResult<Message> {
        self.call(self.inner.edit_message(channel, message, content))
            .await
    }

    async fn delete_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<()> {
        self.call(self.inner.delete_message(channel, message)).await
    }

    async fn bulk_delete(&self, channel: Snowflake, messages: &[Snowflake]) -> DiscordResult<()> {
        self.call(self.inner.bulk_delete(channel, messages)).await
    }

    async fn search(&self, query: &SearchQuery) -> DiscordResult<SearchResults> {
        self.call(self.inner.search(query)).await
    }

    async fn list_members(&self, after: Snowflake, limit: u32) -> DiscordResult<Vec<Member>> {
        self.call(self.inner.list_members(after, limit)).await
    }

    async fn list_roles(&self) -> DiscordResult<Vec<Role>> {
        self.call(self.inner.list_roles()).await
    }

    async fn list_active_threads(&self) -> DiscordResult<Vec<Channel>> {
        self.call(self.inner.list_active_threads()).await
    }

    async fn list_archived_threads(
        &self,
        channel: Snowflake,
        before: Option<&str>,
    ) -> DiscordResult<ThreadPage> {
        self.call(self.inner.list_archived_threads(channel, before))
            .await
    }

    async fn start_thread(
        &self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
    ) -> DiscordResult<Channel> {
        self.call(self.inner.start_thread(channel, message, name))
            .await
    }

    async fn download_attachment(
        &self,
        channel: Snowflake,
        message: Snowflake,
        attachment: &Attachment,
        range: Option<ByteRange>,
    ) -> DiscordResult<Vec<u8>> {
        self.call(
            self.inner
                .download_attachment(channel, message, attachment, range),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use discord_api::ManualClock;

    use super::*;
    use crate::{Emulator, EmulatorConfig};

    fn category(name: &str) -> NewChannel {
        NewChannel {
            name: name.into(),
            kind: discord_api::channel_type::CATEGORY,
            topic: None,
            parent_id: None,
        }
    }

    fn faulty(spec: &str) -> Faulty<Arc<Emulator>> {
        let clock: SharedClock = Arc::new(ManualClock::fixed());
        let emu = Arc::new(Emulator::in_memory(
            EmulatorConfig::in_memory(),
            Arc::clone(&clock),
        ));
        Faulty::new(emu, FaultPlan::parse(spec).unwrap(), clock)
    }

    #[tokio::test]
    async fn a_lost_answer_was_done_and_a_dropped_request_was_not() {
        let f = faulty("lose=1");
        assert!(matches!(
            f.list_channels().await,
            Err(DiscordError::Transport(_))
        ));
        assert!(f.create_channel(&category("lost")).await.is_err());
        assert!(f.inner.channels().iter().any(|c| c.name == "lost"));

        let f = faulty("drop=1");
        assert!(f.create_channel(&category("dropped")).await.is_err());
        assert!(!f.inner.channels().iter().any(|c| c.name == "dropped"));
        assert_eq!(f.plan().drawn()["drop"], 1);
    }

    #[tokio::test]
    async fn a_dead_client_never_hears_back() {
        let f = faulty("");
        f.die_after(2);
        assert!(f.list_channels().await.is_ok());
        let hung = tokio::time::timeout(Duration::from_millis(50), f.list_channels()).await;
        assert!(hung.is_err(), "the second call must hang");
        assert!(f.is_dead());
        tokio::time::timeout(Duration::from_millis(50), f.died())
            .await
            .expect("died() returns once dead");
    }
}
