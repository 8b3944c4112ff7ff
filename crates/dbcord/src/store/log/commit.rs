//! One commit of a table's log, as read: its metadata, and its rows or
//! the segment that holds them (see `codec::commit` for the formats).

use std::sync::Arc;

use discord_api::{Message, Snowflake};

use crate::store::codec::commit::{self, Body, Change, CommitMeta};
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::segment::SegmentHeader;
use crate::store::codec::shard::ShardRef;
use crate::store::schema::TableDef;

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

    /// The bytes of the segment's data file.
    pub fn data_bytes(&self) -> u64 {
        self.header.data.batches.iter().map(|b| b.len()).sum()
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

/// Changes with their keys, in their order. A change without a key (a
/// NULL in a key column) is no row any read can reach, so it is left out.
pub type KeyedBatch = Arc<Vec<(Key, Change)>>;

fn keyed(def: &TableDef, changes: Vec<Change>) -> KeyedBatch {
    let keyed = changes
        .into_iter()
        .filter_map(|c| Some((row_key(def, &c.values)?, c)))
        .collect();
    Arc::new(keyed)
}

/// The commit a message holds, if it is one of the bot's.
pub(crate) fn parse(def: &TableDef, bot: Snowflake, m: Message) -> Option<Commit> {
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
    let shards = sharded.iter().flat_map(|r| r.shards.clone()).collect();
    Some(Commit {
        id: m.id,
        meta,
        body,
        sharded,
        shards,
        broken: None,
    })
}
