//! Writing: a statement's changes become one commit message, checked
//! before it is sent and confirmed after.
//!
//! Before: every row is whole (types, NOT NULL), no key or UNIQUE value
//! repeats within the statement, and none collides with the table as the
//! statement's snapshot has it (point lookups, not a scan). The commit is a
//! readable row message when it fits in 2,000 characters, a segment in
//! attachments otherwise. After: the log is read up to the commit; if a
//! concurrent commit won (see [`super::runs`]), this one is void for every
//! reader, so it is deleted and the statement reports the conflict.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use discord_api::limits::{MAX_CONTENT_LEN, MAX_FILE_BYTES, MAX_REQUEST_BYTES};
use discord_api::{Message, NewFile, NewMessage, Snowflake, discord_len};

use super::Store;
use super::codec::commit::{self, Change, CommitMeta, Op};
use super::codec::key::Key;
use super::codec::row::{decode_json, row_json};
use super::codec::segment::{self, EncodedSegment};
use super::codec::shard::ShardRef;
use super::codec::value::Value;
use super::compact::VACUUM_GRACE;
use super::log::TableLog;
use super::read::Snapshot;
use super::schema::{IndexDef, LargeRows, TableDef};
use super::segments::ReadStats;
use crate::error::{Error, Result};

/// How writes behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// Fold the table into a checkpoint once this many commits follow the
    /// last one (0: never on its own).
    pub compact_after: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { compact_after: 100 }
    }
}

/// How often an INSERT that lost a race without a duplicate is tried.
const CONFLICT_TRIES: usize = 3;

/// Rows a segment's data file puts in one batch at the least.
const MIN_BATCH_ROWS: usize = 1024;
/// Batches a segment's data file is cut into at the most.
const MAX_BATCHES: usize = 16;

impl Store {
    /// Insert `rows`: each a new key.
    pub async fn insert(
        &self,
        table: &Arc<TableDef>,
        rows: Vec<Vec<Value>>,
        options: &WriteOptions,
    ) -> Result<u64> {
        let changes = rows
            .into_iter()
            .map(|values| Change {
                op: Op::Insert,
                values,
            })
            .collect();
        self.commit(table, changes, options).await
    }

    /// Write `changes` as one commit, then compact if the log has grown
    /// past `options.compact_after`. Returns the number of rows changed.
    pub async fn commit(
        &self,
        table: &Arc<TableDef>,
        changes: Vec<Change>,
        options: &WriteOptions,
    ) -> Result<u64> {
        self.commit_from(table, changes, options, None).await
    }

