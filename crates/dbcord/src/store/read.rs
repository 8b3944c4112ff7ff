//! Reading a table: the newest committed version of each row, from the
//! runs of its log (the checkpoint, then each valid commit).
//!
//! A row's newest version is in the newest run that holds its key; a
//! tombstone there means the row is gone. So a key lookup walks the runs
//! from the newest, reading in a segment only the batch whose key range can
//! hold the key. A scan walks the runs from the newest too, remembering the
//! keys it has passed, so an older version is never returned; runs that
//! the filter's bounds exclude (by their statistics) are skipped unless an
//! older run needs their keys. An index lookup collects candidate keys from
//! each run's index file (or its rows) and then looks them up.

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::Snowflake;

use super::Store;
use super::codec::commit::{Change, Op};
use super::codec::key::Key;
use super::codec::segment::{self, SegmentHeader};
use super::codec::value::Value;
use super::log::CommitBody;
use super::log::KeyedBatch;
use super::runs::Run;
use super::schema::{IndexDef, TableDef};
use super::segments::{ReadStats, batches_for_value};
use super::table::{ArrowRows, RowPage, StoredRow};
use crate::error::Result;

/// Batches a scan reads before it shows its progress.
const PROGRESS_BATCHES: usize = 8;

/// A table as one statement reads it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub def: Arc<TableDef>,
    pub runs: Vec<Run>,
    /// The newest message read: the base of what the statement writes.
    pub synced: Option<Snowflake>,
}

/// A bound a filter puts on one column: runs whose statistics lie outside
/// it hold no matching row.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    /// `=` one of these.
    In(Vec<Value>),
    Lt(Value),
    Le(Value),
    Gt(Value),
    Ge(Value),
}

/// `column` within `bound`.
#[derive(Clone, Debug, PartialEq)]
pub struct Prune {
    pub column: usize,
    pub bound: Bound,
}

impl Prune {
    /// Whether a segment with these statistics may hold a matching row.
    pub fn may_match(&self, def: &TableDef, header: &SegmentHeader) -> bool {
        let col = &def.columns[self.column];
        let Some(stats) = header.stats.get(col.stored()) else {
            return true;
        };
        let live = header.rows - header.deletes;
        if stats.nulls >= live {
            return false; // every row is NULL here, and NULL matches no bound
        }
        let read = |j: &Option<serde_json::Value>| {
            j.as_ref()
                .and_then(|j| Value::from_json(col.ty, j))
                .and_then(|v| Key::of([&v]))
        };
        let (Some(min), Some(max)) = (read(&stats.min), read(&stats.max)) else {
            return true;
        };
        let key = |v: &Value| Key::of([v]);
        match &self.bound {
            Bound::In(vs) => vs.iter().filter_map(key).any(|k| min <= k && k <= max),
            Bound::Lt(v) => key(v).is_none_or(|k| min < k),
            Bound::Le(v) => key(v).is_none_or(|k| min <= k),
            Bound::Gt(v) => key(v).is_none_or(|k| max > k),
            Bound::Ge(v) => key(v).is_none_or(|k| max >= k),
        }
    }
}

/// How a scan treats one run.
#[derive(Clone, Copy, Debug)]
struct RunPlan {
    run: usize,
    /// Its rows may match the bounds.
    wanted: bool,
    /// It must be read: wanted, or it may shadow an older wanted run.
    needed: bool,
    /// A newer needed run overlaps its keys: skip the keys seen there.
    check: bool,
    /// An older needed run overlaps its keys: remember them.
    record: bool,
}

/// Where a scan is.
#[derive(Debug)]
pub struct ScanCursor {
    /// Runs still to read, newest first.
    todo: Vec<RunPlan>,
    /// The batch of the segment being read.
    batch: usize,
    /// Keys of runs read so far that older runs may also hold.
    seen: HashSet<Key>,
    /// Whether pages may come as Arrow ([`RowPage::arrow`]).
    arrow: bool,
    /// The progress of a scan of many batches.
    progress: Option<super::progress::Step>,
}

impl ScanCursor {
    /// Let segment batches that need no resolution come as Arrow.
    pub fn with_arrow(mut self) -> Self {
        self.arrow = true;
        self
    }
}

impl Store {
    /// The newest version of `key` in runs older than `upper`: the run it
    /// is in and the change (an insert, upsert or tombstone).
    pub async fn newest(
        &self,
        snap: &Snapshot,
        key: &Key,
        upper: usize,
        stats: &mut ReadStats,
    ) -> Result<Option<(usize, Change)>> {
        self.newest_with(snap, key, upper, &mut None, stats).await
    }

