//! Finding rows: the access paths a scan can take, and the source that walks
//! one of them a page at a time.
//!
//! A search path yields candidates only; the SQL layer re-checks every row.
//! In `Fresh` mode the source also reads the channel's history newer than
//! the freshness window, because search has not indexed those messages yet;
//! rows are de-duplicated by message ID. When search answers 202 the source
//! falls back to a full history scan and says why.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use super::history::HistoryPager;
use super::schema::TableDef;
use super::table::{RowPage, row_of};
use discord_api::limits::{MAX_SEARCH_OFFSET, SEARCH_PAGE};
use discord_api::{Discord, DiscordError, Message, SearchQuery, SharedClock, Snowflake};

use crate::error::Result;

/// Where candidate rows come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// Every message of the table's channel, oldest first.
    FullScan,
    /// One GET per message ID (Storcord's ObjectID): exact, no search.
    Fetch {
        channel: Snowflake,
        ids: Vec<Snowflake>,
    },
    /// Guild search in one channel (the table's, or an index's whose entries
    /// carry the row). Each content string is one search, since Discord has
    /// no OR; their hits are merged.
    Search {
        channel: Snowflake,
        index: bool,
        contents: Vec<String>,
    },
}

/// Whether a lookup also reads what search has not indexed yet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Freshness {
    /// Search plus the history newer than this window: reads its own writes.
    Fresh(Duration),
    /// Search alone: may miss recent writes.
    Eventual,
}

/// What a source has done so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceStats {
    pub search_requests: u64,
    pub history_requests: u64,
    pub get_requests: u64,
    pub rate_limit_wait: Duration,
    /// Why the source abandoned its path for a full scan, if it did.
    pub fallback: Option<String>,
}

impl SourceStats {
    pub fn requests(&self) -> u64 {
        self.search_requests + self.history_requests + self.get_requests
    }
}

#[derive(Default)]
struct SearchCursor {
    offset: u32,
    max_id: Option<Snowflake>,
    oldest: Option<Snowflake>,
}

enum Phase {
    Search {
        channel: Snowflake,
        index: bool,
        contents: VecDeque<String>,
        cursor: SearchCursor,
    },
    History {
        pager: HistoryPager,
        index: bool,
    },
    Fetch {
        channel: Snowflake,
        ids: VecDeque<Snowflake>,
    },
    Done,
}

/// Rows along one access path, a page per call.
pub struct RowSource {
    discord: Arc<dyn Discord>,
    bot: Snowflake,
    table: Arc<TableDef>,
    /// In fresh mode, the oldest message the history phase reads: taken
    /// when the source is made, before any search, so that a search slowed
    /// by rate limits cannot move it past rows written just before.
    horizon: Option<Snowflake>,
    phase: Phase,
    seen: HashSet<Snowflake>,
    pub stats: SourceStats,
}

impl RowSource {
    pub fn new(
        discord: Arc<dyn Discord>,
        clock: SharedClock,
        table: Arc<TableDef>,
        access: &Access,
        freshness: Freshness,
    ) -> Self {
        let phase = match access {
            Access::FullScan => Phase::History {
                pager: HistoryPager::new(Arc::clone(&discord), table.channel_id),
                index: false,
            },
            Access::Fetch { channel, ids } => Phase::Fetch {
                channel: *channel,
                ids: ids.iter().copied().collect(),
            },
            Access::Search {
                channel,
                index,
                contents,
            } => Phase::Search {
                channel: *channel,
                index: *index,
                contents: contents.iter().cloned().collect(),
                cursor: SearchCursor::default(),
            },
        };
        let horizon = match freshness {
            Freshness::Eventual => None,
            Freshness::Fresh(window) => {
                let ms = clock.now_ms().saturating_sub(window.as_millis() as u64);
                Some(Snowflake::from_unix_ms(ms))
            }
        };
        RowSource {
            bot: discord.bot_user_id(),
            discord,
            table,
            horizon,
            phase,
            seen: HashSet::new(),
            stats: SourceStats::default(),
        }
    }

