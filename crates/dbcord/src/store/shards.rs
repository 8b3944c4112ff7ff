//! Rows kept in shards (tables made `WITH (large_rows = 'shards')`): the
//! shards are posted before their commit, and read back when the commit
//! is (see [`super::codec::shard`] for the format).
//!
//! A commit whose shards cannot be read (someone deleted one, or its text
//! was changed) counts for no reader, as if it had never been committed:
//! the row reads as it was before. `verify` names it; `vacuum` removes it.

use std::collections::HashMap;
use std::sync::Arc;

use discord_api::{Discord, DiscordError, NewMessage, Snowflake};

use super::Store;
use super::codec::commit::{self, Change, CommitMeta, Op, encode_rows_sharded, key_json};
use super::codec::key::Key;
use super::codec::row::{decode_json, row_json};
use super::codec::shard::{self, SHARD_OVER, ShardRef};
use super::codec::value::Value;
use super::log::{Commit, CommitBody};
use super::schema::TableDef;
use crate::error::Result;

/// Read the shards of every commit that names some and has not read them.
pub async fn resolve(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    commits: &mut [Commit],
) -> Result<()> {
    for c in commits.iter_mut().filter(|c| !c.sharded.is_empty()) {
        let CommitBody::Rows(batch) = &c.body else {
            continue;
        };
        let mut rows: Vec<(Key, Change)> = batch.as_ref().clone();
        for r in std::mem::take(&mut c.sharded) {
            match read_row(discord, def, &r).await? {
                Ok(values) => {
                    let key = super::codec::segment::key_of(def, &values);
                    if let Some(slot) = rows.iter_mut().find(|(k, _)| Some(k) == key.as_ref()) {
                        slot.1 = Change { op: r.op(), values };
                    }
                }
                Err(why) => {
                    c.broken = Some(why);
                    break;
                }
            }
        }
        c.body = CommitBody::Rows(Arc::new(rows));
    }
    Ok(())
}

/// The values of a row kept in shards; the inner error says why the
/// shards do not make the row (a missing or damaged shard), the outer one
/// is Discord failing.
async fn read_row(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    r: &ShardRef,
) -> Result<std::result::Result<Vec<Value>, String>> {
    let bot = discord.bot_user_id();
    let mut contents = Vec::with_capacity(r.shards.len());
    for (i, id) in r.shards.iter().enumerate() {
        let Ok(id) = id.parse::<Snowflake>() else {
            return Ok(Err(format!("shard {} has no message ID", i + 1)));
        };
        match discord.get_message(def.channel_id, id).await {
            Ok(m) if m.author.id == bot => contents.push(m.content),
            Ok(_) => return Ok(Err(format!("shard message {id} is not dbcord's"))),
            Err(DiscordError::NotFound { .. }) => {
                return Ok(Err(format!(
                    "shard {} of {} (message {id}) is missing",
                    i + 1,
                    r.shards.len()
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(r.join(&contents).and_then(|text| {
        decode_json(def, &text).map_err(|e| format!("the sharded row is unreadable: {e}"))
    }))
}

impl Store {
    /// Post the shards of the rows of `changes` too large for a row
    /// message, if the commit that names them fits in one message; returns
    /// them by position. Otherwise (or if no row needs it) none: the
    /// statement becomes a segment, its rows in attachments.
    pub(super) async fn post_shards(
        &self,
        def: &TableDef,
        changes: &[Change],
        meta: &CommitMeta,
    ) -> Result<HashMap<usize, ShardRef>> {
        let mut wanted = Vec::new();
        for (i, c) in changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.op != Op::Delete)
        {
            let text = row_json(def, &c.values, i + 1)?;
            if text.len() > SHARD_OVER {
                wanted.push((i, text));
            }
        }
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholder: HashMap<usize, ShardRef> = wanted
            .iter()
            .map(|(i, text)| (*i, shard_ref(def, &changes[*i], text, Vec::new())))
            .collect();
        if encode_rows_sharded(def, changes, meta, &placeholder)?.is_none() {
            return Ok(HashMap::new());
        }
        let mut out = HashMap::new();
        let total: usize = wanted
            .iter()
            .map(|(_, t)| t.len().div_ceil(shard::SHARD_CHARS))
            .sum();
        let eta = total as f64 / super::progress::MESSAGES_PER_5_S * 5.0;
        let step = self.step("posting shards", total as u64, Some(eta));
        for (i, text) in wanted {
            let token = key_token(def, &changes[i].values);
            let mut ids = Vec::new();
            for content in shard::contents(&text, &token) {
                let m = self
                    .discord
                    .create_message(def.channel_id, &NewMessage::idempotent(content))
                    .await?;
                self.note_head(def.channel_id, m.id);
                ids.push(m.id.to_string());
                step.advance(1);
            }
            out.insert(i, shard_ref(def, &changes[i], &text, ids));
        }
        Ok(out)
    }
}

/// The reference a commit holds for a row in shards (with placeholder IDs
/// of full length when `ids` is empty, to measure the commit).
fn shard_ref(def: &TableDef, change: &Change, text: &str, ids: Vec<String>) -> ShardRef {
    let n = text.len().div_ceil(shard::SHARD_CHARS);
    let shards = if ids.is_empty() {
        vec!["9".repeat(19); n]
    } else {
        ids
    };
    let key = serde_json::from_str(&key_json(def, &change.values)).unwrap_or_default();
    ShardRef {
        op: if change.op == Op::Upsert { "~" } else { "+" }.into(),
        key,
        shards,
        len: text.len(),
        sum: shard::checksum(text),
    }
}

/// The one search token that finds a row by its key.
fn key_token(def: &TableDef, values: &[Value]) -> String {
    let tokens = commit::key_tokens(def, values);
    // A composite key's own token comes last; a single key has one.
    tokens.last().cloned().unwrap_or_default()
}