    /// The newest message of `table`'s log, read now: the snapshot a
    /// statement's reads start from, to be its commit's base.
    pub async fn pin(&self, table: &Arc<TableDef>) -> Result<Snowflake> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        Ok(snap.synced.unwrap_or_default())
    }

    /// [`Store::commit`] for changes computed from reads that began at
    /// `read_from` (see [`Store::pin`]): a concurrent change to the same rows
    /// since then makes this commit void, so no update is lost.
    pub async fn commit_from(
        &self,
        table: &Arc<TableDef>,
        changes: Vec<Change>,
        options: &WriteOptions,
        read_from: Option<Snowflake>,
    ) -> Result<u64> {
        let n = self.commit_retrying(table, changes, read_from).await?;
        let tail = self.log_of(table.channel_id).commits.len();
        // The statement is committed: a compaction that fails now is put
        // off to a later statement, not reported as the statement failing.
        if options.compact_after > 0
            && tail >= options.compact_after
            && let Err(e) = self.compact(table).await
        {
            tracing::warn!("{}: compaction put off: {e}", table.qualified_name());
        }
        Ok(n)
    }

    /// A commit that lost a race without a duplicate (it raced with a
    /// compaction, or with a change to one of its UNIQUE values that was
    /// later undone) is tried again from a new snapshot, if its changes did
    /// not come from reads (`read_from`): an INSERT's rows are the same
    /// whatever the table holds, an UPDATE's are not.
    async fn commit_retrying(
        &self,
        table: &Arc<TableDef>,
        changes: Vec<Change>,
        read_from: Option<Snowflake>,
    ) -> Result<u64> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.commit_once(table, changes.clone(), read_from).await {
                Err(Error::Conflict { .. }) if read_from.is_none() && tries < CONFLICT_TRIES => {
                    tracing::info!(
                        "{}: commit lost a race; trying again",
                        table.qualified_name()
                    );
                }
                other => return other,
            }
        }
    }

    async fn commit_once(
        &self,
        table: &Arc<TableDef>,
        changes: Vec<Change>,
        read_from: Option<Snowflake>,
    ) -> Result<u64> {
        if changes.is_empty() {
            return Ok(0);
        }
        let changes = normalise(table, changes)?;
        check_row_sizes(table, &changes)?;
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        let known = self.log_of(table.channel_id);
        let indexes = self.indexes_of(&table.database, &table.name);
        check_within(table, &indexes, &changes)?;
        self.check_against(&snap, &indexes, &changes, &mut stats)
            .await?;
        let synced = snap.synced.unwrap_or_default();
        let meta = CommitMeta {
            base: Some(read_from.map_or(synced, |r| r.min(synced))),
            txn: Some(discord_api::nonce::new_nonce()),
        };
        let sharded = match table.large_rows {
            LargeRows::Shards => self.post_shards(table, &changes, &meta).await?,
            LargeRows::Attachment => HashMap::new(),
        };
        // A UNIQUE index declared since the catalog was read must be
        // checked too (see `index::UNIQUE_INDEX_WAIT`).
        let mut indexes = indexes;
        if self.refresh_if_stale().await? {
            let now = self.indexes_of(&table.database, &table.name);
            if now != indexes {
                check_within(table, &now, &changes)?;
                self.check_against(&snap, &now, &changes, &mut stats)
                    .await?;
                indexes = now;
            }
        }
        let message = build(table, &indexes, &changes, &meta, &sharded)?;
        let sent = self.send(table, message).await?;
        self.confirm(&snap, &known, &changes, &sent, &mut stats)
            .await?;
        Ok(changes.len() as u64)
    }

    /// Refuse a change whose key or UNIQUE value another live row holds.
    async fn check_against(
        &self,
        snap: &Snapshot,
        indexes: &[Arc<IndexDef>],
        changes: &[Change],
        stats: &mut ReadStats,
    ) -> Result<()> {
        let def = &snap.def;
        self.refuse_taken_keys(snap, changes, stats).await?;
        let mine: HashSet<Key> = changes
            .iter()
            .filter_map(|c| segment::key_of(def, &c.values))
            .collect();
        for index in indexes.iter().filter(|i| i.unique) {
            self.check_unique(snap, index, changes, &mine, stats)
                .await?;
        }
        Ok(())
    }

    /// Refuse an inserted key that a live row of `snap` already holds.
    async fn refuse_taken_keys(
        &self,
        snap: &Snapshot,
        changes: &[Change],
        stats: &mut ReadStats,
    ) -> Result<()> {
        let def = &snap.def;
        for c in changes.iter().filter(|c| c.op == Op::Insert) {
            let key = segment::key_of(def, &c.values).expect("checked");
            if let Some((_, held)) = self.newest(snap, &key, snap.runs.len(), stats).await?
                && held.op != Op::Delete
            {
                let pk = &def.primary_key;
                return Err(duplicate(def, "primary key".into(), pk, &c.values, true));
            }
        }
        Ok(())
    }

    /// No other live row (one this statement does not rewrite) may hold a
    /// value this statement writes into a UNIQUE index.
    async fn check_unique(
        &self,
        snap: &Snapshot,
        index: &IndexDef,
        changes: &[Change],
        mine: &HashSet<Key>,
        stats: &mut ReadStats,
    ) -> Result<()> {
        let def = &snap.def;
        let Some(col) = def.index_column(index) else {
            return Ok(());
        };
        let written: Vec<&Change> = changes
            .iter()
            .filter(|c| c.op != Op::Delete && c.values[col] != Value::Null)
            .collect();
        let values: Vec<Value> = written.iter().map(|c| c.values[col].clone()).collect();
        if values.is_empty() {
            return Ok(());
        }
        let holders = self.by_index(snap, index, &values, stats).await?;
        for holder in holders {
            let key = segment::key_of(def, &holder.values);
            if key.is_some_and(|k| mine.contains(&k)) {
                continue;
            }
            let c = written
                .iter()
                .find(|c| c.values[col] == holder.values[col])
                .expect("a holder of a written value");
            return Err(unique_duplicate(def, index, &c.values, true));
        }
        Ok(())
    }

    /// Create the commit message; a row message must come back as sent.
    async fn send(&self, table: &TableDef, message: NewMessage) -> Result<Message> {
        let sent = self
            .discord
            .create_message(table.channel_id, &message)
            .await?;
        if message.files.is_empty() && sent.content != message.content {
            self.delete_quietly(table, &sent).await;
            let (row, what) = commit::altered(table, &message.content, &sent.content);
            return Err(Error::ContentAltered {
                table: table.qualified_name(),
                row,
                what,
            });
        }
        Ok(sent)
    }

    /// Read the log up to our commit and check it counts; if a concurrent
    /// commit won, say what collided. A void commit is left in place (it
    /// is read as nothing, and vacuum removes it): deleting it would change
    /// what came before a checkpoint posted meanwhile (see [`super::log`]).
    ///
    /// A compaction may have folded the commit into a checkpoint before it
    /// is read back; whether it counts is then judged from the log as it
    /// stood when it was posted (`known` brought forward to it), as the
    /// compaction judged it.
    async fn confirm(
        &self,
        before: &Snapshot,
        known: &TableLog,
        changes: &[Change],
        sent: &Message,
        stats: &mut ReadStats,
    ) -> Result<()> {
        let def = &before.def;
        self.note_head(def.channel_id, sent.id);
        let after = self.snapshot(def, stats).await?;
        if after.runs.iter().any(|r| r.id == sent.id) {
            return Ok(());
        }
        if self
            .log_of(def.channel_id)
            .cover()
            .is_some_and(|x| x >= sent.id)
        {
            return self.confirm_folded(def, known, changes, sent, stats).await;
        }
        self.refuse_taken_keys(&after, changes, stats).await?;
        Err(Error::Conflict {
            table: def.qualified_name(),
        })
    }

    /// [`Store::confirm`] for a commit a compaction folded before it was
    /// read back: judged from the log as it stood when it was posted. That
    /// needs every message from the statement's snapshot to the commit,
    /// which vacuum leaves for [`VACUUM_GRACE`]; past that, or if the
    /// commit itself is gone, whether it counted cannot be told.
    async fn confirm_folded(
        &self,
        def: &Arc<TableDef>,
        known: &TableLog,
        changes: &[Change],
        sent: &Message,
        stats: &mut ReadStats,
    ) -> Result<()> {
        let at_post = super::log::sync_until(&self.discord, def, known, sent.id).await?;
        // No message of the channel is older than the channel itself.
        let since = known.synced.unwrap_or(def.channel_id).unix_ms();
        let intact = self.discord_now_ms() < since + VACUUM_GRACE.as_millis() as u64
            && at_post.synced == Some(sent.id);
        if !intact {
            return Err(Error::Unconfirmed {
                table: def.qualified_name(),
            });
        }
        let runs = self.runs(def, &at_post, stats).await?;
        if runs.iter().any(|r| r.id == sent.id) {
            return Ok(());
        }
        let before = Snapshot {
            def: Arc::clone(def),
            runs,
            synced: at_post.synced,
        };
        self.refuse_taken_keys(&before, changes, stats).await?;
        Err(Error::Conflict {
            table: def.qualified_name(),
        })
    }

    async fn delete_quietly(&self, table: &TableDef, m: &Message) {
        if let Err(e) = self.discord.delete_message(table.channel_id, m.id).await {
            tracing::warn!(
                "could not remove message {} of {}: {e}",
                m.id,
                table.qualified_name()
            );
        }
    }
}

