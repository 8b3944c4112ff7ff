//! Vacuum: compact fully, then delete what no reader will read again
//! (bulk deletes for messages younger than 14 days, one by one for older
//! ones), after archiving the row versions the deleted commits hold in the
//! table's history thread (see `admin::versions`); people's messages in
//! the channel are left alone unless asked.
//!
//! What goes:
//! - the bot's commits and manifests the current manifest replaced (those
//!   up to its `covers`), once older than `timing::VACUUM_GRACE` (a writer
//!   confirming a commit a compaction folded reads them);
//! - staged segments (in the table's channel and its indexes') that no
//!   protected directory names: not the current manifest's, not a later
//!   commit's, not any manifest's younger than the grace or current at its
//!   start (a read that began with it may still fetch them). Of those, the
//!   ones some directory named once go (their stage is over); the ones
//!   nothing ever named go once their stage began longer ago than
//!   `timing::STAGE_GRACE` (before that it may still be under way).

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::limits::{BULK_DELETE_MAX, BULK_DELETE_MAX_AGE};
use discord_api::{Message, Snowflake};

use super::checkpoint::Goal;
use crate::error::{Error, Result};
use crate::store::codec::manifest::{is_staged, parse_staged};
use crate::store::log::commit::{CommitBody, parse};
use crate::store::log::directories::resolve_commits;
use crate::store::log::pager::HistoryPager;
use crate::store::log::validity::RunBody;
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;
use crate::store::timing::{STAGE_GRACE, VACUUM_GRACE};
use crate::store::write::options::WriteOptions;

/// What a vacuum did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VacuumReport {
    /// The manifest everything older was folded into, if the table has rows.
    pub checkpoint: Option<Snowflake>,
    /// Messages deleted.
    pub deleted: u64,
    /// Row versions archived into the history thread first.
    pub archived: u64,
    /// Messages in the channel that are not dbcord's (deleted only if asked).
    pub foreign: u64,
    /// Why history could not be archived, if it could not: then nothing
    /// was deleted (the commits still hold the history).
    pub history_kept_back: Option<String>,
    /// Replaced messages younger than [`VACUUM_GRACE`], and staged
    /// segments whose stage may still be under way, left for a later
    /// vacuum.
    pub kept_young: u64,
}

/// Which staged segments directories name.
#[derive(Debug, Default)]
struct Named {
    /// Named by a directory a reader may still use.
    protected: HashSet<Snowflake>,
    /// Those directories: they stay while what they name does (so a later
    /// vacuum still knows their segments for ones a directory named).
    directories: HashSet<Snowflake>,
    /// Named by any directory ever (their stage is over).
    ever: HashSet<Snowflake>,
}

