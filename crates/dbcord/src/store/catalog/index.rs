//! CREATE INDEX, DROP INDEX and reindex. An index's data lives in the table's segments:
//! each segment carries a file per index (values sorted, pointing at keys),
//! written in the same commit as the rows; row messages need none, their
//! rows are read whole. Creating an index marks it not ready in the catalog
//! (scans do not use it, writers already maintain it), folds the table into
//! a checkpoint that carries the new index's file, then marks it ready.

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::Snowflake;

use super::ddl::quietly;
use super::model::{Database, IndexEntry};
use crate::error::{Error, NameKind, Result};
use crate::store::codec::catalog_entry::CatalogEntry;
use crate::store::codec::key::Key;
use crate::store::log::commit::CommitBody;
use crate::store::names;
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, NewIndex, TableDef};
use crate::store::state::Store;
use crate::store::timing::UNIQUE_INDEX_WAIT;

impl Store {
    /// Create an index over the rows already there. A UNIQUE index over
    /// duplicate values is refused before anything is written.
    pub async fn create_index(&self, db: &str, new: NewIndex, if_not_exists: bool) -> Result<bool> {
        names::check(NameKind::Index, &new.name)?;
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(db)?.clone();
        if database.indexes.contains_key(&new.name) {
            return quietly(
                if_not_exists,
                Error::IndexExists(format!("{db}.{}", new.name)),
            );
        }
        let table = database
            .tables
            .get(&new.table)
            .map(|t| Arc::clone(&t.def))
            .ok_or_else(|| Error::NoSuchTable(format!("{db}.{}", new.table)))?;
        check_column(&table, &new, database.indexes_of(&new.table))?;
        let col = table.column_index(&new.column).expect("checked");
        let mut def = IndexDef {
            database: db.to_string(),
            name: new.name.clone(),
            table: new.table.clone(),
            // The stored name: it outlives a RENAME COLUMN.
            column: table.columns[col].stored().to_string(),
            unique: new.unique,
            channel_id: None,
            ready: false,
        };
        if def.unique {
            // Refused here, nothing is written; the check after the
            // declaration is for the writers that raced it.
            self.check_no_duplicates(&table, &def).await?;
        }
        self.post_catalog(&database, &CatalogEntry::Index(def.clone()))
            .await?;
        if def.unique {
            self.refuse_duplicates_or_withdraw(&database, &table, &def)
                .await?;
        }
        self.compact_for_index(&table, &def.name).await?;
        def.ready = true;
        self.post_catalog(&database, &CatalogEntry::Index(def))
            .await?;
        Ok(true)
    }

    /// Rebuild index `name` from its table's rows: marked not ready (scans
    /// read the table's rows instead meanwhile), a new checkpoint with a
    /// fresh file for every index, then ready again. Returns the table and
    /// the checkpoint.
    pub async fn reindex(&self, db: &str, name: &str) -> Result<(String, Option<Snowflake>)> {
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(db)?.clone();
        let entry = database
            .indexes
            .get(name)
            .cloned()
            .ok_or_else(|| Error::NoSuchIndex(format!("{db}.{name}")))?;
        let table = database
            .tables
            .get(&entry.def.table)
            .map(|t| Arc::clone(&t.def))
            .ok_or_else(|| Error::NoSuchTable(format!("{db}.{}", entry.def.table)))?;
        let mut def = (*entry.def).clone();
        def.ready = false;
        self.post_catalog(&database, &CatalogEntry::Index(def.clone()))
            .await?;
        if def.unique {
            self.check_no_duplicates(&table, &def).await?;
        }
        let checkpoint = self.compact_always(&table).await?;
        def.ready = true;
        self.post_catalog(&database, &CatalogEntry::Index(def))
            .await?;
        Ok((table.qualified_name(), checkpoint))
    }

