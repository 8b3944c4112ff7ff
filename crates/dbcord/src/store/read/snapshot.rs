//! A statement's read snapshot: a table's log brought up to date (no
//! request if the channel has not changed since this process last read
//! it), and the runs that count.

use std::sync::Arc;

use discord_api::Snowflake;

use super::stats::ReadStats;
use crate::error::Result;
use crate::store::log::sync;
use crate::store::log::table_log::TableLog;
use crate::store::log::validity::{Run, RunBody};
use crate::store::schema::TableDef;
use crate::store::state::Store;
use crate::store::txn::point_log::Upto;

/// A table as one statement reads it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub def: Arc<TableDef>,
    pub runs: Vec<Run>,
    /// The newest message read.
    pub synced: Option<Snowflake>,
    /// The base of what the statement writes: [`Snapshot::synced`], or
    /// just before the oldest transaction part the reader does not count
    /// (see `Fates::base`).
    pub base: Option<Snowflake>,
}

impl Store {
    /// The table as it is now, every commit point posted so far counted:
    /// what a commit's checks, a compaction and the admin functions read.
    pub async fn snapshot(&self, def: &Arc<TableDef>, stats: &mut ReadStats) -> Result<Snapshot> {
        self.snapshot_upto(def, Upto::Latest, stats).await
    }

    /// The table as it is now, counting the commit points `upto` admits.
    pub(crate) async fn snapshot_upto(
        &self,
        def: &Arc<TableDef>,
        upto: Upto,
        stats: &mut ReadStats,
    ) -> Result<Snapshot> {
        let log = self.current_log(def, stats).await?;
        let fates = self.fates(&log, upto).await?;
        let runs = self.runs(def, &log, &fates, stats).await?;
        Ok(Snapshot {
            def: Arc::clone(def),
            runs,
            synced: log.synced,
            base: fates.base(&log),
        })
    }

    /// The table's log brought up to date: no request if the channel has
    /// not changed since this process last read it.
    pub(crate) async fn current_log(
        &self,
        def: &Arc<TableDef>,
        stats: &mut ReadStats,
    ) -> Result<Arc<TableLog>> {
        let known = self.log_of(def.channel_id);
        let head = self.head(def.channel_id);
        if matches!(head, Some(h) if known.synced >= h) {
            return Ok(known);
        }
        let mut fresh = sync::sync(&self.discord, def, &known).await?;
        stats.history_requests += fresh.requests;
        stats.cdn_requests += fresh.cdn.0;
        stats.cdn_bytes += fresh.cdn.1;
        // Staged segments met on the way hold the attachments a read
        // of them needs: keep their messages.
        let staged = std::mem::take(&mut fresh.staged);
        self.parts.keep(staged, self.clock.now_ms());
        let fresh = Arc::new(fresh);
        self.cache_log(def.channel_id, Arc::clone(&fresh));
        Ok(fresh)
    }
}

impl Snapshot {
    /// The table's live rows when the runs' headers tell them exactly: every
    /// run a sorted run (a manifest's, or a staged statement's) and no two
    /// segments' key ranges overlapping, so no row can replace or delete a
    /// row of another segment. `None` otherwise: a count then reads rows.
    pub fn exact_rows(&self) -> Option<u64> {
        let mut ranges = Vec::new();
        let mut live = 0;
        for run in &self.runs {
            let RunBody::Sorted(sorted) = &run.body else {
                return None;
            };
            for seg in &sorted.segments {
                ranges.push(seg.range.clone()?);
                live += seg.header.live();
            }
        }
        ranges.sort();
        let disjoint = ranges.windows(2).all(|w| w[0].1 < w[1].0);
        disjoint.then_some(live)
    }
}
