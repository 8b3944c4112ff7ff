//! The commit points this process has read from `#dbc-transactions`, and
//! what they decide for a reader: which transactions' parts count.
//!
//! A point counts for a part when it was posted within [`TXN_DEADLINE`] of
//! the part, and, for a statement, when it is no newer than the channel's
//! newest message as the statement's refresh listed it ([`Upto`]): every
//! part of such a point was posted before that refresh, so every table the
//! statement reads afterwards holds it. The channel is read only when a
//! log holds a part whose transaction is not yet known, from that part on
//! (a point always comes after its parts).

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::limits::HISTORY_PAGE;
use discord_api::{Channel, HistoryAnchor, HistoryQuery, Snowflake};

use super::point_log::{Fate, PointLog, Upto, part_txn};
use crate::error::Result;
use crate::store::catalog::ddl::{find_or_make_guild_channel, guild_channel};
use crate::store::codec::point::Point;
use crate::store::log::commit::Commit;
use crate::store::log::table_log::TableLog;
use crate::store::log::validity::Fates;
use crate::store::names::{TXN_CHANNEL, txn_topic};
use crate::store::state::Store;
use crate::store::timing::{TXN_DEADLINE, TXN_FOLD_GRACE};

impl Store {
    /// Note `#dbc-transactions` among the channels a refresh listed.
    pub(crate) fn note_txn_channel(&self, channels: &[Channel]) {
        if let Some(id) = guild_channel(channels, TXN_CHANNEL, &txn_topic()) {
            self.points_log().channel = Some(id);
        }
    }

    /// The newest message of `#dbc-transactions` as the latest refresh
    /// listed it: the points a statement beginning now may count.
    pub fn points_now(&self) -> Upto {
        let channel = self.points_log().channel;
        Upto::At(channel.and_then(|c| self.head(c).flatten()))
    }

    /// `#dbc-transactions`, made if no refresh found it.
    pub(crate) async fn txn_channel(&self) -> Result<Snowflake> {
        if let Some(c) = self.points_log().channel {
            return Ok(c);
        }
        let id = find_or_make_guild_channel(&*self.discord, TXN_CHANNEL, &txn_topic()).await?;
        self.points_log().channel = Some(id);
        Ok(id)
    }

    /// Remember a point this process posted.
    pub(crate) fn note_point(&self, txn: &str, point: Snowflake) {
        self.points_log().points.insert(txn.to_string(), point);
    }

    /// Post that `txn` gave up (best effort: without it, readers wait out
    /// its deadline), and remember it.
    pub(crate) async fn post_abort(&self, txn: &str) {
        self.points_log().aborted.insert(txn.to_string());
        let Some(channel) = self.points_log().channel else {
            return;
        };
        let verdict = Point {
            txn: txn.to_string(),
            aborted: true,
            parts: Vec::new(),
        };
        let message = discord_api::NewMessage::idempotent(verdict.encode());
        if let Err(e) = self.discord.create_message(channel, &message).await {
            tracing::warn!("the abort of transaction {txn} was not posted: {e}");
        }
    }

    /// Which transactions' parts in `log` count for a reader bound by `upto`.
    pub(crate) async fn fates(&self, log: &TableLog, upto: Upto) -> Result<Fates> {
        let parts: Vec<&Commit> = log.commits.iter().filter(|c| c.meta.part).collect();
        if parts.is_empty() {
            return Ok(Fates::Committed {
                committed: Arc::default(),
                aborted: Arc::default(),
            });
        }
        let oldest = parts.iter().map(|c| c.id).min().expect("a part");
        self.read_points(oldest, upto).await?;
        let points = self.points_log();
        let mut committed = HashSet::new();
        let mut aborted = HashSet::new();
        for c in &parts {
            let Some(txn) = part_txn(c) else { continue };
            match points.fate(c.id, txn) {
                Fate::Committed(point) if upto.admits(point) => {
                    committed.insert(txn.to_string());
                }
                Fate::Aborted => {
                    aborted.insert(txn.to_string());
                }
                _ => {}
            }
        }
        Ok(Fates::Committed {
            committed: Arc::new(committed),
            aborted: Arc::new(aborted),
        })
    }

    /// Whether `log` holds a part whose fate is not settled for good, or
    /// whose point is too recent to fold (see [`TXN_FOLD_GRACE`]): a
    /// compaction must leave such a part where it is. Judged from the
    /// points read by the snapshot of `log` that counted every point
    /// posted so far ([`Store::snapshot`]: [`Upto::Latest`]).
    pub(crate) fn parts_unsettled(&self, log: &TableLog) -> bool {
        let now = self.discord_now_ms();
        let points = self.points_log();
        log.commits.iter().any(|c| {
            let Some(txn) = part_txn(c) else {
                return false;
            };
            match points.fate(c.id, txn) {
                Fate::Committed(p) => now < p.unix_ms() + TXN_FOLD_GRACE.as_millis() as u64,
                Fate::Aborted => false,
                // No point yet: settled once the deadline has passed.
                Fate::Open => now <= c.id.unix_ms() + TXN_DEADLINE.as_millis() as u64,
            }
        })
    }

    /// Read the points after `since` up to what `upto` needs, unless they
    /// have been read already.
    async fn read_points(&self, since: Snowflake, upto: Upto) -> Result<()> {
        if upto == Upto::At(None) {
            return Ok(()); // no point counts: nothing to read
        }
        let (channel, start) = {
            let log = self.points_log();
            let Some(channel) = log.channel else {
                return Ok(()); // no channel: no point anywhere
            };
            let covered_from = log.from.is_some_and(|f| f <= since);
            let covered_to = match upto {
                Upto::Latest => false,
                Upto::At(bound) => bound <= log.synced,
            };
            if covered_from && covered_to {
                return Ok(());
            }
            let start = if covered_from {
                log.synced.unwrap_or(since)
            } else {
                since
            };
            (channel, start)
        };
        let (found, newest) = self.points_after(channel, start).await?;
        let mut log = self.points_log();
        for (txn, id, aborted) in found {
            if aborted {
                log.aborted.insert(txn);
            } else {
                log.points.insert(txn, id);
            }
        }
        let joins = log.from.is_some_and(|f| f <= start) && log.synced >= Some(start);
        if !joins {
            log.from = Some(start);
        } else {
            log.from = log.from.min(Some(start));
        }
        log.synced = log.synced.max(newest).max(Some(start));
        Ok(())
    }

    /// Every point posted after `after`, and the newest message read.
    async fn points_after(
        &self,
        channel: Snowflake,
        mut after: Snowflake,
    ) -> Result<(Vec<(String, Snowflake, bool)>, Option<Snowflake>)> {
        let bot = self.discord.bot_user_id();
        let mut found = Vec::new();
        let mut newest = None;
        loop {
            let query = HistoryQuery {
                anchor: HistoryAnchor::After(after),
                limit: HISTORY_PAGE,
            };
            let page = self.discord.list_messages(channel, &query).await?;
            let full = page.len() == HISTORY_PAGE as usize;
            for m in &page {
                newest = newest.max(Some(m.id));
                if m.author.id == bot
                    && let Some(p) = Point::decode(&m.content)
                {
                    found.push((p.txn, m.id, p.aborted));
                }
            }
            match page.iter().map(|m| m.id).max() {
                Some(last) if full => after = last,
                _ => return Ok((found, newest)),
            }
        }
    }

    fn points_log(&self) -> std::sync::MutexGuard<'_, PointLog> {
        self.points.lock().unwrap_or_else(|p| p.into_inner())
    }
}
