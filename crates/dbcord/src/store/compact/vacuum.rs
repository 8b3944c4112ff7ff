//! Vacuum: compact, then delete the bot's messages that the checkpoint
//! replaced (bulk deletes for messages younger than 14 days, one by one
//! for older ones), after archiving the row versions they hold in the
//! table's history thread (see `admin::versions`); people's messages in
//! the channel are left alone unless asked. Replaced messages younger than
//! `timing::VACUUM_GRACE` stay for the next vacuum.

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::limits::{BULK_DELETE_MAX, BULK_DELETE_MAX_AGE};
use discord_api::{Message, Snowflake};

use crate::error::{Error, Result};
use crate::store::log::pager::HistoryPager;
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;
use crate::store::timing::VACUUM_GRACE;

/// What a vacuum did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VacuumReport {
    /// The checkpoint everything older was folded into, if the table has rows.
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
    /// Replaced messages younger than [`VACUUM_GRACE`], left for the next vacuum.
    pub kept_young: u64,
}

impl Store {
    /// `VACUUM table`: compact, then archive the history of every message
    /// of the bot's that the checkpoint replaced and delete them; with
    /// `delete_foreign`, delete everyone else's messages in the channel too.
    pub async fn vacuum(
        &self,
        table: &Arc<TableDef>,
        delete_foreign: bool,
    ) -> Result<VacuumReport> {
        let mut stats = ReadStats::default();
        self.snapshot(table, &mut stats).await?;
        let log = self.log_of(table.channel_id);
        // Commits after the checkpoint, void ones too, are folded away.
        if log.checkpoint.is_none() || !log.commits.is_empty() {
            self.compact_always(table).await?;
            self.snapshot(table, &mut stats).await?;
        }
        let log = self.log_of(table.channel_id);
        let checkpoint = log.checkpoint.as_ref().map(|c| c.id);
        let cover = log.cover();
        let mut report = VacuumReport {
            checkpoint,
            ..VacuumReport::default()
        };
        let (replaced, foreign) = self.removable(table, checkpoint, cover).await?;
        let young = self
            .discord_now_ms()
            .saturating_sub(VACUUM_GRACE.as_millis() as u64);
        let (replaced, kept): (Vec<Message>, Vec<Message>) =
            replaced.into_iter().partition(|m| m.id.unix_ms() < young);
        report.kept_young = kept.len() as u64;
        report.foreign = foreign.len() as u64;
        match self.archive(table, &replaced).await {
            Ok(n) => report.archived = n,
            Err(e) => {
                tracing::warn!("{}: history not archived: {e}", table.qualified_name());
                report.history_kept_back = Some(e.to_string());
                return Ok(report);
            }
        }
        let mut ids: Vec<Snowflake> = replaced.iter().map(|m| m.id).collect();
        if delete_foreign {
            ids.extend(foreign.iter().map(|m| m.id));
            ids.sort();
        }
        report.deleted = self.delete_all(table, &ids).await?;
        Ok(report)
    }

    /// What vacuum may remove, oldest first: the bot's messages the
    /// checkpoint replaced (all of them up to its cover, but itself), and
    /// everyone else's messages.
    async fn removable(
        &self,
        table: &TableDef,
        checkpoint: Option<Snowflake>,
        cover: Option<Snowflake>,
    ) -> Result<(Vec<Message>, Vec<Message>)> {
        let bot = self.discord.bot_user_id();
        let all = HistoryPager::new(Arc::clone(&self.discord), table.channel_id)
            .read_all()
            .await?;
        let (mine, foreign): (Vec<Message>, Vec<Message>) =
            all.into_iter().partition(|m| m.author.id == bot);
        // Shards are posted before their commit: those of a commit after
        // the cover may be older than it, and are still needed.
        let live: HashSet<Snowflake> = self
            .log_of(table.channel_id)
            .commits
            .iter()
            .flat_map(|c| c.shards.iter().copied())
            .collect();
        let replaced = mine
            .into_iter()
            .filter(|m| Some(m.id) != checkpoint && cover.is_some_and(|c| m.id <= c))
            .filter(|m| !live.contains(&m.id))
            .collect();
        Ok((replaced, foreign))
    }

    /// Delete messages: in bulk where Discord allows (2 to 100, younger than
    /// 14 days), one by one otherwise.
    async fn delete_all(&self, table: &TableDef, ids: &[Snowflake]) -> Result<u64> {
        let limit_ms = self
            .discord_now_ms()
            .saturating_sub(BULK_DELETE_MAX_AGE.as_millis() as u64 - 60_000);
        let (young, old): (Vec<Snowflake>, Vec<Snowflake>) =
            ids.iter().partition(|id| id.unix_ms() > limit_ms);
        let channel = table.channel_id;
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
