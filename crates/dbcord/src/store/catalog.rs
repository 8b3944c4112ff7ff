//! The catalog: which databases and tables exist, read from and written to Discord.
//!
//! Each database is a category `dbcord-<db>` holding a `#dbc-catalog` channel.
//! The catalog channel holds one message per object (see
//! [`super::codec::catalog_entry`]): first the database marker (dbcord's
//! claim of ownership), then one message per table or index. The catalog
//! message is the commit point of DDL: a table exists once its message
//! does, and is gone once its message is deleted.

use std::collections::BTreeMap;
use std::sync::Arc;

use discord_api::{Channel, Discord, Message, NewMessage, Snowflake, channel_type};

use super::codec::catalog_entry::CatalogEntry;
use super::history::HistoryPager;
use super::names;
use super::schema::{IndexDef, TableDef};
use crate::error::{Error, Result};

/// A table and the catalog message that defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct TableEntry {
    pub def: Arc<TableDef>,
    pub catalog_message: Snowflake,
}

/// An index and the catalog message that defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    pub def: Arc<IndexDef>,
    pub catalog_message: Snowflake,
}

/// A database as loaded from its category.
#[derive(Clone, Debug, PartialEq)]
pub struct Database {
    pub name: String,
    pub category_id: Snowflake,
    pub catalog_channel: Snowflake,
    pub tables: BTreeMap<String, TableEntry>,
    pub indexes: BTreeMap<String, IndexEntry>,
}

impl Database {
    /// The indexes of one table.
    pub fn indexes_of(&self, table: &str) -> impl Iterator<Item = &IndexEntry> {
        self.indexes.values().filter(move |i| i.def.table == table)
    }
}

/// Everything dbcord owns in the guild.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub databases: BTreeMap<String, Database>,
}

impl Catalog {
    /// Read the catalog from the guild: one channel list, then each catalog channel.
    pub async fn load(discord: &Arc<dyn Discord>) -> Result<Catalog> {
        let channels = discord.list_channels().await?;
        let mut catalog = Catalog::default();
        for (db, category) in database_categories(&channels) {
            let Some(cat_chan) = catalog_channel_of(&channels, category.id) else {
                tracing::warn!("category {} has no catalog channel; ignored", category.name);
                continue;
            };
            let database = load_database(discord, db, category.id, cat_chan.id).await?;
            catalog.databases.insert(db.to_string(), database);
        }
        Ok(catalog)
    }

    pub fn database(&self, name: &str) -> Result<&Database> {
        self.databases
            .get(name)
            .ok_or_else(|| Error::NoSuchDatabase(name.to_string()))
    }
}

/// Categories named `dbcord-<db>`, with the database name.
pub fn database_categories(channels: &[Channel]) -> impl Iterator<Item = (&str, &Channel)> {
    channels
        .iter()
        .filter(|c| c.kind == channel_type::CATEGORY)
        .filter_map(|c| names::database_of_category(&c.name).map(|db| (db, c)))
}

/// The `#dbc-catalog` channel under a category, if dbcord's marker is on it.
pub fn catalog_channel_of(channels: &[Channel], category: Snowflake) -> Option<&Channel> {
    channels.iter().find(|c| {
        c.parent_id == Some(category)
            && c.name == names::CATALOG_CHANNEL
            && names::is_dbcord_topic(c.topic.as_deref())
    })
}

async fn load_database(
    discord: &Arc<dyn Discord>,
    name: &str,
    category_id: Snowflake,
    catalog_channel: Snowflake,
) -> Result<Database> {
    let bot = discord.bot_user_id();
    let messages = HistoryPager::new(Arc::clone(discord), catalog_channel)
        .read_all()
        .await?;
    let mut tables = BTreeMap::new();
    let mut indexes = BTreeMap::new();
    for m in &messages {
        match CatalogEntry::from_message(m, bot) {
            Some(CatalogEntry::Table(def)) => {
                let entry = TableEntry {
                    def: Arc::new(def),
                    catalog_message: m.id,
                };
                tables.insert(entry.def.name.clone(), entry);
            }
            Some(CatalogEntry::Index(def)) => {
                let entry = IndexEntry {
                    def: Arc::new(def),
                    catalog_message: m.id,
                };
                indexes.insert(entry.def.name.clone(), entry);
            }
            Some(CatalogEntry::Database { .. }) => {}
            None => tracing::warn!(
                "message {} in the catalog of {name} is not a catalog entry; ignored",
                m.id
            ),
        }
    }
    Ok(Database {
        name: name.to_string(),
        category_id,
        catalog_channel,
        tables,
        indexes,
    })
}

/// Post a catalog entry; it must fit in one message.
pub async fn post_entry(
    discord: &Arc<dyn Discord>,
    channel: Snowflake,
    entry: &CatalogEntry,
) -> Result<Message> {
    let content = entry.to_content()?;
    Ok(discord
        .create_message(channel, &NewMessage::idempotent(content))
        .await?)
}
