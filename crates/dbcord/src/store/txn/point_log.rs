//! The commit points read so far, as data: which part of
//! `#dbc-transactions` has been read, each transaction's point, and the
//! rule of when a point counts (see `points` for reading them).

use std::collections::{HashMap, HashSet};

use discord_api::Snowflake;

use crate::store::log::commit::Commit;
use crate::store::timing::TXN_DEADLINE;

/// Which commit points count for a reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upto {
    /// Every point posted so far (compaction, a commit's checks).
    Latest,
    /// Points no newer than this message (`None`: none at all): the
    /// channel's newest message when a statement or transaction began.
    At(Option<Snowflake>),
}

impl Upto {
    pub(super) fn admits(self, point: Snowflake) -> bool {
        match self {
            Upto::Latest => true,
            Upto::At(bound) => bound.is_some_and(|b| point <= b),
        }
    }
}

/// The points read so far.
#[derive(Debug, Default)]
pub struct PointLog {
    /// `#dbc-transactions`, once a refresh has found it.
    pub channel: Option<Snowflake>,
    /// Every point after `from` up to `synced` has been read.
    pub(super) from: Option<Snowflake>,
    pub(super) synced: Option<Snowflake>,
    /// Each transaction's point.
    pub(super) points: HashMap<String, Snowflake>,
    /// Transactions whose committer said they gave up.
    pub(super) aborted: HashSet<String>,
}

/// Whether a part's point counts for it: posted within the deadline.
pub(super) fn in_time(part: Snowflake, point: Snowflake) -> bool {
    point.unix_ms() <= part.unix_ms() + TXN_DEADLINE.as_millis() as u64
}

/// The transaction of a part, if `c` is one.
pub(super) fn part_txn(c: &Commit) -> Option<&str> {
    c.meta.part.then_some(c.meta.txn.as_deref()).flatten()
}

/// What the points read so far say of a part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Its transaction's point, in time.
    Committed(Snowflake),
    /// Never to count: its committer gave up, its point came too late, or
    /// the channel has been read past its deadline with no point.
    Aborted,
    /// Not known yet.
    Open,
}

impl PointLog {
    /// The fate of the part `part` of `txn`.
    pub fn fate(&self, part: Snowflake, txn: &str) -> Fate {
        if self.aborted.contains(txn) {
            return Fate::Aborted;
        }
        match self.points.get(txn) {
            Some(p) if in_time(part, *p) => Fate::Committed(*p),
            Some(_) => Fate::Aborted,
            None if self.synced.is_some_and(|s| !in_time(part, s)) => Fate::Aborted,
            None => Fate::Open,
        }
    }
}
