//! Folding a catalog: every [`CHECKPOINT_EVERY`] entries, a checkpoint
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
//! is passed over and the whole channel read instead.

use std::sync::Arc;

use discord_api::attachments::download;
use discord_api::limits::HISTORY_PAGE;
use discord_api::{Discord, HistoryAnchor, HistoryQuery, Message, Snowflake};

use super::model::Database;
use crate::error::Result;
use crate::store::codec::catalog_entry::CatalogCheckpoint;
use crate::store::log::pager::HistoryPager;
use crate::store::state::Store;

/// Catalog entries after the newest checkpoint that make a process write
/// the next one.
pub const CHECKPOINT_EVERY: usize = 100;

/// `db` (empty but for its name and channels) as its catalog channel holds
/// it: newest first, down to the newest checkpoint's `covers`.
pub(super) async fn read_database(
    discord: &Arc<dyn Discord>,
    mut db: Database,
) -> Result<Database> {
    let bot = discord.bot_user_id();
    let channel = db.catalog_channel;
    let mut newer: Vec<Message> = Vec::new();
    let mut found: Option<(Message, Snowflake, u32)> = None;
    let mut anchor = HistoryAnchor::Latest;
    'pages: loop {
        let query = HistoryQuery {
            anchor,
            limit: HISTORY_PAGE,
        };
        let mut page = discord.list_messages(channel, &query).await?;
        let full = page.len() == HISTORY_PAGE as usize;
        page.sort_by_key(|m| std::cmp::Reverse(m.id));
        let Some(oldest) = page.last().map(|m| m.id) else {
            break;
        };
        for m in page {
            match &found {
                Some((_, covers, _)) if m.id <= *covers => break 'pages,
                Some(_) => newer.push(m),
                None => match CatalogCheckpoint::header(&m, bot) {
                    Some((covers, crc)) => found = Some((m, covers, crc)),
                    None => newer.push(m),
                },
            }
        }
        if !full {
            break;
        }
        anchor = HistoryAnchor::Before(oldest);
    }
    if let Some((m, _, crc)) = found {
        match fetch(discord, &m, crc).await {
            Some(checkpoint) => db.restore(checkpoint, m.id),
            None => {
                tracing::warn!(
                    "catalog checkpoint {} of {} cannot be read; reading every entry",
                    m.id,
                    db.name
                );
                return read_every_entry(discord, db).await;
            }
        }
    }
    newer.sort_by_key(|m| m.id);
    for m in &newer {
        db.apply(m, bot);
    }
    Ok(db)
}

/// `db` from every message of its catalog channel, oldest first.
async fn read_every_entry(discord: &Arc<dyn Discord>, mut db: Database) -> Result<Database> {
    let bot = discord.bot_user_id();
    let messages = HistoryPager::new(Arc::clone(discord), db.catalog_channel)
        .read_all()
        .await?;
    for m in &messages {
        db.apply(m, bot);
    }
    Ok(db)
}

/// A checkpoint message's file, if it downloads and matches its CRC-32.
async fn fetch(discord: &Arc<dyn Discord>, m: &Message, crc: u32) -> Option<CatalogCheckpoint> {
    let file = m.attachments.first()?;
    let bytes = download(&**discord, m.channel_id, m.id, file, None)
        .await
        .ok()?;
    CatalogCheckpoint::from_file(&bytes, crc)
}

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
