//! What a read will cost, predicted before it runs from the table's log as
//! this process last read it (for EXPLAIN, and for choosing between an
//! index and a scan). The log may have grown since: then the read also
//! pages through what is new.

use super::access::Access;
use super::batches::{batches_for_value, full_reads};
use super::scan::{UnitBody, plan, units};
use super::snapshot::Snapshot;
use crate::store::codec::key::Key;
use crate::store::codec::segment::FileDir;
use crate::store::log::commit::SegmentRef;
use crate::store::log::validity::{RunBody, runs_of};
use crate::store::schema::TableDef;
use crate::store::state::Store;

/// A read's predicted cost on Discord.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prediction {
    /// Whether this process has read the table's log before (else nothing
    /// but the one request that lists channels is known).
    pub known: bool,
    /// CDN range reads at most, their bytes, and segments the filter's
    /// bounds skip.
    pub cdn_reads: u64,
    pub cdn_bytes: u64,
    pub skipped: u64,
    /// What a full scan would read: range reads and bytes, of how many
    /// segments.
    pub full_reads: u64,
    pub full_bytes: u64,
    pub full_segments: u64,
    /// Commits after the checkpoint, read from history already.
    pub commits: u64,
}

impl std::fmt::Display for Prediction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.known {
            return write!(
                f,
                "1 request, then the table's history (not read by this process yet)"
            );
        }
        write!(
            f,
            "1 request (no history page unless the table changed), at most {} CDN reads",
            self.cdn_reads
        )?;
        if self.skipped > 0 {
            write!(f, ", {} segments skipped", self.skipped)?;
        }
        Ok(())
    }
}

impl Store {
    /// The cost of reading `def` along `access`, from the log as last read
    /// (void commits counted too: the prediction is an upper bound).
    pub fn predict(&self, def: &TableDef, access: &Access) -> Prediction {
        let log = self.log_of(def.channel_id);
        let snap = Snapshot {
            def: std::sync::Arc::new(def.clone()),
            runs: log
                .checkpoint
                .iter()
                .chain(&log.commits)
                .flat_map(runs_of)
                .collect(),
            synced: log.synced,
            base: log.synced,
        };
        let mut p = Prediction {
            known: log.synced.is_some(),
            commits: log.commits.len() as u64,
            ..Prediction::default()
        };
        let all = units(&snap);
        for u in &all {
            if let UnitBody::Segment(s) = &u.body {
                p.full_reads += full_reads(&s.header.data);
                p.full_bytes += s.data_bytes();
                p.full_segments += 1;
            }
        }
        match access {
            Access::Scan(prune) => {
                let mut planned = all;
                plan(def, &mut planned, prune);
                for u in &planned {
                    match (&u.body, u.needed) {
                        (UnitBody::Segment(_), false) => p.skipped += 1,
                        (UnitBody::Segment(s), true) => add_full(&mut p, s),
                        (UnitBody::Rows(_), _) => {}
                    }
                }
            }
            Access::Commits(ids) => {
                for u in all.iter().filter(|u| ids.contains(&u.message)) {
                    if let UnitBody::Segment(s) = &u.body {
                        add_full(&mut p, s);
                    }
                }
            }
            Access::Keys(keys) => {
                for key in keys {
                    add_key(&mut p, &snap, key);
                }
            }
            Access::Index { index, values } => {
                let wanted: Vec<Key> = values.iter().filter_map(|v| Key::of([v])).collect();
                for run in &snap.runs {
                    if let RunBody::Sorted(r) = &run.body
                        && let Some(segs) = r.index_segments(def, index)
                    {
                        for s in segs {
                            add_index_reads(&mut p, &s.header.data, &wanted);
                        }
                        continue;
                    }
                    // Segments with a file of the index read it; those
                    // written before the index are read whole.
                    for s in run.body.segments() {
                        match s.index_file(index) {
                            Some(file) => add_index_reads(&mut p, file, &wanted),
                            None => add_full(&mut p, s),
                        }
                    }
                }
            }
        }
        p
    }
}

/// Add the reads of an index file's batches that may hold `wanted`.
fn add_index_reads(p: &mut Prediction, file: &FileDir, wanted: &[Key]) {
    for v in wanted {
        for b in batches_for_value(&file.batches, v) {
            p.cdn_reads += 1;
            p.cdn_bytes += file.batches[b].len();
        }
    }
}

/// Add a whole segment's data reads to `p`.
fn add_full(p: &mut Prediction, s: &SegmentRef) {
    p.cdn_reads += full_reads(&s.header.data);
    p.cdn_bytes += s.data_bytes();
}

/// Add a key lookup's reads: the batch of each run that may hold the key.
fn add_key(p: &mut Prediction, snap: &Snapshot, key: &Key) {
    for run in &snap.runs {
        let seg = match &run.body {
            RunBody::Rows(_) => None,
            RunBody::Segment(s) => Some(s),
            RunBody::Sorted(r) => r.segment_for(key),
        };
        if let Some(b) = seg.and_then(|s| Some((s, s.batch_for(key)?))) {
            p.cdn_reads += 1;
            p.cdn_bytes += b.0.header.data.batches[b.1].len();
        }
    }
}
