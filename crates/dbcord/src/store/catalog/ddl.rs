//! Creating, altering and dropping databases and tables, and posting
//! catalog entries.
//!
//! Order matters for crash safety: channels are made before the catalog
//! entry that commits them, and a DROP posts its drop entry (the commit
//! point; the catalog is append-only) before it deletes the channel the
//! entry names. An interrupted CREATE leaves at most an empty channel that
//! a retry reuses; an interrupted DROP leaves an orphan channel that no
//! table refers to.

use std::collections::HashSet;

use discord_api::limits::{MAX_CATEGORY_CHANNELS, MAX_GUILD_CHANNELS};
use discord_api::{Channel, HistoryAnchor, HistoryQuery, NewChannel, Snowflake, channel_type};

use super::model::{self, Database};
use crate::error::{Error, NameKind, Result};
use crate::store::codec::catalog_entry::CatalogEntry;
use crate::store::names;
use crate::store::schema::{NewTable, TableDef};
use crate::store::state::Store;

impl Store {
    /// Create database `name`. Returns false if it existed and `if_not_exists`.
    pub async fn create_database(&self, name: &str, if_not_exists: bool) -> Result<bool> {
        names::check(NameKind::Database, name)?;
        let _ddl = self.ddl.lock().await;
        if self.has_database(name) {
            return quietly(if_not_exists, Error::DatabaseExists(name.into()));
        }
        let channels = self.discord.list_channels().await?;
        let category = match model::database_categories(&channels).find(|(db, _)| *db == name) {
            Some((_, c)) => c.clone(), // left by an interrupted CREATE: finish it
            None => {
                self.make_channel(
                    &names::category_name(name),
                    channel_type::CATEGORY,
                    None,
                    None,
                )
                .await?
            }
        };
        let cat_chan = match model::catalog_channel_of(&channels, category.id) {
            Some(c) => c.clone(),
            None => {
                let topic = names::catalog_topic(name);
                self.make_channel(
                    names::CATALOG_CHANNEL,
                    channel_type::TEXT,
                    Some(topic),
                    Some(category.id),
                )
                .await?
            }
        };
        let marker = CatalogEntry::Database {
            name: name.to_string(),
        };
        model::post_entry(&self.discord, cat_chan.id, &marker).await?;
        let db = Database::new(name, category.id, cat_chan.id);
        self.write().databases.insert(name.to_string(), db);
        Ok(true)
    }

    /// Drop an empty database: its catalog channel, then its category.
    pub async fn drop_database(&self, name: &str, if_exists: bool) -> Result<bool> {
        let _ddl = self.ddl.lock().await;
        let db = match self.read().databases.get(name) {
            Some(db) => db.clone(),
            None if if_exists => return Ok(false),
            None => return Err(Error::NoSuchDatabase(name.into())),
        };
        if !db.tables.is_empty() {
            return Err(Error::DatabaseNotEmpty(name.into()));
        }
        self.discord.delete_channel(db.catalog_channel).await?;
        self.write().databases.remove(name);
        self.discord.delete_channel(db.category_id).await?;
        Ok(true)
    }

    /// Create a table. Returns false if it existed and `if_not_exists`.
    pub async fn create_table(&self, db: &str, new: NewTable, if_not_exists: bool) -> Result<bool> {
        check_new_table(db, &new)?;
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(db)?.clone();
        if database.tables.contains_key(&new.name) {
            return quietly(
                if_not_exists,
                Error::TableExists(format!("{db}.{}", new.name)),
            );
        }
        let channel = self.table_channel(&database, &new.name).await?;
        let def = new.into_def(db, channel);
        self.post_catalog(&database, &CatalogEntry::Table(def))
            .await?;
        Ok(true)
    }

    /// Drop a table: a drop entry in the catalog (the commit point), then
    /// its channel (and the channels of indexes of the first format).
    pub async fn drop_table(&self, db: &str, name: &str, if_exists: bool) -> Result<bool> {
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(db)?.clone();
        let Some(entry) = database.tables.get(name) else {
            return quietly(if_exists, Error::NoSuchTable(format!("{db}.{name}")));
        };
        let channel = entry.def.channel_id;
        // Its indexes' channels, and any an interrupted CREATE INDEX left.
        let channels = self.discord.list_channels().await?;
        let mut legacy: Vec<Snowflake> = database
            .indexes_of(name)
            .filter_map(|i| i.def.channel_id)
            .chain(
                channels
                    .iter()
                    .filter(|c| c.parent_id == Some(database.category_id))
                    .filter(|c| names::is_index_topic_of(c.topic.as_deref(), db, name))
                    .map(|c| c.id),
            )
            .filter(|c| *c != channel)
            .collect();
        legacy.sort();
        legacy.dedup();
        let drop = CatalogEntry::DropTable {
            name: name.to_string(),
        };
        self.post_catalog(&database, &drop).await?;
        self.forget_log(channel);
        for c in std::iter::once(channel).chain(legacy) {
            // Not found: an earlier try whose answer was lost deleted it.
            if let Err(e) = self.discord.delete_channel(c).await
                && !matches!(e, discord_api::DiscordError::NotFound { .. })
            {
                tracing::warn!("dropped {db}.{name}, but its channel {c} stays: {e}");
            }
        }
        Ok(true)
    }

