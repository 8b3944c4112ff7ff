//! Writing a statement: its changes become one commit message, checked
//! before it is sent and confirmed after.
//!
//! Before: every row is whole (types, NOT NULL), no key or UNIQUE value
//! repeats within the statement, and none collides with the table as the
//! statement's snapshot has it (see [`super::checks`]). The commit is a
//! readable row message when it fits in 2,000 characters, a segment in
//! attachments otherwise (see [`super::build`]). After: the log is read up
//! to the commit; if a concurrent commit won (see `log::validity`), this
//! one is void for every reader and the statement reports the conflict.
//! The void commit is left in place: readers skip it, and vacuum removes
//! it once a checkpoint covers it (deleting it would change what came
//! before a checkpoint posted meanwhile; see `log::table_log`).

use std::collections::HashMap;
use std::sync::Arc;

use discord_api::{Message, NewMessage, Snowflake};

use super::build::build;
use super::checks::checked_rows;
use super::options::WriteOptions;
use crate::error::{Error, Result};
use crate::store::codec::commit;
use crate::store::codec::meta::CommitMeta;
use crate::store::codec::op::Change;
use crate::store::codec::shard::ShardRef;
use crate::store::codec::value::Value;
use crate::store::log::sync::sync_until;
use crate::store::log::table_log::TableLog;
use crate::store::log::validity::Fates;
use crate::store::read::snapshot::Snapshot;
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, LargeRows, TableDef};
use crate::store::state::Store;
use crate::store::timing::VACUUM_GRACE;
use crate::store::txn::view::ReadView;

/// How often an INSERT that lost a race without a duplicate is tried.
const CONFLICT_TRIES: usize = 3;

impl Store {
    /// Insert `rows`: each a new key.
    pub async fn insert(
        &self,
        table: &Arc<TableDef>,
        rows: Vec<Vec<Value>>,
        options: &WriteOptions,
    ) -> Result<u64> {
        self.commit(table, Change::inserts(rows), options).await
    }

    /// Write `changes` as one commit, then compact if the log has grown
    /// past `options.compact_after`. Returns the number of rows changed.
    pub async fn commit(
        &self,
        table: &Arc<TableDef>,
        changes: Vec<Change>,
        options: &WriteOptions,
    ) -> Result<u64> {
        self.commit_from(table, changes, options, None).await
    }

