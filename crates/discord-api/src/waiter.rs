//! The client's one rate-limit policy: how a 429 is waited out, and when a
//! wait is too long to be worth it. Both backends use it: the HTTP client
//! inside its send loop, the embedded emulator through [`Waiting`].
//!
//! Waiting happens on the shared [`Clock`](crate::Clock), so on the embedded
//! emulator it is accounted rather than slept, and the time a workload would
//! have spent waiting on Discord is still known.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::{
    Attachment, ByteRange, Channel, Discord, DiscordError, DiscordResult, HistoryQuery, Member,
    Message, NewChannel, NewMessage, Role, Route, SearchQuery, SearchResults, SharedClock,
    Snowflake, ThreadPage,
};

/// When to stop waiting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimitPolicy {
    /// 429s in a row one call waits out before it gives up.
    pub max_in_a_row: u32,
    /// The longest single wait; a longer `retry_after` fails the call with
    /// [`DiscordError::WaitTooLong`]. `None` waits however long Discord asks
    /// (for long-running jobs that opt in).
    pub max_wait: Option<Duration>,
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        RateLimitPolicy {
            max_in_a_row: 50,
            max_wait: Some(Duration::from_secs(60)),
        }
    }
}

/// 5xx answers and lost connections one call rides out before its error stands.
pub const TRANSIENT_RETRIES: u32 = 3;

/// Rate-limit waiting done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WaitStats {
    /// 429 answers waited out.
    pub waits: u64,
    /// Total time waited, after 429s and before requests a bucket had no room for.
    pub waited: Duration,
}

/// Applies a [`RateLimitPolicy`] on a clock and counts what it waited.
#[derive(Debug)]
pub struct RateLimitWaiter {
    clock: SharedClock,
    policy: RateLimitPolicy,
    waits: AtomicU64,
    waited_us: AtomicU64,
}

