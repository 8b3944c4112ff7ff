//! Finding rows: the access paths a scan can take, and the source that walks
//! one of them a page at a time.
//!
//! A search path yields candidates only; the SQL layer re-checks every row.
//! A search answered 202 with a short `retry_after` (Discord's first search
//! of a guild) is retried after that wait, a few times.
//! Search pages are read by keyset ([`super::search_cursor`]). In `Fresh`
//! mode the source also reads the channel's recent history
//! ([`super::recent`]), because search has not indexed those messages yet;
//! rows are de-duplicated by message ID. When search answers 202, refuses
//! (403), says its index is incomplete, or sends empty pages while claiming
//! hits, the source falls back to a full history scan and says why.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use discord_api::limits::SEARCH_PAGE;
use discord_api::{Discord, DiscordError, Message, SearchQuery, SharedClock, Snowflake};

use super::history::HistoryPager;
use super::lag::LagWatch;
use super::recent::RecentPager;
use super::schema::TableDef;
use super::search_cursor::{Next, SearchCursor};
use super::table::{RowPage, row_of};
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
    /// carry the row). Each content string is one token and one search,
    /// since Discord has no OR; their hits are merged.
    Search {
        channel: Snowflake,
        index: bool,
        contents: Vec<String>,
    },
}

/// Whether a lookup also reads what search has not indexed yet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Freshness {
    /// Search plus the recent history (at least this window, more if the
    /// backend's lag needs it): reads its own writes.
    Fresh(Duration),
    /// Search alone: may miss recent writes.
    Eventual,
}

/// A 202 asking to retry within this long is waited out...
const SHORT_NOT_READY: Duration = Duration::from_secs(5);
/// ...this many times, before the search is given up for the history.
const NOT_READY_RETRIES: u32 = 3;

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

enum Phase {
    Search {
        contents: VecDeque<String>,
        cursor: SearchCursor,
    },
    Recent(RecentPager),
    History(HistoryPager),
    Fetch(VecDeque<Snowflake>),
    Done,
}

/// Rows along one access path, a page per call.
pub struct RowSource {
    discord: Arc<dyn Discord>,
    clock: SharedClock,
    lag: Arc<LagWatch>,
    bot: Snowflake,
    table: Arc<TableDef>,
    /// The channel read: the table's, or an index's.
    channel: Snowflake,
    /// Whether the channel holds index entries rather than row messages.
    index: bool,
    freshness: Freshness,
    /// Every token searched, to recognise in history the rows search missed.
    tokens: Vec<String>,
    phase: Phase,
    seen: HashSet<Snowflake>,
    /// 202 answers waited out so far.
    not_ready: u32,
    pub stats: SourceStats,
}

impl RowSource {
    pub fn new(
        discord: Arc<dyn Discord>,
        clock: SharedClock,
        lag: Arc<LagWatch>,
        table: Arc<TableDef>,
        access: &Access,
        freshness: Freshness,
    ) -> Self {
        let (channel, index, tokens, phase) = match access {
            Access::FullScan => (
                table.channel_id,
                false,
                vec![],
                Phase::History(HistoryPager::new(Arc::clone(&discord), table.channel_id)),
            ),
            Access::Fetch { channel, ids } => (
                *channel,
                false,
                vec![],
                Phase::Fetch(ids.iter().copied().collect()),
            ),
            Access::Search {
                channel,
                index,
                contents,
            } => (
                *channel,
                *index,
                contents.clone(),
                Phase::Search {
                    contents: contents.iter().cloned().collect(),
                    cursor: SearchCursor::default(),
                },
            ),
        };
        RowSource {
            bot: discord.bot_user_id(),
            discord,
            clock,
            lag,
            table,
            channel,
            index,
            freshness,
            tokens,
            phase,
            seen: HashSet::new(),
            not_ready: 0,
            stats: SourceStats::default(),
        }
    }