    /// The newest message of `table`'s log a statement reading with
    /// `view` may write from, read now: the snapshot its reads start from,
    /// to be its commit's base.
    pub async fn pin(&self, table: &Arc<TableDef>, view: &ReadView) -> Result<Snowflake> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot_in(table, view, &mut stats).await?;
        Ok(snap.base.unwrap_or_default())
    }

    /// [`Store::commit`] for changes computed from reads that began at
    /// `read_from` (see [`Store::pin`]): a concurrent change to the same rows
    /// since then makes this commit void, so no update is lost.
    pub async fn commit_from(
        &self,
        table: &Arc<TableDef>,
        changes: Vec<Change>,
        options: &WriteOptions,
        read_from: Option<Snowflake>,
    ) -> Result<u64> {
        if changes.is_empty() {
            return Ok(0);
        }
        let changes = checked_rows(table, changes)?;
        let n = self
            .commit_retrying(table, &changes, options, read_from)
            .await?;
        drop(changes);
        let tail = self.log_of(table.channel_id).commits.len();
        // The statement is committed: a compaction that fails now is put
        // off (and backed off), not reported as the statement failing.
        if options.compact_after > 0 && tail >= options.compact_after {
            self.compact_in_passing(table, options).await;
        }
        Ok(n)
    }

    /// A commit that lost a race without a duplicate (it raced with a
    /// compaction, or with a change to one of its UNIQUE values that was
    /// later undone) is tried again from a new snapshot, if its changes did
    /// not come from reads (`read_from`): an INSERT's rows are the same
    /// whatever the table holds, an UPDATE's are not.
    async fn commit_retrying(
        &self,
        table: &Arc<TableDef>,
        changes: &[Change],
        options: &WriteOptions,
        read_from: Option<Snowflake>,
    ) -> Result<u64> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.commit_once(table, changes, options, read_from).await {
                Err(Error::Conflict { .. }) if read_from.is_none() && tries < CONFLICT_TRIES => {
                    tracing::info!(
                        "{}: commit lost a race; trying again",
                        table.qualified_name()
                    );
                }
                other => return other,
            }
        }
    }

    /// One try of a commit, step by step.
    async fn commit_once(
        &self,
        table: &Arc<TableDef>,
        changes: &[Change],
        options: &WriteOptions,
        read_from: Option<Snowflake>,
    ) -> Result<u64> {
        let posted = self.post(table, changes, options, read_from, None).await?;
        let mut stats = ReadStats::default();
        self.confirm(
            &posted.snap,
            &posted.known,
            changes,
            &posted.sent,
            &mut stats,
        )
        .await?;
        Ok(changes.len() as u64)
    }

    /// Check `changes` against the table as it is now and post them as one
    /// commit (a transaction's part if `part` names the transaction),
    /// not yet confirmed.
    pub(crate) async fn post(
        &self,
        table: &Arc<TableDef>,
        changes: &[Change],
        options: &WriteOptions,
        read_from: Option<Snowflake>,
        part: Option<&str>,
    ) -> Result<Posted> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        // The log as it stood before the commit: a confirmation may have
        // to judge the commit from it (see `confirm_folded`).
        let known = self.log_of(table.channel_id);
        let indexes = self.check_constraints(&snap, changes, &mut stats).await?;
        let meta = commit_meta(&snap, read_from, part);
        let sharded = self.stage_large_rows(table, changes, &meta).await?;
        let indexes = self
            .recheck_if_catalog_stale(&snap, changes, indexes, &mut stats)
            .await?;
        let message = match build(table, &indexes, changes, &meta, &sharded, options)? {
            Some(message) => message,
            None => {
                self.stage_statement(table, &indexes, changes, &meta, options)
                    .await?
            }
        };
        let sent = self.send(table, message).await?;
        Ok(Posted { snap, known, sent })
    }

    /// The table's indexes as the catalog names them now, and the changes
    /// checked against them: no key or UNIQUE value twice in the
    /// statement, none held by another live row.
    async fn check_constraints(
        &self,
        snap: &Snapshot,
        changes: &[Change],
        stats: &mut ReadStats,
    ) -> Result<Vec<Arc<IndexDef>>> {
        let def = &snap.def;
        let indexes = self.indexes_of(&def.database, &def.name);
        self.check_statement(snap, &indexes, changes, stats).await?;
        Ok(indexes)
    }

    /// A UNIQUE index declared since the catalog was read must be checked
    /// too (see `timing::UNIQUE_INDEX_WAIT`): if the catalog is older than
    /// `timing::CATALOG_FRESH`, read it again, and check the changes
    /// against the indexes it names now if they differ.
    async fn recheck_if_catalog_stale(
        &self,
        snap: &Snapshot,
        changes: &[Change],
        indexes: Vec<Arc<IndexDef>>,
        stats: &mut ReadStats,
    ) -> Result<Vec<Arc<IndexDef>>> {
        if !self.refresh_if_stale().await?
            || self.indexes_of(&snap.def.database, &snap.def.name) == indexes
        {
            return Ok(indexes);
        }
        self.check_constraints(snap, changes, stats).await
    }

    /// Post the shards of rows too large for a row message, in a table
    /// that keeps them in shards; by the position of their change.
    async fn stage_large_rows(
        &self,
        table: &TableDef,
        changes: &[Change],
        meta: &CommitMeta,
    ) -> Result<HashMap<usize, ShardRef>> {
        match table.large_rows {
            LargeRows::Shards => self.post_shards(table, changes, meta).await,
            LargeRows::Attachment => Ok(HashMap::new()),
        }
    }

    /// Create the commit message; a row message must come back as sent.
    async fn send(&self, table: &TableDef, message: NewMessage) -> Result<Message> {
        let sent = self
            .discord
            .create_message(table.channel_id, &message)
            .await?;
        if message.files.is_empty() && sent.content != message.content {
            self.delete_quietly(table, &sent).await;
            let (row, what) = commit::altered(table, &message.content, &sent.content);
            return Err(Error::ContentAltered {
                table: table.qualified_name(),
                row,
                what,
            });
        }
        Ok(sent)
    }

    /// Read the log up to our commit and check it counts; if a concurrent
    /// commit won, say what collided. A void commit is left in place (see
    /// the module's doc).
    ///
    /// A compaction may have folded the commit into a checkpoint before it
    /// is read back; whether it counts is then judged from the log as it
    /// stood when it was posted (`known` brought forward to it), as the
    /// compaction judged it.
    async fn confirm(
        &self,
        before: &Snapshot,
        known: &TableLog,
        changes: &[Change],
        sent: &Message,
        stats: &mut ReadStats,
    ) -> Result<()> {
        let def = &before.def;
        self.note_head(def.channel_id, sent.id);
        let after = self.snapshot(def, stats).await?;
        if after.runs.iter().any(|r| r.id == sent.id) {
            return Ok(());
        }
        if self
            .log_of(def.channel_id)
            .cover()
            .is_some_and(|x| x >= sent.id)
        {
            return self.confirm_folded(def, known, changes, sent, stats).await;
        }
        self.refuse_taken_keys(&after, changes, stats).await?;
        Err(Error::Conflict {
            table: def.qualified_name(),
        })
    }

    /// [`Store::confirm`] for a commit a compaction folded before it was
    /// read back: judged from the log as it stood when it was posted. That
    /// needs every message from the statement's snapshot to the commit,
    /// which vacuum leaves for [`VACUUM_GRACE`]; past that, or if the
    /// commit itself is gone, whether it counted cannot be told.
    async fn confirm_folded(
        &self,
        def: &Arc<TableDef>,
        known: &TableLog,
        changes: &[Change],
        sent: &Message,
        stats: &mut ReadStats,
    ) -> Result<()> {
        let at_post = sync_until(&self.discord, def, known, sent.id).await?;
        // No message of the channel is older than the channel itself.
        let since = known.synced.unwrap_or(def.channel_id).unix_ms();
        let intact = self.discord_now_ms() < since + VACUUM_GRACE.as_millis() as u64
            && at_post.synced == Some(sent.id);
        if !intact {
            return Err(Error::Unconfirmed {
                table: def.qualified_name(),
            });
        }
        // The commit is not a part (a part is never folded before its
        // transaction is settled), so fates do not matter here.
        let runs = self.runs(def, &at_post, &Fates::Unjudged, stats).await?;
        if runs.iter().any(|r| r.id == sent.id) {
            return Ok(());
        }
        let before = Snapshot {
            def: Arc::clone(def),
            runs,
            synced: at_post.synced,
            base: at_post.synced,
        };
        self.refuse_taken_keys(&before, changes, stats).await?;
        Err(Error::Conflict {
            table: def.qualified_name(),
        })
    }

    async fn delete_quietly(&self, table: &TableDef, m: &Message) {
        if let Err(e) = self.discord.delete_message(table.channel_id, m.id).await {
            tracing::warn!(
                "could not remove message {} of {}: {e}",
                m.id,
                table.qualified_name()
            );
        }
    }
}