impl RateLimitWaiter {
    pub fn new(clock: SharedClock, policy: RateLimitPolicy) -> Self {
        RateLimitWaiter {
            clock,
            policy,
            waits: AtomicU64::new(0),
            waited_us: AtomicU64::new(0),
        }
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn stats(&self) -> WaitStats {
        WaitStats {
            waits: self.waits.load(Ordering::Relaxed),
            waited: Duration::from_micros(self.waited_us.load(Ordering::Relaxed)),
        }
    }

    /// After `err` on `route` (the `attempt`-th 429 in a row): wait it out
    /// and return Ok to try again, or return the error to give up.
    pub async fn wait_out(
        &self,
        route: Route,
        attempt: u32,
        err: DiscordError,
    ) -> DiscordResult<()> {
        let DiscordError::RateLimited { retry_after, .. } = &err else {
            return Err(err);
        };
        if attempt > self.policy.max_in_a_row {
            return Err(err);
        }
        let wait = Duration::from_secs_f64(retry_after.max(0.001));
        tracing::debug!("429 on {route}: waiting {wait:?}");
        self.sleep(route, wait).await?;
        self.waits.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Wait `wait` before a request on `route` (after a 429, or because a
    /// known bucket has no room), unless it is longer than the policy allows.
    pub async fn sleep(&self, route: Route, wait: Duration) -> DiscordResult<()> {
        if let Some(limit) = self.policy.max_wait
            && wait > limit
        {
            return Err(DiscordError::WaitTooLong {
                route: route.to_string(),
                retry_after: wait.as_secs_f64(),
                limit: limit.as_secs_f64(),
            });
        }
        self.waited_us
            .fetch_add(wait.as_micros() as u64, Ordering::Relaxed);
        self.clock.sleep(wait).await;
        Ok(())
    }

    /// Make `call` until it is not answered 429, within the policy.
    pub async fn retry<T, F, Fut>(&self, route: Route, mut call: F) -> DiscordResult<T>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = DiscordResult<T>> + Send,
        T: Send,
    {
        let mut attempt = 0;
        loop {
            match call().await {
                Err(e @ DiscordError::RateLimited { .. }) => {
                    attempt += 1;
                    self.wait_out(route, attempt, e).await?;
                }
                other => return other,
            }
        }
    }

    /// [`RateLimitWaiter::retry`], and also ride out up to
    /// [`TRANSIENT_RETRIES`] retryable failures (5xx, transport), 250 ms
    /// doubling between them. Only for calls that are safe to repeat.
    pub async fn retry_transient<T, F, Fut>(&self, route: Route, mut call: F) -> DiscordResult<T>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = DiscordResult<T>> + Send,
        T: Send,
    {
        let mut failures = 0;
        loop {
            match self.retry(route, &mut call).await {
                Err(e) if e.is_retryable() && failures < TRANSIENT_RETRIES => {
                    failures += 1;
                    tracing::debug!("{route} failed ({e}); retry {failures}");
                    let backoff = Duration::from_millis(250) * (1 << failures);
                    self.clock.sleep(backoff).await;
                }
                other => return other,
            }
        }
    }
}

/// A [`Discord`] with the client's retry policy, for a backend that answers
/// without waiting or retrying itself (the embedded emulator, perhaps with
/// faults): 429s are waited out; 5xx answers and lost connections are
/// retried where a repeat cannot do the work twice, by the same rules as
/// the HTTP client (a create with an enforced nonce, a delete whose repeat
/// finds nothing, a channel looked for before it is created again).
#[derive(Debug)]
pub struct Waiting<D> {
    inner: D,
    waiter: RateLimitWaiter,
}

impl<D: Discord> Waiting<D> {
    pub fn new(inner: D, clock: SharedClock, policy: RateLimitPolicy) -> Self {
        Waiting {
            inner,
            waiter: RateLimitWaiter::new(clock, policy),
        }
    }

    pub fn wait_stats(&self) -> WaitStats {
        self.waiter.stats()
    }

    /// Wait until `route`'s bucket for `resource` has room, as the HTTP
    /// client does from the headers: a full bucket costs a wait, not a 429.
    async fn pace(&self, route: Route, resource: Snowflake) -> DiscordResult<()> {
        let wait = self.inner.room_in(route, resource);
        if wait.is_zero() {
            return Ok(());
        }
        self.waiter.sleep(route, wait).await
    }
}

#[async_trait]
impl<D: Discord> Discord for Waiting<D> {
    fn guild_id(&self) -> Snowflake {
        self.inner.guild_id()
    }

    fn bot_user_id(&self) -> Snowflake {
        self.inner.bot_user_id()
    }

    fn room_in(&self, route: Route, resource: Snowflake) -> Duration {
        self.inner.room_in(route, resource)
    }

    fn rate_limit_waited(&self) -> Duration {
        self.waiter.stats().waited + self.inner.rate_limit_waited()
    }

    fn search_lag_bound(&self) -> Option<Duration> {
        self.inner.search_lag_bound()
    }

    fn server_time_ms(&self) -> Option<u64> {
        self.inner.server_time_ms()
    }

    async fn list_channels(&self) -> DiscordResult<Vec<Channel>> {
        let w = &self.waiter;
        self.pace(Route::ListChannels, self.inner.guild_id())
            .await?;
        w.retry_transient(Route::ListChannels, || self.inner.list_channels())
            .await
    }

    /// A lost answer may hide a channel made: look for it before another create.
    async fn create_channel(&self, channel: &NewChannel) -> DiscordResult<Channel> {
        let w = &self.waiter;
        self.pace(Route::CreateChannel, self.inner.guild_id())
            .await?;
        match w
            .retry(Route::CreateChannel, || self.inner.create_channel(channel))
            .await
        {
            Err(e) if e.is_retryable() => {
                let made = self.list_channels().await?;
                match made.into_iter().find(|c| channel.is_made_as(c)) {
                    Some(found) => Ok(found),
                    None => {
                        w.retry_transient(Route::CreateChannel, || {
                            self.inner.create_channel(channel)
                        })
                        .await
                    }
                }
            }
            other => other,
        }
    }

    async fn get_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        let w = &self.waiter;
        self.pace(Route::GetChannel, channel).await?;
        w.retry_transient(Route::GetChannel, || self.inner.get_channel(channel))
            .await
    }

    async fn edit_channel_topic(&self, channel: Snowflake, topic: &str) -> DiscordResult<Channel> {
        let w = &self.waiter;
        self.pace(Route::EditChannel, channel).await?;
        w.retry_transient(Route::EditChannel, || {
            self.inner.edit_channel_topic(channel, topic)
        })
        .await
    }

    async fn delete_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        let w = &self.waiter;
        self.pace(Route::DeleteChannel, channel).await?;
        w.retry_transient(Route::DeleteChannel, || self.inner.delete_channel(channel))
            .await
    }

    /// Repeated only with an enforced nonce, which makes a repeat return the first message.
    async fn create_message(&self, channel: Snowflake, msg: &NewMessage) -> DiscordResult<Message> {
        let w = &self.waiter;
        self.pace(Route::CreateMessage, channel).await?;
        let call = || self.inner.create_message(channel, msg);
        if msg.nonce.is_some() && msg.enforce_nonce {
            w.retry_transient(Route::CreateMessage, call).await
        } else {
            w.retry(Route::CreateMessage, call).await
        }
    }

    async fn get_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<Message> {
        let w = &self.waiter;
        self.pace(Route::GetMessage, channel).await?;
        w.retry_transient(Route::GetMessage, || {
            self.inner.get_message(channel, message)
        })
        .await
    }

    async fn list_messages(
        &self,
        channel: Snowflake,
        query: &HistoryQuery,
    ) -> DiscordResult<Vec<Message>> {
        let w = &self.waiter;
        self.pace(Route::ListMessages, channel).await?;
        w.retry_transient(Route::ListMessages, || {
            self.inner.list_messages(channel, query)
        })
        .await
    }

    async fn edit_message(
        &self,
        channel: Snowflake,
        message: Snowflake,
        content: &str,
    ) -> DiscordResult<Message> {
        let w = &self.waiter;
        self.pace(Route::EditMessage, channel).await?;
        w.retry_transient(Route::EditMessage, || {
            self.inner.edit_message(channel, message, content)
        })
        .await
    }

    /// A delete repeated after a lost answer finds nothing to delete: done.
    async fn delete_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<()> {
        let w = &self.waiter;
        self.pace(Route::DeleteMessage, channel).await?;
        let call = || self.inner.delete_message(channel, message);
        match w.retry(Route::DeleteMessage, call).await {
            Err(e) if e.is_retryable() => match w.retry_transient(Route::DeleteMessage, call).await
            {
                Err(DiscordError::NotFound { .. }) => Ok(()),
                other => other,
            },
            other => other,
        }
    }

    async fn bulk_delete(&self, channel: Snowflake, messages: &[Snowflake]) -> DiscordResult<()> {
        let w = &self.waiter;
        self.pace(Route::BulkDelete, channel).await?;
        w.retry_transient(Route::BulkDelete, || {
            self.inner.bulk_delete(channel, messages)
        })
        .await
    }

    async fn search(&self, query: &SearchQuery) -> DiscordResult<SearchResults> {
        let w = &self.waiter;
        self.pace(Route::Search, self.inner.guild_id()).await?;
        w.retry_transient(Route::Search, || self.inner.search(query))
            .await
    }

    async fn list_members(&self, after: Snowflake, limit: u32) -> DiscordResult<Vec<Member>> {
        let w = &self.waiter;
        self.pace(Route::ListMembers, self.inner.guild_id()).await?;
        w.retry_transient(Route::ListMembers, || self.inner.list_members(after, limit))
            .await
    }

    async fn list_roles(&self) -> DiscordResult<Vec<Role>> {
        let w = &self.waiter;
        self.pace(Route::GuildRoles, self.inner.guild_id()).await?;
        w.retry_transient(Route::GuildRoles, || self.inner.list_roles())
            .await
    }

    async fn list_active_threads(&self) -> DiscordResult<Vec<Channel>> {
        let w = &self.waiter;
        self.pace(Route::ActiveThreads, self.inner.guild_id())
            .await?;
        w.retry_transient(Route::ActiveThreads, || self.inner.list_active_threads())
            .await
    }

    async fn list_archived_threads(
        &self,
        channel: Snowflake,
        before: Option<&str>,
    ) -> DiscordResult<ThreadPage> {
        let w = &self.waiter;
        self.pace(Route::ArchivedThreads, channel).await?;
        w.retry_transient(Route::ArchivedThreads, || {
            self.inner.list_archived_threads(channel, before)
        })
        .await
    }

    /// A thread repeated after a lost answer already exists: its ID is the message's.
    async fn start_thread(
        &self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
    ) -> DiscordResult<Channel> {
        let w = &self.waiter;
        self.pace(Route::StartThread, self.inner.guild_id()).await?;
        let call = || self.inner.start_thread(channel, message, name);
        match w.retry(Route::StartThread, call).await {
            Err(e) if e.is_retryable() => match w.retry_transient(Route::StartThread, call).await {
                Err(e) if e.code() == Some(crate::limits::code::THREAD_EXISTS) => {
                    Ok(Channel::thread_of(channel, message, name))
                }
                other => other,
            },
            other => other,
        }
    }

    async fn download_attachment(
        &self,
        channel: Snowflake,
        message: Snowflake,
        attachment: &Attachment,
        range: Option<ByteRange>,
    ) -> DiscordResult<Vec<u8>> {
        let w = &self.waiter;
        w.retry_transient(Route::DownloadAttachment, || {
            self.inner
                .download_attachment(channel, message, attachment, range)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Clock, ManualClock};

    fn limited(secs: f64) -> DiscordError {
        DiscordError::RateLimited {
            retry_after: secs,
            scope: crate::RateLimitScope::User,
            bucket: None,
        }
    }

    #[tokio::test]
    async fn a_wait_within_the_cap_is_slept_on_the_clock() {
        let clock = Arc::new(ManualClock::fixed());
        let w = RateLimitWaiter::new(clock.clone(), RateLimitPolicy::default());
        let t0 = clock.now_us();
        w.wait_out(Route::Search, 1, limited(2.5)).await.unwrap();
        assert_eq!(clock.now_us() - t0, 2_500_000);
        assert_eq!(w.stats().waits, 1);
    }

    #[tokio::test]
    async fn a_wait_over_the_cap_fails_and_names_the_route() {
        let clock = Arc::new(ManualClock::fixed());
        let w = RateLimitWaiter::new(clock.clone(), RateLimitPolicy::default());
        let e = w
            .wait_out(Route::StartThread, 1, limited(600.0))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Discord asks to wait 600 s on start_thread; longer than the 60 s dbcord waits \
             for one rate limit (raise it for long jobs)"
        );
        assert_eq!(w.stats().waited, Duration::ZERO, "nothing was waited");
    }

    #[tokio::test]
    async fn too_many_429s_in_a_row_give_up() {
        let clock = Arc::new(ManualClock::fixed());
        let policy = RateLimitPolicy {
            max_in_a_row: 2,
            max_wait: None,
        };
        let w = RateLimitWaiter::new(clock, policy);
        let calls = AtomicU64::new(0);
        let r: DiscordResult<()> = w
            .retry(Route::Search, || {
                calls.fetch_add(1, Ordering::Relaxed);
                async { Err(limited(1.0)) }
            })
            .await;
        assert!(matches!(r, Err(DiscordError::RateLimited { .. })));
        assert_eq!(calls.load(Ordering::Relaxed), 3);
    }
}