/// Every row whole, its values as they will read back (so keys and
/// tokens are computed from what is stored).
fn normalise(def: &TableDef, changes: Vec<Change>) -> Result<Vec<Change>> {
    changes
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            // row_json checks the row whole (arity, types, NOT NULL).
            let values = match c.op {
                Op::Delete => c.values,
                _ => {
                    let json = row_json(def, &c.values, i + 1)?;
                    decode_json(def, &json).expect("a row's own JSON decodes")
                }
            };
            if segment::key_of(def, &values).is_none() {
                return Err(null_key(def, &values, i + 1));
            }
            Ok(Change { op: c.op, values })
        })
        .collect()
}

fn null_key(def: &TableDef, values: &[Value], row: usize) -> Error {
    let column = def
        .primary_key
        .iter()
        .find(|k| {
            def.column_index(k)
                .is_some_and(|i| values[i] == Value::Null)
        })
        .cloned()
        .unwrap_or_default();
    Error::NullValue {
        table: def.qualified_name(),
        column,
        row,
    }
}

/// No key, and no value of a UNIQUE index, twice in one statement.
fn check_within(def: &TableDef, indexes: &[Arc<IndexDef>], changes: &[Change]) -> Result<()> {
    let mut keys = HashSet::new();
    for c in changes {
        if !keys.insert(segment::key_of(def, &c.values)) {
            return Err(duplicate(
                def,
                "primary key".into(),
                &def.primary_key,
                &c.values,
                false,
            ));
        }
    }
    for index in indexes.iter().filter(|i| i.unique) {
        let Some(col) = def.index_column(index) else {
            continue;
        };
        let mut seen: HashMap<Key, ()> = HashMap::new();
        for c in changes.iter().filter(|c| c.op != Op::Delete) {
            if let Some(v) = Key::of([&c.values[col]])
                && seen.insert(v, ()).is_some()
            {
                return Err(unique_duplicate(def, index, &c.values, false));
            }
        }
    }
    Ok(())
}