    /// The next page of rows not returned before, or `None` at the end.
    pub async fn next_page(&mut self) -> Result<Option<RowPage>> {
        loop {
            let waited = self.discord.rate_limit_waited();
            let page = match &self.phase {
                Phase::Search { .. } => self.search_step().await?,
                Phase::Recent(_) => self.recent_step().await?,
                Phase::History(_) => self.history_step().await?,
                Phase::Fetch(_) => self.fetch_step().await?,
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
        let Phase::Search { contents, cursor } = &mut self.phase else {
            return Ok(None);
        };
        let Some(content) = contents.front().cloned() else {
            self.after_search();
            return Ok(None);
        };
        let query = SearchQuery {
            content: Some(content),
            channel_ids: vec![self.channel],
            limit: Some(SEARCH_PAGE),
            max_id: cursor.max_id,
            ..Default::default()
        };
        self.stats.search_requests += 1;
        let result = match self.discord.search(&query).await {
            Ok(r) if r.doing_deep_historical_index => {
                self.fall_back("search's index is incomplete (doing_deep_historical_index)");
                return Ok(None);
            }
            Ok(r) => r,
            Err(DiscordError::IndexNotReady { retry_after, .. }) => {
                let wait = Duration::from_secs_f64(retry_after.max(0.0));
                if wait <= SHORT_NOT_READY && self.not_ready < NOT_READY_RETRIES {
                    self.not_ready += 1;
                    self.clock.sleep(wait).await;
                } else {
                    self.fall_back("search answered 202: index not yet available");
                }
                return Ok(None);
            }
            Err(DiscordError::Forbidden { code, .. }) => {
                self.fall_back(&format!("search answered 403 (code {code})"));
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let hits: Vec<Message> = result.hits().cloned().collect();
        match cursor.advance(&hits, result.total_results) {
            Next::Continue => {}
            Next::Done => {
                contents.pop_front();
                *cursor = SearchCursor::default();
            }
            Next::GiveUp(why) => {
                self.fall_back(&why);
                return Ok(None);
            }
        }
        Ok(Some(self.decode(&hits)))
    }

    fn after_search(&mut self) {
        self.phase = match self.freshness {
            Freshness::Eventual => Phase::Done,
            Freshness::Fresh(setting) => Phase::Recent(RecentPager::new(
                Arc::clone(&self.discord),
                self.channel,
                self.lag.window(setting),
            )),
        };
    }

    /// One page of recent history; rows in it that carry a searched token
    /// but that search did not return tell how far behind search is.
    async fn recent_step(&mut self) -> Result<Option<RowPage>> {
        let Phase::Recent(pager) = &mut self.phase else {
            return Ok(None);
        };
        let page = pager.next_page().await?;
        self.stats.history_requests += 1;
        let newest_ms = pager.now_ms();
        let Some(messages) = page else {
            self.phase = Phase::Done;
            return Ok(None);
        };
        if let (Some(newest), Freshness::Fresh(setting)) = (newest_ms, self.freshness) {
            for m in messages.iter().filter(|m| self.missed_by_search(m)) {
                let age = Duration::from_millis(newest.saturating_sub(m.id.unix_ms()));
                self.lag.saw_unindexed(age, setting);
            }
        }
        Ok(Some(self.decode(&messages)))
    }

    fn missed_by_search(&self, m: &Message) -> bool {
        let head = m.content.lines().next().unwrap_or_default();
        let carries = head.split(' ').any(|w| self.tokens.iter().any(|t| t == w));
        carries
            && row_of(&self.table, self.bot, m, self.index)
                .is_ok_and(|r| !self.seen.contains(&r.message_id))
    }

    async fn history_step(&mut self) -> Result<Option<RowPage>> {
        let Phase::History(pager) = &mut self.phase else {
            return Ok(None);
        };
        let asked = pager.requests;
        let page = pager.next_page().await?;
        self.stats.history_requests += pager.requests - asked;
        match page {
            Some(messages) => Ok(Some(self.decode(&messages))),
            None => {
                self.phase = Phase::Done;
                Ok(None)
            }
        }
    }

    /// One GET; a message that does not exist (any more) is simply no row.
    async fn fetch_step(&mut self) -> Result<Option<RowPage>> {
        let Phase::Fetch(ids) = &mut self.phase else {
            return Ok(None);
        };
        let Some(id) = ids.pop_front() else {
            self.phase = Phase::Done;
            return Ok(None);
        };
        self.stats.get_requests += 1;
        match self.discord.get_message(self.channel, id).await {
            Ok(m) => Ok(Some(self.decode(&[m]))),
            Err(DiscordError::NotFound { .. }) => Ok(Some(RowPage::default())),
            Err(e) => Err(e.into()),
        }
    }

    /// Abandon the search path for a full scan of the table's own channel;
    /// rows already returned are not repeated.
    fn fall_back(&mut self, why: &str) {
        self.stats.fallback = Some(why.to_string());
        self.channel = self.table.channel_id;
        self.index = false;
        self.phase = Phase::History(HistoryPager::new(
            Arc::clone(&self.discord),
            self.table.channel_id,
        ));
    }

    pub fn fell_back(&self) -> bool {
        self.stats.fallback.is_some()
    }

    /// Rows from dbcord's own messages, each row once.
    fn decode(&mut self, messages: &[Message]) -> RowPage {
        let mut page = RowPage::default();
        for m in messages {
            match row_of(&self.table, self.bot, m, self.index) {
                Ok(row) if self.seen.insert(row.message_id) => page.rows.push(row),
                Ok(_) => {}
                Err(_) => page.skipped += 1,
            }
        }
        page
    }
}
