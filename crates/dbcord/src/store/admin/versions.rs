//! A row's history: every version it had, oldest first.
//!
//! Versions live in two places. The table's channel holds every commit
//! since the last vacuum, each dated by its message ID. Before vacuum
//! deletes commits, it archives the versions they hold into the table's
//! history thread, so nothing of a row's past is lost with them.
//!
//! The history thread is one per table, started on the table's catalog
//! message (a thread's ID is its starter message's, so every process finds
//! it without a catalog change). The seeds kept a thread per row; Discord
//! allows only a few thread creations per ten minutes per guild and caps
//! active threads, so a thread per row could not keep up with an UPDATE of
//! a thousand rows. A person opens the thread from the catalog channel.
//! Each archive message is `dbchist` with the attachment `versions.jsonl`
//! (in parts of 8 MiB when longer): a line per version, `{"commit":"<id>","op":"+|~|-","row":{...}}`
//! (see [`ArchiveLine`]).
//!
//! Archiving happens only in vacuum, never in INSERT, UPDATE or DELETE, so
//! history never slows or blocks a write. When the thread cannot take the
//! archive (the guild is at its cap of active threads, say), vacuum keeps
//! the commits it would have deleted and says so: history stays whole.

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::limits::code;
use discord_api::{DiscordError, Message, NewMessage, Snowflake};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::error::{Error, Result};
use crate::store::codec::ascii_json;
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::codec::parts::{PART_BYTES, cut};
use crate::store::codec::row::decode_object;
use crate::store::codec::value::Value;
use crate::store::log::commit::{Commit, parse};
use crate::store::log::pager::HistoryPager;
use crate::store::log::table_log::TableLog;
use crate::store::log::validity::{RunBody, runs_of};
use crate::store::log::{directories, shards};
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;
use crate::store::txn::point_log::Upto;

/// The marker of an archive message in a history thread.
pub const ARCHIVE_MARKER: &str = "dbchist";
const ARCHIVE_FILE: &str = "versions.jsonl";
/// Bytes of versions one archive message carries (Discord: 10 MiB a file).
const ARCHIVE_BYTES: usize = 8 << 20;

/// One version of a row.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// The commit that wrote it: its message ID, and so its time.
    pub commit: Snowflake,
    pub op: Op,
    /// For a delete, the key columns only.
    pub values: Vec<Value>,
}

/// A version as an archive line: `{"commit":"<id>","op":"+|~|-","row":{...}}`,
/// the row keyed by stored column names.
#[derive(Serialize, Deserialize)]
struct ArchiveLine {
    commit: Snowflake,
    op: Op,
    row: Map<String, Json>,
}

impl Store {
    /// Every version of the row with `key`, oldest first: from the history
    /// thread, then from the commits still in the table's channel.
    pub async fn row_history(&self, def: &Arc<TableDef>, key: &Key) -> Result<Vec<Version>> {
        let mut versions = self.archived_versions(def, key).await?;
        let mut stats = ReadStats::default();
        let commits = self.all_commits(def).await?;
        for commit in self.valid_statements(def, commits, &mut stats).await? {
            if let Some(change) = self.change_of_key(def, &commit, key, &mut stats).await? {
                versions.push(Version {
                    commit: commit.id,
                    op: change.op,
                    values: change.values,
                });
            }
        }
        // An archive written by a vacuum that died before its deletes is
        // written again by the next one: keep each commit's version once.
        let mut seen = HashSet::new();
        versions.retain(|v| seen.insert(v.commit));
        versions.sort_by_key(|v| v.commit);
        Ok(versions)
    }

    /// What a commit does to `key`, if anything: in a segment, only the
    /// batch whose key range holds it is read.
    async fn change_of_key(
        &self,
        def: &TableDef,
        commit: &Commit,
        key: &Key,
        stats: &mut ReadStats,
    ) -> Result<Option<Change>> {
        for run in runs_of(commit) {
            let seg = match &run.body {
                RunBody::Rows(changes) => {
                    if let Some((_, c)) = changes.iter().rev().find(|(k, _)| k == key) {
                        return Ok(Some(c.clone()));
                    }
                    continue;
                }
                RunBody::Segment(seg) => Some(seg),
                RunBody::Sorted(sorted) => sorted.segment_for(key),
            };
            let Some((seg, b)) = seg.and_then(|s| Some((s, s.batch_for(key)?))) else {
                continue;
            };
            let batch = self.data_batch(def, seg, b, false, stats).await?;
            if let Some(c) = batch.find(def, key) {
                return Ok(Some(c.clone()));
            }
        }
        Ok(None)
    }

