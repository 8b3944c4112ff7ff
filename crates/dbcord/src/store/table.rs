//! Writing rows and reading them back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use discord_api::{Message, NewMessage, Snowflake};

use super::Store;
use super::codec::index_entry::{decode_entry, encode_entry};
use super::codec::row::{self, EncodedRow, NotARow};
use super::codec::value::Value;
use super::history::HistoryPager;
use super::schema::{IndexDef, TableDef};
use crate::error::{Error, Result};

/// A row as read from its channel, with Storcord's ObjectID.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow {
    pub channel_id: Snowflake,
    pub message_id: Snowflake,
    pub values: Vec<Value>,
}

/// One history page of a table.
#[derive(Debug, Default)]
pub struct RowPage {
    pub rows: Vec<StoredRow>,
    /// Messages in the page that are not dbcord rows (someone typed into the channel).
    pub skipped: usize,
}

impl Store {
    /// Insert rows and their index entries. Every row is encoded and every
    /// key checked before the first message is sent, so a bad row or a
    /// duplicate writes nothing; if Discord fails midway, what was written is
    /// deleted again. `fresh_window` is how far back search may not see yet.
    pub async fn insert(
        &self,
        table: &Arc<TableDef>,
        rows: &[Vec<Value>],
        fresh_window: Duration,
    ) -> Result<u64> {
        let indexes = self.indexes_of(&table.database, &table.name);
        let mut encoded = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let row = row::encode(table, r, i + 1)?;
            for index in &indexes {
                // The largest row ID, so an entry that fits now fits later.
                encode_entry(table, index, &row.values, Snowflake(u64::MAX), i + 1)?;
            }
            encoded.push(row);
        }
        let stored: Vec<Vec<Value>> = encoded.iter().map(|r| r.values.clone()).collect();
        self.check_unique(table, &stored, fresh_window).await?;
        let mut written = Vec::new();
        for (i, row) in encoded.into_iter().enumerate() {
            let step = self
                .write_row(table, &indexes, row, i + 1, &mut written)
                .await;
            if let Err(e) = step {
                self.roll_back(&written).await;
                return Err(e);
            }
        }
        Ok(rows.len() as u64)
    }

    /// One row message, then its index entries; every message sent goes into `written`.
    async fn write_row(
        &self,
        table: &TableDef,
        indexes: &[Arc<IndexDef>],
        row: EncodedRow,
        row_no: usize,
        written: &mut Vec<(Snowflake, Snowflake)>,
    ) -> Result<()> {
        let msg = self
            .create_verified(table, table.channel_id, row.content, row_no)
            .await?;
        written.push((table.channel_id, msg.id));
        for index in indexes {
            if let Some(entry) = encode_entry(table, index, &row.values, msg.id, row_no)? {
                let e = self
                    .create_verified(table, index.channel_id, entry, row_no)
                    .await?;
                written.push((index.channel_id, e.id));
            }
        }
        Ok(())
    }

    /// Create a data message and check that Discord stored what was sent:
    /// Discord may strip characters, and an altered row would read back
    /// wrong. An altered message is deleted again and reported.
    pub(super) async fn create_verified(
        &self,
        table: &TableDef,
        channel: Snowflake,
        content: String,
        row_no: usize,
    ) -> Result<Message> {
        let msg = self
            .discord
            .create_message(channel, &NewMessage::idempotent(content.clone()))
            .await?;
        if msg.content == content {
            return Ok(msg);
        }
        if let Err(e) = self.discord.delete_message(channel, msg.id).await {
            tracing::error!(
                "could not delete altered message {} in {channel}: {e}",
                msg.id
            );
        }
        Err(Error::ContentAltered {
            table: table.qualified_name(),
            row: row_no,
            what: altered_part(table, &content, &msg.content),
        })
    }

    /// Best effort: delete what a failed insert wrote, a bulk delete per 100.
    async fn roll_back(&self, written: &[(Snowflake, Snowflake)]) {
        let mut by_channel: BTreeMap<Snowflake, Vec<Snowflake>> = BTreeMap::new();
        for (c, m) in written {
            by_channel.entry(*c).or_default().push(*m);
        }
        for (channel, ids) in by_channel {
            for chunk in ids.chunks(100) {
                let r = match chunk {
                    [one] => self.discord.delete_message(channel, *one).await,
                    many => self.discord.bulk_delete(channel, many).await,
                };
                if let Err(e) = r {
                    tracing::error!(
                        "could not roll back a failed insert in channel {channel}: {e}"
                    );
                }
            }
        }
    }
}

impl Store {
    /// Every row of a table, by full history scan.
    pub async fn all_rows(&self, table: &Arc<TableDef>) -> Result<Vec<StoredRow>> {
        self.rows_after(table, Snowflake(0)).await
    }

    /// The rows in messages newer than `after`, oldest first.
    pub async fn rows_after(
        &self,
        table: &Arc<TableDef>,
        after: Snowflake,
    ) -> Result<Vec<StoredRow>> {
        let bot = self.discord.bot_user_id();
        let mut pager = HistoryPager::after(Arc::clone(&self.discord), table.channel_id, after);
        let mut rows = Vec::new();
        while let Some(page) = pager.next_page().await? {
            rows.extend(decode_page(table, bot, &page).rows);
        }
        Ok(rows)
    }
}

/// Rows from messages the bot wrote; anything else is counted and skipped.
pub fn decode_page(table: &TableDef, bot: Snowflake, messages: &[Message]) -> RowPage {
    let mut page = RowPage::default();
    for m in messages {
        match row_of(table, bot, m, false) {
            Ok(row) => page.rows.push(row),
            Err(why) => {
                tracing::debug!(
                    "skipping message {} in {}: {why}",
                    m.id,
                    table.qualified_name()
                );
                page.skipped += 1;
            }
        }
    }
    page
}

/// The row a message holds: a row message in the table's channel, or (with
/// `index`) an index entry, which carries its row and the row's message ID.
/// Only the bot's own messages count.
pub fn row_of(
    table: &TableDef,
    bot: Snowflake,
    m: &Message,
    index: bool,
) -> Result<StoredRow, NotARow> {
    let (message_id, values) = if m.author.id != bot {
        return Err(NotARow("not written by dbcord".into()));
    } else if index {
        decode_entry(table, &m.content).ok_or_else(|| NotARow("not an index entry".into()))?
    } else {
        (m.id, row::decode(table, &m.content)?)
    };
    Ok(StoredRow {
        channel_id: table.channel_id,
        message_id,
        values,
    })
}

/// What differs between a sent row and its echo: the first column whose
/// value changed, else the line of search tokens.
fn altered_part(table: &TableDef, sent: &str, echoed: &str) -> String {
    let json = |s: &str| s.split_once('\n').map(|(_, j)| j.to_string());
    let values = |s: &str| json(s).and_then(|j| row::decode_json(table, &j).ok());
    match (values(sent), values(echoed)) {
        (Some(a), Some(b)) => table
            .columns
            .iter()
            .zip(a.iter().zip(&b))
            .find(|(_, (x, y))| x != y)
            .map(|(c, _)| format!("column \"{}\"", c.name))
            .unwrap_or_else(|| "the search tokens".to_string()),
        _ => "the row's text".to_string(),
    }
}
