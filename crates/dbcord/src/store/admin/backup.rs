//! Backup and restore: a table (definition, indexes, schema rules and
//! rows) as one snapshot message in the database's `#dbc-snapshots`
//! channel, and back. (A statement's read snapshot is `read::snapshot`.)
//!
//! The message is `dbcsnap <db>.<table> rows <n> sum <crc>`, with the table
//! as JSON lines in its attachments (one file, cut into parts of 8 MiB
//! when longer, as Discord takes 10 MiB a file): the first line is the manifest (the definitions, the row count
//! and the CRC-32 of every row line), each further line one row as an
//! object keyed by column name. A person can download and read it; restore
//! refuses a snapshot whose count or checksum does not match.
//!
//! Restore makes a new table (under the snapshot's name or another) at
//! once: the rows in a channel of its own first, then one catalog message
//! with the table and its indexes. It refuses to replace a table that
//! exists.

use std::collections::HashMap;
use std::sync::Arc;

use discord_api::attachments::download;
use discord_api::limits::MAX_REQUEST_BYTES;
use discord_api::{Channel, NewMessage, Snowflake, channel_type};
use serde::{Deserialize, Serialize};

use crate::error::{Error, NameKind, Result};
use crate::store::catalog::model::{Database, owned_channel};
use crate::store::codec::ascii_json;
use crate::store::codec::catalog_entry::CatalogEntry;
use crate::store::codec::meta::CommitMeta;
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::codec::parts::{PART_BYTES, cut};
use crate::store::codec::row::{KeyNames, decode_json, row_text};
use crate::store::codec::value::Value;
use crate::store::names;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;
use crate::store::write::build::build;
use crate::store::write::options::WriteOptions;

pub const SNAPSHOT_MARKER: &str = "dbcsnap";

/// The first line of a snapshot.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    table: TableDef,
    indexes: Vec<IndexDef>,
    rows: u64,
    /// CRC-32 of the row lines, each with its newline, hex.
    sum: String,
}

/// What a snapshot holds, as reported.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotInfo {
    pub id: Snowflake,
    pub table: String,
    pub rows: u64,
    pub sum: String,
    pub bytes: u64,
}

/// What a restore made.
#[derive(Clone, Debug, PartialEq)]
pub struct Restored {
    pub table: String,
    pub rows: u64,
    pub indexes: Vec<String>,
}

impl Store {
    /// Write a snapshot of `def` into the database's snapshots channel.
    pub async fn snapshot_table(&self, def: &Arc<TableDef>) -> Result<SnapshotInfo> {
        let rows = self.all_rows(def).await?;
        let mut body = String::new();
        for r in &rows {
            body.push_str(&row_text(def, r, KeyNames::Stored));
            body.push('\n');
        }
        let sum = format!("{:08x}", crc32fast::hash(body.as_bytes()));
        let manifest = Manifest {
            format: 1,
            table: (**def).clone(),
            indexes: self
                .indexes_of(&def.database, &def.name)
                .iter()
                .map(|i| (**i).clone())
                .collect(),
            rows: rows.len() as u64,
            sum: sum.clone(),
        };
        let text = format!("{}\n{body}", ascii_json::to_string(&manifest));
        let bytes = text.len() as u64;
        if text.len() > MAX_REQUEST_BYTES - (1 << 20) {
            return Err(Error::StatementTooLarge {
                table: def.qualified_name(),
                bytes: text.len(),
            });
        }
        let name = format!("{}.snapshot.jsonl", def.name);
        let files = cut(&name, text.into_bytes(), PART_BYTES);
        let channel = self.snapshots_channel(&def.database).await?;
        let content = format!(
            "{SNAPSHOT_MARKER} {} rows {} sum {sum}",
            def.qualified_name(),
            rows.len()
        );
        let sent = self
            .discord
            .create_message(
                channel.id,
                &NewMessage::idempotent(content).with_files(files),
            )
            .await?;
        Ok(SnapshotInfo {
            id: sent.id,
            table: def.qualified_name(),
            rows: rows.len() as u64,
            sum,
            bytes,
        })
    }

    /// Make table `db.name` from snapshot `id` of database `db`, at once:
    /// a channel of its own, the rows as one commit in it, then one catalog
    /// message that defines the table with its indexes. Killed before that
    /// message, it leaves a channel no table refers to, which the next
    /// restore of the same snapshot under the same name deletes.
    pub async fn restore(&self, db: &str, name: &str, id: Snowflake) -> Result<Restored> {
        names::check(NameKind::Table, name)?;
        if self.table(db, name).is_some() {
            return Err(Error::RestoreOverTable(format!("{db}.{name}")));
        }
        let (manifest, rows) = self.read_snapshot(db, id).await?;
        let _ddl = self.ddl.lock().await;
        let database = self.read().database(db)?.clone();
        if database.tables.contains_key(name) {
            return Err(Error::TableExists(format!("{db}.{name}")));
        }
        let channel = self.restore_channel(&database, name, id).await?;
        let def = TableDef {
            database: db.to_string(),
            name: name.to_string(),
            channel_id: channel,
            history: None,
            dropped: Vec::new(),
            initial_columns: None,
            ..manifest.table.clone()
        };
        let indexes = restored_indexes(&database, &def, &manifest.indexes);
        let n = rows.len() as u64;
        if !rows.is_empty() {
            let changes: Vec<Change> = rows
                .into_iter()
                .map(|values| Change {
                    op: Op::Insert,
                    values,
                })
                .collect();
            let meta = CommitMeta {
                base: None,
                txn: Some(discord_api::nonce::new_nonce()),
                ..Default::default()
            };
            let arcs: Vec<Arc<IndexDef>> = indexes.iter().cloned().map(Arc::new).collect();
            let options = WriteOptions::default();
            let message = match build(&def, &arcs, &changes, &meta, &HashMap::new(), &options)? {
                Some(message) => message,
                None => {
                    let def = Arc::new(def.clone());
                    self.stage_statement(&def, &arcs, &changes, &meta, &options)
                        .await?
                }
            };
            self.discord.create_message(channel, &message).await?;
        }
        let names = indexes.iter().map(|i| i.name.clone()).collect();
        let entry = CatalogEntry::Restored {
            table: def.clone(),
            indexes,
        };
        self.post_catalog(&database, &entry).await?;
        Ok(Restored {
            table: def.qualified_name(),
            rows: n,
            indexes: names,
        })
    }

