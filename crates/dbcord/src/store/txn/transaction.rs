//! A transaction under way: the snapshot it reads, and the writes it has
//! made, kept here (nothing is posted before COMMIT).
//!
//! The snapshot is the guild as the refresh at its first statement listed
//! it: each channel's newest message then is where the transaction reads
//! that table's log up to (the log is read when the table is first used,
//! then kept), and the commit points no newer than `#dbc-transactions`'
//! newest message then are the ones that count. So every table is read as
//! of one moment. A table compacted since, past that moment, can no longer
//! be read as of then: the transaction fails as a serialization failure.
//!
//! Its writes are checked as they are made (types, NOT NULL, keys and
//! UNIQUE values against the snapshot and the transaction's earlier
//! writes) and kept per table, one change per key. Every read of the
//! transaction sees them: they are one more run over the snapshot, newest.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use discord_api::Snowflake;

use super::point_log::Upto;
use crate::error::{Error, Result};
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::{Change, Op};
use crate::store::log::table_log::TableLog;
use crate::store::log::validity::{Run, RunBody};
use crate::store::read::snapshot::Snapshot;
use crate::store::read::stats::ReadStats;
use crate::store::schema::TableDef;
use crate::store::state::Store;
use crate::store::write::checks::checked_rows;

/// One table in a transaction: its snapshot, and the transaction's writes.
#[derive(Clone, Debug)]
struct TxnTable {
    snap: Snapshot,
    writes: BTreeMap<Key, Change>,
}

/// Each table's writes, by channel.
type Writes = BTreeMap<Snowflake, BTreeMap<Key, Change>>;

/// A transaction under way.
#[derive(Debug)]
pub struct Txn {
    /// Named by every part of it, and by its commit point.
    pub id: String,
    /// Each channel's newest message when the transaction began.
    cut: HashMap<Snowflake, Option<Snowflake>>,
    /// The commit points that count for its reads.
    pub(crate) upto: Upto,
    tables: Mutex<BTreeMap<Snowflake, TxnTable>>,
    /// Savepoints, oldest first: each one's name and the writes then.
    savepoints: Mutex<Vec<(String, Writes)>>,
}

impl Store {
    /// Begin a transaction reading the guild as the latest refresh listed it.
    pub fn begin(&self) -> Arc<Txn> {
        let cut = self.heads.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Arc::new(Txn {
            id: discord_api::nonce::new_nonce(),
            cut,
            upto: self.points_now(),
            tables: Mutex::default(),
            savepoints: Mutex::default(),
        })
    }

    /// The table as `txn` reads it: its snapshot (made on first use), its
    /// own writes over it.
    pub(crate) async fn txn_snapshot(
        &self,
        txn: &Txn,
        def: &Arc<TableDef>,
        stats: &mut ReadStats,
    ) -> Result<Snapshot> {
        if let Some(t) = txn.table(def.channel_id) {
            return Ok(t.snap_with_writes());
        }
        let log = self.current_log(def, stats).await?;
        let cut = txn.cut.get(&def.channel_id).copied();
        let log = match cut {
            Some(cut) => as_of(def, &log, cut.unwrap_or_default())?,
            None => (*log).clone(), // a table made since the transaction began
        };
        let fates = self.fates(&log, txn.upto).await?;
        let runs = self.runs(def, &log, &fates, stats).await?;
        let snap = Snapshot {
            def: Arc::clone(def),
            runs,
            synced: log.synced,
            base: fates.base(&log),
        };
        let mut tables = txn.tables();
        let t = tables.entry(def.channel_id).or_insert(TxnTable {
            snap,
            writes: BTreeMap::new(),
        });
        Ok(t.snap_with_writes())
    }

    /// Check `changes` as a statement of `txn` and keep them as its
    /// writes; the number of rows changed.
    pub async fn write_in(
        &self,
        txn: &Txn,
        def: &Arc<TableDef>,
        changes: Vec<Change>,
    ) -> Result<u64> {
        if changes.is_empty() {
            return Ok(0);
        }
        let changes = checked_rows(def, changes)?;
        let mut stats = ReadStats::default();
        let snap = self.txn_snapshot(txn, def, &mut stats).await?;
        let indexes = self.indexes_of(&def.database, &def.name);
        self.check_statement(&snap, &indexes, &changes, &mut stats)
            .await?;
        let n = changes.len() as u64;
        let mut tables = txn.tables();
        let t = tables
            .get_mut(&def.channel_id)
            .expect("snapshot made above");
        for c in changes {
            let key = row_key(def, &c.values).expect("checked rows have keys");
            merge(&mut t.writes, key, c);
        }
        Ok(n)
    }
}

