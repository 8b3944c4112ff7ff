//! Secondary indexes: one channel `#idx-<table>-<column>` per index, one
//! message per indexed row.
//!
//! An index entry carries the row it points at, so an index lookup needs no
//! further request per hit:
//!
//! ```text
//! dbcx1 <token> <row message id>
//! {"id":"u_1","email":"a@example.com",...}
//! ```
//!
//! The token is the indexed cell's (see [`super::tokens`]); rows whose
//! indexed value is NULL have no entry, since `=` never matches NULL.

use std::sync::Arc;

use super::catalog::{self, CatalogEntry, IndexEntry};
use super::row::{self, Value};
use super::schema::{IndexDef, TableDef};
use super::table::with_nonce;
use super::tokens::token;
use super::{Store, names};
use crate::discord::{Snowflake, channel_type, discord_len};
use crate::error::{Error, Result};

pub const ENTRY_MARKER: &str = "dbcx1";

/// The entry for a row, or `None` if the indexed value is NULL.
pub fn encode_entry(
    table: &TableDef,
    index: &IndexDef,
    values: &[Value],
    row_id: Snowflake,
    row_no: usize,
) -> Result<Option<String>> {
    let col = table.column_index(&index.column).ok_or_else(|| {
        Error::Catalog(format!(
            "index {} names a missing column {}",
            index.name, index.column
        ))
    })?;
    let Some(tok) = token(&index.column, &values[col]) else {
        return Ok(None);
    };
    let json = row::row_json(table, values, row_no)?;
    let content = format!("{ENTRY_MARKER} {tok} {row_id}\n{json}");
    if discord_len(&content) > row::MAX_MESSAGE_LEN {
        return Err(Error::Unsupported(format!(
            "row {row_no}: its entry in index {} does not fit in one message (2000 characters)",
            index.name
        )));
    }
    Ok(Some(content))
}

/// (row message id, values) from an entry's content.
pub fn decode_entry(table: &TableDef, content: &str) -> Option<(Snowflake, Vec<Value>)> {
    let (head, json) = content.split_once('\n')?;
    let mut words = head.split(' ');
    if words.next()? != ENTRY_MARKER {
        return None;
    }
    let row_id = words.nth(1)?.parse().ok()?;
    Some((row_id, row::decode_json(table, json).ok()?))
}

/// What `CREATE INDEX` asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct NewIndex {
    pub name: String,
    pub table: String,
    pub column: String,
    pub unique: bool,
}

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
        names::check("index", &new.name)?;
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
        let content = CatalogEntry::Index(def.clone()).to_content();
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
            let mut seen = std::collections::HashSet::new();
            for r in &rows {
                if let Some(key) = super::tokens::canonical(&r.values[col])
                    && !seen.insert(key)
                {
                    return Err(Error::Duplicate(format!(
                        "cannot create UNIQUE index {}: {}.{} holds {} more than once",
                        index.name,
                        table.name,
                        index.column,
                        row::show(&r.values[col])
                    )));
                }
            }
        }
        for (i, r) in rows.iter().enumerate() {
            if let Some(content) = encode_entry(table, index, &r.values, r.message_id, i + 1)? {
                self.discord
                    .create_message(index.channel_id, &with_nonce(content))
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
        return Err(Error::InvalidName(format!(
            "table {} has no column \"{}\"",
            table.qualified_name(),
            new.column
        )));
    }
    if let Some(other) = existing.into_iter().find(|i| i.def.column == new.column) {
        return Err(Error::Unsupported(format!(
            "column {}.{} already has index {}",
            table.name, new.column, other.def.name
        )));
    }
    Ok(())
}
