//! Folding a catalog: every `CHECKPOINT_EVERY` entries, a checkpoint
//! message holds the whole catalog of a database as of an entry, so a
//! process reads the newest checkpoint and the entries after it, not every
//! DDL statement ever made (10,000 of them would be 100 history pages).
//!
//! A checkpoint is written from the catalog channel as read just before
//! (not from what this process remembers, which may lack another process's
//! newest entry), and names the newest entry it folded (`covers`). Entries
//! posted while it was being written are older than the checkpoint's own
//! message but newer than `covers`: a reader pages back past the
//! checkpoint down to `covers` and applies them on top. A checkpoint
//! changes nothing a reader sees; one that cannot be read (a damaged file)
//! is passed over and the whole channel read instead. Reading is
//! `model::read_database`; this file writes them.

use super::model::{Database, read_database};
use crate::error::Result;
use crate::store::codec::catalog_entry::CatalogCheckpoint;
use crate::store::state::Store;

impl Store {
    /// Post a checkpoint of `db`'s catalog, as its channel holds it now.
    /// This process's own view is left to the next refresh, which reads
    /// the checkpoint like any other process.
    pub(crate) async fn checkpoint_catalog(&self, db: &Database) -> Result<()> {
        let fresh = read_database(&self.discord, db.emptied()).await?;
        let Some(covers) = fresh.head else {
            return Ok(());
        };
        let checkpoint = CatalogCheckpoint {
            covers,
            tables: fresh
                .tables
                .values()
                .map(|t| ((*t.def).clone(), t.catalog_message))
                .collect(),
            indexes: fresh
                .indexes
                .values()
                .map(|i| ((*i.def).clone(), i.catalog_message))
                .collect(),
        };
        let m = self
            .discord
            .create_message(db.catalog_channel, &checkpoint.to_message())
            .await?;
        self.note_head(db.catalog_channel, m.id);
        tracing::info!(
            "catalog of {} folded into checkpoint {} (covers {covers})",
            db.name,
            m.id
        );
        Ok(())
    }
}
