//! Scanning a table: every live row of a snapshot, a page at a time.
//!
//! A snapshot's runs break into *units*: a row commit's rows, or one
//! segment. A scan walks the units from the newest, remembering the keys
//! it has passed where an older unit's key range overlaps, so an older
//! version is never returned; units that the filter's bounds exclude (by
//! their statistics) are skipped unless an older unit needs their keys. A
//! segment that nothing overlaps (every one of a compacted table's) goes to
//! DataFusion batch by batch as decoded Arrow, and with read-ahead on, the
//! range reads of the batches to come run while the current one is used.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use discord_api::Snowflake;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesOrdered;

use super::batches::{corrupt, read_span};
use super::cache::DataBatch;
use super::rows::{ArrowRows, RowPage, StoredRow};
use super::snapshot::Snapshot;
use super::stats::ReadStats;
use crate::error::Result;
use crate::store::codec::batch::live_rows;
use crate::store::codec::key::Key;
use crate::store::codec::op::Op;
use crate::store::codec::segment::SegmentHeader;
use crate::store::codec::value::Value;
use crate::store::log::commit::{KeyedBatch, SegmentRef};
use crate::store::log::validity::RunBody;
use crate::store::progress::Step;
use crate::store::schema::TableDef;
use crate::store::state::Store;

/// Batches a scan reads before it shows its progress.
const PROGRESS_BATCHES: usize = 8;

/// A bound a filter puts on one column: segments whose statistics lie
/// outside it hold no matching row.
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
        if stats.nulls >= header.live() {
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

/// One piece of a snapshot: a row commit's rows, or one segment.
#[derive(Clone, Debug)]
pub(crate) enum UnitBody {
    Rows(KeyedBatch),
    Segment(Arc<SegmentRef>),
}

/// A unit and how a scan treats it.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    /// The message holding its rows: the row commit, or the segment's.
    pub message: Snowflake,
    pub body: UnitBody,
    range: Option<(Key, Key)>,
    /// Its rows may match the bounds.
    pub wanted: bool,
    /// It must be read: wanted, or it may shadow an older wanted unit.
    pub needed: bool,
    /// A newer needed unit overlaps its keys: skip the keys seen there.
    check: bool,
    /// An older needed unit overlaps its keys: remember them.
    record: bool,
}

impl Unit {
    /// Rows pass through untouched: nothing newer or older overlaps.
    fn alone(&self) -> bool {
        !self.check && !self.record
    }

    fn batches(&self) -> usize {
        match &self.body {
            UnitBody::Rows(_) => 1,
            UnitBody::Segment(s) => s.header.data.batches.len(),
        }
    }
}

/// The units of a snapshot, oldest first (a run's in its key order).
pub(crate) fn units(snap: &Snapshot) -> Vec<Unit> {
    let unit = |message, body, range| Unit {
        message,
        body,
        range,
        wanted: true,
        needed: true,
        check: false,
        record: false,
    };
    let mut out = Vec::new();
    for run in &snap.runs {
        match &run.body {
            RunBody::Rows(rows) => {
                let range = rows_range(rows);
                out.push(unit(run.id, UnitBody::Rows(Arc::clone(rows)), range));
            }
            body => out.extend(body.segments().iter().map(|s| {
                let range = s.range.clone();
                unit(s.id, UnitBody::Segment(Arc::clone(s)), range)
            })),
        }
    }
    out
}

/// Decide for each unit whether it is wanted, needed, checked and
/// recorded. A unit the bounds exclude is still needed if an older wanted
/// unit's key range overlaps its own: it may hold newer versions (or
/// tombstones) of their rows.
pub(crate) fn plan(def: &TableDef, units: &mut [Unit], prune: &[Prune]) {
    for u in units.iter_mut() {
        u.wanted = match &u.body {
            UnitBody::Rows(_) => true,
            UnitBody::Segment(s) => prune.iter().all(|p| p.may_match(def, &s.header)),
        };
    }
    let overlaps = |a: &Unit, b: &Unit| match (&a.range, &b.range) {
        (Some((lo_a, hi_a)), Some((lo_b, hi_b))) => lo_a <= hi_b && lo_b <= hi_a,
        _ => false,
    };
    let n = units.len();
    let overlap: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| j != i && overlaps(&units[i], &units[j]))
                .collect()
        })
        .collect();
    let needed: Vec<bool> = (0..n)
        .map(|i| units[i].wanted || overlap[i].iter().any(|&j| j < i && units[j].wanted))
        .collect();
    for (i, u) in units.iter_mut().enumerate() {
        u.needed = needed[i];
        u.check = overlap[i].iter().any(|&j| j > i && needed[j]);
        u.record = overlap[i].iter().any(|&j| j < i && needed[j]);
    }
}

