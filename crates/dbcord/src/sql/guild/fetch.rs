//! Reading messages for a scan: search pages, history pages, and the
//! merge of them into one stream, newest first, each message once.
//!
//! Search is handled in the open: a 202 (index not ready) is waited out
//! within a cap, then that branch reads history instead; an empty page is
//! asked again while `total_results` says hits remain (Discord sends
//! empty pages that are not the end), and after a few such pages the
//! branch reads history; `doing_deep_historical_index` (older messages
//! missing) also sends the branch to history. A page shorter than asked
//! is never taken as the end: only an empty page with a total of 0 is.
//! Paging is by `max_id` keyset, so the 10,000-hit offset cap never binds.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use discord_api::limits::{HISTORY_PAGE, SEARCH_PAGE};
use discord_api::{
    Discord, DiscordError, DiscordResult, HistoryAnchor, HistoryQuery, Message, SearchQuery,
    SharedClock, Snowflake, SortBy, SortOrder,
};

use super::filters::Branch;
use super::map::GuildMap;
use super::metrics::GuildMetrics;
use super::plan::Scope;

/// Empty pages in a row, while hits remain, before a branch reads history.
const MAX_EMPTY_PAGES: u32 = 5;
/// Messages handed on at most per batch.
const BATCH: usize = 1024;

/// What every source reads with.
pub struct Ctx {
    pub discord: Arc<dyn Discord>,
    pub clock: SharedClock,
    pub map: Arc<GuildMap>,
    pub metrics: GuildMetrics,
    pub wait_cap: Duration,
}

/// One stream of messages, newest first.
pub enum Source {
    Search(Box<SearchSource>),
    History(HistorySource),
}

enum Step {
    Rows(Vec<Message>),
    Done,
    /// Read these instead (a search branch gone to history).
    Replace(Vec<Source>),
}

/// One branch's search, page after page.
pub struct SearchSource {
    query: SearchQuery,
    branch: Branch,
    /// The next page's `max_id` (exclusive).
    next_max: Option<u64>,
    empty_in_a_row: u32,
    waited: Duration,
}

/// One channel's (or thread's) history, page after page.
pub struct HistorySource {
    channel: u64,
    /// The channel's newest message when the scan began.
    last_id: u64,
    /// The next page's `before` (exclusive).
    before: Option<u64>,
    /// Stop at this ID (exclusive).
    min: Option<u64>,
    done: bool,
}

impl Source {
    async fn step(&mut self, ctx: &Ctx) -> DiscordResult<Step> {
        match self {
            Source::Search(s) => s.step(ctx).await,
            Source::History(h) => h.step(ctx).await,
        }
    }
}

impl SearchSource {
    async fn step(&mut self, ctx: &Ctx) -> DiscordResult<Step> {
        loop {
            let mut q = self.query.clone();
            q.max_id = self.next_max.or(q.max_id.map(|m| m.0)).map(Snowflake);
            ctx.metrics.search_requests.add(1);
            let results = match ctx.discord.search(&q).await {
                Ok(r) => r,
                Err(DiscordError::IndexNotReady { retry_after, .. }) => {
                    ctx.metrics.search_202s.add(1);
                    let wait = Duration::from_secs_f64(retry_after.clamp(0.5, 3600.0));
                    if self.waited + wait > ctx.wait_cap {
                        return self.fall_back(ctx, "search index not ready").await;
                    }
                    self.waited += wait;
                    ctx.clock.sleep(wait).await;
                    continue;
                }
                Err(DiscordError::Forbidden { .. }) => {
                    return self.fall_back(ctx, "search refused (403)").await;
                }
                Err(e) => return Err(e),
            };
            if results.doing_deep_historical_index {
                ctx.metrics.deep_index.add(1);
                return self
                    .fall_back(
                        ctx,
                        "search is rebuilding its index (older messages missing)",
                    )
                    .await;
            }
            let below = q.max_id.map_or(u64::MAX, |m| m.0);
            let above = q.min_id.map_or(0, |m| m.0);
            let mut hits: Vec<Message> = results
                .hits()
                .filter(|m| m.id.0 < below && m.id.0 > above)
                .cloned()
                .collect();
            hits.sort_by_key(|m| std::cmp::Reverse(m.id));
            hits.dedup_by_key(|m| m.id);
            let Some(last) = hits.last() else {
                if results.total_results == 0 {
                    return Ok(Step::Done);
                }
                ctx.metrics.empty_pages.add(1);
                self.empty_in_a_row += 1;
                if self.empty_in_a_row > MAX_EMPTY_PAGES {
                    return self
                        .fall_back(ctx, "empty pages although total_results says hits remain")
                        .await;
                }
                continue;
            };
            self.empty_in_a_row = 0;
            self.next_max = Some(last.id.0);
            ctx.metrics.search_pages.add(1);
            return Ok(Step::Rows(hits));
        }
    }

