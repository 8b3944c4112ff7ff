//! A table's commit log: the messages of its channel since its latest
//! checkpoint, as this process last read them, and the rule that decides
//! which checkpoint counts.
//!
//! Every message dbcord writes into `#table-<t>` is a commit (see
//! `codec::commit`). A checkpoint is a segment that holds every
//! live row of the commits up to its `covers` ID, so a reader needs nothing
//! older: a first read goes back from the newest message to the newest
//! checkpoint (and on below it to its `covers`, for the commits written
//! while it was made); later reads take only what came after the newest
//! message already read. Messages that are not dbcord's commits are
//! counted and skipped.
//!
//! A checkpoint counts only if no commit posted while it was being made
//! (between its `covers` and itself) read from a snapshot older than
//! `covers`. Such a commit raced with the compaction: its writer may
//! already have reported success, and judging it against the checkpoint
//! could void it after the fact. So the checkpoint is ignored instead (it
//! was only a shortcut; the commits it folded are still in the channel) and
//! the next compaction tries again. Whether a checkpoint counts depends only
//! on the messages before it, which never change once it is posted, so
//! every reader decides the same. (Void commits are therefore never
//! deleted by their writers, only by vacuum once a checkpoint covers them.)

use discord_api::{Message, Snowflake};

use super::commit::{Commit, parse};
use crate::store::codec::shard;
use crate::store::schema::TableDef;

/// The log as last read: the checkpoint, and the commits after what it covers.
#[derive(Clone, Debug, Default)]
pub struct TableLog {
    /// The newest message of the channel read so far.
    pub synced: Option<Snowflake>,
    pub checkpoint: Option<Commit>,
    /// Commits newer than the checkpoint's `covers` (not checkpoints), oldest first.
    pub commits: Vec<Commit>,
    /// Messages in the channel that are not commits (someone typed there).
    pub foreign: usize,
    /// History requests the reads of this log made.
    pub requests: u64,
}

impl TableLog {
    /// The ID everything older is replaced up to.
    pub fn cover(&self) -> Option<Snowflake> {
        self.checkpoint.as_ref().and_then(Commit::covers)
    }

    /// Take in messages newer than everything read so far, oldest first.
    pub(super) fn extend(&mut self, def: &TableDef, bot: Snowflake, messages: Vec<Message>) {
        for m in messages {
            self.synced = self.synced.max(Some(m.id));
            if m.author.id == bot && shard::is_shard(&m.content) {
                continue; // read through the commit that names it
            }
            match parse(def, bot, m) {
                Some(c) => match c.covers() {
                    Some(x) if self.counts(x) => {
                        self.commits.retain(|old| old.id > x);
                        self.checkpoint = Some(c);
                    }
                    Some(_) => {} // stale, or raced with a commit: ignored
                    None => self.commits.push(c),
                },
                None => self.foreign += 1,
            }
        }
    }

    /// Whether a checkpoint covering `x`, arriving now, counts: it covers
    /// more than the current one, and no commit after `x` (all of which
    /// were posted while it was made) has a base older than `x`.
    fn counts(&self, x: Snowflake) -> bool {
        Some(x) > self.cover()
            && !self
                .commits
                .iter()
                .any(|c| c.id > x && c.meta.base.is_some_and(|b| b < x))
    }

    /// Whether everything after the checkpoint's cover has been read, given
    /// that the oldest message read is `oldest`.
    pub(super) fn complete_from(&self, oldest: Snowflake) -> bool {
        self.cover().is_some_and(|x| oldest <= x)
    }
}
