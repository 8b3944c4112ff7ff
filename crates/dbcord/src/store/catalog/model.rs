//! The catalog: which databases, tables and indexes exist, as read from Discord.
//!
//! Each database is a category `dbcord-<db>` holding a `#dbc-catalog` channel.
//! The catalog channel is an append-only log of entries (see
//! [`super::codec::catalog_entry`]): first the database marker (dbcord's
//! claim of ownership), then a message per table or index definition, or
//! per drop of one; a later entry of a name replaces an earlier one. Each
//! entry is the commit point of its DDL statement. Being append-only, the
//! catalog channel's newest message ID tells whether anything changed, which
//! one request (`GET /guilds/{id}/channels`) shows for every database.

use std::collections::BTreeMap;
use std::sync::Arc;

use discord_api::attachments::download;
use discord_api::limits::HISTORY_PAGE;
use discord_api::{
    Channel, Discord, HistoryAnchor, HistoryQuery, Message, NewMessage, Snowflake, channel_type,
};

use crate::error::{Error, Result};
use crate::store::codec::catalog_entry::{CatalogCheckpoint, CatalogEntry};
use crate::store::log::pager::HistoryPager;
use crate::store::names;
use crate::store::schema::{IndexDef, TableDef};

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
    /// The newest catalog message read: when the catalog channel's newest
    /// message differs, another process changed the catalog.
    pub head: Option<Snowflake>,
    /// Entries read after the newest checkpoint (see `catalog::checkpoint`).
    pub since_checkpoint: usize,
}

impl Database {
    /// A database with nothing in it yet.
    pub fn new(name: &str, category_id: Snowflake, catalog_channel: Snowflake) -> Self {
        Database {
            name: name.to_string(),
            category_id,
            catalog_channel,
            tables: BTreeMap::new(),
            indexes: BTreeMap::new(),
            head: None,
            since_checkpoint: 0,
        }
    }

    /// The same database with nothing read of its catalog yet.
    pub fn emptied(&self) -> Self {
        Database::new(&self.name, self.category_id, self.catalog_channel)
    }

    /// Take in a checkpoint, posted as message `id`: the catalog as of it.
    pub(crate) fn restore(&mut self, checkpoint: CatalogCheckpoint, id: Snowflake) {
        self.tables = checkpoint
            .tables
            .into_iter()
            .map(|(def, catalog_message)| {
                let entry = TableEntry {
                    def: Arc::new(def),
                    catalog_message,
                };
                (entry.def.name.clone(), entry)
            })
            .collect();
        self.indexes = checkpoint
            .indexes
            .into_iter()
            .map(|(def, catalog_message)| {
                let entry = IndexEntry {
                    def: Arc::new(def),
                    catalog_message,
                };
                (entry.def.name.clone(), entry)
            })
            .collect();
        self.head = self.head.max(Some(id));
        self.since_checkpoint = 0;
    }

    /// The indexes of one table.
    pub fn indexes_of(&self, table: &str) -> impl Iterator<Item = &IndexEntry> {
        self.indexes.values().filter(move |i| i.def.table == table)
    }

    /// Whether `def`'s index is declared (by the same table, column and
    /// channel): what a mark of it as ready may apply to.
    fn declared(&self, def: &IndexDef) -> bool {
        self.indexes.get(&def.name).is_some_and(|i| {
            i.def.table == def.table
                && i.def.column == def.column
                && i.def.channel_id == def.channel_id
        })
    }