/// The duplicate error of a UNIQUE index.
fn unique_duplicate(def: &TableDef, index: &IndexDef, values: &[Value], existing: bool) -> Error {
    let label = format!("UNIQUE index {}", index.name);
    let column = def
        .index_column(index)
        .map(|i| def.columns[i].name.clone())
        .unwrap_or_else(|| index.column.clone());
    duplicate(def, label, &[column], values, existing)
}

fn duplicate(
    def: &TableDef,
    constraint: String,
    columns: &[String],
    values: &[Value],
    existing: bool,
) -> Error {
    let key: Vec<String> = columns
        .iter()
        .filter_map(|c| {
            def.column_index(c)
                .map(|i| format!("{c} = {}", values[i].show()))
        })
        .collect();
    Error::Duplicate {
        table: def.qualified_name(),
        constraint,
        key: key.join(", "),
        whence: if existing {
            "already has a row with"
        } else {
            "would get two rows with"
        },
    }
}

/// The largest row dbcord stores, as its JSON: 10 MiB.
pub const MAX_ROW_BYTES: usize = 10 << 20;

/// Refuse a row larger than [`MAX_ROW_BYTES`], naming it. Only rows whose
/// text alone could come near the limit are encoded to be measured.
fn check_row_sizes(def: &TableDef, changes: &[Change]) -> Result<()> {
    for (i, c) in changes.iter().enumerate() {
        let text: usize = c
            .values
            .iter()
            .map(|v| match v {
                Value::Text(s) => s.len(),
                _ => 24,
            })
            .sum();
        if text < MAX_ROW_BYTES / 2 {
            continue;
        }
        let bytes =
            super::codec::row::row_text(def, &c.values, super::codec::row::KeyNames::Stored).len();
        if bytes > MAX_ROW_BYTES {
            return Err(Error::RowOverLimit {
                table: def.qualified_name(),
                row: i + 1,
                bytes,
            });
        }
    }
    Ok(())
}

