//! Which commits count: the rule every reader applies the same way, so that
//! all of them see the same table with no lock service.
//!
//! A commit names the newest message its writer had read (`base`): the
//! snapshot its statement saw. Commits are ordered by message ID, which
//! Discord assigns in order within a channel. A commit is **void** when a
//! valid commit between its base and itself wrote one of the same keys, or
//! the same value of a UNIQUE index: the later of two concurrent writers
//! loses, whoever reads the log, even if the winner died right after its
//! commit. A commit whose base is older than the checkpoint it follows is
//! void too, since what it raced with was folded into the checkpoint. The
//! checkpoint itself and the rows of the first format (no base) always count.
//! A commit whose shards cannot be read counts for nobody (see
//! [`super::shards`]).

use std::collections::HashSet;
use std::sync::Arc;

use super::commit::{Commit, CommitBody};
use super::table_log::TableLog;
use crate::error::Result;
use crate::store::codec::commit::Change;
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::Op;
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

/// A commit that counts, as readers use it: oldest first, the checkpoint
/// (if any) before the others.
#[derive(Clone, Debug)]
pub struct Run {
    pub id: discord_api::Snowflake,
    pub body: CommitBody,
}

/// What a commit writes: its keys, and (index, value) of UNIQUE indexes.
#[derive(Debug, Default)]
struct Touched {
    keys: HashSet<Key>,
    unique: HashSet<(String, Key)>,
}

impl Touched {
    fn meets(&self, other: &Touched) -> bool {
        !self.keys.is_disjoint(&other.keys) || !self.unique.is_disjoint(&other.unique)
    }

    fn add(&mut self, def: &TableDef, unique: &[Arc<IndexDef>], change: &Change) {
        if let Some(k) = row_key(def, &change.values) {
            self.keys.insert(k);
        }
        if change.op == Op::Delete {
            return;
        }
        for index in unique {
            if let Some(col) = def.index_column(index)
                && let Some(v) = Key::of([&change.values[col]])
            {
                self.unique.insert((index.name.clone(), v));
            }
        }
    }
}

impl Store {
    /// The runs of `log`: its checkpoint, then every commit that is not void.
    pub async fn runs(
        &self,
        def: &TableDef,
        log: &TableLog,
        stats: &mut ReadStats,
    ) -> Result<Vec<Run>> {
        let unique: Vec<Arc<IndexDef>> = self
            .indexes_of(&def.database, &def.name)
            .into_iter()
            .filter(|i| i.unique)
            .collect();
        let mut valid: Vec<(&Commit, Option<Touched>)> = Vec::new();
        for c in log.commits.iter().filter(|c| c.broken.is_none()) {
            if !self
                .is_void(def, &unique, log, c, &mut valid, stats)
                .await?
            {
                valid.push((c, None));
            }
        }
        let mut runs: Vec<Run> = log.checkpoint.iter().map(run).collect();
        runs.extend(valid.iter().map(|(c, _)| run(c)));
        Ok(runs)
    }

    /// Whether `c` lost to a valid commit between its base and itself.
    async fn is_void(
        &self,
        def: &TableDef,
        unique: &[Arc<IndexDef>],
        log: &TableLog,
        c: &Commit,
        valid: &mut [(&Commit, Option<Touched>)],
        stats: &mut ReadStats,
    ) -> Result<bool> {
        let Some(base) = c.meta.base else {
            return Ok(false);
        };
        if log.cover().is_some_and(|x| base < x) {
            return Ok(true);
        }
        if !valid.iter().any(|(w, _)| w.id > base) {
            return Ok(false);
        }
        let mine = self.touched(def, unique, c, stats).await?;
        for (w, theirs) in valid.iter_mut().filter(|(w, _)| w.id > base) {
            if theirs.is_none() {
                *theirs = Some(self.touched(def, unique, w, stats).await?);
            }
            if theirs.as_ref().is_some_and(|t| t.meets(&mine)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn touched(
        &self,
        def: &TableDef,
        unique: &[Arc<IndexDef>],
        c: &Commit,
        stats: &mut ReadStats,
    ) -> Result<Touched> {
        let mut t = Touched::default();
        match &c.body {
            CommitBody::Rows(changes) => changes.iter().for_each(|(_, ch)| t.add(def, unique, ch)),
            CommitBody::Segment(seg) => {
                for batch in self.all_batches(def, seg, stats).await? {
                    batch.iter().for_each(|(_, ch)| t.add(def, unique, ch));
                }
            }
        }
        Ok(t)
    }
}

fn run(c: &Commit) -> Run {
    Run {
        id: c.id,
        body: c.body.clone(),
    }
}
