//! Scanning a table: every live row of a snapshot, a page at a time.
//!
//! A scan walks the runs from the newest, remembering the keys it has
//! passed, so an older version is never returned; runs that the filter's
//! bounds exclude (by their statistics) are skipped unless an older run
//! needs their keys.

use std::collections::HashSet;
use std::sync::Arc;

use super::batches::corrupt;
use super::rows::{ArrowRows, RowPage, StoredRow};
use super::snapshot::Snapshot;
use super::stats::ReadStats;
use crate::error::Result;
use crate::store::codec::commit::Change;
use crate::store::codec::key::Key;
use crate::store::codec::op::Op;
use crate::store::codec::segment::{self, SegmentHeader};
use crate::store::codec::value::Value;
use crate::store::log::commit::CommitBody;
use crate::store::progress::Step;
use crate::store::schema::TableDef;
use crate::store::state::Store;

/// Batches a scan reads before it shows its progress.
const PROGRESS_BATCHES: usize = 8;

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
    progress: Option<Step>,
}

impl ScanCursor {
    /// Let segment batches that need no resolution come as Arrow.
    pub fn with_arrow(mut self) -> Self {
        self.arrow = true;
        self
    }
}

impl Store {
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
                    stats.pruned_bytes += seg.data_bytes();
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
                    page.rows
                        .push(StoredRow::at(snap, plan.run, c.values.clone()));
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
        let live = segment::live_rows(&snap.def, &batch).map_err(|e| corrupt(&snap.def, seg, e))?;
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
