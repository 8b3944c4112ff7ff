//! Secondary indexes: one channel `#idx-<table>-<column>` per index, one
//! message per indexed row (the entry format is in
//! [`super::codec::index_entry`]).

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::channel_type;

use super::catalog::{self, IndexEntry};
use super::codec::catalog_entry::CatalogEntry;
use super::codec::index_entry::encode_entry;
use super::schema::{IndexDef, NewIndex, TableDef};
use super::{Store, names};
use crate::error::{Error, NameKind, Result};

impl Store {
    pub fn indexes_of(&self, db: &str, table: &str) -> Vec<Arc<IndexDef>> {
        self.read()
            .databases
            .get(db)
            .map(|d| d.indexes_of(table).map(|i| Arc::clone(&i.def)).collect())
            .unwrap_or_default()
    }

    /// Create an index and its entries for the rows already there. While it
    /// is built the catalog marks it not ready, so no scan trusts it; a
    /// UNIQUE index over duplicate values is refused and removed again.
    pub async fn create_index(&self, db: &str, new: NewIndex, if_not_exists: bool) -> Result<bool> {
        names::check(NameKind::Index, &new.name)?;
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(db)?.clone();
        if database.indexes.contains_key(&new.name) {
            return if if_not_exists {
                Ok(false)
            } else {
                Err(Error::IndexExists(format!("{db}.{}", new.name)))
            };
        }
        let table = database
            .tables
            .get(&new.table)
            .map(|t| Arc::clone(&t.def))
            .ok_or_else(|| Error::NoSuchTable(format!("{db}.{}", new.table)))?;
        check_column(&table, &new, database.indexes_of(&new.table))?;
        let channel_name = format!("idx-{}-{}", new.table, new.column);
        let topic = format!(
            "dbcord index {db}.{} on {}({}). Managed by dbcord: do not post here.",
            new.name, new.table, new.column
        );
        let channel = self
            .make_channel(
                &channel_name,
                channel_type::TEXT,
                Some(topic),
                Some(database.category_id),
            )
            .await?;
        let mut def = IndexDef {
            database: db.to_string(),
            name: new.name.clone(),
            table: new.table.clone(),
            column: new.column.clone(),
            unique: new.unique,
            channel_id: channel.id,
            ready: false,
        };
        let msg = catalog::post_entry(
            &self.discord,
            database.catalog_channel,
            &CatalogEntry::Index(def.clone()),
        )
        .await?;
        if let Err(e) = self.build_index(&table, &def).await {
            self.discord
                .delete_message(database.catalog_channel, msg.id)
                .await?;
            self.discord.delete_channel(channel.id).await?;
            return Err(e);
        }
        def.ready = true;
        let content = CatalogEntry::Index(def.clone()).to_content()?;
        self.discord
            .edit_message(database.catalog_channel, msg.id, &content)
            .await?;
        let entry = IndexEntry {
            def: Arc::new(def),
            catalog_message: msg.id,
        };
        if let Some(d) = self.write().databases.get_mut(db) {
            d.indexes.insert(new.name, entry);
        }
        Ok(true)
    }

    /// Write an entry for every row; for UNIQUE, refuse duplicates first.
    async fn build_index(&self, table: &Arc<TableDef>, index: &IndexDef) -> Result<()> {
        let rows = self.all_rows(table).await?;
        let col = table.column_index(&index.column).expect("checked");
        if index.unique {
            let mut seen = HashSet::new();
            for r in &rows {
                if let Some(key) = r.values[col].canonical()
                    && !seen.insert(key)
                {
                    return Err(Error::NotUnique {
                        index: index.name.clone(),
                        table: table.qualified_name(),
                        column: index.column.clone(),
                        value: r.values[col].show(),
                    });
                }
            }
        }
        for (i, r) in rows.iter().enumerate() {
            if let Some(content) = encode_entry(table, index, &r.values, r.message_id, i + 1)? {
                self.create_verified(table, index.channel_id, content, i + 1)
                    .await?;
            }
        }
        Ok(())
    }

    /// Drop an index: its catalog message (the commit point), then its channel.
    pub async fn drop_index(&self, db: &str, name: &str, if_exists: bool) -> Result<bool> {
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(db)?.clone();
        let Some(entry) = database.indexes.get(name) else {
            return if if_exists {
                Ok(false)
            } else {
                Err(Error::NoSuchIndex(format!("{db}.{name}")))
            };
        };
        self.discord
            .delete_message(database.catalog_channel, entry.catalog_message)
            .await?;
        if let Some(d) = self.write().databases.get_mut(db) {
            d.indexes.remove(name);
        }
        self.discord.delete_channel(entry.def.channel_id).await?;
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
    if let Some(other) = existing.into_iter().find(|i| i.def.column == new.column) {
        return Err(Error::ColumnAlreadyIndexed {
            table: table.qualified_name(),
            column: new.column.clone(),
            index: other.def.name.clone(),
        });
    }
    Ok(())
}
