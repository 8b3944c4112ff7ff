//! One commit of a table's log, as read: its metadata, and its rows, the
//! segment that holds them, or the sorted runs of staged segments a
//! manifest or staged commit names (see `codec::commit` and
//! `codec::manifest` for the formats).

use std::collections::BTreeMap;
use std::sync::Arc;

use discord_api::{Message, Snowflake};

use crate::store::codec::commit::{self, Body};
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::manifest::{DirHeader, Directory, Part, RunDir};
use crate::store::codec::meta::CommitMeta;
use crate::store::codec::op::Change;
use crate::store::codec::segment::{FileDir, SegmentHeader};
use crate::store::codec::shard::ShardRef;
use crate::store::schema::{IndexDef, TableDef};

/// A segment as readers use it: where its files are and what they hold.
#[derive(Debug)]
pub struct SegmentRef {
    pub channel: Snowflake,
    pub id: Snowflake,
    /// The message, when it was read with its commit (a commit's own
    /// segment); a staged segment's is fetched when first needed.
    pub message: Option<Arc<Message>>,
    pub header: SegmentHeader,
    /// The header's key range and data batch boundaries, parsed once: a
    /// lookup compares keys with them for every key it seeks.
    pub range: Option<(Key, Key)>,
    pub firsts: Vec<Option<Key>>,
}

impl SegmentRef {
    /// The segment's own file for `index`, if written for this creation of
    /// it: a segment posted before the index's channel was made carries a
    /// file of a dropped index of the same name, if any (the channel's ID
    /// is when this index was created).
    pub fn index_file(&self, index: &IndexDef) -> Option<&FileDir> {
        let file = self.header.indexes.get(&index.name)?;
        index
            .channel_id
            .is_none_or(|created| self.id > created)
            .then_some(file)
    }

    /// A commit's own segment, in its message.
    pub fn new(message: Message, header: SegmentHeader) -> Self {
        let (channel, id) = (message.channel_id, message.id);
        Self::at(channel, id, Some(Arc::new(message)), header)
    }

    /// A staged segment a directory names (in `table`'s channel unless the
    /// directory says another).
    pub fn staged(part: &Part, table: Snowflake) -> Self {
        let channel = part.channel.unwrap_or(table);
        Self::at(channel, part.message, None, part.header.clone())
    }

    fn at(
        channel: Snowflake,
        id: Snowflake,
        message: Option<Arc<Message>>,
        header: SegmentHeader,
    ) -> Self {
        let range = header.key_range();
        let firsts = header.data.batches.iter().map(|b| b.first()).collect();
        SegmentRef {
            channel,
            id,
            message,
            header,
            range,
            firsts,
        }
    }

    /// The bytes of the segment's data file.
    pub fn data_bytes(&self) -> u64 {
        self.header.data.bytes()
    }

    /// Whether `key` is within the segment's key range.
    pub fn may_hold(&self, key: &Key) -> bool {
        self.range
            .as_ref()
            .is_some_and(|(lo, hi)| lo <= key && key <= hi)
    }

    /// The data batch that may hold `key`: the last whose first key is at
    /// most `key`, if `key` is within the segment's range.
    pub fn batch_for(&self, key: &Key) -> Option<usize> {
        if !self.may_hold(key) {
            return None;
        }
        let at = self
            .firsts
            .partition_point(|f| f.as_ref().is_some_and(|f| f <= key));
        at.checked_sub(1)
    }
}

/// A sorted run of staged segments: a manifest's run or a staged commit's.
#[derive(Debug)]
pub struct SortedRun {
    pub level: u8,
    /// In key order, their key ranges disjoint.
    pub segments: Vec<Arc<SegmentRef>>,
    /// Per index, the run's rows as covering index segments in (value,
    /// key) order.
    pub indexes: BTreeMap<String, Vec<Arc<SegmentRef>>>,
}

impl SortedRun {
    pub fn new(dir: &RunDir, table: Snowflake) -> SortedRun {
        let staged = |parts: &[Part]| {
            parts
                .iter()
                .map(|p| Arc::new(SegmentRef::staged(p, table)))
                .collect()
        };
        SortedRun {
            level: dir.level,
            segments: staged(&dir.segments),
            indexes: dir
                .indexes
                .iter()
                .map(|(name, parts)| (name.clone(), staged(parts)))
                .collect(),
        }
    }