    /// Every commit in the table's channel, oldest first, checkpoints included.
    pub(crate) async fn all_commits(&self, def: &TableDef) -> Result<Vec<Commit>> {
        let messages = HistoryPager::new(Arc::clone(&self.discord), def.channel_id)
            .read_all()
            .await?;
        self.commits_in(def, messages).await
    }

    /// The commits among `messages` of `def`'s channel, their shards and
    /// directories resolved, so their changes can be read.
    pub(crate) async fn commits_in(
        &self,
        def: &TableDef,
        messages: impl IntoIterator<Item = Message>,
    ) -> Result<Vec<Commit>> {
        let bot = self.discord.bot_user_id();
        let mut commits: Vec<Commit> = messages
            .into_iter()
            .filter_map(|m| parse(def, bot, m))
            .collect();
        shards::resolve(&self.discord, def, &mut commits).await?;
        directories::resolve_commits(&self.discord, def, &mut commits).await?;
        Ok(commits)
    }

    /// The statement commits (not checkpoints) among `commits` that count.
    ///
    /// Judged without the checkpoints: a commit that raced a compaction
    /// and lost to it is counted here, a rare case history may show.
    pub(crate) async fn valid_statements(
        &self,
        def: &TableDef,
        commits: Vec<Commit>,
        stats: &mut ReadStats,
    ) -> Result<Vec<Commit>> {
        let log = TableLog {
            commits: commits
                .into_iter()
                .filter(|c| c.covers().is_none())
                .collect(),
            ..TableLog::default()
        };
        let fates = self.fates(&log, Upto::Latest).await?;
        let valid: HashSet<Snowflake> = self
            .runs(def, &log, &fates, stats)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        Ok(log
            .commits
            .into_iter()
            .filter(|c| valid.contains(&c.id))
            .collect())
    }

