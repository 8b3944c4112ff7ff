//! Posting the rows of a statement too large for a row message as
//! Storcord shards (tables made `WITH (large_rows = 'shards')`): the shards
//! go first, the commit that names them after (see `codec::shard`).

use std::collections::HashMap;

use discord_api::{NewMessage, Snowflake};

use crate::error::Result;
use crate::store::codec::commit::{self, encode_rows_sharded, key_json};
use crate::store::codec::meta::CommitMeta;
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::codec::row::row_json;
use crate::store::codec::shard::{self, LONGEST_ID, SHARD_OVER, ShardRef};
use crate::store::codec::value::Value;
use crate::store::progress::MESSAGES_PER_5_S;
use crate::store::schema::TableDef;
use crate::store::state::Store;

impl Store {
    /// Post the shards of the rows of `changes` too large for a row
    /// message, if the commit that names them fits in one message; returns
    /// them by position. Otherwise (or if no row needs it) none: the
    /// statement becomes a segment, its rows in attachments.
    pub(crate) async fn post_shards(
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
        let eta = total as f64 / MESSAGES_PER_5_S * 5.0;
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
                ids.push(m.id);
                step.advance(1);
            }
            out.insert(i, shard_ref(def, &changes[i], &text, ids));
        }
        Ok(out)
    }
}

/// The reference a commit holds for a row in shards (with [`LONGEST_ID`]
/// for each shard when `ids` is empty, to measure the commit before any
/// shard is posted).
fn shard_ref(def: &TableDef, change: &Change, text: &str, ids: Vec<Snowflake>) -> ShardRef {
    let n = text.len().div_ceil(shard::SHARD_CHARS);
    let shards = if ids.is_empty() {
        vec![LONGEST_ID; n]
    } else {
        ids
    };
    let key = serde_json::from_str(&key_json(def, &change.values)).unwrap_or_default();
    ShardRef {
        op: change.op,
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
