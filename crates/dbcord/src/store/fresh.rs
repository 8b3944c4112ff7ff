//! Staying current with what other processes commit, at one request a
//! statement.
//!
//! `GET /guilds/{id}/channels` lists every channel with the ID of its newest
//! message. Catalogs and table logs are append-only, so a channel whose
//! newest message is the one this process last read has not changed: the
//! catalog is reloaded only where it changed, and a table's log is read only
//! from where this process left it.

use std::collections::HashMap;
use std::sync::Arc;

use discord_api::Snowflake;

use super::Store;
use super::catalog::Catalog;
use super::log::{self, TableLog};
use super::read::Snapshot;
use super::schema::TableDef;
use super::segments::ReadStats;
use crate::error::Result;

impl Store {
    /// One request: learn every channel's newest message, and reload the
    /// catalog of any database whose catalog changed.
    pub async fn refresh(&self) -> Result<()> {
        let started = self.clock.now_ms();
        let channels = self.discord.list_channels().await?;
        {
            let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
            heads.clear();
            heads.extend(channels.iter().map(|c| (c.id, c.last_message_id)));
        }
        let known = self.read().clone();
        let catalog = Catalog::load(&self.discord, &channels, &known).await?;
        if catalog != known {
            self.forget_altered(&known, &catalog);
            *self.write() = catalog;
        }
        self.refreshed_ms
            .store(started, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Read the catalog again if it was read longer ago than
    /// [`super::index::CATALOG_FRESH`]; returns whether it did.
    pub(super) async fn refresh_if_stale(&self) -> Result<bool> {
        let read = self.refreshed_ms.load(std::sync::atomic::Ordering::SeqCst);
        let age = self.clock.now_ms().saturating_sub(read);
        if age <= super::index::CATALOG_FRESH.as_millis() as u64 {
            return Ok(false);
        }
        self.refresh().await?;
        Ok(true)
    }

    /// Drop what was decoded under a table definition that has changed
    /// (an ALTER TABLE): logs and batches hold rows in the old shape.
    pub(super) fn forget_altered(&self, old: &Catalog, new: &Catalog) {
        let defs = |c: &Catalog| -> HashMap<Snowflake, Arc<TableDef>> {
            c.databases
                .values()
                .flat_map(|d| d.tables.values())
                .map(|t| (t.def.channel_id, Arc::clone(&t.def)))
                .collect()
        };
        let before = defs(old);
        let after = defs(new);
        let changed: Vec<Snowflake> = after
            .iter()
            .filter(|(ch, def)| before.get(*ch).is_some_and(|b| b.columns != def.columns))
            .map(|(ch, _)| *ch)
            .collect();
        for ch in &changed {
            self.forget_log(*ch);
        }
        if !changed.is_empty() {
            self.batches.clear();
        }
    }

    /// After a write of ours, the channel has at least this message.
    pub(super) fn note_head(&self, channel: Snowflake, id: Snowflake) {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        let head = heads.entry(channel).or_default();
        *head = (*head).max(Some(id));
    }

    /// The table as a statement reads it: the log brought up to date (no
    /// request if the channel has not changed since this process last read
    /// it), and the runs that count.
    pub async fn snapshot(&self, def: &Arc<TableDef>, stats: &mut ReadStats) -> Result<Snapshot> {
        let known = self.log_of(def.channel_id);
        let head = self.head(def.channel_id);
        let current = matches!(head, Some(h) if known.synced >= h);
        let log = if current {
            known
        } else {
            let fresh = Arc::new(log::sync(&self.discord, def, &known).await?);
            stats.history_requests += fresh.requests;
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

    /// The newest message of a channel as last seen (`None`: never asked, or
    /// an empty channel).
    fn head(&self, channel: Snowflake) -> Option<Option<Snowflake>> {
        let heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        heads.get(&channel).copied()
    }

    pub(crate) fn log_of(&self, channel: Snowflake) -> Arc<TableLog> {
        let logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.get(&channel).cloned().unwrap_or_default()
    }

    fn cache_log(&self, channel: Snowflake, log: Arc<TableLog>) {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.insert(channel, log);
    }

    /// Forget a table's log (its channel is gone).
    pub(super) fn forget_log(&self, channel: Snowflake) {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.remove(&channel);
    }
}
