//! Reading rows by key, by index and by commit: the newest committed
//! version of each row, from the runs of a snapshot.
//!
//! A row's newest version is in the newest run that holds its key; a
//! tombstone there means the row is gone. So a key lookup walks the runs
//! from the newest, reading in a segment only the batch whose key range can
//! hold the key (in a sorted run, of the one segment whose range holds it).
//! An index lookup reads each run's covering index entries for the values:
//! the rows themselves, which stand unless a newer run holds another
//! version of their key (checked only where a newer run's key range could).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use discord_api::Snowflake;

use super::batches::batches_for_value;
use super::cache::DataBatch;
use super::rows::StoredRow;
use super::scan::{Bound, Prune};
use super::snapshot::Snapshot;
use super::stats::ReadStats;
use crate::error::Result;
use crate::store::codec::key::Key;
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::codec::value::Value;
use crate::store::log::commit::SegmentRef;
use crate::store::log::validity::RunBody;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

/// The newest version of a key: which run holds it, in which message, and
/// the change (an insert, upsert or tombstone).
#[derive(Clone, Debug)]
pub struct Found {
    pub run: usize,
    /// The message holding it: a row commit, or a segment's.
    pub message: Snowflake,
    /// The segment holding it, if one does.
    pub segment: Option<Arc<SegmentRef>>,
    pub change: Change,
}

/// The last data batch a lookup read: keys sought in order mostly fall
/// in the batch of the one before.
type LastBatch = Option<(Snowflake, usize, Arc<DataBatch>)>;

/// What an index lookup seeks: the index, its column, the value keys
/// (sorted), and the bound the values put on segments' statistics.
struct Lookup<'a> {
    index: &'a IndexDef,
    col: usize,
    wanted: &'a [Key],
    prune: Prune,
}

/// A row an index lookup found in one run, before newer runs are asked.
struct Candidate {
    key: Key,
    /// The whole row (covering index files, row commits), or `None` (an
    /// index file of the first format names only the key).
    row: Option<Vec<Value>>,
    message: Snowflake,
}

impl Store {
    /// The newest version of `key` in runs older than `upper`.
    pub async fn newest(
        &self,
        snap: &Snapshot,
        key: &Key,
        upper: usize,
        stats: &mut ReadStats,
    ) -> Result<Option<Found>> {
        self.newest_in(snap, key, 0..upper, &mut None, stats).await
    }

