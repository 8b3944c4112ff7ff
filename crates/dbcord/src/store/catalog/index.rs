//! CREATE INDEX, DROP INDEX and reindex. An index holds its table's rows
//! again, whole, in (value, key) order: a commit's segment carries a file
//! per index, and each run of the table's manifest has, per index, a run
//! of index segments in the index's own channel `#idx-<table>-<index>`
//! (row messages need none, their rows are read whole). Creating an index
//! marks it not ready in the catalog (scans do not use it, writers already
//! maintain it), writes its segments for every run of a new manifest (the
//! data segments named as they are), then marks it ready.

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::{Snowflake, channel_type};

use super::ddl::quietly;
use super::model::{Database, IndexEntry};
use crate::error::{Error, NameKind, Result};
use crate::store::codec::catalog_entry::CatalogEntry;
use crate::store::codec::key::Key;
use crate::store::compact::checkpoint::Goal;
use crate::store::names;
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, NewIndex, TableDef};
use crate::store::state::Store;
use crate::store::write::options::WriteOptions;

impl Store {
    /// Create an index over the rows already there, its segments in a
    /// channel of its own (`#idx-<table>-<index>`). A UNIQUE index over
    /// duplicate values is refused before anything is written.
    pub async fn create_index(
        &self,
        db: &str,
        new: NewIndex,
        if_not_exists: bool,
        options: &WriteOptions,
    ) -> Result<bool> {
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
        def.channel_id = Some(self.index_channel(&database, &table, &def.name).await?);
        self.post_catalog(&database, &CatalogEntry::Index(def.clone()))
            .await?;
        if def.unique {
            self.refuse_duplicates_or_withdraw(&database, &table, &def)
                .await?;
        }
        self.compact_for(&table, options, Goal::Index(vec![def.name.clone()]))
            .await?;
        def.ready = true;
        self.post_catalog(&database, &CatalogEntry::Index(def))
            .await?;
        Ok(true)
    }

    /// Rebuild index `name` from its table's rows: marked not ready (scans
    /// read the table's rows instead meanwhile), a manifest with the
    /// index's segments written anew over every run (the data segments
    /// named as they are), then ready again. Returns the table and the
    /// manifest.
    pub async fn reindex(
        &self,
        db: &str,
        name: &str,
        options: &WriteOptions,
    ) -> Result<(String, Option<Snowflake>)> {
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
        let goal = Goal::Index(vec![def.name.clone()]);
        let checkpoint = self.compact_for(&table, options, goal).await?;
        def.ready = true;
        self.post_catalog(&database, &CatalogEntry::Index(def))
            .await?;
        Ok((table.qualified_name(), checkpoint))
    }

    /// A new channel for an index's segments. One left by an interrupted
    /// CREATE INDEX, or by a DROP INDEX still under way, is never reused (a
    /// DROP deletes its channel after its catalog entry); DROP TABLE
    /// deletes such leftovers with the table.
    async fn index_channel(
        &self,
        db: &Database,
        table: &TableDef,
        index: &str,
    ) -> Result<Snowflake> {
        let name = names::index_channel_name(&table.name, index);
        let topic = names::index_topic(&db.name, &table.name, index);
        Ok(self
            .make_channel(&name, channel_type::TEXT, Some(topic), Some(db.category_id))
            .await?
            .id)
    }

    /// Check a new UNIQUE index once it is declared and every writer that
    /// had not read of it has posted (see [`crate::store::timing::UNIQUE_INDEX_WAIT`]): later
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
            self.unique_index_wait()
        );
        self.clock.sleep(self.unique_index_wait()).await;
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
