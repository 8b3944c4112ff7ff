//! Compaction: a table's log folded into one checkpoint, a segment of
//! every live row (tombstones and old versions dropped), sorted by key,
//! with a file per index, which `covers` everything up to the newest
//! message it read. It is one commit like any other; commits made while it
//! ran stay after it, and readers then read nothing older (see
//! `log::table_log` for when a checkpoint counts).

use std::sync::Arc;

use discord_api::{NewMessage, Snowflake};

use crate::error::Result;
use crate::store::codec::commit::{Change, CommitMeta};
use crate::store::codec::op::Op;
use crate::store::log::commit::CommitBody;
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;
use crate::store::write::build::fit_segment;

impl Store {
    /// Fold `table`'s log into a checkpoint; `None` if it already is one.
    pub async fn compact(&self, table: &Arc<TableDef>) -> Result<Option<Snowflake>> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        let folded = snap.runs.len() == 1
            && matches!(&snap.runs[0].body, CommitBody::Segment(s) if s.header.covers.is_some());
        if folded || snap.runs.is_empty() {
            return Ok(None);
        }
        self.compact_always(table).await
    }

    /// Fold `table`'s log into a new checkpoint, even if it is one already
    /// (to give it the file of a new index). `None` for an empty channel.
    pub async fn compact_always(&self, table: &Arc<TableDef>) -> Result<Option<Snowflake>> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        let Some(synced) = snap.synced else {
            return Ok(None);
        };
        let mut rows = Vec::new();
        let mut cursor = self.scan(&snap, &[]);
        while let Some(page) = self.scan_page(&snap, &mut cursor, &mut stats).await? {
            rows.extend(page.rows.into_iter().map(|r| Change {
                op: Op::Insert,
                values: r.values,
            }));
        }
        let indexes = self.indexes_of(&table.database, &table.name);
        let meta = CommitMeta {
            base: Some(synced),
            txn: Some(discord_api::nonce::new_nonce()),
        };
        let (content, seg) = fit_segment(table, &indexes, &rows, &meta, Some(synced))?;
        let message = NewMessage::idempotent(content).with_files(seg.files);
        let sent = self
            .discord
            .create_message(table.channel_id, &message)
            .await?;
        self.note_head(table.channel_id, sent.id);
        tracing::info!(
            "compacted {} ({} rows) into message {}",
            table.qualified_name(),
            rows.len(),
            sent.id
        );
        Ok(Some(sent.id))
    }
}