    /// A new channel for a restored table, after deleting one a killed
    /// restore of the same snapshot under the same name left.
    async fn restore_channel(&self, db: &Database, name: &str, id: Snowflake) -> Result<Snowflake> {
        let channel_name = names::table_channel_name(name);
        let topic = names::restore_topic(&db.name, name, id);
        let channels = self.discord.list_channels().await?;
        for c in channels
            .iter()
            .filter(|c| c.parent_id == Some(db.category_id) && c.name == channel_name)
        {
            if c.topic.as_deref() == Some(topic.as_str()) {
                self.discord.delete_channel(c.id).await?;
            } else {
                return Err(Error::ChannelInUse(channel_name));
            }
        }
        Ok(self
            .make_channel(
                &channel_name,
                channel_type::TEXT,
                Some(topic),
                Some(db.category_id),
            )
            .await?
            .id)
    }

    /// The manifest and rows of snapshot `id`, checked.
    async fn read_snapshot(&self, db: &str, id: Snowflake) -> Result<(Manifest, Vec<Vec<Value>>)> {
        let bad = |why: String| Error::BadSnapshot { id, why };
        let channel = self.find_snapshots_channel(db).await?.ok_or_else(|| {
            bad(format!(
                "database {db} has no #{}",
                names::SNAPSHOTS_CHANNEL
            ))
        })?;
        let m = self
            .discord
            .get_message(channel.id, id)
            .await
            .map_err(|e| {
                bad(format!(
                    "no such message in #{}: {e}",
                    names::SNAPSHOTS_CHANNEL
                ))
            })?;
        if m.author.id != self.discord.bot_user_id() || !m.content.starts_with(SNAPSHOT_MARKER) {
            return Err(bad("the message is not one of dbcord's snapshots".into()));
        }
        let mut text = Vec::new();
        for a in &m.attachments {
            text.extend(download(&*self.discord, channel.id, id, a, None).await?);
        }
        let text = String::from_utf8(text).map_err(|_| bad("its files are not UTF-8".into()))?;
        let (first, body) = text
            .split_once('\n')
            .ok_or_else(|| bad("it has no manifest".into()))?;
        let manifest: Manifest = serde_json::from_str(first)
            .map_err(|e| bad(format!("its manifest is unreadable: {e}")))?;
        let sum = format!("{:08x}", crc32fast::hash(body.as_bytes()));
        if sum != manifest.sum {
            return Err(bad(format!(
                "its rows have checksum {sum}, the manifest says {}",
                manifest.sum
            )));
        }
        let rows = body
            .lines()
            .enumerate()
            .map(|(i, l)| {
                decode_json(&manifest.table, l).map_err(|e| bad(format!("row line {}: {e}", i + 2)))
            })
            .collect::<Result<Vec<_>>>()?;
        if rows.len() as u64 != manifest.rows {
            return Err(bad(format!(
                "it holds {} rows, the manifest says {}",
                rows.len(),
                manifest.rows
            )));
        }
        Ok((manifest, rows))
    }

    /// The database's snapshots channel, if it has one.
    async fn find_snapshots_channel(&self, db: &str) -> Result<Option<Channel>> {
        let category = self.read().database(db)?.category_id;
        let channels = self.discord.list_channels().await?;
        Ok(owned_channel(&channels, category, names::SNAPSHOTS_CHANNEL).cloned())
    }

    /// The database's snapshots channel, made on first use.
    async fn snapshots_channel(&self, db: &str) -> Result<Channel> {
        if let Some(c) = self.find_snapshots_channel(db).await? {
            return Ok(c);
        }
        let category = self.read().database(db)?.category_id;
        self.make_channel(
            names::SNAPSHOTS_CHANNEL,
            channel_type::TEXT,
            Some(names::snapshots_topic(db)),
            Some(category),
        )
        .await
    }
}

/// The snapshot's indexes on the restored table, ready: under their own
/// names where those are free in the database, else prefixed with the table's.
fn restored_indexes(db: &Database, def: &TableDef, indexes: &[IndexDef]) -> Vec<IndexDef> {
    indexes
        .iter()
        .map(|i| IndexDef {
            database: def.database.clone(),
            name: if db.indexes.contains_key(&i.name) {
                format!("{}_{}", def.name, i.name)
            } else {
                i.name.clone()
            },
            table: def.name.clone(),
            channel_id: None,
            ready: true,
            ..i.clone()
        })
        .collect()
}