    /// Every change a commit makes, in its order.
    pub(crate) async fn changes_of(
        &self,
        def: &TableDef,
        commit: &Commit,
        stats: &mut ReadStats,
    ) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        for run in runs_of(commit) {
            if let RunBody::Rows(changes) = &run.body {
                out.extend(changes.iter().map(|(_, c)| c.clone()));
            }
            for seg in run.body.segments() {
                out.extend(self.all_changes(def, seg, stats).await?);
            }
        }
        Ok(out)
    }

    /// The history thread of a table, which is also the ID of the catalog
    /// message it starts on, and the catalog channel: `None` if the table
    /// is not in the catalog.
    pub fn history_thread(&self, def: &TableDef) -> Option<(Snowflake, Snowflake)> {
        let catalog = self.read();
        let db = catalog.databases.get(&def.database)?;
        let entry = db.tables.get(&def.name)?;
        Some((
            db.catalog_channel,
            def.history.unwrap_or(entry.catalog_message),
        ))
    }

    /// The archived versions of `key`, or none if the thread does not exist.
    pub(crate) async fn archived_versions(
        &self,
        def: &TableDef,
        key: &Key,
    ) -> Result<Vec<Version>> {
        self.archived_where(def, |v| row_key(def, &v.values).as_ref() == Some(key))
            .await
    }

    /// The archived versions for which `keep` holds (a whole read of the
    /// history thread), or none if the thread does not exist.
    pub(crate) async fn archived_where(
        &self,
        def: &TableDef,
        keep: impl Fn(&Version) -> bool,
    ) -> Result<Vec<Version>> {
        let Some((_, thread)) = self.history_thread(def) else {
            return Ok(Vec::new());
        };
        let pager = HistoryPager::new(Arc::clone(&self.discord), thread);
        let messages = match pager.read_all().await {
            Ok(m) => m,
            Err(Error::Discord(DiscordError::NotFound { .. })) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let bot = self.discord.bot_user_id();
        let mut out = Vec::new();
        for m in messages
            .iter()
            .filter(|m| m.author.id == bot && m.content.starts_with(ARCHIVE_MARKER))
        {
            let mut bytes = Vec::new();
            for a in &m.attachments {
                bytes.extend(
                    discord_api::attachments::download(&*self.discord, thread, m.id, a, None)
                        .await?,
                );
            }
            out.extend(parse_archive(def, &bytes).into_iter().filter(|v| keep(v)));
        }
        Ok(out)
    }

    /// Archive the versions of the statement commits among `messages` (the
    /// ones vacuum is about to delete) into the history thread, an archive
    /// message each time [`ARCHIVE_BYTES`] of versions are ready (so a
    /// vacuum after a load of millions of rows holds one commit's versions
    /// at a time, not all of them). Returns the number of versions archived.
    pub(crate) async fn archive(&self, def: &TableDef, messages: &[Message]) -> Result<u64> {
        let commits = self.commits_in(def, messages.iter().cloned()).await?;
        let mut stats = ReadStats::default();
        let mut out = Archive::default();
        for commit in self.valid_statements(def, commits, &mut stats).await? {
            for change in self.changes_of(def, &commit, &mut stats).await? {
                let line = archive_line(def, commit.id, &change);
                if out.bytes + line.1.len() + 1 > ARCHIVE_BYTES {
                    self.post_archive(def, &mut out).await?;
                }
                out.bytes += line.1.len() + 1;
                out.pending.push(line);
            }
        }
        self.post_archive(def, &mut out).await?;
        Ok(out.written)
    }

    /// Post the versions `out` holds as one archive message.
    async fn post_archive(&self, def: &TableDef, out: &mut Archive) -> Result<()> {
        if out.pending.is_empty() {
            return Ok(());
        }
        let thread = match out.thread {
            Some(t) => t,
            None => *out.thread.insert(self.open_history_thread(def).await?),
        };
        let chunk = std::mem::take(&mut out.pending);
        out.bytes = 0;
        let first = chunk.first().map(|(id, _)| *id).unwrap_or_default();
        let last = chunk.last().map(|(id, _)| *id).unwrap_or_default();
        let body: String = chunk.iter().map(|(_, l)| format!("{l}\n")).collect();
        let content = format!(
            "{ARCHIVE_MARKER} {} versions of commits {first} to {last}",
            chunk.len()
        );
        // A file holds 10 MiB at most: a longer body (one huge row) goes in
        // consecutive parts, read back joined.
        let files = cut(ARCHIVE_FILE, body.into_bytes(), PART_BYTES);
        let message = NewMessage::idempotent(content).with_files(files);
        self.discord.create_message(thread, &message).await?;
        out.written += chunk.len() as u64;
        Ok(())
    }

    /// The history thread, started on the table's catalog message if it
    /// does not exist yet.
    async fn open_history_thread(&self, def: &TableDef) -> Result<Snowflake> {
        let (channel, anchor) = self
            .history_thread(def)
            .ok_or_else(|| Error::NoSuchTable(def.qualified_name()))?;
        let name = format!("history of {}", def.qualified_name());
        match self.discord.start_thread(channel, anchor, &name).await {
            Ok(t) => Ok(t.id),
            Err(DiscordError::Invalid { code: c, .. }) if c == code::THREAD_EXISTS => Ok(anchor),
            Err(e) => Err(e.into()),
        }
    }
}

/// One archive line, with its commit for chunking.
fn archive_line(def: &TableDef, commit: Snowflake, change: &Change) -> (Snowflake, String) {
    let row = def
        .columns
        .iter()
        .zip(&change.values)
        .filter_map(|(c, v)| Some((c.stored().to_string(), v.to_json(c.ty)?)))
        .collect();
    let line = ArchiveLine {
        commit,
        op: change.op,
        row,
    };
    (commit, ascii_json::to_string(&line))
}

/// The versions of `key` in an archive file.
fn parse_archive(def: &TableDef, bytes: &[u8]) -> Vec<Version> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter_map(|l| serde_json::from_str::<ArchiveLine>(l).ok())
        .filter_map(|l| {
            Some(Version {
                commit: l.commit,
                op: l.op,
                values: decode_object(def, &l.row).ok()?,
            })
        })
        .collect()
}

/// Versions waiting to be posted as one archive message.
#[derive(Default)]
struct Archive {
    thread: Option<Snowflake>,
    pending: Vec<(Snowflake, String)>,
    bytes: usize,
    written: u64,
}
