//! Writing rows and reading them back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Store;
use super::history::HistoryPager;
use super::row::{self, Value};
use super::schema::TableDef;
use crate::discord::{Message, NewMessage, Snowflake};
use crate::error::Result;

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
    /// Insert rows. Every row is encoded and checked before the first message
    /// is sent, so a bad or oversized row writes nothing.
    pub async fn insert(&self, table: &TableDef, rows: &[Vec<Value>]) -> Result<u64> {
        let contents = rows
            .iter()
            .enumerate()
            .map(|(i, r)| row::encode(table, r, i + 1))
            .collect::<Result<Vec<_>>>()?;
        for content in contents {
            let msg = NewMessage {
                content,
                files: Vec::new(),
                nonce: Some(new_nonce()),
                enforce_nonce: true,
            };
            self.discord.create_message(table.channel_id, &msg).await?;
        }
        Ok(rows.len() as u64)
    }

    /// A full scan of the table's channel, page by page.
    pub fn scan(&self, table: Arc<TableDef>) -> TableScan {
        TableScan {
            pager: HistoryPager::new(Arc::clone(&self.discord), table.channel_id),
            bot: self.discord.bot_user_id(),
            table,
        }
    }
}

/// A full scan in progress: one history request per page, oldest rows first.
pub struct TableScan {
    pager: HistoryPager,
    bot: Snowflake,
    table: Arc<TableDef>,
}

impl TableScan {
    pub async fn next_page(&mut self) -> Result<Option<RowPage>> {
        let Some(messages) = self.pager.next_page().await? else {
            return Ok(None);
        };
        Ok(Some(decode_page(&self.table, self.bot, &messages)))
    }

    pub fn requests(&self) -> u64 {
        self.pager.requests
    }
}

/// Rows from messages the bot wrote; anything else is counted and skipped.
pub fn decode_page(table: &TableDef, bot: Snowflake, messages: &[Message]) -> RowPage {
    let mut page = RowPage::default();
    for m in messages {
        let decoded = if m.author.id == bot {
            row::decode(table, &m.content)
        } else {
            Err(row::NotARow("not written by dbcord".into()))
        };
        match decoded {
            Ok(values) => page.rows.push(StoredRow {
                channel_id: m.channel_id,
                message_id: m.id,
                values,
            }),
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

/// A nonce unique to this process and call, at most 25 characters, so that a
/// retried create returns the first message instead of a duplicate row.
fn new_nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{:x}{:x}{:x}",
        t & 0xffff_ffff_ffff,
        std::process::id() & 0xffff,
        n
    )
    .chars()
    .take(25)
    .collect()
}