impl Store {
    /// Compact after a statement, unless an earlier try failed too
    /// recently: each failure doubles the wait (from a minute to an hour),
    /// so a compaction Discord refuses is not retried by every statement.
    async fn compact_in_passing(&self, table: &Arc<TableDef>, options: &WriteOptions) {
        let now = self.clock.now_ms();
        let channel = table.channel_id;
        if self
            .backoff
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&channel)
            .is_some_and(|b| now < b.until_ms)
        {
            return;
        }
        match self.compact(table, options).await {
            Ok(_) => {
                self.backoff
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&channel);
            }
            Err(e) => {
                let mut backoff = self.backoff.lock().unwrap_or_else(|p| p.into_inner());
                let b = backoff.entry(channel).or_default();
                b.failures += 1;
                let wait = (60_000u64 << b.failures.min(6)).min(3_600_000);
                b.until_ms = now + wait;
                tracing::warn!(
                    "{}: compaction put off for {} s: {e}",
                    table.qualified_name(),
                    wait / 1000
                );
            }
        }
    }
}

/// The commit's metadata: its base is the snapshot's newest message, or
/// the older one the statement's reads began from (`read_from`), so that
/// a concurrent change to what it read voids it.
/// A transaction's part names the transaction instead of a statement ID.
fn commit_meta(snap: &Snapshot, read_from: Option<Snowflake>, part: Option<&str>) -> CommitMeta {
    let synced = snap.base.unwrap_or_default();
    CommitMeta {
        base: Some(read_from.map_or(synced, |r| r.min(synced))),
        txn: Some(part.map_or_else(discord_api::nonce::new_nonce, str::to_string)),
        part: part.is_some(),
    }
}

/// A commit posted and not yet confirmed: the snapshot its checks read,
/// the log as it stood before it, and its message.
pub(crate) struct Posted {
    pub snap: Snapshot,
    pub known: Arc<TableLog>,
    pub sent: Message,
}