/// `log` as it stood when its newest message was `cut`. A checkpoint that
/// covers more than that has replaced what the transaction would read.
fn as_of(def: &TableDef, log: &TableLog, cut: Snowflake) -> Result<TableLog> {
    if log.cover().is_some_and(|x| x > cut) {
        return Err(Error::SnapshotGone {
            table: def.qualified_name(),
        });
    }
    let mut old = log.clone();
    old.commits.retain(|c| c.id <= cut);
    old.synced = Some(cut);
    Ok(old)
}

/// Fold a new change of `key` into the transaction's change of it, so
/// that one change per key says what the transaction does to the row.
fn merge(writes: &mut BTreeMap<Key, Change>, key: Key, new: Change) {
    let op = match (writes.get(&key).map(|c| c.op), new.op) {
        // A row the transaction inserted and now deletes never was.
        (Some(Op::Insert), Op::Delete) => {
            writes.remove(&key);
            return;
        }
        (Some(Op::Insert), _) => Op::Insert,
        // A row the snapshot has, deleted and written again: replaced.
        (Some(Op::Delete), Op::Insert | Op::Upsert) => Op::Upsert,
        (Some(Op::Upsert), Op::Insert) => Op::Upsert,
        (_, op) => op,
    };
    writes.insert(
        key,
        Change {
            op,
            values: new.values,
        },
    );
}

impl TxnTable {
    fn snap_with_writes(&self) -> Snapshot {
        let mut snap = self.snap.clone();
        if !self.writes.is_empty() {
            let rows = self
                .writes
                .iter()
                .map(|(k, c)| (k.clone(), c.clone()))
                .collect();
            snap.runs.push(Run {
                id: Snowflake::default(),
                body: RunBody::Rows(Arc::new(rows)),
            });
        }
        snap
    }
}

impl Txn {
    fn tables(&self) -> MutexGuard<'_, BTreeMap<Snowflake, TxnTable>> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn table(&self, channel: Snowflake) -> Option<TxnTable> {
        self.tables().get(&channel).cloned()
    }

    /// Each written table with its changes and the snapshot they were
    /// checked against (whose newest message is their base).
    pub(crate) fn written(&self) -> Vec<(Arc<TableDef>, Vec<Change>, Option<Snowflake>)> {
        self.tables()
            .values()
            .filter(|t| !t.writes.is_empty())
            .map(|t| {
                let changes = t.writes.values().cloned().collect();
                (Arc::clone(&t.snap.def), changes, t.snap.base)
            })
            .collect()
    }

    /// Rows the transaction has changed so far.
    pub fn pending_rows(&self) -> usize {
        self.tables().values().map(|t| t.writes.len()).sum()
    }

    /// `SAVEPOINT name`: remember the writes as they are.
    pub fn savepoint(&self, name: &str) {
        let writes = self.writes();
        let mut points = self.savepoints.lock().unwrap_or_else(|p| p.into_inner());
        points.push((name.to_string(), writes));
    }

    /// `ROLLBACK TO SAVEPOINT name`: the writes as they were then (the
    /// savepoint stays); `false` if there is no such savepoint.
    pub fn rollback_to(&self, name: &str) -> bool {
        let mut points = self.savepoints.lock().unwrap_or_else(|p| p.into_inner());
        let Some(at) = points.iter().rposition(|(n, _)| n == name) else {
            return false;
        };
        points.truncate(at + 1);
        let writes = points[at].1.clone();
        drop(points);
        for (channel, t) in self.tables().iter_mut() {
            t.writes = writes.get(channel).cloned().unwrap_or_default();
        }
        true
    }

    /// `RELEASE SAVEPOINT name`: forget it and every later one; `false` if
    /// there is no such savepoint.
    pub fn release(&self, name: &str) -> bool {
        let mut points = self.savepoints.lock().unwrap_or_else(|p| p.into_inner());
        let Some(at) = points.iter().rposition(|(n, _)| n == name) else {
            return false;
        };
        points.truncate(at);
        true
    }

    fn writes(&self) -> Writes {
        self.tables()
            .iter()
            .map(|(c, t)| (*c, t.writes.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::value::Value;

    fn change(op: Op, v: i64) -> Change {
        Change {
            op,
            values: vec![Value::Int(1), Value::Int(v)],
        }
    }

    #[test]
    fn one_change_per_key_says_what_the_transaction_did() {
        let key = Key::of([&Value::Int(1)]).unwrap();
        let mut w = BTreeMap::new();
        merge(&mut w, key.clone(), change(Op::Insert, 1));
        merge(&mut w, key.clone(), change(Op::Upsert, 2));
        assert_eq!(w[&key].op, Op::Insert);
        assert_eq!(w[&key].values[1], Value::Int(2));
        merge(&mut w, key.clone(), change(Op::Delete, 0));
        assert!(w.is_empty(), "inserted then deleted: nothing to write");
        merge(&mut w, key.clone(), change(Op::Delete, 0));
        merge(&mut w, key.clone(), change(Op::Insert, 3));
        assert_eq!(w[&key].op, Op::Upsert, "deleted then inserted: replaced");
    }
}
