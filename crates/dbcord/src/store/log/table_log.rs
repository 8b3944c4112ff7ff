//! A table's commit log: the messages of its channel since its latest
//! checkpoint, as this process last read them, and the rule that decides
//! which checkpoint counts.
//!
//! Every message dbcord writes into `#table-<t>` is a commit (see
//! `codec::commit`), a staged segment some commit or manifest names (see
//! `codec::manifest`), or a shard. A checkpoint (a manifest; a segment of
//! the first format) holds every live row of the commits up to its `covers`
//! ID, so a reader needs nothing older: a first read goes back from the
//! newest message to the newest checkpoint (and on below it to its
//! `covers`, for the commits written while it was made); later reads take
//! only what came after the newest message already read. Messages that are
//! not dbcord's are counted and skipped.
//!
//! A checkpoint counts only if nothing raced it while it was being made
//! (between its `covers` and itself): no commit that read from a snapshot
//! older than `covers`, and no other checkpoint. A racing commit's writer
//! may already have reported success, and judging it against the
//! checkpoint could void it after the fact. A racing checkpoint may have
//! dropped staged segments this one still names, which vacuum may then
//! delete. So the checkpoint is ignored instead (it was only a shortcut;
//! the commits it folded are still in the channel) and the next compaction
//! tries again. Whether a checkpoint counts depends only on the messages
//! between its `covers` and itself, which never change once it is posted,
//! so every reader decides the same, whichever way it read them. (Void
//! commits are therefore never deleted by their writers, only by vacuum
//! once a checkpoint covers them.)

use std::sync::Arc;

use discord_api::{Message, Snowflake};

use super::commit::{Commit, parse};
use crate::store::codec::{manifest, shard};
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
    /// The newest checkpoint message read, counting or not: a checkpoint
    /// posted after another one's `covers` voids it.
    pub newest_checkpoint: Option<Snowflake>,
    /// Staged segments met since the log was last taken from (their
    /// messages hold the attachments a read of them needs).
    pub staged: Vec<Arc<Message>>,
    /// CDN reads (and bytes) of directories the reads of this log made.
    pub cdn: (u64, u64),
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
            if m.author.id == bot && manifest::is_staged(&m.content) {
                self.staged.push(Arc::new(m)); // read through what names it
                continue;
            }
            match parse(def, bot, m) {
                Some(c) => match c.covers() {
                    Some(x) => {
                        if self.counts(x) {
                            self.commits.retain(|old| old.id > x);
                            self.checkpoint = Some(c.clone());
                        } // else it raced: ignored
                        self.newest_checkpoint = Some(c.id);
                    }
                    None => self.commits.push(c),
                },
                None => self.foreign += 1,
            }
        }
    }

    /// Whether a checkpoint covering `x`, arriving now, counts: no other
    /// checkpoint was posted after `x`, and no commit after `x` (all of
    /// which were posted while it was made) has a base older than `x`.
    /// (The current checkpoint was posted at or before `x`, so its own
    /// cover is older: checkpoints only ever cover more.)
    fn counts(&self, x: Snowflake) -> bool {
        self.newest_checkpoint.is_none_or(|c| c <= x)
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
