//! A table's commit log: the messages of its channel since its latest
//! checkpoint, as this process last read them.
//!
//! Every message dbcord writes into `#table-<t>` is a commit (see
//! [`super::codec::commit`]). A checkpoint is a segment that holds every
//! live row of the commits up to its `covers` ID, so a reader needs nothing
//! older: a first read goes back from the newest message to the newest
//! checkpoint (and on below it to its `covers`, for the commits written
//! while it was made); later reads take only what came after the newest
//! message already read. Messages that are not dbcord's commits are
//! counted and skipped.
//!
//! A checkpoint counts only if no commit posted while it was being made
//! (between its `covers` and itself) read from a snapshot older than
//! `covers`. Such a commit raced with the compaction: its writer may
//! already have reported success, and judging it against the checkpoint
//! could void it after the fact. So the checkpoint is ignored instead (it
//! was only a shortcut; the commits it folded are still in the channel) and
//! the next compaction tries again. Whether a checkpoint counts depends only
//! on the messages before it, which never change once it is posted, so
//! every reader decides the same. (Void commits are therefore never
//! deleted by their writers, only by vacuum once a checkpoint covers them.)

use std::sync::Arc;

use discord_api::limits::HISTORY_PAGE;
use discord_api::{Discord, HistoryAnchor, HistoryQuery, Message, Snowflake};

use super::codec::commit::{self, Body, Change, CommitMeta};
use super::codec::key::Key;
use super::codec::segment::{self, SegmentHeader};
use super::codec::shard::{self, ShardRef};
use super::schema::TableDef;
use crate::error::{Error, Result};

/// A segment commit: its message (for the attachments) and its header.
#[derive(Debug)]
pub struct SegmentRef {
    pub message: Message,
    pub header: SegmentHeader,
    /// The header's key range and data batch boundaries, parsed once: a
    /// lookup compares keys with them for every key it seeks.
    pub range: Option<(Key, Key)>,
    pub firsts: Vec<Option<Key>>,
}

impl SegmentRef {
    pub fn new(message: Message, header: SegmentHeader) -> Self {
        let range = header.key_range();
        let firsts = header.data.batches.iter().map(|b| b.first()).collect();
        SegmentRef {
            message,
            header,
            range,
            firsts,
        }
    }

    /// The data batch that may hold `key`: the last whose first key is at
    /// most `key`, if `key` is within the segment's range.
    pub fn batch_for(&self, key: &Key) -> Option<usize> {
        let (lo, hi) = self.range.as_ref()?;
        if key < lo || key > hi {
            return None;
        }
        let at = self
            .firsts
            .partition_point(|f| f.as_ref().is_some_and(|f| f <= key));
        at.checked_sub(1)
    }
}

/// What a commit holds.
#[derive(Clone, Debug)]
pub enum CommitBody {
    /// A row commit's changes with their keys, computed once when read.
    Rows(KeyedBatch),
    Segment(Arc<SegmentRef>),
}

/// One commit of the log.
#[derive(Clone, Debug)]
pub struct Commit {
    pub id: Snowflake,
    pub meta: CommitMeta,
    pub body: CommitBody,
    /// Rows of this commit kept in shards and not read yet: their changes
    /// in `body` hold only the key (see [`super::shards`]).
    pub sharded: Vec<ShardRef>,
    /// Every shard message this commit names.
    pub shards: Vec<Snowflake>,
    /// Why this commit's shards could not be read, if they could not: it
    /// then counts for no reader (as if it had never been committed).
    pub broken: Option<String>,
}

impl Commit {
    /// The ID up to which this commit replaces everything, if it is a checkpoint.
    pub fn covers(&self) -> Option<Snowflake> {
        match &self.body {
            CommitBody::Segment(s) => s.header.covers,
            CommitBody::Rows(_) => None,
        }
    }
}

/// The log as last read: the checkpoint, and the commits after what it covers.
#[derive(Clone, Debug, Default)]
pub struct TableLog {
    /// The newest message of the channel read so far.
    pub synced: Option<Snowflake>,
    pub checkpoint: Option<Commit>,
    /// Commits newer than the checkpoint's `covers` (not checkpoints), oldest first.
    pub commits: Vec<Commit>,
    /// Messages in the channel that are not commits (someone typed there).
    pub foreign: usize,
    /// History requests the reads of this log made.
    pub requests: u64,
}

impl TableLog {
    /// The ID everything older is replaced up to.
    pub fn cover(&self) -> Option<Snowflake> {
        self.checkpoint.as_ref().and_then(Commit::covers)
    }

    /// Take in messages newer than everything read so far, oldest first.
    fn extend(&mut self, def: &TableDef, bot: Snowflake, messages: Vec<Message>) {
        for m in messages {
            self.synced = self.synced.max(Some(m.id));
            if m.author.id == bot && shard::is_shard(&m.content) {
                continue; // read through the commit that names it
            }
            match parse(def, bot, m) {
                Some(c) => match c.covers() {
                    Some(x) if self.counts(x) => {
                        self.commits.retain(|old| old.id > x);
                        self.checkpoint = Some(c);
                    }
                    Some(_) => {} // stale, or raced with a commit: ignored
                    None => self.commits.push(c),
                },
                None => self.foreign += 1,
            }
        }
    }

