//! Storcord's ObjectID is a row's message (`_message_id`), and an UPDATE
//! writes the row into a new message. So that an ObjectID handed out
//! before an UPDATE still finds the document after it, an old message ID
//! is resolved to the keys that message wrote, and those keys to their
//! rows now. `_message_id` keeps its meaning (the message holding the
//! current version); resolving is the separate `object()` function.
//!
//! Where the keys come from, cheapest first: the message itself while it
//! is in the table's channel (one request), else the versions vacuum
//! archived into the history thread under that commit (a read of the
//! thread). A message is a statement: an ObjectID of a statement that
//! wrote several rows resolves to all of them, as `_message_id = ` does.

use std::sync::Arc;

use discord_api::{DiscordError, Snowflake};

use crate::error::{Error, Result};
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::Op;
use crate::store::read::rows::StoredRow;
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;

impl Store {
    /// The live rows of the documents message `id` of `def`'s channel
    /// wrote, as they are now (none if they were deleted since).
    pub async fn resolve_object(
        &self,
        def: &Arc<TableDef>,
        id: Snowflake,
    ) -> Result<Vec<StoredRow>> {
        let keys = self.keys_written_by(def, id).await?;
        let mut stats = ReadStats::default();
        let snap = self.snapshot(def, &mut stats).await?;
        self.get(&snap, &keys, &mut stats).await
    }

    async fn keys_written_by(&self, def: &Arc<TableDef>, id: Snowflake) -> Result<Vec<Key>> {
        match self.discord.get_message(def.channel_id, id).await {
            Ok(m) => {
                let commits = self.commits_in(def, [m]).await?;
                let mut stats = ReadStats::default();
                let mut keys = Vec::new();
                for c in self.valid_statements(def, commits, &mut stats).await? {
                    for change in self.changes_of(def, &c, &mut stats).await? {
                        if change.op != Op::Delete {
                            keys.extend(row_key(def, &change.values));
                        }
                    }
                }
                Ok(keys)
            }
            Err(DiscordError::NotFound { .. }) => {
                let archived = self
                    .archived_where(def, |v| v.commit == id && v.op != Op::Delete)
                    .await?;
                Ok(archived
                    .iter()
                    .filter_map(|v| row_key(def, &v.values))
                    .collect())
            }
            Err(e) => Err(Error::Discord(e)),
        }
    }
}