/// The smallest and largest key of a row commit's rows.
fn rows_range(rows: &KeyedBatch) -> Option<(Key, Key)> {
    let lo = rows.iter().map(|(k, _)| k).min()?;
    let hi = rows.iter().map(|(k, _)| k).max()?;
    Some((lo.clone(), hi.clone()))
}

/// What a scan reads next: a row commit's rows, or a span of a segment's
/// batches that one range read fetches.
#[derive(Clone, Debug)]
struct Read {
    unit: usize,
    span: std::ops::Range<usize>,
}

type Fetched = Result<(Vec<Arc<DataBatch>>, ReadStats)>;

/// Where a scan is.
pub struct ScanCursor {
    /// The units, oldest first, as planned.
    units: Vec<Unit>,
    /// What is still to be read, in order (newest unit first).
    reads: VecDeque<Read>,
    /// Batches read and not yet handed on: (unit, batch, batch).
    ready: VecDeque<(usize, usize, Option<Arc<DataBatch>>)>,
    /// Range reads started ahead of need, in the order of `reads`.
    ahead: FuturesOrdered<BoxFuture<'static, Fetched>>,
    /// How many reads may run ahead, and the store they run on.
    read_ahead: Option<(usize, Arc<Store>, Arc<TableDef>)>,
    /// How many may run ahead now: one at first, doubling with each read
    /// used, so that a scan a LIMIT ends early reads little it never uses.
    depth: usize,
    /// Keys of units read so far that older units may also hold.
    seen: HashSet<Key>,
    /// Whether pages may come as Arrow ([`RowPage::arrow`]).
    arrow: bool,
    /// The progress of a scan of many batches.
    progress: Option<Step>,
    /// Units skipped, not yet counted in a caller's statistics.
    pruned: Option<(u64, u64)>,
}

impl std::fmt::Debug for ScanCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanCursor")
            .field("reads", &self.reads.len())
            .field("ahead", &self.ahead.len())
            .finish_non_exhaustive()
    }
}

impl ScanCursor {
    /// Let segment batches that need no resolution come as Arrow.
    pub fn with_arrow(mut self) -> Self {
        self.arrow = true;
        self
    }

    /// Let up to `depth` range reads run ahead of the page being used.
    pub fn with_read_ahead(mut self, store: Arc<Store>, def: Arc<TableDef>, depth: usize) -> Self {
        if depth > 0 {
            self.read_ahead = Some((depth, store, def));
        }
        self
    }

    /// Start range reads until `depth` are under way.
    fn start_reads(&mut self, queued: &mut usize) {
        let Some((most, store, def)) = &self.read_ahead else {
            return;
        };
        self.depth = (self.depth * 2).clamp(1, *most);
        while self.ahead.len() < self.depth && *queued < self.reads.len() {
            let read = self.reads[*queued].clone();
            *queued += 1;
            let UnitBody::Segment(seg) = &self.units[read.unit].body else {
                self.ahead
                    .push_back(Box::pin(async { Ok((Vec::new(), ReadStats::default())) }));
                continue;
            };
            let (store, def, seg) = (Arc::clone(store), Arc::clone(def), Arc::clone(seg));
            self.ahead.push_back(Box::pin(async move {
                let mut stats = ReadStats::default();
                let batches = store
                    .span_batches(&def, &seg, read.span, &mut stats)
                    .await?;
                Ok((batches, stats))
            }));
        }
    }
}

impl Store {
    /// Start a scan of `snap` restricted by `prune`.
    pub fn scan(&self, snap: &Snapshot, prune: &[Prune]) -> ScanCursor {
        let mut units = units(snap);
        plan(&snap.def, &mut units, prune);
        let mut reads = VecDeque::new();
        let (mut skipped, mut skipped_bytes) = (0, 0);
        for (i, u) in units.iter().enumerate().rev() {
            if !u.needed {
                skipped += 1;
                if let UnitBody::Segment(s) = &u.body {
                    skipped_bytes += s.data_bytes();
                }
                continue;
            }
            match &u.body {
                UnitBody::Rows(_) => reads.push_back(Read {
                    unit: i,
                    span: 0..1,
                }),
                UnitBody::Segment(s) => {
                    let mut b = 0;
                    while b < s.header.data.batches.len() {
                        let span = read_span(&s.header.data.batches, b, true);
                        b = span.end;
                        reads.push_back(Read { unit: i, span });
                    }
                }
            }
        }
        let batches: usize = units.iter().filter(|u| u.needed).map(Unit::batches).sum();
        let progress = (batches >= PROGRESS_BATCHES).then(|| {
            let what = format!("reading {}", snap.def.qualified_name());
            self.step(&what, batches as u64, None)
        });
        ScanCursor {
            units,
            reads,
            ready: VecDeque::new(),
            ahead: FuturesOrdered::new(),
            read_ahead: None,
            depth: 0,
            seen: HashSet::new(),
            arrow: false,
            progress,
            pruned: Some((skipped, skipped_bytes)),
        }
    }