    /// The rest of this branch (below the last hit handed on) from history.
    async fn fall_back(&mut self, ctx: &Ctx, why: &str) -> DiscordResult<Step> {
        ctx.metrics.fallbacks.add(1);
        tracing::warn!("discord.messages: {why}; reading this part from history instead");
        let mut scope = Scope::of(std::slice::from_ref(&self.branch));
        if let Some(m) = self.next_max.or(self.query.max_id.map(|m| m.0)) {
            scope.max_id = Some(m);
        }
        Ok(Step::Replace(
            history_sources(ctx, &scope, Threads::All).await?,
        ))
    }
}

impl HistorySource {
    async fn step(&mut self, ctx: &Ctx) -> DiscordResult<Step> {
        if self.done {
            return Ok(Step::Done);
        }
        let anchor = match self.before {
            Some(b) => HistoryAnchor::Before(Snowflake(b)),
            None => HistoryAnchor::Latest,
        };
        let query = HistoryQuery {
            anchor,
            limit: HISTORY_PAGE,
        };
        ctx.metrics.history_requests.add(1);
        let page = match ctx
            .discord
            .list_messages(Snowflake(self.channel), &query)
            .await
        {
            Ok(p) => p,
            // A channel the bot may not read, or one deleted meanwhile.
            Err(DiscordError::Forbidden { .. } | DiscordError::NotFound { .. }) => {
                ctx.metrics.channels_skipped.add(1);
                return Ok(Step::Done);
            }
            Err(e) => return Err(e),
        };
        let full = page.len() as u32 >= HISTORY_PAGE;
        self.before = page.last().map(|m| m.id.0);
        let min = self.min.unwrap_or(0);
        let rows: Vec<Message> = page.into_iter().filter(|m| m.id.0 > min).collect();
        let reached_min = self.before.is_some_and(|b| b <= min);
        self.done = !full || reached_min;
        Ok(Step::Rows(rows))
    }
}

/// Whether a history read covers archived threads too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// Every thread (archived ones listed, a request or more a channel).
    All,
    /// Active threads only: enough for the fresh window, since posting in
    /// an archived thread unarchives it.
    Active,
}

/// History sources for every channel and thread in `scope` that may hold
/// a message in its range (a channel whose newest message is older than
/// the range costs nothing).
pub async fn history_sources(
    ctx: &Ctx,
    scope: &Scope,
    which: Threads,
) -> DiscordResult<Vec<Source>> {
    let map = &ctx.map;
    let mut channels: BTreeSet<u64> = BTreeSet::new();
    let parents: BTreeSet<u64> = match &scope.channels {
        None if scope.threads.is_empty() => map.message_channels().into_iter().collect(),
        None => BTreeSet::new(),
        Some(c) => c.clone(),
    };
    channels.extend(parents.iter().filter(|c| map.channels.contains_key(c)));
    let threads = match which {
        Threads::All => map.threads_of(ctx.discord.as_ref(), &parents).await?,
        Threads::Active => map
            .known_threads()
            .into_iter()
            .filter(|t| t.parent_id.is_some_and(|p| parents.contains(&p.0)))
            .collect(),
    };
    let mut last_ids: Vec<(u64, Option<u64>)> = channels
        .iter()
        .map(|c| (*c, map.channels[c].last_message_id.map(|m| m.0)))
        .collect();
    last_ids.extend(
        threads
            .iter()
            .map(|t| (t.id.0, t.last_message_id.map(|m| m.0))),
    );
    // Single threads named by `thread_id`: read whatever they hold.
    last_ids.extend(scope.threads.iter().map(|t| (*t, Some(u64::MAX))));
    last_ids.sort();
    last_ids.dedup_by_key(|(c, _)| *c);
    let min = scope.min_id.unwrap_or(0);
    Ok(last_ids
        .into_iter()
        // No `last_message_id`: nothing was ever posted (threads always
        // have one once posted in; a thread's starter is in its parent).
        .filter(|(_, last)| last.is_some_and(|l| l > min))
        .map(|(channel, last)| {
            Source::History(HistorySource {
                channel,
                last_id: last.unwrap_or(u64::MAX),
                before: scope.max_id,
                min: scope.min_id,
                done: false,
            })
        })
        .collect())
}

