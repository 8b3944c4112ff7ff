//! What a read will cost, predicted before it runs from the table's log as
//! this process last read it (for EXPLAIN). The log may have grown since:
//! then the read also pages through what is new.

use super::access::Access;
use super::batches::READ_AHEAD;
use crate::store::codec::segment::BatchDir;
use crate::store::log::commit::{CommitBody, SegmentRef};
use crate::store::schema::TableDef;
use crate::store::state::Store;

/// A read's predicted cost on Discord.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prediction {
    /// Whether this process has read the table's log before (else nothing
    /// but the one request that lists channels is known).
    pub known: bool,
    /// CDN range reads at most, and segments the filter's bounds skip.
    pub cdn_reads: u64,
    pub skipped: u64,
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
    /// The cost of reading `def` along `access`, from the log as last read.
    pub fn predict(&self, def: &TableDef, access: &Access) -> Prediction {
        let log = self.log_of(def.channel_id);
        let mut p = Prediction {
            known: log.synced.is_some(),
            commits: log.commits.len() as u64,
            ..Prediction::default()
        };
        let segments = log
            .checkpoint
            .iter()
            .chain(&log.commits)
            .filter_map(|c| match &c.body {
                CommitBody::Segment(s) => Some(s),
                CommitBody::Rows(_) => None,
            });
        for seg in segments {
            match access {
                Access::Scan(prune) if prune.iter().any(|b| !b.may_match(def, &seg.header)) => {
                    p.skipped += 1;
                }
                Access::Scan(_) | Access::Commits(_) => p.cdn_reads += full_reads(seg),
                Access::Keys(keys) => {
                    p.cdn_reads += keys.iter().filter(|k| seg.batch_for(k).is_some()).count() as u64
                }
                // The index's batches for each value, then the rows' batches.
                Access::Index { values, .. } => p.cdn_reads += 2 * values.len() as u64,
            }
        }
        p
    }
}

/// Range reads that fetch a whole segment's data (8 MiB at a time).
fn full_reads(seg: &SegmentRef) -> u64 {
    let bytes: u64 = seg.header.data.batches.iter().map(BatchDir::len).sum();
    bytes.div_ceil(READ_AHEAD).max(1)
}
