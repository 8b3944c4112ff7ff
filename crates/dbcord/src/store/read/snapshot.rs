//! A statement's read snapshot: a table's log brought up to date (no
//! request if the channel has not changed since this process last read
//! it), and the runs that count.

use std::sync::Arc;

use discord_api::Snowflake;

use super::stats::ReadStats;
use crate::error::Result;
use crate::store::log::sync;
use crate::store::log::validity::Run;
use crate::store::schema::TableDef;
use crate::store::state::Store;

/// A table as one statement reads it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub def: Arc<TableDef>,
    pub runs: Vec<Run>,
    /// The newest message read: the base of what the statement writes.
    pub synced: Option<Snowflake>,
}

impl Store {
    /// The table as a statement reads it now.
    pub async fn snapshot(&self, def: &Arc<TableDef>, stats: &mut ReadStats) -> Result<Snapshot> {
        let known = self.log_of(def.channel_id);
        let head = self.head(def.channel_id);
        let current = matches!(head, Some(h) if known.synced >= h);
        let log = if current {
            known
        } else {
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
            fresh
        };
        let runs = self.runs(def, &log, stats).await?;
        Ok(Snapshot {
            def: Arc::clone(def),
            runs,
            synced: log.synced,
        })
    }
}