    /// The batches of `span` of a segment: from the cache where it has
    /// them, the rest in one range read each run of missing ones.
    pub(crate) async fn span_batches(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        span: std::ops::Range<usize>,
        stats: &mut ReadStats,
    ) -> Result<Vec<Arc<DataBatch>>> {
        let mut out = Vec::with_capacity(span.len());
        let mut b = span.start;
        while b < span.end {
            if let Some(hit) = self.batches.data(&(seg.id, seg.header.data.file, b)) {
                stats.cached_batches += 1;
                out.push(hit);
                b += 1;
                continue;
            }
            let missing = b..span.end;
            out.extend(self.load_data(def, seg, missing, stats).await?);
            b = span.end;
        }
        Ok(out)
    }

    /// The next page of a scan: one row commit's rows, or one batch of a
    /// segment.
    pub async fn scan_page(
        &self,
        snap: &Snapshot,
        cursor: &mut ScanCursor,
        stats: &mut ReadStats,
    ) -> Result<Option<RowPage>> {
        if let Some((skipped, bytes)) = cursor.pruned.take() {
            stats.runs_pruned += skipped;
            stats.pruned_bytes += bytes;
        }
        if cursor.ready.is_empty() && !self.next_read(snap, cursor, stats).await? {
            return Ok(None);
        }
        let (u, b, batch) = cursor.ready.pop_front().expect("a batch is ready");
        if let Some(p) = &cursor.progress {
            p.advance(1);
        }
        let unit = &cursor.units[u];
        if b + 1 >= unit.batches() {
            stats.runs_read += 1;
        }
        let page = match (&unit.body, batch) {
            (UnitBody::Rows(rows), _) => self.rows_page(snap, cursor, u, rows.as_ref().clone()),
            (UnitBody::Segment(seg), Some(batch)) => {
                if cursor.arrow && unit.alone() && unit.wanted {
                    let live = live_rows(&snap.def, &batch.arrow)
                        .map_err(|e| corrupt(&snap.def, seg, e))?;
                    RowPage {
                        rows: Vec::new(),
                        arrow: Some(ArrowRows {
                            batch: live,
                            channel_id: snap.def.channel_id,
                            message_id: seg.id,
                        }),
                    }
                } else {
                    let rows = self.rows_of(&snap.def, seg, b, &batch).to_vec();
                    self.rows_page(snap, cursor, u, rows)
                }
            }
            (UnitBody::Segment(_), None) => RowPage::default(),
        };
        Ok(Some(page))
    }

    /// Read what comes next into `ready`; false at the end of the scan.
    async fn next_read(
        &self,
        snap: &Snapshot,
        cursor: &mut ScanCursor,
        stats: &mut ReadStats,
    ) -> Result<bool> {
        let Some(read) = cursor.reads.front().cloned() else {
            return Ok(false);
        };
        let mut queued = cursor.ahead.len();
        cursor.start_reads(&mut queued);
        let batches = match (&cursor.units[read.unit].body, cursor.ahead.is_empty()) {
            (UnitBody::Rows(_), true) => Vec::new(),
            (UnitBody::Segment(seg), true) => {
                let seg = Arc::clone(seg);
                self.span_batches(&snap.def, &seg, read.span.clone(), stats)
                    .await?
            }
            (_, false) => {
                let (batches, read_stats) = cursor.ahead.next().await.expect("a read ahead")?;
                *stats += read_stats;
                batches
            }
        };
        cursor.reads.pop_front();
        match &cursor.units[read.unit].body {
            UnitBody::Rows(_) => cursor.ready.push_back((read.unit, 0, None)),
            UnitBody::Segment(_) => cursor.ready.extend(
                read.span
                    .zip(batches)
                    .map(|(b, batch)| (read.unit, b, Some(batch))),
            ),
        }
        Ok(true)
    }

    /// A page of `rows` of unit `u`: what is live, newest, and wanted.
    fn rows_page(
        &self,
        snap: &Snapshot,
        cursor: &mut ScanCursor,
        u: usize,
        rows: Vec<(Key, crate::store::codec::op::Change)>,
    ) -> RowPage {
        let unit = &cursor.units[u];
        let (check, record, wanted, message) = (unit.check, unit.record, unit.wanted, unit.message);
        let mut page = RowPage::default();
        for (key, c) in rows {
            let newer = check && cursor.seen.contains(&key);
            if record {
                cursor.seen.insert(key);
            }
            if !newer && wanted && c.op != Op::Delete {
                page.rows.push(StoredRow::new(snap, message, c.values));
            }
        }
        page
    }
}
