//! The client side of rate limiting: wait out a 429 and try again.
//!
//! Waiting happens on the shared [`Clock`](super::Clock), so on the embedded
//! emulator it is accounted rather than slept, and the time a workload would
//! have spent waiting on Discord is still known.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::{
    Attachment, Channel, Discord, DiscordError, DiscordResult, HistoryQuery, Message, NewChannel,
    NewMessage, SearchQuery, SearchResults, SharedClock, Snowflake,
};

/// How many 429s in a row one call survives before giving up.
const MAX_RATE_LIMIT_RETRIES: u32 = 50;

/// Rate-limit waiting done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WaitStats {
    /// 429 answers waited out.
    pub waits: u64,
    /// Total time waited.
    pub waited: Duration,
}

/// A [`Discord`] that waits out rate limits before retrying.
#[derive(Debug)]
pub struct Patient<D> {
    inner: D,
    clock: SharedClock,
    waits: AtomicU64,
    waited_us: AtomicU64,
}

impl<D: Discord> Patient<D> {
    pub fn new(inner: D, clock: SharedClock) -> Self {
        Patient {
            inner,
            clock,
            waits: AtomicU64::new(0),
            waited_us: AtomicU64::new(0),
        }
    }

    pub fn wait_stats(&self) -> WaitStats {
        WaitStats {
            waits: self.waits.load(Ordering::Relaxed),
            waited: Duration::from_micros(self.waited_us.load(Ordering::Relaxed)),
        }
    }

    async fn retry<T, F, Fut>(&self, mut call: F) -> DiscordResult<T>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = DiscordResult<T>> + Send,
        T: Send,
    {
        let mut attempts = 0;
        loop {
            match call().await {
                Err(DiscordError::RateLimited { retry_after, .. })
                    if attempts < MAX_RATE_LIMIT_RETRIES =>
                {
                    attempts += 1;
                    let wait = Duration::from_secs_f64(retry_after.max(0.001));
                    self.waits.fetch_add(1, Ordering::Relaxed);
                    self.waited_us
                        .fetch_add(wait.as_micros() as u64, Ordering::Relaxed);
                    self.clock.sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}

#[async_trait]
impl<D: Discord> Discord for Patient<D> {
    fn guild_id(&self) -> Snowflake {
        self.inner.guild_id()
    }

    fn bot_user_id(&self) -> Snowflake {
        self.inner.bot_user_id()
    }

    fn rate_limit_waited(&self) -> Duration {
        self.wait_stats().waited + self.inner.rate_limit_waited()
    }

    async fn list_channels(&self) -> DiscordResult<Vec<Channel>> {
        self.retry(|| self.inner.list_channels()).await
    }

    async fn create_channel(&self, channel: &NewChannel) -> DiscordResult<Channel> {
        self.retry(|| self.inner.create_channel(channel)).await
    }

    async fn edit_channel_topic(&self, channel: Snowflake, topic: &str) -> DiscordResult<Channel> {
        self.retry(|| self.inner.edit_channel_topic(channel, topic))
            .await
    }

    async fn delete_channel(&self, channel: Snowflake) -> DiscordResult<Channel> {
        self.retry(|| self.inner.delete_channel(channel)).await
    }

    async fn create_message(&self, channel: Snowflake, msg: &NewMessage) -> DiscordResult<Message> {
        self.retry(|| self.inner.create_message(channel, msg)).await
    }

    async fn get_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<Message> {
        self.retry(|| self.inner.get_message(channel, message))
            .await
    }

    async fn list_messages(
        &self,
        channel: Snowflake,
        query: &HistoryQuery,
    ) -> DiscordResult<Vec<Message>> {
        self.retry(|| self.inner.list_messages(channel, query))
            .await
    }

    async fn edit_message(
        &self,
        channel: Snowflake,
        message: Snowflake,
        content: &str,
    ) -> DiscordResult<Message> {
        self.retry(|| self.inner.edit_message(channel, message, content))
            .await
    }

    async fn delete_message(&self, channel: Snowflake, message: Snowflake) -> DiscordResult<()> {
        self.retry(|| self.inner.delete_message(channel, message))
            .await
    }

    async fn bulk_delete(&self, channel: Snowflake, messages: &[Snowflake]) -> DiscordResult<()> {
        self.retry(|| self.inner.bulk_delete(channel, messages))
            .await
    }

    async fn search(&self, query: &SearchQuery) -> DiscordResult<SearchResults> {
        self.retry(|| self.inner.search(query)).await
    }

    async fn start_thread(
        &self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
    ) -> DiscordResult<Channel> {
        self.retry(|| self.inner.start_thread(channel, message, name))
            .await
    }

    async fn download_attachment(
        &self,
        channel: Snowflake,
        message: Snowflake,
        attachment: &Attachment,
    ) -> DiscordResult<Vec<u8>> {
        self.retry(|| self.inner.download_attachment(channel, message, attachment))
            .await
    }
}