    /// ALTER TABLE: `new` replaces `old` as the table's definition, in one
    /// catalog message, unless another process changed the table first.
    /// The history thread stays the one of the first definition.
    pub async fn alter_table(&self, old: &TableDef, mut new: TableDef) -> Result<()> {
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(&old.database)?.clone();
        let entry = database
            .tables
            .get(&old.name)
            .ok_or_else(|| Error::NoSuchTable(old.qualified_name()))?;
        if *entry.def != *old {
            return Err(Error::Conflict {
                table: old.qualified_name(),
            });
        }
        new.history = Some(old.history.unwrap_or(entry.catalog_message));
        let before = self.read().clone();
        self.post_catalog(&database, &CatalogEntry::Table(new))
            .await?;
        let after = self.read().clone();
        self.forget_altered(&before, &after);
        Ok(())
    }

    /// Post a catalog entry of `database` and take it into the local catalog.
    pub(crate) async fn post_catalog(
        &self,
        database: &Database,
        entry: &CatalogEntry,
    ) -> Result<()> {
        let m = model::post_entry(&self.discord, database.catalog_channel, entry).await?;
        self.note_head(database.catalog_channel, m.id);
        let bot = self.discord.bot_user_id();
        let every = self.catalog_checkpoint_every();
        let due = match self.write().databases.get_mut(&database.name) {
            Some(d) => {
                d.apply(&m, bot);
                d.since_checkpoint >= every
            }
            None => false,
        };
        // The statement is committed: a checkpoint that fails is tried
        // again after the next entry.
        if due && let Err(e) = self.checkpoint_catalog(database).await {
            tracing::warn!("catalog of {} not folded: {e}", database.name);
        }
        Ok(())
    }

    /// The table's channel: an empty one left by an interrupted CREATE, or a new one.
    async fn table_channel(&self, db: &Database, table: &str) -> Result<Snowflake> {
        let name = names::table_channel_name(table);
        let channels = self.discord.list_channels().await?;
        let leftover = model::owned_channel(&channels, db.category_id, &name);
        if let Some(c) = leftover {
            let page = self
                .discord
                .list_messages(
                    c.id,
                    &HistoryQuery {
                        anchor: HistoryAnchor::Latest,
                        limit: 1,
                    },
                )
                .await?;
            if page.is_empty() {
                return Ok(c.id);
            }
            return Err(Error::ChannelInUse(name));
        }
        let topic = names::table_topic(&db.name, table);
        Ok(self
            .make_channel(&name, channel_type::TEXT, Some(topic), Some(db.category_id))
            .await?
            .id)
    }

    /// Make a channel, after checking that Discord's limits leave room for
    /// it: 500 channels a guild, 50 a category (a clear error naming the
    /// limit, before anything is made).
    pub(crate) async fn make_channel(
        &self,
        name: &str,
        kind: u8,
        topic: Option<String>,
        parent: Option<Snowflake>,
    ) -> Result<Channel> {
        let channels = self.discord.list_channels().await?;
        if channels.len() >= MAX_GUILD_CHANNELS {
            return Err(Error::GuildFull {
                limit: MAX_GUILD_CHANNELS,
            });
        }
        if let Some(category) = parent {
            let held = channels
                .iter()
                .filter(|c| c.parent_id == Some(category))
                .count();
            if held >= MAX_CATEGORY_CHANNELS {
                let database = channels
                    .iter()
                    .find(|c| c.id == category)
                    .and_then(|c| names::database_of_category(&c.name))
                    .unwrap_or_default()
                    .to_string();
                return Err(Error::CategoryFull {
                    database,
                    limit: MAX_CATEGORY_CHANNELS,
                });
            }
        }
        let req = NewChannel {
            name: name.to_string(),
            kind,
            topic,
            parent_id: parent,
        };
        Ok(self.discord.create_channel(&req).await?)
    }
}

/// What DDL does when its object already is (CREATE) or is not (DROP) as
/// asked: nothing (`Ok(false)`) with IF [NOT] EXISTS, else the error.
pub(super) fn quietly(if_exists_clause: bool, error: Error) -> Result<bool> {
    if if_exists_clause {
        Ok(false)
    } else {
        Err(error)
    }
}

fn check_new_table(db: &str, new: &NewTable) -> Result<()> {
    names::check(NameKind::Table, &new.name)?;
    let table = format!("{db}.{}", new.name);
    if new.columns.is_empty() {
        return Err(Error::NoColumns(table));
    }
    let mut seen = HashSet::new();
    for c in &new.columns {
        names::check(NameKind::Column, &c.name)?;
        if !seen.insert(&c.name) {
            return Err(Error::DuplicateColumn {
                table,
                column: c.name.clone(),
            });
        }
    }
    if new.primary_key.is_empty() {
        return Err(Error::NoPrimaryKey(table));
    }
    if let Some(k) = new.primary_key.iter().find(|k| !seen.contains(k)) {
        return Err(Error::NoSuchColumn {
            table,
            column: k.clone(),
        });
    }
    Ok(())
}

/// The guild's channel `name` outside every category with dbcord's
/// `topic` (`#dbc-audit`, `#dbc-transactions`), if `channels` has it.
pub fn guild_channel(channels: &[Channel], name: &str, topic: &str) -> Option<Snowflake> {
    channels
        .iter()
        .find(|c| c.name == name && c.parent_id.is_none() && c.topic.as_deref() == Some(topic))
        .map(|c| c.id)
}

/// That channel, made if the guild's channels (listed now) do not have it.
pub async fn find_or_make_guild_channel(
    discord: &dyn discord_api::Discord,
    name: &str,
    topic: &str,
) -> discord_api::DiscordResult<Snowflake> {
    let channels = discord.list_channels().await?;
    if let Some(id) = guild_channel(&channels, name, topic) {
        return Ok(id);
    }
    let new = NewChannel {
        name: name.to_string(),
        kind: channel_type::TEXT,
        topic: Some(topic.to_string()),
        parent_id: None,
    };
    Ok(discord.create_channel(&new).await?.id)
}
