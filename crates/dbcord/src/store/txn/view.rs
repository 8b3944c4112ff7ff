//! How one statement reads the guild: which commit points count for it,
//! and the transaction it runs in, if any.

use std::sync::Arc;

use super::point_log::Upto;
use super::transaction::Txn;
use crate::error::Result;
use crate::store::codec::key::Key;
use crate::store::codec::value::Value;
use crate::store::read::snapshot::Snapshot;
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

/// A statement's view of the guild.
#[derive(Clone, Debug)]
pub struct ReadView {
    /// The commit points that count for it (see `points`).
    pub upto: Upto,
    /// The transaction it runs in: its snapshot, and its own writes.
    pub txn: Option<Arc<Txn>>,
}

impl ReadView {
    /// Everything committed so far.
    pub fn latest() -> ReadView {
        ReadView {
            upto: Upto::Latest,
            txn: None,
        }
    }
}

impl Store {
    /// The view of a statement beginning now, outside a transaction (just
    /// after its refresh).
    pub fn view_now(&self) -> ReadView {
        ReadView {
            upto: self.points_now(),
            txn: None,
        }
    }

    /// The table as a statement with `view` reads it: inside a
    /// transaction, its snapshot with its own writes over it.
    pub async fn snapshot_in(
        &self,
        def: &Arc<TableDef>,
        view: &ReadView,
        stats: &mut ReadStats,
    ) -> Result<Snapshot> {
        match &view.txn {
            Some(txn) => self.txn_snapshot(txn, def, stats).await,
            None => self.snapshot_upto(def, view.upto, stats).await,
        }
    }
}

impl Store {
    /// The live rows with these keys, as a statement with `view` reads
    /// them (an upsert's conflicts).
    pub async fn rows_by_key(
        &self,
        def: &Arc<TableDef>,
        view: &ReadView,
        keys: &[Key],
    ) -> Result<Vec<Vec<Value>>> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot_in(def, view, &mut stats).await?;
        let rows = self.get(&snap, keys, &mut stats).await?;
        Ok(rows.into_iter().map(|r| r.values).collect())
    }

    /// The live rows whose `index` column holds one of `values`.
    pub async fn rows_by_value(
        &self,
        def: &Arc<TableDef>,
        view: &ReadView,
        index: &IndexDef,
        values: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let mut stats = ReadStats::default();
        let snap = self.snapshot_in(def, view, &mut stats).await?;
        let rows = self.by_index(&snap, index, values, &mut stats).await?;
        Ok(rows.into_iter().map(|r| r.values).collect())
    }
}

impl Store {
    /// `def`'s live rows as a statement with `view` reads them, when
    /// segment statistics answer exactly (see [`Snapshot::exact_rows`]): a
    /// `count(*)` then reads no data batch. Brings the log up to date.
    pub async fn exact_rows(&self, def: &Arc<TableDef>, view: &ReadView) -> Result<Option<u64>> {
        let mut stats = ReadStats::default();
        Ok(self.snapshot_in(def, view, &mut stats).await?.exact_rows())
    }
}
