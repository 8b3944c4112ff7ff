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

/// The first line of a catalog checkpoint: the catalog folded up to a
/// message, in an attachment.
pub const CHECKPOINT_MARKER: &str = "dbcord catalog checkpoint v1";
const CHECKPOINT_FILE: &str = "catalog.json";

/// A database's catalog as of message `covers` (every entry up to it
/// folded): its tables and indexes, each with the message that defined it
/// (a table's history thread hangs on that message).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogCheckpoint {
    pub covers: Snowflake,
    pub tables: Vec<(TableDef, Snowflake)>,
    pub indexes: Vec<(IndexDef, Snowflake)>,
}

impl CatalogCheckpoint {
    /// The message: `<marker> covers <id> crc <crc32>`, and the JSON file.
    pub fn to_message(&self) -> discord_api::NewMessage {
        let json = serde_json::to_vec(self).expect("catalog checkpoints serialise");
        let content = format!(
            "{CHECKPOINT_MARKER} covers {} crc {:08x}",
            self.covers,
            crc32fast::hash(&json)
        );
        discord_api::NewMessage::idempotent(content).with_files(vec![discord_api::NewFile {
            filename: CHECKPOINT_FILE.into(),
            bytes: json,
        }])
    }

    /// What a checkpoint message's content says: the message it covers up
    /// to, and its file's CRC-32. `None` if `m` is not a checkpoint.
    pub fn header(m: &Message, bot: Snowflake) -> Option<(Snowflake, u32)> {
        if m.author.id != bot {
            return None;
        }
        let rest = m.content.strip_prefix(CHECKPOINT_MARKER)?;
        let mut words = rest.split_whitespace();
        let covers = match (words.next(), words.next()) {
            (Some("covers"), Some(id)) => Snowflake(id.parse().ok()?),
            _ => return None,
        };
        let crc = match (words.next(), words.next()) {
            (Some("crc"), Some(c)) => u32::from_str_radix(c, 16).ok()?,
            _ => return None,
        };
        Some((covers, crc))
    }

    /// The checkpoint in a file, checked against the CRC-32 its message names.
    pub fn from_file(bytes: &[u8], crc: u32) -> Option<Self> {
        if crc32fast::hash(bytes) != crc {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }
}