    /// Fold the table into a checkpoint unless it already is one that
    /// carries `index`'s file.
    async fn compact_for_index(&self, table: &Arc<TableDef>, index: &str) -> Result<()> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        let carried = snap.runs.iter().all(|r| match &r.body {
            CommitBody::Segment(s) => s.header.indexes.contains_key(index),
            CommitBody::Rows(_) => true,
        });
        if !carried || snap.runs.len() > 1 {
            self.compact_always(table).await?;
        }
        Ok(())
    }

    /// Check a new UNIQUE index once it is declared and every writer that
    /// had not read of it has posted (see [`UNIQUE_INDEX_WAIT`]): later
    /// commits check it themselves. If values repeat, the declaration is
    /// withdrawn. (Checked before the declaration, a writer that read the
    /// catalog just before it could commit a duplicate just after the
    /// check: `dbcord sim --unique-index-ddl` found that.)
    async fn refuse_duplicates_or_withdraw(
        &self,
        database: &Database,
        table: &Arc<TableDef>,
        def: &IndexDef,
    ) -> Result<()> {
        tracing::info!(
            "index {}: waiting {:?} for statements that began before it",
            def.name,
            UNIQUE_INDEX_WAIT
        );
        self.clock.sleep(UNIQUE_INDEX_WAIT).await;
        self.refresh().await?;
        let Err(e) = self.check_no_duplicates(table, def).await else {
            return Ok(());
        };
        let withdraw = CatalogEntry::DropIndex {
            name: def.name.clone(),
        };
        if let Err(undo) = self.post_catalog(database, &withdraw).await {
            tracing::warn!(
                "index {} was refused but stays declared, not ready: {undo}",
                def.name
            );
        }
        Err(e)
    }

    /// Refuse a UNIQUE index over values that repeat among the live rows.
    async fn check_no_duplicates(&self, table: &Arc<TableDef>, index: &IndexDef) -> Result<()> {
        let col = table.index_column(index).expect("checked");
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        let mut cursor = self.scan(&snap, &[]);
        let mut seen = HashSet::new();
        while let Some(page) = self.scan_page(&snap, &mut cursor, &mut stats).await? {
            for r in page.rows {
                if let Some(v) = Key::of([&r.values[col]])
                    && !seen.insert(v)
                {
                    return Err(Error::NotUnique {
                        index: index.name.clone(),
                        table: table.qualified_name(),
                        column: table.columns[col].name.clone(),
                        value: r.values[col].show(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Drop an index: a drop entry in the catalog (the commit point). An
    /// index of the first format also loses its channel.
    pub async fn drop_index(&self, db: &str, name: &str, if_exists: bool) -> Result<bool> {
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(db)?.clone();
        let Some(entry) = database.indexes.get(name).cloned() else {
            return quietly(if_exists, Error::NoSuchIndex(format!("{db}.{name}")));
        };
        let drop = CatalogEntry::DropIndex {
            name: name.to_string(),
        };
        self.post_catalog(&database, &drop).await?;
        let table_channel = database
            .tables
            .get(&entry.def.table)
            .map(|t| t.def.channel_id);
        if let Some(legacy) = entry.def.channel_id
            && Some(legacy) != table_channel
            && let Err(e) = self.discord.delete_channel(legacy).await
        {
            tracing::warn!("dropped index {name}, but its channel {legacy} stays: {e}");
        }
        Ok(true)
    }
}

fn check_column<'a>(
    table: &TableDef,
    new: &NewIndex,
    existing: impl Iterator<Item = &'a IndexEntry>,
) -> Result<()> {
    if table.column_index(&new.column).is_none() {
        return Err(Error::NoSuchColumn {
            table: table.qualified_name(),
            column: new.column.clone(),
        });
    }
    let stored = table.columns[table.column_index(&new.column).expect("checked")].stored();
    if let Some(other) = existing.into_iter().find(|i| i.def.column == stored) {
        return Err(Error::ColumnAlreadyIndexed {
            table: table.qualified_name(),
            column: new.column.clone(),
            index: other.def.name.clone(),
        });
    }
    Ok(())
}
