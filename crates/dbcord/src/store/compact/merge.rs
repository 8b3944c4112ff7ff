//! A k-way merge of sorted runs: the newest change of each key, in key
//! order, streamed. Each input holds at most the batches of one range read
//! at a time, so a merge of a table of any size runs in bounded memory.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::error::Result;
use crate::store::codec::key::Key;
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::log::commit::SegmentRef;
use crate::store::read::batches::{READ_AHEAD, read_span_within};
use crate::store::read::cache::DataBatch;
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;

/// One input of a merge: changes in key order.
pub(crate) enum Source {
    /// Changes in memory, sorted by key, each key once.
    Rows(VecDeque<(Key, Change)>),
    /// Segments in key order (disjoint ranges), read a span at a time.
    Segments(SegmentStream),
}

/// Where a merge is in a list of segments.
pub(crate) struct SegmentStream {
    segments: Vec<Arc<SegmentRef>>,
    /// The segment and batch to read next.
    seg: usize,
    batch: usize,
    /// Rows read and not yet merged.
    rows: VecDeque<(Key, Change)>,
    /// Batches read ahead and not yet decoded into `rows`.
    batches: VecDeque<(usize, Arc<DataBatch>)>,
}

impl Source {
    pub fn rows(mut rows: Vec<(Key, Change)>) -> Source {
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Source::Rows(rows.into())
    }

    pub fn segments(segments: Vec<Arc<SegmentRef>>) -> Source {
        Source::Segments(SegmentStream {
            segments,
            seg: 0,
            batch: 0,
            rows: VecDeque::new(),
            batches: VecDeque::new(),
        })
    }
}

/// Compressed bytes all of a merge's sources read ahead together.
const MERGE_READ_AHEAD: u64 = 32 << 20;

/// A merge of sources, the later ones newer: of each key, the change of
/// the newest source that has it.
pub(crate) struct Merge {
    def: Arc<TableDef>,
    sources: Vec<Source>,
    /// Leave tombstones out (a merge into the bottom run: nothing older
    /// remains for them to hide).
    drop_tombstones: bool,
    /// What reading the sources cost.
    pub stats: ReadStats,
}

impl Merge {
    pub fn new(def: Arc<TableDef>, sources: Vec<Source>, drop_tombstones: bool) -> Merge {
        Merge {
            def,
            sources,
            drop_tombstones,
            stats: ReadStats::default(),
        }
    }

    /// The next key's newest change, or `None` when every source is done.
    pub async fn next(&mut self, store: &Store) -> Result<Option<(Key, Change)>> {
        loop {
            for i in 0..self.sources.len() {
                self.fill(store, i).await?;
            }
            let Some(min) = self.sources.iter().filter_map(head).min().cloned() else {
                return Ok(None);
            };
            let mut newest = None;
            for source in &mut self.sources {
                if head(source) == Some(&min) {
                    newest = pop(source);
                }
            }
            let (key, change) = newest.expect("a source held the smallest key");
            if self.drop_tombstones && change.op == Op::Delete {
                continue;
            }
            return Ok(Some((key, change)));
        }
    }

    /// Make source `i` hold a row if it has any left.
    async fn fill(&mut self, store: &Store, i: usize) -> Result<()> {
        // Every source reads ahead, within one budget for them all: a
        // merge of a hundred segments holds a hundred spans at once.
        let budget = (MERGE_READ_AHEAD / self.sources.len().max(1) as u64).min(READ_AHEAD);
        let Source::Segments(s) = &mut self.sources[i] else {
            return Ok(());
        };
        while s.rows.is_empty() {
            // Decoded for this merge alone: the cache does not keep it.
            if let Some((_, batch)) = s.batches.pop_front() {
                s.rows.extend(batch.rows(&self.def).iter().cloned());
                continue;
            }
            let Some(seg) = s.segments.get(s.seg) else {
                return Ok(());
            };
            let dirs = &seg.header.data.batches;
            if s.batch >= dirs.len() {
                s.seg += 1;
                s.batch = 0;
                continue;
            }
            let span = read_span_within(dirs, s.batch, budget);
            let read = store
                .batches_once(&self.def, seg, span.clone(), &mut self.stats)
                .await?;
            s.batch = span.end;
            s.batches.extend(span.zip(read));
        }
        Ok(())
    }
}

fn head(source: &Source) -> Option<&Key> {
    match source {
        Source::Rows(rows) => rows.front().map(|(k, _)| k),
        Source::Segments(s) => s.rows.front().map(|(k, _)| k),
    }
}

fn pop(source: &mut Source) -> Option<(Key, Change)> {
    match source {
        Source::Rows(rows) => rows.pop_front(),
        Source::Segments(s) => s.rows.pop_front(),
    }
}