    /// The run's index segments for `index`, if they were written for this
    /// creation of it. An index dropped and created again under its name
    /// has a new channel: runs written for the old one (a compaction that
    /// read the catalog before the DROP) are not the new index's, and a
    /// reader takes their rows instead.
    pub fn index_segments(&self, table: &TableDef, index: &IndexDef) -> Option<&[Arc<SegmentRef>]> {
        let segs = self.indexes.get(&index.name)?;
        let channel = index.segments_channel(table);
        segs.iter()
            .all(|s| s.channel == channel)
            .then_some(segs.as_slice())
    }

    /// The segment whose key range holds `key`, if one does.
    pub fn segment_for(&self, key: &Key) -> Option<&Arc<SegmentRef>> {
        let at = self
            .segments
            .partition_point(|s| s.range.as_ref().is_some_and(|(_, hi)| hi < key));
        self.segments.get(at).filter(|s| s.may_hold(key))
    }

    /// The smallest and largest key of the run.
    pub fn range(&self) -> Option<(Key, Key)> {
        let lo = self.segments.first()?.range.as_ref()?.0.clone();
        let hi = self.segments.last()?.range.as_ref()?.1.clone();
        Some((lo, hi))
    }

    /// Data bytes of the run.
    pub fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.data_bytes()).sum()
    }
}

/// A manifest's or staged commit's directory, read or still to be read
/// from its attachment.
#[derive(Debug)]
pub struct DirCommit {
    pub message: Arc<Message>,
    pub header: DirHeader,
    /// The sorted runs, oldest first; empty until the directory is read.
    pub runs: Vec<Arc<SortedRun>>,
    pub read: bool,
}

impl DirCommit {
    fn new(message: Message, header: DirHeader, table: Snowflake) -> DirCommit {
        let mut commit = DirCommit {
            message: Arc::new(message),
            header,
            runs: Vec::new(),
            read: false,
        };
        if let Some(dir) = commit.header.dir.take() {
            commit.set_directory(&dir, table);
        }
        commit
    }

    /// Take in the directory (newest run first, as written).
    pub fn set_directory(&mut self, dir: &Directory, table: Snowflake) {
        self.runs = dir
            .runs
            .iter()
            .rev()
            .map(|r| Arc::new(SortedRun::new(r, table)))
            .collect();
        self.read = true;
    }

    /// Every staged message the directory names.
    pub fn parts(&self) -> impl Iterator<Item = Snowflake> + '_ {
        self.runs.iter().flat_map(|r| {
            r.segments
                .iter()
                .chain(r.indexes.values().flatten())
                .map(|s| s.id)
        })
    }
}

/// What a commit holds.
#[derive(Clone, Debug)]
pub enum CommitBody {
    /// A row commit's changes with their keys, computed once when read.
    Rows(KeyedBatch),
    /// A commit's own segment, or a checkpoint of the first format.
    Segment(Arc<SegmentRef>),
    /// A manifest, or a statement's staged segments.
    Directory(Arc<DirCommit>),
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
    /// Why this commit's shards or directory could not be read, if they
    /// could not: it then counts for no reader (as if it had never been
    /// committed).
    pub broken: Option<String>,
}

impl Commit {
    /// The ID up to which this commit replaces everything, if it is a
    /// checkpoint (a manifest, or a segment of the first format).
    pub fn covers(&self) -> Option<Snowflake> {
        match &self.body {
            CommitBody::Segment(s) => s.header.covers,
            CommitBody::Directory(d) => d.header.covers,
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
    let id = m.id;
    let body = match body {
        Body::Rows(changes, refs) => {
            sharded = refs;
            CommitBody::Rows(keyed(def, changes))
        }
        Body::Segment(json) => {
            let header = serde_json::from_str(&json).ok()?;
            CommitBody::Segment(Arc::new(SegmentRef::new(m, header)))
        }
        Body::Directory(header) => {
            CommitBody::Directory(Arc::new(DirCommit::new(m, header, def.channel_id)))
        }
    };
    let shards = sharded.iter().flat_map(|r| r.shards.clone()).collect();
    Some(Commit {
        id,
        meta,
        body,
        sharded,
        shards,
        broken: None,
    })
}
