//! The recent history of a channel: every message posted within a window
//! of its newest one, read newest first.
//!
//! The window ends at Discord's own time, never the local clock: the later
//! of the time of Discord's latest answer (its `Date`) and the newest
//! message's snowflake. Both are at most Discord's true "now", so the
//! horizon can only fall earlier than the true one, and the read can only
//! take in more messages, never fewer.

use std::sync::Arc;
use std::time::Duration;

use discord_api::limits::HISTORY_PAGE;
use discord_api::{Discord, HistoryAnchor, HistoryQuery, Message, Snowflake};

use crate::error::Result;

/// A backward cursor over a channel's recent messages.
pub struct RecentPager {
    discord: Arc<dyn Discord>,
    channel: Snowflake,
    window: Duration,
    /// Discord's time when the read began, if known.
    server_ms: Option<u64>,
    horizon: Option<Snowflake>,
    before: Option<Snowflake>,
    done: bool,
    /// History requests made so far.
    pub requests: u64,
}

impl RecentPager {
    pub fn new(discord: Arc<dyn Discord>, channel: Snowflake, window: Duration) -> Self {
        RecentPager {
            server_ms: discord.server_time_ms(),
            discord,
            channel,
            window,
            horizon: None,
            before: None,
            done: false,
            requests: 0,
        }
    }

    /// Discord's time the window ends at, once the first page has been read.
    pub fn now_ms(&self) -> Option<u64> {
        self.horizon
            .filter(|h| h.0 != u64::MAX)
            .map(|h| h.unix_ms() + self.window.as_millis() as u64)
    }

    /// The next page of recent messages (newest first), or `None` at the horizon.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Message>>> {
        if self.done {
            return Ok(None);
        }
        let anchor = match self.before {
            Some(id) => HistoryAnchor::Before(id),
            None => HistoryAnchor::Latest,
        };
        let query = HistoryQuery {
            anchor,
            limit: HISTORY_PAGE,
        };
        let mut page = self.discord.list_messages(self.channel, &query).await?;
        self.requests += 1;
        page.sort_by_key(|m| std::cmp::Reverse(m.id));
        let newest = page.first().map(|m| m.id.unix_ms());
        let now_ms = newest
            .max(self.server_ms)
            .max(self.discord.server_time_ms());
        let window = self.window.as_millis() as u64;
        let horizon = *self.horizon.get_or_insert_with(|| match (newest, now_ms) {
            (Some(_), Some(now)) => Snowflake::from_unix_ms(now.saturating_sub(window)),
            _ => Snowflake(u64::MAX),
        });
        let full = page.len() == HISTORY_PAGE as usize;
        self.before = page.last().map(|m| m.id);
        page.retain(|m| m.id > horizon);
        self.done = !full || self.before.is_none_or(|oldest| oldest <= horizon);
        Ok((!page.is_empty()).then_some(page))
    }
}