impl Store {
    /// `VACUUM table`: compact fully, then archive the history of every
    /// commit of the bot's that the manifest replaced and delete them, and
    /// the staged segments nothing names; with `delete_foreign`, delete
    /// everyone else's messages in the channel too.
    pub async fn vacuum(
        &self,
        table: &Arc<TableDef>,
        delete_foreign: bool,
        options: &WriteOptions,
    ) -> Result<VacuumReport> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot(table, &mut stats).await?;
        let log = self.log_of(table.channel_id);
        // Commits after the manifest (void ones too) are folded away, and
        // every run merged into one.
        let runs = snap
            .runs
            .iter()
            .filter(|r| matches!(r.body, RunBody::Sorted(_)));
        if log.checkpoint.is_none() || !log.commits.is_empty() || runs.count() > 1 {
            self.compact_for(table, options, Goal::Full).await?;
            self.snapshot(table, &mut stats).await?;
        }
        let log = self.log_of(table.channel_id);
        let checkpoint = log.checkpoint.as_ref().map(|c| c.id);
        let cover = log.cover();
        let mut report = VacuumReport {
            checkpoint,
            ..VacuumReport::default()
        };
        let bot = self.discord.bot_user_id();
        let all = HistoryPager::new(Arc::clone(&self.discord), table.channel_id)
            .read_all()
            .await?;
        let (mine, foreign): (Vec<Message>, Vec<Message>) =
            all.into_iter().partition(|m| m.author.id == bot);
        report.foreign = foreign.len() as u64;
        let named = self.named(table, &mine, checkpoint, cover).await?;
        let now = self.discord_now_ms();
        let grace_start = now.saturating_sub(VACUUM_GRACE.as_millis() as u64);
        // Shards are posted before their commit: those of a commit after
        // the cover may be older than it, and are still needed.
        let live_shards: HashSet<Snowflake> = log
            .commits
            .iter()
            .flat_map(|c| c.shards.iter().copied())
            .collect();
        let (mut staged, mut replaced, mut kept) = (Vec::new(), Vec::new(), 0);
        for m in mine {
            if is_staged(&m.content) {
                match staged_garbage(&m, &named, now) {
                    Some(true) => staged.push(m.id),
                    Some(false) => kept += 1,
                    None => {}
                }
            } else if Some(m.id) != checkpoint
                && cover.is_some_and(|c| m.id <= c)
                && !named.protected.contains(&m.id)
                && !named.directories.contains(&m.id)
                && !live_shards.contains(&m.id)
            {
                if m.id.unix_ms() < grace_start {
                    replaced.push(m);
                } else {
                    kept += 1;
                }
            }
        }
        report.kept_young = kept;
        match self.archive(table, &replaced).await {
            Ok(n) => report.archived = n,
            Err(e) => {
                tracing::warn!("{}: history not archived: {e}", table.qualified_name());
                report.history_kept_back = Some(e.to_string());
                return Ok(report);
            }
        }
        let mut ids: Vec<Snowflake> = replaced.iter().map(|m| m.id).collect();
        ids.extend(staged);
        if delete_foreign {
            ids.extend(foreign.iter().map(|m| m.id));
        }
        ids.sort();
        report.deleted = self.delete_all(table.channel_id, &ids).await?;
        report.deleted += self.vacuum_index_channels(table, &named, now).await?;
        Ok(report)
    }

    /// The staged segments the table's directories name: the protected
    /// ones (the current manifest's, the commits' after it, and those of
    /// manifests a reader may still use), and all ever named.
    async fn named(
        &self,
        def: &TableDef,
        mine: &[Message],
        checkpoint: Option<Snowflake>,
        cover: Option<Snowflake>,
    ) -> Result<Named> {
        let bot = self.discord.bot_user_id();
        let mut commits: Vec<_> = mine
            .iter()
            .filter_map(|m| parse(def, bot, m.clone()))
            .filter(|c| matches!(c.body, CommitBody::Directory(_)))
            .collect();
        resolve_commits(&self.discord, def, &mut commits).await?;
        let grace_start = self
            .discord_now_ms()
            .saturating_sub(VACUUM_GRACE.as_millis() as u64);
        // The newest manifest posted before the grace began: a read that
        // started then may still be reading it.
        let current_then = commits
            .iter()
            .filter(|c| c.covers().is_some() && c.id.unix_ms() < grace_start)
            .map(|c| c.id)
            .max();
        let mut named = Named::default();
        for c in &commits {
            let CommitBody::Directory(d) = &c.body else {
                continue;
            };
            let parts: Vec<Snowflake> = d.parts().collect();
            let protect = Some(c.id) == checkpoint
                || Some(c.id) == current_then
                || c.id.unix_ms() >= grace_start
                || cover.is_none_or(|x| c.id > x);
            if protect {
                named.protected.extend(parts.iter().copied());
                named.directories.insert(c.id);
            }
            named.ever.extend(parts);
        }
        Ok(named)
    }

    /// Delete the staged segments of the table's index channels that no
    /// protected directory names; the number deleted.
    async fn vacuum_index_channels(&self, def: &TableDef, named: &Named, now: u64) -> Result<u64> {
        let bot = self.discord.bot_user_id();
        let mut deleted = 0;
        for index in self.indexes_of(&def.database, &def.name) {
            let Some(channel) = index.channel_id.filter(|c| *c != def.channel_id) else {
                continue;
            };
            let messages = HistoryPager::new(Arc::clone(&self.discord), channel)
                .read_all()
                .await?;
            let mut ids: Vec<Snowflake> = messages
                .iter()
                .filter(|m| m.author.id == bot && is_staged(&m.content))
                .filter(|m| staged_garbage(m, named, now) == Some(true))
                .map(|m| m.id)
                .collect();
            ids.sort();
            deleted += self.delete_all(channel, &ids).await?;
        }
        Ok(deleted)
    }

    /// Delete messages: in bulk where Discord allows (2 to 100, younger than
    /// 14 days), one by one otherwise.
    async fn delete_all(&self, channel: Snowflake, ids: &[Snowflake]) -> Result<u64> {
        let limit_ms = self
            .discord_now_ms()
            .saturating_sub(BULK_DELETE_MAX_AGE.as_millis() as u64 - 60_000);
        let (young, old): (Vec<Snowflake>, Vec<Snowflake>) =
            ids.iter().partition(|id| id.unix_ms() > limit_ms);
        for chunk in young.chunks(BULK_DELETE_MAX) {
            match chunk {
                [one] => self.discord.delete_message(channel, *one).await,
                many => self.discord.bulk_delete(channel, many).await,
            }
            .map_err(Error::from)?;
        }
        for id in old {
            self.discord.delete_message(channel, id).await?;
        }
        Ok(ids.len() as u64)
    }
}

/// Whether a staged segment is garbage (`Some(true)`), kept for now
/// because its stage may still be under way (`Some(false)`), or kept
/// because a protected directory names it (`None`).
fn staged_garbage(m: &Message, named: &Named, now_ms: u64) -> Option<bool> {
    if named.protected.contains(&m.id) {
        return None;
    }
    if named.ever.contains(&m.id) {
        return Some(true);
    }
    let since = parse_staged(&m.content).map_or(0, |s| s.since_ms);
    Some(now_ms.saturating_sub(since) > STAGE_GRACE.as_millis() as u64)
}
