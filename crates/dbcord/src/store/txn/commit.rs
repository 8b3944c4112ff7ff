//! COMMIT: a transaction's writes made to count all at once, or not at all.
//!
//! One table: its writes are one ordinary commit whose base is the
//! transaction's snapshot, so a concurrent change to one of its rows since
//! then voids it (first committer wins), as for any statement.
//!
//! Several tables: each table's writes are posted as a *part* naming the
//! transaction (checked against the table as it is now, like any commit).
//! When every part is posted, each is read back and judged by its own
//! channel's rule; if one lost a race, the transaction stops there and no
//! reader will ever count its parts. Only if all of them are valid is the
//! *commit point* posted in `#dbc-transactions`: that one message decides
//! the transaction, for every reader, with no lock anywhere. A point must
//! come within `TXN_DEADLINE` of the first part to count, so a committer
//! killed before it leaves parts that every reader (and, once the deadline
//! has passed, every compaction) knows did not commit; vacuum removes them
//! with the rest of what a checkpoint covers.

use std::sync::Arc;

use discord_api::{NewMessage, Snowflake};

use super::transaction::Txn;
use crate::error::{Error, Result};
use crate::store::codec::op::Change;
use crate::store::codec::point::Point;
use crate::store::log::validity::Fates;
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;
use crate::store::timing::{TXN_DEADLINE, TXN_MARGIN};
use crate::store::write::checks::checked_rows;
use crate::store::write::commit::Posted;
use crate::store::write::options::WriteOptions;

/// The most tables one transaction may write: its point lists them all in
/// one message.
pub const MAX_TXN_TABLES: usize = 50;

impl Store {
    /// Commit `txn`; the number of rows it changed. On an error nothing of
    /// it counts, for any reader (unless the error is indeterminate: see
    /// [`Error::is_indeterminate`]).
    pub async fn commit_txn(&self, txn: &Txn, options: &WriteOptions) -> Result<u64> {
        let mut written = txn.written();
        match written.len() {
            0 => Ok(0),
            1 => {
                let (def, changes, base) = written.pop().expect("one table");
                let base = base.unwrap_or_default();
                self.commit_from(&def, changes, options, Some(base)).await
            }
            n if n > MAX_TXN_TABLES => Err(Error::TxnState {
                sqlstate: "54000",
                message: format!(
                    "a transaction may write at most {MAX_TXN_TABLES} tables; this one wrote \
                     {n}: nothing was written"
                ),
            }),
            _ => self.commit_parts(txn, written, options).await,
        }
    }

    async fn commit_parts(
        &self,
        txn: &Txn,
        written: Vec<(Arc<TableDef>, Vec<Change>, Option<Snowflake>)>,
        options: &WriteOptions,
    ) -> Result<u64> {
        let mut posted: Vec<(Arc<TableDef>, Posted)> = Vec::new();
        let result = self.post_parts(txn, written, options, &mut posted).await;
        // A part may be in a channel: say the transaction will never count,
        // so that writers after its parts need not wait out its deadline.
        // (Not after an error that may hide a posted point.)
        if let Err(e) = &result
            && !posted.is_empty()
            && !e.is_indeterminate()
        {
            self.post_abort(&txn.id).await;
        }
        result
    }

    /// Post and confirm every part, then the point; the rows changed.
    async fn post_parts(
        &self,
        txn: &Txn,
        written: Vec<(Arc<TableDef>, Vec<Change>, Option<Snowflake>)>,
        options: &WriteOptions,
        posted: &mut Vec<(Arc<TableDef>, Posted)>,
    ) -> Result<u64> {
        let point_channel = self.txn_channel().await?;
        let mut rows = 0;
        for (def, changes, base) in written {
            let changes = checked_rows(&def, changes)?;
            rows += changes.len() as u64;
            let base = Some(base.unwrap_or_default());
            let p = self
                .post(&def, &changes, options, base, Some(&txn.id))
                .await?;
            posted.push((def, p));
        }
        for (def, p) in posted.iter() {
            self.confirm_part(def, p).await?;
        }
        let first = posted.iter().map(|(_, p)| p.sent.id).min().expect("parts");
        self.post_point(txn, point_channel, first, posted).await?;
        Ok(rows)
    }