    /// The next page of rows not returned before, or `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<RowPage>> {
        loop {
            let waited = self.discord.rate_limit_waited();
            let page = match &self.phase {
                Phase::Search { .. } => self.search_step().await?,
                Phase::History { .. } => self.history_step().await?,
                Phase::Fetch { .. } => self.fetch_step().await?,
                Phase::Done => return Ok(None),
            };
            self.stats.rate_limit_wait += self.discord.rate_limit_waited().saturating_sub(waited);
            if let Some(page) = page {
                return Ok(Some(page));
            }
        }
    }

    /// One search request; `None` when the phase moved on without rows.
    async fn search_step(&mut self) -> Result<Option<RowPage>> {
        let Phase::Search {
            channel,
            index,
            contents,
            cursor,
        } = &mut self.phase
        else {
            return Ok(None);
        };
        let (channel, index) = (*channel, *index);
        let Some(content) = contents.front().cloned() else {
            self.after_search(channel, index);
            return Ok(None);
        };
        let query = SearchQuery {
            content: Some(content),
            channel_ids: vec![channel],
            limit: Some(SEARCH_PAGE),
            offset: Some(cursor.offset),
            max_id: cursor.max_id,
            ..Default::default()
        };
        let result = match self.discord.search(&query).await {
            Ok(r) => r,
            Err(DiscordError::IndexNotReady { .. }) => {
                self.stats.search_requests += 1;
                self.fall_back("search answered 202: index not yet available");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        self.stats.search_requests += 1;
        let hits: Vec<Message> = result.hits().cloned().collect();
        advance(contents, cursor, &hits, result.total_results);
        Ok(Some(self.decode(&hits, index)))
    }

    fn after_search(&mut self, channel: Snowflake, index: bool) {
        self.phase = match self.horizon {
            None => Phase::Done,
            Some(after) => Phase::History {
                pager: HistoryPager::after(Arc::clone(&self.discord), channel, after),
                index,
            },
        };
    }

    async fn history_step(&mut self) -> Result<Option<RowPage>> {
        let Phase::History { pager, index } = &mut self.phase else {
            return Ok(None);
        };
        let index = *index;
        let asked = pager.requests;
        let page = pager.next_page().await?;
        self.stats.history_requests += pager.requests - asked;
        match page {
            Some(messages) => Ok(Some(self.decode(&messages, index))),
            None => {
                self.phase = Phase::Done;
                Ok(None)
            }
        }
    }

    /// One GET; a message that does not exist (any more) is simply no row.
    async fn fetch_step(&mut self) -> Result<Option<RowPage>> {
        let Phase::Fetch { channel, ids } = &mut self.phase else {
            return Ok(None);
        };
        let channel = *channel;
        let Some(id) = ids.pop_front() else {
            self.phase = Phase::Done;
            return Ok(None);
        };
        self.stats.get_requests += 1;
        match self.discord.get_message(channel, id).await {
            Ok(m) => Ok(Some(self.decode(&[m], false))),
            Err(DiscordError::NotFound { .. }) => Ok(Some(RowPage::default())),
            Err(e) => Err(e.into()),
        }
    }

    /// Abandon the search path for a full scan; rows already returned are not repeated.
    fn fall_back(&mut self, why: &str) {
        self.stats.fallback = Some(why.to_string());
        self.phase = Phase::History {
            pager: HistoryPager::new(Arc::clone(&self.discord), self.table.channel_id),
            index: false,
        };
    }

    pub fn fell_back(&self) -> bool {
        self.stats.fallback.is_some()
    }

    /// Rows from dbcord's own messages, each row once.
    fn decode(&mut self, messages: &[Message], index: bool) -> RowPage {
        let mut page = RowPage::default();
        for m in messages {
            match row_of(&self.table, self.bot, m, index) {
                Ok(row) if self.seen.insert(row.message_id) => page.rows.push(row),
                Ok(_) => {}
                Err(_) => page.skipped += 1,
            }
        }
        page
    }
}

/// Move the search cursor past a page: next offset, a new `max_id` window
/// past Discord's offset cap, or the next content once this one is done.
/// A short page is not the end (Discord sends short pages); an empty page,
/// or having reached `total_results`, is. `total_results` may undercount
/// only while messages are being written, and those recent messages are
/// what the fresh phase reads from history.
fn advance(
    contents: &mut VecDeque<String>,
    cursor: &mut SearchCursor,
    hits: &[Message],
    total: u64,
) {
    let reached = u64::from(cursor.offset) + hits.len() as u64 >= total;
    if hits.is_empty() || reached {
        contents.pop_front();
        *cursor = SearchCursor::default();
        return;
    }
    cursor.offset += hits.len() as u32;
    let oldest = hits.iter().map(|m| m.id).min();
    cursor.oldest = cursor.oldest.min(oldest).or(oldest);
    if cursor.offset > MAX_SEARCH_OFFSET {
        cursor.max_id = cursor.oldest;
        cursor.offset = 0;
    }
}
