//! Reading the rows a commit keeps in shards (tables made `WITH
//! (large_rows = 'shards')`): the shards are read back when the commit is
//! (see `codec::shard` for the format, `write::shards` for their posting).
//!
//! A commit whose shards cannot be read (someone deleted one, or its text
//! was changed) counts for no reader, as if it had never been committed:
//! the row reads as it was before. `verify` names it; `vacuum` removes it.

use std::sync::Arc;

use discord_api::{Discord, DiscordError};

use super::commit::{Commit, CommitBody};
use crate::error::Result;
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::Change;
use crate::store::codec::row::decode_json;
use crate::store::codec::shard::ShardRef;
use crate::store::codec::value::Value;
use crate::store::schema::TableDef;

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
                    let key = row_key(def, &values);
                    if let Some(slot) = rows.iter_mut().find(|(k, _)| Some(k) == key.as_ref()) {
                        slot.1 = Change { op: r.op, values };
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
    for (i, &id) in r.shards.iter().enumerate() {
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