    /// [`Store::newest`], keeping the last segment batch read in `last`:
    /// keys sought in order mostly fall in the batch of the one before.
    async fn newest_with(
        &self,
        snap: &Snapshot,
        key: &Key,
        upper: usize,
        last: &mut Option<(usize, usize, KeyedBatch)>,
        stats: &mut ReadStats,
    ) -> Result<Option<(usize, Change)>> {
        for i in (0..upper.min(snap.runs.len())).rev() {
            match &snap.runs[i].body {
                CommitBody::Rows(changes) => {
                    if let Some((_, c)) = changes.iter().rev().find(|(k, _)| k == key) {
                        return Ok(Some((i, c.clone())));
                    }
                }
                CommitBody::Segment(seg) => {
                    let Some(b) = seg.batch_for(key) else {
                        continue;
                    };
                    let batch = match last {
                        Some((run, at, batch)) if *run == i && *at == b => Arc::clone(batch),
                        _ => {
                            let batch = self.data_batch(&snap.def, seg, b, false, stats).await?;
                            *last = Some((i, b, Arc::clone(&batch)));
                            batch
                        }
                    };
                    if let Ok(at) = batch.binary_search_by(|(k, _)| k.cmp(key)) {
                        return Ok(Some((i, batch[at].1.clone())));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Every live row of the table, in no particular order (snapshot,
    /// export, compaction: work that reads the whole table anyway).
    pub async fn all_rows(&self, def: &Arc<TableDef>) -> Result<Vec<Vec<Value>>> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(def, &mut stats).await?;
        let mut rows = Vec::new();
        let mut cursor = self.scan(&snap, &[]);
        while let Some(page) = self.scan_page(&snap, &mut cursor, &mut stats).await? {
            rows.extend(page.rows.into_iter().map(|r| r.values));
        }
        Ok(rows)
    }

    /// The live rows with these keys.
    pub async fn get(
        &self,
        snap: &Snapshot,
        keys: &[Key],
        stats: &mut ReadStats,
    ) -> Result<Vec<StoredRow>> {
        let mut out = Vec::new();
        let mut sorted: Vec<&Key> = keys.iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut last = None;
        for key in sorted {
            let n = snap.runs.len();
            if let Some((i, c)) = self.newest_with(snap, key, n, &mut last, stats).await?
                && c.op != Op::Delete
            {
                out.push(stored(snap, i, c.values));
            }
        }
        stats.runs_read += snap.runs.len() as u64;
        Ok(out)
    }

    /// The live rows whose `index`ed column holds one of `values`.
    pub async fn by_index(
        &self,
        snap: &Snapshot,
        index: &IndexDef,
        values: &[Value],
        stats: &mut ReadStats,
    ) -> Result<Vec<StoredRow>> {
        let Some(col) = snap.def.index_column(index) else {
            return Ok(Vec::new());
        };
        let wanted: Vec<Key> = values.iter().filter_map(|v| Key::of([v])).collect();
        let is_wanted: HashSet<&Key> = wanted.iter().collect();
        let prune = Prune {
            column: col,
            bound: Bound::In(values.to_vec()),
        };
        let mut candidates = Vec::new();
        for run in &snap.runs {
            match &run.body {
                CommitBody::Rows(changes) => candidates.extend(
                    changes
                        .iter()
                        .filter(|(_, c)| c.op != Op::Delete)
                        .filter(|(_, c)| {
                            Key::of([&c.values[col]]).is_some_and(|k| is_wanted.contains(&k))
                        })
                        .map(|(k, _)| k.clone()),
                ),
                CommitBody::Segment(seg) if !prune.may_match(&snap.def, &seg.header) => {
                    stats.runs_pruned += 1;
                    stats.pruned_bytes += data_bytes(seg);
                }
                CommitBody::Segment(seg) => {
                    let keys = self
                        .index_keys(&snap.def, index, seg, col, &wanted, stats)
                        .await?;
                    candidates.extend(keys);
                }
            }
        }
        let rows = self.get(snap, &candidates, stats).await?;
        Ok(rows
            .into_iter()
            .filter(|r| Key::of([&r.values[col]]).is_some_and(|k| is_wanted.contains(&k)))
            .collect())
    }

    /// Keys whose row in this segment has one of the `wanted` values: from
    /// the segment's file for the index, or, for a segment written before
    /// the index, from its rows.
    async fn index_keys(
        &self,
        def: &TableDef,
        index: &IndexDef,
        seg: &super::log::SegmentRef,
        col: usize,
        wanted: &[Key],
        stats: &mut ReadStats,
    ) -> Result<Vec<Key>> {
        let mut out = Vec::new();
        let Some(file) = seg.header.indexes.get(&index.name) else {
            let wanted: HashSet<&Key> = wanted.iter().collect();
            for batch in self.all_batches(def, seg, stats).await? {
                out.extend(batch.iter().filter_map(|(k, c)| {
                    let v = Key::of([&c.values[col]])?;
                    (c.op != Op::Delete && wanted.contains(&v)).then(|| k.clone())
                }));
            }
            return Ok(out);
        };
        for value in wanted {
            for b in batches_for_value(&file.batches, value) {
                // Entries are sorted by value, then key.
                let entries = self.index_batch(def, index, seg, file, b, stats).await?;
                let from = entries.partition_point(|(v, _)| v < value);
                out.extend(
                    entries[from..]
                        .iter()
                        .take_while(|(v, _)| v == value)
                        .map(|(_, k)| k.clone()),
                );
            }
        }
        Ok(out)
    }

    /// The live rows whose newest version is in one of these commits.
    pub async fn in_commits(
        &self,
        snap: &Snapshot,
        ids: &[Snowflake],
        stats: &mut ReadStats,
    ) -> Result<Vec<StoredRow>> {
        let mut out = Vec::new();
        for (i, run) in snap.runs.iter().enumerate() {
            if !ids.contains(&run.id) {
                continue;
            }
            let batches = match &run.body {
                CommitBody::Rows(c) => vec![Arc::clone(c)],
                CommitBody::Segment(seg) => self.all_batches(&snap.def, seg, stats).await?,
            };
            for (key, _) in batches.iter().flat_map(|b| b.iter()) {
                if let Some((j, newest)) = self.newest(snap, key, snap.runs.len(), stats).await?
                    && j == i
                    && newest.op != Op::Delete
                {
                    out.push(stored(snap, i, newest.values));
                }
            }
        }
        Ok(out)
    }

    /// Start a scan of `snap` restricted by `prune`. A run the bounds
    /// exclude is still read if an older wanted run's key range overlaps
    /// its own: it may hold newer versions (or tombstones) of their rows.
    pub fn scan(&self, snap: &Snapshot, prune: &[Prune]) -> ScanCursor {
        let wanted: Vec<bool> = snap
            .runs
            .iter()
            .map(|r| match &r.body {
                CommitBody::Rows(_) => true,
                CommitBody::Segment(s) => prune.iter().all(|p| p.may_match(&snap.def, &s.header)),
            })
            .collect();
        let ranges: Vec<Option<(Key, Key)>> =
            (0..snap.runs.len()).map(|i| key_range(snap, i)).collect();
        let overlaps = |i: usize, j: usize| match (&ranges[i], &ranges[j]) {
            (Some((lo_i, hi_i)), Some((lo_j, hi_j))) => lo_i <= hi_j && lo_j <= hi_i,
            (None, _) | (_, None) => false,
        };
        let n = snap.runs.len();
        let needed: Vec<bool> = (0..n)
            .map(|i| wanted[i] || (0..i).any(|j| wanted[j] && overlaps(i, j)))
            .collect();
        let todo: Vec<RunPlan> = (0..n)
            .rev()
            .map(|i| RunPlan {
                run: i,
                wanted: wanted[i],
                needed: needed[i],
                check: (i + 1..n).any(|j| needed[j] && overlaps(i, j)),
                record: (0..i).any(|j| needed[j] && overlaps(i, j)),
            })
            .collect();
        let batches: usize = todo
            .iter()
            .filter(|p: &&RunPlan| p.needed)
            .map(|p| match &snap.runs[p.run].body {
                CommitBody::Segment(seg) => seg.header.data.batches.len(),
                CommitBody::Rows(_) => 1,
            })
            .sum();
        let progress = (batches >= PROGRESS_BATCHES).then(|| {
            let what = format!("reading {}", snap.def.qualified_name());
            self.step(&what, batches as u64, None)
        });
        ScanCursor {
            todo,
            batch: 0,
            seen: HashSet::new(),
            arrow: false,
            progress,
        }
    }

    /// The next page of a scan: one run of rows, or one batch of a segment.
    pub async fn scan_page(
        &self,
        snap: &Snapshot,
        cursor: &mut ScanCursor,
        stats: &mut ReadStats,
    ) -> Result<Option<RowPage>> {
        loop {
            let Some(plan) = cursor.todo.first().copied() else {
                return Ok(None);
            };
            if !plan.needed {
                stats.runs_pruned += 1;
                if let CommitBody::Segment(seg) = &snap.runs[plan.run].body {
                    stats.pruned_bytes += data_bytes(seg);
                }
                cursor.todo.remove(0);
                continue;
            }
            if let Some(p) = &cursor.progress {
                p.advance(1);
            }
            let b = cursor.batch;
            let n = match &snap.runs[plan.run].body {
                CommitBody::Segment(seg) => seg.header.data.batches.len(),
                CommitBody::Rows(_) => 1,
            };
            if b + 1 >= n {
                cursor.todo.remove(0);
                cursor.batch = 0;
                stats.runs_read += 1;
            } else {
                cursor.batch += 1;
            }
            if n == 0 {
                return Ok(Some(RowPage::default()));
            }
            if let Some(page) = self.arrow_page(snap, cursor.arrow, plan, b, stats).await? {
                return Ok(Some(page));
            }
            let changes = self.run_page(snap, plan.run, b, stats).await?;
            let mut page = RowPage::default();
            for (key, c) in changes.iter() {
                let fresh = if plan.check || plan.record {
                    let newer = plan.check && cursor.seen.contains(key);
                    if plan.record {
                        cursor.seen.insert(key.clone());
                    }
                    !newer
                } else {
                    true
                };
                if fresh && plan.wanted && c.op != Op::Delete {
                    page.rows.push(stored(snap, plan.run, c.values.clone()));
                }
            }
            return Ok(Some(page));
        }
    }

    /// A segment batch no other run can shadow, handed on as decoded:
    /// its live rows, no conversion to rows and back.
    async fn arrow_page(
        &self,
        snap: &Snapshot,
        allowed: bool,
        plan: RunPlan,
        b: usize,
        stats: &mut ReadStats,
    ) -> Result<Option<RowPage>> {
        let CommitBody::Segment(seg) = &snap.runs[plan.run].body else {
            return Ok(None);
        };
        if !allowed || plan.check || plan.record || !plan.wanted {
            return Ok(None);
        }
        let batch = self.data_arrow(&snap.def, seg, b, stats).await?;
        let live = segment::live_rows(&snap.def, &batch).map_err(|e| {
            crate::error::Error::CatalogDamaged(format!(
                "segment in message {} of {} is unreadable: {e}",
                seg.message.id,
                snap.def.qualified_name()
            ))
        })?;
        Ok(Some(RowPage {
            rows: Vec::new(),
            arrow: Some(ArrowRows {
                batch: live,
                channel_id: snap.def.channel_id,
                message_id: snap.runs[plan.run].id,
            }),
        }))
    }

    /// The changes of run `i` (batch `b` of a segment), keyed.
    async fn run_page(
        &self,
        snap: &Snapshot,
        i: usize,
        b: usize,
        stats: &mut ReadStats,
    ) -> Result<Arc<Vec<(Key, Change)>>> {
        match &snap.runs[i].body {
            CommitBody::Rows(changes) => Ok(Arc::clone(changes)),
            CommitBody::Segment(seg) => self.data_batch(&snap.def, seg, b, true, stats).await,
        }
    }
}

/// The smallest and largest key run `i` holds (`None`: none, or unreadable).
fn key_range(snap: &Snapshot, i: usize) -> Option<(Key, Key)> {
    match &snap.runs[i].body {
        CommitBody::Segment(s) => s.range.clone(),
        CommitBody::Rows(changes) => {
            let lo = changes.iter().map(|(k, _)| k).min()?;
            let hi = changes.iter().map(|(k, _)| k).max()?;
            Some((lo.clone(), hi.clone()))
        }
    }
}

fn stored(snap: &Snapshot, run: usize, values: Vec<Value>) -> StoredRow {
    StoredRow {
        channel_id: snap.def.channel_id,
        message_id: snap.runs[run].id,
        values,
    }
}

/// The bytes of a segment's data file.
fn data_bytes(seg: &super::log::SegmentRef) -> u64 {
    seg.header.data.batches.iter().map(|b| b.len()).sum()
}