    /// The newest version of `key` in the runs of `runs`.
    async fn newest_in(
        &self,
        snap: &Snapshot,
        key: &Key,
        runs: std::ops::Range<usize>,
        last: &mut LastBatch,
        stats: &mut ReadStats,
    ) -> Result<Option<Found>> {
        let upper = runs.end.min(snap.runs.len());
        for i in (runs.start..upper).rev() {
            let run = &snap.runs[i];
            let seg = match &run.body {
                RunBody::Rows(changes) => {
                    if let Some((_, c)) = changes.iter().rev().find(|(k, _)| k == key) {
                        let found = Found {
                            run: i,
                            message: run.id,
                            segment: None,
                            change: c.clone(),
                        };
                        return Ok(Some(found));
                    }
                    continue;
                }
                RunBody::Segment(seg) => Some(seg),
                RunBody::Sorted(sorted) => sorted.segment_for(key),
            };
            let Some(seg) = seg else {
                continue;
            };
            if let Some(change) = self.in_segment(&snap.def, seg, key, last, stats).await? {
                let found = Found {
                    run: i,
                    message: seg.id,
                    segment: Some(Arc::clone(seg)),
                    change,
                };
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// The change of `key` in a segment, reading only the batch that may
    /// hold it (the one of `last` if it is the same).
    async fn in_segment(
        &self,
        def: &TableDef,
        seg: &Arc<SegmentRef>,
        key: &Key,
        last: &mut LastBatch,
        stats: &mut ReadStats,
    ) -> Result<Option<Change>> {
        let Some(b) = seg.batch_for(key) else {
            return Ok(None);
        };
        let batch = match last {
            Some((id, at, batch)) if *id == seg.id && *at == b => Arc::clone(batch),
            _ => {
                let batch = self.data_batch(def, seg, b, false, stats).await?;
                *last = Some((seg.id, b, Arc::clone(&batch)));
                batch
            }
        };
        let rows = self.rows_of(def, seg, b, &batch);
        Ok(rows
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .map(|i| rows[i].1.clone()))
    }

    /// Every live row of the table, in no particular order (snapshot,
    /// export: work that reads the whole table anyway).
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
        let all = 0..snap.runs.len();
        for key in sorted {
            if let Some(found) = self
                .newest_in(snap, key, all.clone(), &mut last, stats)
                .await?
                && found.change.op != Op::Delete
            {
                out.push(StoredRow::new(snap, found.message, found.change.values));
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
        let mut wanted: Vec<Key> = values.iter().filter_map(|v| Key::of([v])).collect();
        wanted.sort();
        wanted.dedup();
        let lookup = Lookup {
            index,
            col,
            wanted: &wanted,
            prune: Prune {
                column: col,
                bound: Bound::In(values.to_vec()),
            },
        };
        // The newest run's candidate of each key.
        let mut best: HashMap<Key, (usize, Candidate)> = HashMap::new();
        for r in (0..snap.runs.len()).rev() {
            for c in self.candidates(snap, r, &lookup, stats).await? {
                best.entry(c.key.clone()).or_insert((r, c));
            }
        }
        let mut found: Vec<(usize, Candidate)> = best.into_values().collect();
        found.sort_by(|a, b| a.1.key.cmp(&b.1.key));
        let is_wanted: HashSet<&Key> = wanted.iter().collect();
        let mut out = Vec::new();
        let mut last = None;
        for (r, c) in found {
            let row = match c.row {
                // A newer run's version of the key, if any, is newest.
                Some(row) => match self
                    .newest_in(snap, &c.key, r + 1..snap.runs.len(), &mut last, stats)
                    .await?
                {
                    Some(newer) => live(newer),
                    None => Some((c.message, row)),
                },
                None => {
                    let all = 0..snap.runs.len();
                    self.newest_in(snap, &c.key, all, &mut last, stats)
                        .await?
                        .and_then(live)
                }
            };
            if let Some((message, row)) = row
                && Key::of([&row[col]]).is_some_and(|k| is_wanted.contains(&k))
            {
                out.push(StoredRow::new(snap, message, row));
            }
        }
        stats.runs_read += snap.runs.len() as u64;
        Ok(out)
    }

    /// The rows of run `r` whose indexed column may hold a wanted value.
    async fn candidates(
        &self,
        snap: &Snapshot,
        r: usize,
        lookup: &Lookup<'_>,
        stats: &mut ReadStats,
    ) -> Result<Vec<Candidate>> {
        let (index, col, wanted) = (lookup.index, lookup.col, lookup.wanted);
        let run = &snap.runs[r];
        let holds = |c: &Change| {
            c.op != Op::Delete
                && Key::of([&c.values[col]]).is_some_and(|k| wanted.binary_search(&k).is_ok())
        };
        match &run.body {
            RunBody::Rows(changes) => Ok(changes
                .iter()
                .filter(|(_, c)| holds(c))
                .map(|(k, c)| Candidate {
                    key: k.clone(),
                    row: Some(c.values.clone()),
                    message: run.id,
                })
                .collect()),
            RunBody::Sorted(sorted) if sorted.index_segments(&snap.def, index).is_some() => {
                let mut out = Vec::new();
                for iseg in sorted.index_segments(&snap.def, index).unwrap_or_default() {
                    if !wanted.iter().any(|v| may_hold_value(iseg, v)) {
                        continue;
                    }
                    let entries = self
                        .index_file_entries(snap, iseg, &iseg.header.data, index, wanted, stats)
                        .await?;
                    out.extend(entries.into_iter().map(|(key, row)| Candidate {
                        message: sorted.segment_for(&key).map_or(run.id, |s| s.id),
                        key,
                        row,
                    }));
                }
                Ok(out)
            }
            body => {
                let mut out = Vec::new();
                for seg in body.segments() {
                    out.extend(self.segment_candidates(snap, seg, lookup, stats).await?);
                }
                Ok(out)
            }
        }
    }

    /// The rows of one segment whose indexed column may hold one of
    /// `wanted`: from its own file for the index, or (a segment written
    /// before the index) from its rows, unless its statistics rule it out.
    async fn segment_candidates(
        &self,
        snap: &Snapshot,
        seg: &Arc<SegmentRef>,
        lookup: &Lookup<'_>,
        stats: &mut ReadStats,
    ) -> Result<Vec<Candidate>> {
        let def = &snap.def;
        let (index, col, wanted) = (lookup.index, lookup.col, lookup.wanted);
        if !lookup.prune.may_match(def, &seg.header) {
            stats.runs_pruned += 1;
            stats.pruned_bytes += seg.data_bytes();
            return Ok(Vec::new());
        }
        let candidate = |key: Key, row| Candidate {
            key,
            row,
            message: seg.id,
        };
        if let Some(file) = seg.index_file(index) {
            let entries = self
                .index_file_entries(snap, seg, file, index, wanted, stats)
                .await?;
            return Ok(entries.into_iter().map(|(k, r)| candidate(k, r)).collect());
        }
        let mut out = Vec::new();
        for (i, batch) in self.all_batches(def, seg, stats).await?.iter().enumerate() {
            for (k, c) in self.rows_of(def, seg, i, batch) {
                let value = Key::of([&c.values[col]]);
                if c.op != Op::Delete && value.is_some_and(|v| wanted.binary_search(&v).is_ok()) {
                    out.push(candidate(k.clone(), Some(c.values.clone())));
                }
            }
        }
        Ok(out)
    }

    /// The (key, row) of the entries of an index file whose value is one of
    /// `wanted`: the batches that may hold each value, read by range.
    async fn index_file_entries(
        &self,
        snap: &Snapshot,
        seg: &Arc<SegmentRef>,
        file: &crate::store::codec::segment::FileDir,
        index: &IndexDef,
        wanted: &[Key],
        stats: &mut ReadStats,
    ) -> Result<Vec<(Key, Option<Vec<Value>>)>> {
        let mut out = Vec::new();
        for value in wanted {
            for b in batches_for_value(&file.batches, value) {
                let entries = self
                    .index_batch(&snap.def, index, seg, file, b, stats)
                    .await?;
                // Entries are sorted by value, then key.
                let from = entries.partition_point(|e| e.value < *value);
                out.extend(
                    entries[from..]
                        .iter()
                        .take_while(|e| e.value == *value)
                        .map(|e| (e.key.clone(), e.row.clone())),
                );
            }
        }
        Ok(out)
    }

    /// The live rows whose newest version is in one of these messages (a
    /// row commit, a commit's segment, or a staged segment).
    pub async fn in_commits(
        &self,
        snap: &Snapshot,
        ids: &[Snowflake],
        stats: &mut ReadStats,
    ) -> Result<Vec<StoredRow>> {
        let mut keys: Vec<Key> = Vec::new();
        for run in &snap.runs {
            if let RunBody::Rows(changes) = &run.body
                && ids.contains(&run.id)
            {
                keys.extend(changes.iter().map(|(k, _)| k.clone()));
            }
            for seg in run.body.segments().iter().filter(|s| ids.contains(&s.id)) {
                for (i, batch) in self
                    .all_batches(&snap.def, seg, stats)
                    .await?
                    .iter()
                    .enumerate()
                {
                    let rows = self.rows_of(&snap.def, seg, i, batch);
                    keys.extend(rows.iter().map(|(k, _)| k.clone()));
                }
            }
        }
        let rows = self.get(snap, &keys, stats).await?;
        Ok(rows
            .into_iter()
            .filter(|r| ids.contains(&r.message_id))
            .collect())
    }
}

/// The live row a newest version is, with its message.
fn live(found: Found) -> Option<(Snowflake, Vec<Value>)> {
    (found.change.op != Op::Delete).then_some((found.message, found.change.values))
}

/// Whether an index segment's (value, key) range may hold entries of
/// `value`: entries of a value are the keys that start with it.
fn may_hold_value(seg: &SegmentRef, value: &Key) -> bool {
    let Some((lo, hi)) = &seg.range else {
        return false;
    };
    hi >= value && (lo <= value || lo.0.starts_with(&value.0))
}