    /// Whether a checkpoint covering `x`, arriving now, counts: it covers
    /// more than the current one, and no commit after `x` (all of which
    /// were posted while it was made) has a base older than `x`.
    fn counts(&self, x: Snowflake) -> bool {
        Some(x) > self.cover()
            && !self
                .commits
                .iter()
                .any(|c| c.id > x && c.meta.base.is_some_and(|b| b < x))
    }

    /// Whether everything after the checkpoint's cover has been read, given
    /// that the oldest message read is `oldest`.
    fn complete_from(&self, oldest: Snowflake) -> bool {
        self.cover().is_some_and(|x| oldest <= x)
    }
}

/// Changes with their keys, in their order. A change without a key (a
/// NULL in a key column) is no row any read can reach, so it is left out.
pub type KeyedBatch = Arc<Vec<(Key, Change)>>;

fn keyed(def: &TableDef, changes: Vec<Change>) -> KeyedBatch {
    let keyed = changes
        .into_iter()
        .filter_map(|c| Some((segment::key_of(def, &c.values)?, c)))
        .collect();
    Arc::new(keyed)
}

/// The commit a message holds, if it is one of the bot's.
pub(super) fn parse(def: &TableDef, bot: Snowflake, m: Message) -> Option<Commit> {
    if m.author.id != bot {
        return None;
    }
    let (meta, body) = commit::decode(def, &m.content).ok()?;
    let mut sharded = Vec::new();
    let body = match body {
        Body::Rows(changes, refs) => {
            sharded = refs;
            CommitBody::Rows(keyed(def, changes))
        }
        Body::Segment(json) => {
            let header = serde_json::from_str(&json).ok()?;
            CommitBody::Segment(Arc::new(SegmentRef::new(m.clone(), header)))
        }
    };
    let shards = sharded
        .iter()
        .flat_map(|r| r.shards.iter().filter_map(|id| id.parse().ok()))
        .collect();
    Some(Commit {
        id: m.id,
        meta,
        body,
        sharded,
        shards,
        broken: None,
    })
}

/// Read the log of `def`'s channel: all of it back to the newest
/// checkpoint if `known` is empty, else what came after it.
pub async fn sync(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    known: &TableLog,
) -> Result<TableLog> {
    let bot = discord.bot_user_id();
    let mut log = known.clone();
    log.requests = 0;
    match known.synced {
        Some(after) => forward(discord, def, bot, after, None, &mut log).await?,
        None => backward(discord, def, bot, &mut log).await?,
    }
    super::shards::resolve(discord, def, &mut log.commits).await?;
    Ok(log)
}

/// `known` brought forward to message `until` and no further: the log as
/// every reader had it when `until` was posted, which is what decides
/// whether the commit `until` counts (messages after it never change that).
pub async fn sync_until(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    known: &TableLog,
    until: Snowflake,
) -> Result<TableLog> {
    let bot = discord.bot_user_id();
    let mut log = known.clone();
    let after = known.synced.unwrap_or_default();
    forward(discord, def, bot, after, Some(until), &mut log).await?;
    super::shards::resolve(discord, def, &mut log.commits).await?;
    Ok(log)
}

/// Pages after `after`, oldest first, until a short page (or `until`).
async fn forward(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    bot: Snowflake,
    mut after: Snowflake,
    until: Option<Snowflake>,
    log: &mut TableLog,
) -> Result<()> {
    loop {
        let page = page(discord, def.channel_id, HistoryAnchor::After(after), log).await?;
        let full = page.len() == HISTORY_PAGE as usize;
        let mut page = page;
        page.sort_by_key(|m| m.id);
        after = match page.last() {
            Some(m) => m.id,
            None => return Ok(()),
        };
        let past = until.is_some_and(|u| after >= u);
        page.retain(|m| until.is_none_or(|u| m.id <= u));
        log.extend(def, bot, page);
        if !full || past {
            return Ok(());
        }
    }
}

/// Pages from the newest back until the newest checkpoint that counts,
/// and everything after its cover, has been read (or the channel ends).
async fn backward(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    bot: Snowflake,
    log: &mut TableLog,
) -> Result<()> {
    let start = log.clone();
    let mut newest_first: Vec<Message> = Vec::new();
    let mut anchor = HistoryAnchor::Latest;
    let mut seen_checkpoint = false;
    loop {
        let mut page = page(discord, def.channel_id, anchor, log).await?;
        let full = page.len() == HISTORY_PAGE as usize;
        page.sort_by_key(|m| std::cmp::Reverse(m.id));
        let Some(oldest) = page.last().map(|m| m.id) else {
            break;
        };
        seen_checkpoint |= page
            .iter()
            .any(|m| m.author.id == bot && m.content.starts_with(commit::SEGMENT_MARKER));
        newest_first.extend(page);
        if !full {
            break;
        }
        if seen_checkpoint {
            let mut trial = start.clone();
            trial.extend(def, bot, newest_first.iter().rev().cloned().collect());
            if trial.complete_from(oldest) {
                break;
            }
        }
        anchor = HistoryAnchor::Before(oldest);
    }
    newest_first.reverse();
    let requests = log.requests;
    *log = start;
    log.requests = requests;
    log.extend(def, bot, newest_first);
    Ok(())
}

async fn page(
    discord: &Arc<dyn Discord>,
    channel: Snowflake,
    anchor: HistoryAnchor,
    log: &mut TableLog,
) -> Result<Vec<Message>> {
    let query = HistoryQuery {
        anchor,
        limit: HISTORY_PAGE,
    };
    log.requests += 1;
    discord
        .list_messages(channel, &query)
        .await
        .map_err(Error::from)
}
