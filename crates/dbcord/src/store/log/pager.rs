//! Paging through a channel's messages, oldest first (Discord calls this a
//! channel's history; a row's versions are `admin::versions`).
//!
//! Discord returns at most 100 messages a page and always newest first, even
//! when paging forward with `after`; the pager puts each page in order and
//! stops after the first short page (history, unlike search, is exact).

use std::sync::Arc;

use discord_api::limits::HISTORY_PAGE;
use discord_api::{Discord, HistoryAnchor, HistoryQuery, Message, Snowflake};

use crate::error::Result;

/// A forward cursor over one channel.
pub struct HistoryPager {
    discord: Arc<dyn Discord>,
    channel: Snowflake,
    after: Snowflake,
    done: bool,
    /// History requests made so far.
    pub requests: u64,
}

impl HistoryPager {
    pub fn new(discord: Arc<dyn Discord>, channel: Snowflake) -> Self {
        Self::after(discord, channel, Snowflake(0))
    }

    /// Only the messages newer than `after`.
    pub fn after(discord: Arc<dyn Discord>, channel: Snowflake, after: Snowflake) -> Self {
        HistoryPager {
            discord,
            channel,
            after,
            done: false,
            requests: 0,
        }
    }

    /// The next page, oldest first, or `None` when the channel is exhausted.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Message>>> {
        if self.done {
            return Ok(None);
        }
        let query = HistoryQuery {
            anchor: HistoryAnchor::After(self.after),
            limit: HISTORY_PAGE,
        };
        let mut page = self.discord.list_messages(self.channel, &query).await?;
        self.requests += 1;
        page.sort_by_key(|m| m.id);
        if page.len() < HISTORY_PAGE as usize {
            self.done = true;
        }
        match page.last() {
            Some(last) => {
                self.after = last.id;
                Ok(Some(page))
            }
            None => Ok(None),
        }
    }

    /// Every message, oldest first (for small channels such as the catalog).
    pub async fn read_all(mut self) -> Result<Vec<Message>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}
