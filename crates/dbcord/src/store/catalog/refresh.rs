//! Staying current with what other processes commit, at one request a
//! statement.
//!
//! `GET /guilds/{id}/channels` lists every channel with the ID of its newest
//! message. Catalogs and table logs are append-only, so a channel whose
//! newest message is the one this process last read has not changed: the
//! catalog is reloaded only where it changed, and a table's log is read only
//! from where this process left it (see `read::snapshot`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use discord_api::Snowflake;

use super::model::Catalog;
use crate::error::Result;
use crate::store::schema::TableDef;
use crate::store::state::Store;
use crate::store::timing::CATALOG_FRESH;

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
        self.note_txn_channel(&channels);
        let known = self.read().clone();
        let catalog = Catalog::load(&self.discord, &channels, &known).await?;
        *self.listed.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((started, std::sync::Arc::new(channels)));
        if catalog != known {
            self.forget_altered(&known, &catalog);
            *self.write() = catalog;
        }
        self.refreshed_ms.store(started, Ordering::SeqCst);
        Ok(())
    }

    /// Read the catalog again if it was read longer ago than
    /// [`CATALOG_FRESH`]; returns whether it did.
    pub(crate) async fn refresh_if_stale(&self) -> Result<bool> {
        let read = self.refreshed_ms.load(Ordering::SeqCst);
        let age = self.clock.now_ms().saturating_sub(read);
        if age <= CATALOG_FRESH.as_millis() as u64 {
            return Ok(false);
        }
        self.refresh().await?;
        Ok(true)
    }

    /// Drop what was decoded under a table definition that has changed
    /// (an ALTER TABLE): logs and batches hold rows in the old shape.
    pub(crate) fn forget_altered(&self, old: &Catalog, new: &Catalog) {
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
    pub(crate) fn note_head(&self, channel: Snowflake, id: Snowflake) {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        let head = heads.entry(channel).or_default();
        *head = (*head).max(Some(id));
    }

    /// The newest message of a channel as last seen (`None`: never asked, or
    /// an empty channel).
    pub(crate) fn head(&self, channel: Snowflake) -> Option<Option<Snowflake>> {
        let heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        heads.get(&channel).copied()
    }
}
