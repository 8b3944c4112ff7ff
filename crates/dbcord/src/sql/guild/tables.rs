//! `discord.channels`, `discord.threads`, `discord.members`,
//! `discord.roles`: small lists, read whole (a request or a few) when a
//! statement scans them, never kept.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, RecordBatch, StringBuilder, TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::Expr;
use discord_api::limits::MEMBERS_PAGE;
use discord_api::{Channel, Discord, Snowflake, channel_type};
use serde_json::json;

use super::errors::{discord_error, read_only};
use super::map::{self, GuildMap};
use super::rows::{iso_ms, timestamp};
use crate::store::Store;

/// Which list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    Channels,
    Threads,
    Members,
    Roles,
}

impl ListKind {
    pub const ALL: [ListKind; 4] = [
        ListKind::Channels,
        ListKind::Threads,
        ListKind::Members,
        ListKind::Roles,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ListKind::Channels => "channels",
            ListKind::Threads => "threads",
            ListKind::Members => "members",
            ListKind::Roles => "roles",
        }
    }

    fn schema(self) -> SchemaRef {
        let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
        let (id, text, flag) = (DataType::Int64, DataType::Utf8, DataType::Boolean);
        Arc::new(Schema::new(match self {
            ListKind::Channels => vec![
                f("id", id.clone(), false),
                f("name", text.clone(), false),
                f("type", text.clone(), false),
                f("category_id", id.clone(), true),
                f("category", text.clone(), true),
                f("topic", text.clone(), true),
                f("position", id.clone(), false),
                f("last_message_id", id, true),
                f("dbcord", flag, false),
            ],
            ListKind::Threads => vec![
                f("id", id.clone(), false),
                f("name", text, false),
                f("parent_id", id.clone(), true),
                f("archived", flag.clone(), false),
                f("locked", flag, false),
                f("auto_archive_minutes", id.clone(), true),
                f("last_message_id", id, true),
                f("created_at", timestamp(), false),
            ],
            ListKind::Members => vec![
                f("user_id", id, false),
                f("username", text.clone(), false),
                f("nick", text.clone(), true),
                f("is_bot", flag, false),
                f("roles", text, false),
                f("joined_at", timestamp(), true),
            ],
            ListKind::Roles => vec![
                f("id", id.clone(), false),
                f("name", text.clone(), false),
                f("position", id.clone(), false),
                f("color", id, false),
                f("permissions", text, false),
                f("hoist", flag.clone(), false),
                f("managed", flag.clone(), false),
                f("mentionable", flag, false),
            ],
        }))
    }
}

#[derive(Debug)]
pub struct ListTable {
    store: Arc<Store>,
    kind: ListKind,
}

impl ListTable {
    pub fn new(store: Arc<Store>, kind: ListKind) -> Self {
        ListTable { store, kind }
    }
}

#[async_trait]
impl TableProvider for ListTable {
    fn schema(&self) -> SchemaRef {
        self.kind.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let discord = self.store.discord().as_ref();
        let columns = match self.kind {
            ListKind::Channels => channels(&self.store).await?,
            ListKind::Threads => threads(&self.store).await?,
            ListKind::Members => members(discord).await?,
            ListKind::Roles => roles(discord).await?,
        };
        let batch = RecordBatch::try_new(self.schema(), columns)?;
        let exec =
            MemorySourceConfig::try_new_exec(&[vec![batch]], self.schema(), projection.cloned())?;
        Ok(exec)
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        _input: Arc<dyn ExecutionPlan>,
        _op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(read_only("INSERT", self.kind.name()))
    }
}

fn ids(values: impl Iterator<Item = Option<u64>>) -> ArrayRef {
    let mut b = Int64Builder::new();
    values.for_each(|v| b.append_option(v.map(|v| v as i64)));
    Arc::new(b.finish())
}

fn texts<S: AsRef<str>>(values: impl Iterator<Item = Option<S>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    values.for_each(|v| b.append_option(v));
    Arc::new(b.finish())
}

fn flags(values: impl Iterator<Item = bool>) -> ArrayRef {
    let mut b = BooleanBuilder::new();
    values.for_each(|v| b.append_value(v));
    Arc::new(b.finish())
}

fn times(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    let mut b = TimestampMillisecondBuilder::new().with_timezone("UTC");
    values.for_each(|v| b.append_option(v));
    Arc::new(b.finish())
}