    /// Take in one catalog message: a definition, or a drop of one.
    pub(crate) fn apply(&mut self, m: &Message, bot: Snowflake) {
        self.head = self.head.max(Some(m.id));
        if CatalogCheckpoint::header(m, bot).is_some() {
            return; // an older checkpoint, met on the way to a newer one's entries
        }
        let entry = CatalogEntry::from_message(m, bot);
        if entry.is_some() {
            self.since_checkpoint += 1;
        }
        match entry {
            Some(CatalogEntry::Table(def)) => {
                let entry = TableEntry {
                    def: Arc::new(def),
                    catalog_message: m.id,
                };
                self.tables.insert(entry.def.name.clone(), entry);
            }
            // An index is declared not ready, then marked ready. A mark
            // for an index no longer declared (a DROP INDEX came between)
            // revives nothing: the index stays dropped for every reader.
            Some(CatalogEntry::Index(def)) if def.ready && !self.declared(&def) => {
                tracing::warn!(
                    "index {} was dropped while it was being built; it stays dropped",
                    def.name
                );
            }
            Some(CatalogEntry::Index(def)) => {
                let entry = IndexEntry {
                    def: Arc::new(def),
                    catalog_message: m.id,
                };
                self.indexes.insert(entry.def.name.clone(), entry);
            }
            Some(CatalogEntry::Restored { table, indexes }) => {
                let entry = TableEntry {
                    def: Arc::new(table),
                    catalog_message: m.id,
                };
                self.tables.insert(entry.def.name.clone(), entry);
                for def in indexes {
                    let entry = IndexEntry {
                        def: Arc::new(def),
                        catalog_message: m.id,
                    };
                    self.indexes.insert(entry.def.name.clone(), entry);
                }
            }
            Some(CatalogEntry::DropTable { name }) => {
                self.tables.remove(&name);
                self.indexes.retain(|_, i| i.def.table != name);
            }
            Some(CatalogEntry::DropIndex { name }) => {
                self.indexes.remove(&name);
            }
            Some(CatalogEntry::Database { .. }) => {}
            None => tracing::warn!(
                "message {} in the catalog of {} is not a catalog entry; ignored",
                m.id,
                self.name
            ),
        }
    }
}

/// Everything dbcord owns in the guild.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub databases: BTreeMap<String, Database>,
}

impl Catalog {
    /// Read the catalog from the guild's channels: each database's catalog
    /// channel, unless `known` already has it up to the channel's newest
    /// message. Databases whose category is gone are dropped.
    pub async fn load(
        discord: &Arc<dyn Discord>,
        channels: &[Channel],
        known: &Catalog,
    ) -> Result<Catalog> {
        let mut catalog = Catalog::default();
        for (db, category) in database_categories(channels) {
            let Some(cat_chan) = catalog_channel_of(channels, category.id) else {
                tracing::warn!("category {} has no catalog channel; ignored", category.name);
                continue;
            };
            let database = match known.databases.get(db) {
                Some(d)
                    if d.catalog_channel == cat_chan.id && d.head >= cat_chan.last_message_id =>
                {
                    d.clone()
                }
                _ => load_database(discord, db, category.id, cat_chan.id).await?,
            };
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
    owned_channel(channels, category, names::CATALOG_CHANNEL)
}

/// The channel `name` under a category, if dbcord's marker is on it: dbcord
/// touches no channel it does not own, however it is named.
pub fn owned_channel<'a>(
    channels: &'a [Channel],
    category: Snowflake,
    name: &str,
) -> Option<&'a Channel> {
    channels.iter().find(|c| {
        c.parent_id == Some(category)
            && c.name == name
            && names::is_dbcord_topic(c.topic.as_deref())
    })
}

/// Every catalog message of a database, oldest first, folded.
/// Catalog entries after the newest checkpoint that make a process write
/// the next one.
pub const CHECKPOINT_EVERY: usize = 100;

/// `db` (empty but for its name and channels) as its catalog channel holds
/// it: newest first, down to the newest checkpoint's `covers`.
pub(crate) async fn read_database(
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

async fn load_database(
    discord: &Arc<dyn Discord>,
    name: &str,
    category_id: Snowflake,
    catalog_channel: Snowflake,
) -> Result<Database> {
    let db = Database::new(name, category_id, catalog_channel);
    read_database(discord, db).await
}

/// Post a catalog entry: the commit point of a DDL statement.
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