/// The search of one branch, below `below` (exclusive; the fresh window's start).
pub async fn search_source(
    ctx: &Ctx,
    branch: &Branch,
    below: u64,
) -> DiscordResult<Option<Source>> {
    let max = branch.max_id.unwrap_or(u64::MAX).min(below);
    if branch.min_id.is_some_and(|m| m.saturating_add(1) >= max) {
        return Ok(None); // the branch lies wholly in the fresh window
    }
    let mut channel_ids: BTreeSet<u64> = branch.threads.clone().unwrap_or_default();
    if let Some(c) = &branch.channels
        && branch.threads.is_none()
    {
        channel_ids.extend(c);
        let threads = ctx.map.threads_of(ctx.discord.as_ref(), c).await?;
        channel_ids.extend(threads.iter().map(|t| t.id.0));
    }
    if channel_ids.len() > discord_api::limits::MAX_SEARCH_CHANNELS {
        channel_ids.clear(); // the whole guild, re-checked
    }
    let authors = branch.authors.clone().unwrap_or_default();
    let query = SearchQuery {
        content: branch.search_word().cloned(),
        channel_ids: channel_ids.into_iter().map(Snowflake).collect(),
        author_ids: if authors.len() <= discord_api::limits::MAX_SEARCH_USERS {
            authors.into_iter().map(Snowflake).collect()
        } else {
            Vec::new()
        },
        author_types: match branch.bot {
            Some(true) => vec!["bot".into(), "webhook".into()],
            Some(false) => vec!["user".into()],
            None => Vec::new(),
        },
        mentions: branch
            .mentions
            .iter()
            .min_by_key(|m| m.len())
            .filter(|m| m.len() <= discord_api::limits::MAX_SEARCH_USERS)
            .map(|m| m.iter().copied().map(Snowflake).collect())
            .unwrap_or_default(),
        pinned: branch.pinned,
        has: branch
            .has
            .iter()
            .map(|(k, v)| format!("{}{k}", if *v { "" } else { "-" }))
            .collect(),
        min_id: branch.min_id.map(Snowflake),
        max_id: (max != u64::MAX).then_some(Snowflake(max)),
        limit: Some(SEARCH_PAGE),
        offset: None,
        sort_by: Some(SortBy::Timestamp),
        sort_order: Some(SortOrder::Desc),
        slop: None,
    };
    Ok(Some(Source::Search(Box::new(SearchSource {
        query,
        branch: branch.clone(),
        next_max: None,
        empty_in_a_row: 0,
        waited: Duration::ZERO,
    }))))
}

/// Every source's pages merged newest first, each message once.
///
/// Lazily: a source is asked for a page only when the newest message it
/// could still hold (its bound: a channel's `last_message_id`, or just
/// below its last page) is newer than every message buffered. So the
/// newest rows cost about the pages they are on, not a page of every
/// channel, and a LIMIT that has its rows stops the requests.
pub struct Merge {
    sources: Vec<Entry>,
    last: Option<Snowflake>,
}

struct Entry {
    source: Source,
    buffered: VecDeque<Message>,
    done: bool,
    /// No message newer than this can come from the source.
    bound: u64,
}

impl Entry {
    fn new(source: Source) -> Entry {
        let bound = source.bound();
        Entry {
            source,
            buffered: VecDeque::new(),
            done: false,
            bound,
        }
    }

    /// The newest message this entry may hand on next, if any.
    fn key(&self) -> Option<u64> {
        match self.buffered.front() {
            Some(m) => Some(m.id.0),
            None => (!self.done).then_some(self.bound),
        }
    }
}

impl Source {
    /// The newest message the source could hold.
    fn bound(&self) -> u64 {
        match self {
            Source::Search(s) => s.query.max_id.map_or(u64::MAX, |m| m.0.saturating_sub(1)),
            Source::History(h) => h
                .last_id
                .min(h.before.map_or(u64::MAX, |b| b.saturating_sub(1))),
        }
    }
}

impl Merge {
    pub fn new(sources: Vec<Source>) -> Merge {
        Merge {
            sources: sources.into_iter().map(Entry::new).collect(),
            last: None,
        }
    }

    /// The next messages, newest first; empty at the end. A batch is handed
    /// on before any further request, so a consumer that has enough (a
    /// LIMIT) stops the requests.
    pub async fn next(&mut self, ctx: &Ctx) -> DiscordResult<Vec<Message>> {
        let mut out = Vec::new();
        loop {
            let Some(i) = self.newest() else {
                return Ok(out);
            };
            let Some(m) = self.sources[i].buffered.pop_front() else {
                if !out.is_empty() {
                    return Ok(out);
                }
                self.refill(i, ctx).await?;
                continue;
            };
            if self.last != Some(m.id) {
                self.last = Some(m.id);
                out.push(m);
            }
            if out.len() >= BATCH {
                return Ok(out);
            }
        }
    }

    /// The entry whose next message may be the newest.
    fn newest(&self) -> Option<usize> {
        self.sources
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.key().map(|k| (k, i)))
            .max()
            .map(|(_, i)| i)
    }

    async fn refill(&mut self, i: usize, ctx: &Ctx) -> DiscordResult<()> {
        let entry = &mut self.sources[i];
        match entry.source.step(ctx).await? {
            Step::Rows(rows) => {
                if let Some(oldest) = rows.last() {
                    entry.bound = entry.bound.min(oldest.id.0.saturating_sub(1));
                }
                entry.buffered.extend(rows);
            }
            Step::Done => entry.done = true,
            Step::Replace(new) => {
                entry.done = true;
                self.sources.extend(new.into_iter().map(Entry::new));
            }
        }
        Ok(())
    }
}