/// dbcord's own channels carry a topic of dbcord's; its databases are
/// categories named `dbcord-<db>`.
fn is_dbcords(c: &Channel) -> bool {
    crate::store::is_dbcord_topic(c.topic.as_deref())
        || (c.kind == channel_type::CATEGORY && c.name.starts_with("dbcord-"))
}

async fn channels(store: &Store) -> Result<Vec<ArrayRef>> {
    let (list, _) = map::channels(store).await.map_err(discord_error)?;
    let name_of = |id: Option<Snowflake>| {
        id.and_then(|p| list.iter().find(|c| c.id == p))
            .map(|c| c.name.clone())
    };
    Ok(vec![
        ids(list.iter().map(|c| Some(c.id.0))),
        texts(list.iter().map(|c| Some(c.name.clone()))),
        texts(list.iter().map(|c| Some(channel_type::name(c.kind)))),
        ids(list.iter().map(|c| c.parent_id.map(|p| p.0))),
        texts(list.iter().map(|c| name_of(c.parent_id))),
        texts(list.iter().map(|c| c.topic.clone())),
        ids(list.iter().map(|c| Some(c.position.max(0) as u64))),
        ids(list.iter().map(|c| c.last_message_id.map(|m| m.0))),
        flags(list.iter().map(is_dbcords)),
    ])
}

/// Active threads, and every text channel's archived ones.
async fn threads(store: &Store) -> Result<Vec<ArrayRef>> {
    let discord = store.discord().as_ref();
    let (channels, _) = map::channels(store).await.map_err(discord_error)?;
    let map = GuildMap::load(discord, &channels)
        .await
        .map_err(discord_error)?;
    let parents = map.message_channels().into_iter().collect();
    map.threads_of(discord, &parents)
        .await
        .map_err(discord_error)?;
    let list = map.known_threads();
    let meta = |t: &Channel| t.thread_metadata.clone();
    Ok(vec![
        ids(list.iter().map(|t| Some(t.id.0))),
        texts(list.iter().map(|t| Some(t.name.clone()))),
        ids(list.iter().map(|t| t.parent_id.map(|p| p.0))),
        flags(list.iter().map(|t| meta(t).is_some_and(|m| m.archived))),
        flags(list.iter().map(|t| meta(t).is_some_and(|m| m.locked))),
        ids(list
            .iter()
            .map(|t| meta(t).map(|m| u64::from(m.auto_archive_duration)))),
        ids(list.iter().map(|t| t.last_message_id.map(|m| m.0))),
        times(list.iter().map(|t| Some(t.id.unix_ms() as i64))),
    ])
}

/// Every member, a thousand a request.
async fn members(discord: &dyn Discord) -> Result<Vec<ArrayRef>> {
    let mut all = Vec::new();
    let mut after = Snowflake(0);
    loop {
        let page = discord
            .list_members(after, MEMBERS_PAGE)
            .await
            .map_err(|e| match e {
                discord_api::DiscordError::Forbidden { .. } => datafusion::error::DataFusionError::Plan(
                    "discord.members: Discord refused to list the members; the bot needs the Server Members intent".into(),
                ),
                e => discord_error(e),
            })?;
        let full = page.len() as u32 >= MEMBERS_PAGE;
        match page.last() {
            Some(m) => after = m.user.id,
            None => break,
        }
        all.extend(page);
        if !full {
            break;
        }
    }
    Ok(vec![
        ids(all.iter().map(|m| Some(m.user.id.0))),
        texts(all.iter().map(|m| Some(m.user.username.clone()))),
        texts(all.iter().map(|m| m.nick.clone())),
        flags(all.iter().map(|m| m.user.bot)),
        texts(all.iter().map(|m| {
            let r: Vec<String> = m.roles.iter().map(|r| r.to_string()).collect();
            Some(json!(r).to_string())
        })),
        times(all.iter().map(|m| iso_ms(&m.joined_at))),
    ])
}

async fn roles(discord: &dyn Discord) -> Result<Vec<ArrayRef>> {
    let list = discord.list_roles().await.map_err(discord_error)?;
    Ok(vec![
        ids(list.iter().map(|r| Some(r.id.0))),
        texts(list.iter().map(|r| Some(r.name.clone()))),
        ids(list.iter().map(|r| Some(r.position.max(0) as u64))),
        ids(list.iter().map(|r| Some(u64::from(r.color)))),
        texts(list.iter().map(|r| Some(r.permissions.clone()))),
        flags(list.iter().map(|r| r.hoist)),
        flags(list.iter().map(|r| r.managed)),
        flags(list.iter().map(|r| r.mentionable)),
    ])
}