    /// Read the log up to the part and judge it by its channel's rule alone.
    async fn confirm_part(&self, def: &Arc<TableDef>, p: &Posted) -> Result<()> {
        self.note_head(def.channel_id, p.sent.id);
        let mut stats = ReadStats::default();
        let log = self.current_log(def, &mut stats).await?;
        let runs = self.runs(def, &log, &Fates::Unjudged, &mut stats).await?;
        if runs.iter().any(|r| r.id == p.sent.id) {
            return Ok(());
        }
        Err(Error::Conflict {
            table: def.qualified_name(),
        })
    }

    /// Post the commit point, if there is still time for it to count.
    async fn post_point(
        &self,
        txn: &Txn,
        channel: Snowflake,
        first: Snowflake,
        posted: &[(Arc<TableDef>, Posted)],
    ) -> Result<()> {
        let deadline = first.unix_ms() + TXN_DEADLINE.as_millis() as u64;
        let too_slow = Error::TxnTooSlow {
            seconds: TXN_DEADLINE.as_secs(),
        };
        if self.discord_now_ms() + TXN_MARGIN.as_millis() as u64 > deadline {
            return Err(too_slow);
        }
        let point = Point {
            txn: txn.id.clone(),
            aborted: false,
            parts: posted
                .iter()
                .map(|(d, p)| (d.channel_id, p.sent.id))
                .collect(),
        };
        let sent = self
            .discord
            .create_message(channel, &NewMessage::idempotent(point.encode()))
            .await?;
        self.note_head(channel, sent.id);
        if sent.id.unix_ms() > deadline {
            return Err(too_slow);
        }
        self.note_point(&txn.id, sent.id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use discord_api::ManualClock;
    use discord_emulator::EmulatorConfig;

    use crate::session::Session;
    use crate::store::timing::{TXN_DEADLINE, VACUUM_GRACE};
    use crate::store::{Change, Op, Value, WriteOptions};

    /// A committer killed between its parts and its point: no reader
    /// counts the parts; compaction leaves them until the deadline has
    /// passed, then folds them away, and vacuum deletes their messages.
    #[tokio::test]
    async fn parts_without_a_point_count_for_nobody_and_vacuum_removes_them() {
        let clock = Arc::new(ManualClock::fixed());
        let session = Session::embedded(
            EmulatorConfig::in_memory(),
            clock.clone(),
            Default::default(),
        )
        .await
        .unwrap();
        let engine = &session.engine;
        engine
            .execute(
                "CREATE TABLE a (id BIGINT PRIMARY KEY); CREATE TABLE b (id BIGINT PRIMARY KEY)",
            )
            .await
            .unwrap();
        let store = engine.store();
        let count = |t: &'static str| async move {
            let rows = store
                .all_rows(&store.table("main", t).unwrap())
                .await
                .unwrap();
            rows.len()
        };
        let txn = store.begin();
        for t in ["a", "b"] {
            let def = store.table("main", t).unwrap();
            let change = Change {
                op: Op::Insert,
                values: vec![Value::Int(1)],
            };
            store.write_in(&txn, &def, vec![change]).await.unwrap();
        }
        let options = WriteOptions::default();
        let mut parts = Vec::new();
        for (def, changes, base) in txn.written() {
            let p = store
                .post(&def, &changes, &options, base, Some(&txn.id))
                .await
                .unwrap();
            parts.push((def, p.sent.id));
        }
        // The committer is gone: nobody counts the parts.
        store.refresh().await.unwrap();
        assert_eq!((count("a").await, count("b").await), (0, 0));
        let a = store.table("main", "a").unwrap();
        assert_eq!(
            store.compact(&a, &options).await.unwrap(),
            None,
            "folded while undecided"
        );
        // Past the deadline the parts are settled as not committed.
        clock.advance(TXN_DEADLINE + Duration::from_secs(1));
        assert!(store.compact(&a, &options).await.unwrap().is_some());
        clock.advance(VACUUM_GRACE + Duration::from_secs(1));
        store.vacuum(&a, false, &options).await.unwrap();
        let left = session.emulator().unwrap().messages_of(a.channel_id);
        assert!(
            left.iter().all(|m| m.id != parts[0].1),
            "the part is still in the channel"
        );
        assert_eq!(count("a").await, 0);
    }
}
