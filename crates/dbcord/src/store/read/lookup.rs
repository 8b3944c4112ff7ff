//! Reading rows by key, by index and by commit: the newest committed
//! version of each row, from the runs of a snapshot (the checkpoint, then
//! each valid commit).
//!
//! A row's newest version is in the newest run that holds its key; a
//! tombstone there means the row is gone. So a key lookup walks the runs
//! from the newest, reading in a segment only the batch whose key range can
//! hold the key. An index lookup collects candidate keys from each run's
//! index file (or its rows) and then looks them up.

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::Snowflake;

use super::batches::batches_for_value;
use super::rows::StoredRow;
use super::scan::{Bound, Prune};
use super::snapshot::Snapshot;
use super::stats::ReadStats;
use crate::error::Result;
use crate::store::codec::commit::Change;
use crate::store::codec::key::Key;
use crate::store::codec::op::Op;
use crate::store::codec::value::Value;
use crate::store::log::commit::{CommitBody, KeyedBatch, SegmentRef};
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

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
                out.push(StoredRow::at(snap, i, c.values));
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
                    stats.pruned_bytes += seg.data_bytes();
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
        seg: &SegmentRef,
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
                    out.push(StoredRow::at(snap, i, newest.values));
                }
            }
        }
        Ok(out)
    }
}
