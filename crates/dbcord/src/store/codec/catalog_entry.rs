//! The catalog message format: `dbcord catalog v1` on the first line, one
//! catalog object as JSON on the second (a database marker, a table or an
//! index definition).

use discord_api::limits::MAX_CONTENT_LEN;
use discord_api::{Message, Snowflake, discord_len};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::schema::{IndexDef, TableDef};

pub const CATALOG_MARKER: &str = "dbcord catalog v1";

/// One catalog message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CatalogEntry {
    Database {
        name: String,
    },
    Table(TableDef),
    Index(IndexDef),
    /// A table made by `restore`, with its indexes, at once: its rows are
    /// already in its channel, so the table appears whole or not at all.
    Restored {
        table: TableDef,
        indexes: Vec<IndexDef>,
    },
    /// The table (and its indexes) no longer exists.
    DropTable {
        name: String,
    },
    /// The index no longer exists.
    DropIndex {
        name: String,
    },
}

impl CatalogEntry {
    /// The message content; it must fit in one message.
    pub fn to_content(&self) -> Result<String> {
        let json = serde_json::to_string(self).expect("catalog entries serialise");
        let content = format!("{CATALOG_MARKER}\n{json}");
        if discord_len(&content) > MAX_CONTENT_LEN {
            return Err(Error::DefinitionTooLarge(self.name()));
        }
        Ok(content)
    }

    /// The entry a message holds, if the bot wrote it and it is one.
    pub fn from_message(m: &Message, bot: Snowflake) -> Option<Self> {
        if m.author.id != bot {
            return None;
        }
        let json = m.content.strip_prefix(CATALOG_MARKER)?.strip_prefix('\n')?;
        serde_json::from_str(json).ok()
    }

    fn name(&self) -> String {
        match self {
            CatalogEntry::Database { name } => format!("database {name}"),
            CatalogEntry::Table(t) | CatalogEntry::Restored { table: t, .. } => {
                format!("table {}", t.qualified_name())
            }
            CatalogEntry::Index(i) => format!("index {}.{}", i.database, i.name),
            CatalogEntry::DropTable { name } => format!("drop of table {name}"),
            CatalogEntry::DropIndex { name } => format!("drop of index {name}"),
        }
    }
}