/// The commit message: a row message if it fits, else a segment.
pub(super) fn build(
    def: &TableDef,
    indexes: &[Arc<IndexDef>],
    changes: &[Change],
    meta: &CommitMeta,
    sharded: &HashMap<usize, ShardRef>,
) -> Result<NewMessage> {
    if let Some(content) = commit::encode_rows_sharded(def, changes, meta, sharded)? {
        return Ok(data_message(content, Vec::new()));
    }
    let (content, segment) = fit_segment(def, indexes, changes, meta, None)?;
    let files: Vec<NewFile> = segment
        .files
        .into_iter()
        .map(|(filename, bytes)| NewFile { filename, bytes })
        .collect();
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    if total > MAX_REQUEST_BYTES || files.iter().any(|f| f.bytes.len() > MAX_FILE_BYTES) {
        return Err(commit::too_large(def, total));
    }
    Ok(data_message(content, files))
}

fn data_message(content: String, files: Vec<NewFile>) -> NewMessage {
    NewMessage {
        files,
        ..NewMessage::idempotent(content)
    }
}

/// A segment whose header fits in the message: fewer, larger batches until
/// the batch directories fit. `covers` makes it a checkpoint.
pub(super) fn fit_segment(
    def: &TableDef,
    indexes: &[Arc<IndexDef>],
    changes: &[Change],
    meta: &CommitMeta,
    covers: Option<discord_api::Snowflake>,
) -> Result<(String, EncodedSegment)> {
    let mut batches = (changes.len() / MIN_BATCH_ROWS).clamp(1, MAX_BATCHES);
    let tokens = key_tokens_of(def, changes);
    loop {
        let mut seg = segment::encode(def, indexes, changes, batches).map_err(|e| {
            Error::CatalogDamaged(format!(
                "could not encode a segment of {}: {e}",
                def.qualified_name()
            ))
        })?;
        seg.header.covers = covers;
        if let Some(content) = fitting_content(&seg, meta, &tokens) {
            return Ok((content, seg));
        }
        if batches == 1 {
            // Statistics only let scans skip the segment: a wide table's
            // segments go without them rather than not at all.
            seg.header.stats.clear();
            if let Some(content) = fitting_content(&seg, meta, &[]) {
                return Ok((content, seg));
            }
            return Err(Error::SegmentHeaderTooLarge(def.qualified_name()));
        }
        batches /= 2;
    }
}

/// The segment's message content if it fits in one message: with its
/// keys' search tokens when those fit too, else without.
fn fitting_content(seg: &EncodedSegment, meta: &CommitMeta, tokens: &[String]) -> Option<String> {
    let header = super::codec::ascii_json::to_string(&seg.header);
    let with_tokens = commit::segment_content_with_tokens(&header, meta, tokens);
    if discord_len(&with_tokens) <= MAX_CONTENT_LEN {
        return Some(with_tokens);
    }
    if tokens.is_empty() {
        return None;
    }
    let content = commit::segment_content(&header, meta);
    (discord_len(&content) <= MAX_CONTENT_LEN).then_some(content)
}

/// Rows a segment names by their key tokens on its marker line, at most.
const TOKENED_ROWS: usize = 16;

/// The key tokens of a statement of few rows (none for more): a search for
/// a key then finds the segment that holds a large row.
fn key_tokens_of(def: &TableDef, changes: &[Change]) -> Vec<String> {
    if changes.len() > TOKENED_ROWS {
        return Vec::new();
    }
    let mut tokens: Vec<String> = changes
        .iter()
        .flat_map(|c| commit::key_tokens(def, &c.values))
        .collect();
    tokens.dedup();
    tokens
}
