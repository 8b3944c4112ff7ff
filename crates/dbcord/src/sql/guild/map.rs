//! The guild's channels and threads as one query needs them: which
//! channels hold messages, and which thread a message's channel is.
//!
//! Read per scan (two requests: the channel list and the active threads),
//! never cached across statements nor on disk. A channel's archived
//! threads cost a request or more each, so they are read only when a
//! scan must cover that channel's threads; a search hit in a thread not
//! yet known costs one `GET /channels/{id}`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use discord_api::{Channel, Discord, DiscordError, DiscordResult, Snowflake, channel_type};

use crate::store::Store;

/// How old a channel list this statement's refresh read may be to serve
/// the `discord` schema (a message posted since is concurrent with the statement).
const CHANNELS_REUSE: std::time::Duration = std::time::Duration::from_secs(2);

/// The guild's channels: as the statement's catalog refresh listed them a
/// moment ago, or listed now. The second value says whether a request was made.
pub async fn channels(store: &Store) -> DiscordResult<(std::sync::Arc<Vec<Channel>>, bool)> {
    match store.channels_listed_within(CHANNELS_REUSE) {
        Some(listed) => Ok((listed, false)),
        None => Ok((
            std::sync::Arc::new(store.discord().list_channels().await?),
            true,
        )),
    }
}

#[derive(Debug)]
pub struct GuildMap {
    /// Guild channels and categories (not threads), by ID.
    pub channels: BTreeMap<u64, Channel>,
    /// Threads known so far, by ID.
    threads: Mutex<BTreeMap<u64, Channel>>,
    /// Channels whose archived threads have been listed.
    archived_read: Mutex<BTreeSet<u64>>,
}

impl GuildMap {
    /// The map of the guild now, of its channel list `channels` (see
    /// [`channels`]) and its active threads (one request).
    pub async fn load(discord: &dyn Discord, channels: &[Channel]) -> DiscordResult<GuildMap> {
        let threads = discord.list_active_threads().await?;
        Ok(GuildMap {
            channels: channels.iter().map(|c| (c.id.0, c.clone())).collect(),
            threads: Mutex::new(threads.into_iter().map(|t| (t.id.0, t)).collect()),
            archived_read: Mutex::new(BTreeSet::new()),
        })
    }

    /// Channels (not threads) that hold messages.
    pub fn message_channels(&self) -> Vec<u64> {
        self.channels
            .values()
            .filter(|c| channel_type::holds_messages(c.kind))
            .map(|c| c.id.0)
            .collect()
    }

    /// The threads known so far (active ones, and archived ones read).
    pub fn known_threads(&self) -> Vec<Channel> {
        self.lock_threads().values().cloned().collect()
    }

    /// Every thread of `parents`, archived ones included (read once).
    pub async fn threads_of(
        &self,
        discord: &dyn Discord,
        parents: &BTreeSet<u64>,
    ) -> DiscordResult<Vec<Channel>> {
        for p in parents {
            let Some(c) = self.channels.get(p) else {
                continue;
            };
            let first_time = self
                .archived_read
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(*p);
            if c.kind != channel_type::TEXT || !first_time {
                continue;
            }
            self.read_archived(discord, c.id).await?;
        }
        Ok(self
            .lock_threads()
            .values()
            .filter(|t| t.parent_id.is_some_and(|p| parents.contains(&p.0)))
            .cloned()
            .collect())
    }

    async fn read_archived(&self, discord: &dyn Discord, channel: Snowflake) -> DiscordResult<()> {
        let mut before: Option<String> = None;
        loop {
            let page = match discord
                .list_archived_threads(channel, before.as_deref())
                .await
            {
                Ok(p) => p,
                // A channel the bot cannot read has no threads it can read.
                Err(DiscordError::Forbidden { .. }) => return Ok(()),
                Err(e) => return Err(e),
            };
            before = page
                .threads
                .last()
                .and_then(|t| t.thread_metadata.as_ref())
                .and_then(|m| m.archive_timestamp.clone());
            let more = page.has_more && before.is_some();
            let mut threads = self.lock_threads();
            for t in page.threads {
                threads.insert(t.id.0, t);
            }
            drop(threads);
            if !more {
                return Ok(());
            }
        }
    }

    /// `(channel_id, thread_id)` of a message posted in `channel`: a
    /// thread's messages belong to its parent. An unknown channel is asked
    /// for once (a thread archived before this scan began).
    pub async fn place(&self, discord: &dyn Discord, channel: u64) -> (u64, Option<u64>) {
        if self.channels.contains_key(&channel) {
            return (channel, None);
        }
        let known = self.lock_threads().get(&channel).map(|t| t.parent_id);
        let parent = match known {
            Some(p) => p,
            None => match discord.get_channel(Snowflake(channel)).await {
                Ok(c) if channel_type::is_thread(c.kind) => {
                    let p = c.parent_id;
                    self.lock_threads().insert(channel, c);
                    p
                }
                Ok(_) => None,
                Err(_) => None,
            },
        };
        match parent {
            Some(p) => (p.0, Some(channel)),
            None => (channel, None),
        }
    }

    fn lock_threads(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Channel>> {
        self.threads.lock().unwrap_or_else(|p| p.into_inner())
    }
}
