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
//!
//! A transaction's part (see `store::txn`) takes part in this rule like
//! any commit, whatever becomes of its transaction: so whether it is valid
//! by its channel's rule never changes once it is posted. Its rows count
//! only if, besides, its transaction's commit point counts for the reader
//! ([`Fates`]).

use std::collections::HashSet;
use std::sync::Arc;

use discord_api::Snowflake;

use super::commit::{Commit, CommitBody, KeyedBatch, SegmentRef, SortedRun};
use super::table_log::TableLog;
use crate::error::Result;
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::read::stats::ReadStats;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

/// Rows that count, as readers use them: a commit's, or one sorted run of
/// a manifest or staged commit. A snapshot lists them oldest first, the
/// checkpoint's runs before the others; a newer run's version of a key
/// shadows an older one's.
#[derive(Clone, Debug)]
pub struct Run {
    /// The commit (or manifest) the run belongs to.
    pub id: Snowflake,
    pub body: RunBody,
}

/// What a run holds.
#[derive(Clone, Debug)]
pub enum RunBody {
    /// A row commit's changes with their keys.
    Rows(KeyedBatch),
    /// A commit's own segment (or a checkpoint of the first format).
    Segment(Arc<SegmentRef>),
    /// Staged segments in key order.
    Sorted(Arc<SortedRun>),
}

impl RunBody {
    /// The segments of the run (none for rows).
    pub fn segments(&self) -> &[Arc<SegmentRef>] {
        match self {
            RunBody::Rows(_) => &[],
            RunBody::Segment(s) => std::slice::from_ref(s),
            RunBody::Sorted(r) => &r.segments,
        }
    }
}

/// The runs a commit contributes, oldest first.
pub fn runs_of(c: &Commit) -> Vec<Run> {
    let run = |body| Run { id: c.id, body };
    match &c.body {
        CommitBody::Rows(rows) => vec![run(RunBody::Rows(Arc::clone(rows)))],
        CommitBody::Segment(s) => vec![run(RunBody::Segment(Arc::clone(s)))],
        CommitBody::Directory(d) => d
            .runs
            .iter()
            .map(|r| run(RunBody::Sorted(Arc::clone(r))))
            .collect(),
    }
}

/// Which transactions' parts count for a reader.
#[derive(Clone, Debug)]
pub enum Fates {
    /// Every valid part counts: the channel's own rule alone (what a
    /// committer checks of its parts before it posts the commit point).
    Unjudged,
    /// The parts of `committed` count; no other part does. The parts of
    /// `aborted` never will (their transaction said so, or its deadline
    /// passed without a commit point).
    Committed {
        committed: Arc<HashSet<String>>,
        aborted: Arc<HashSet<String>>,
    },
}

impl Fates {
    /// Whether `c`'s rows count (a commit that is not a part always does).
    pub fn counts(&self, c: &Commit) -> bool {
        if !c.meta.part {
            return true;
        }
        match self {
            Fates::Unjudged => true,
            Fates::Committed { committed, .. } => {
                c.meta.txn.as_ref().is_some_and(|t| committed.contains(t))
            }
        }
    }

    /// Whether `c` is a part that will never count.
    fn aborted(&self, c: &Commit) -> bool {
        match self {
            Fates::Unjudged => false,
            Fates::Committed { aborted, .. } => {
                c.meta.part && c.meta.txn.as_ref().is_some_and(|t| aborted.contains(t))
            }
        }
    }

    /// The newest message a reader of `log` may write from: just before
    /// the oldest part it does not count. A commit based on it is then
    /// void if that part's transaction committed and wrote the same rows
    /// (it stands between the base and the commit), so no writer can
    /// overwrite a transaction's rows it did not see.
    pub fn base(&self, log: &TableLog) -> Option<Snowflake> {
        match self.hidden_from(log) {
            Some(h) => log.synced.map(|s| s.min(Snowflake(h.0 - 1))),
            None => log.synced,
        }
    }

    /// The oldest part of `log` this reader does not count, but whose
    /// transaction did or may yet commit.
    pub fn hidden_from(&self, log: &TableLog) -> Option<Snowflake> {
        log.commits
            .iter()
            .filter(|c| c.meta.part && !self.counts(c) && !self.aborted(c))
            .map(|c| c.id)
            .min()
    }

    /// Whether `c` was written by one who counted a part this reader does
    /// not (its base is at or after `hidden`, which its writer's base would
    /// be before had it not counted it: see [`Fates::base`]). Such a commit
    /// came after that transaction's commit point, so after this reader
    /// began: counting it without the part would show half of a
    /// transaction's consequences.
    pub fn builds_on_hidden(&self, c: &Commit, hidden: Option<Snowflake>) -> bool {
        match (hidden, c.meta.base) {
            (Some(h), Some(b)) => c.id > h && b >= h,
            _ => false,
        }
    }
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
    /// The runs of `log`: its checkpoint, then every commit that is not
    /// void and, if a part, whose transaction `fates` counts.
    pub async fn runs(
        &self,
        def: &TableDef,
        log: &TableLog,
        fates: &Fates,
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
        let mut runs: Vec<Run> = log.checkpoint.iter().flat_map(runs_of).collect();
        let hidden = fates.hidden_from(log);
        runs.extend(
            valid
                .iter()
                .filter(|(c, _)| fates.counts(c) && !fates.builds_on_hidden(c, hidden))
                .flat_map(|(c, _)| runs_of(c)),
        );
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
        for run in runs_of(c) {
            if let RunBody::Rows(changes) = &run.body {
                changes.iter().for_each(|(_, ch)| t.add(def, unique, ch));
            }
            for seg in run.body.segments() {
                for change in self.all_changes(def, seg, stats).await? {
                    t.add(def, unique, &change);
                }
            }
        }
        Ok(t)
    }
}
