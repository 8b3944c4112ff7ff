//! How writes behave: the settings a session passes to every statement,
//! and the shape of what they write (which tests lower, so that a small
//! table already spans many segments and messages).

use discord_api::limits::MAX_REQUEST_BYTES;

use crate::store::codec::parts::PART_BYTES;

/// How writes behave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WriteOptions {
    /// Fold a table's commits into its manifest once this many follow the
    /// last one (0: never on its own).
    pub compact_after: usize,
    /// Bytes of a segment's files in one message at most: a statement
    /// whose rows take more is staged over several messages, and a
    /// compaction cuts its runs into segments of about this size.
    pub segment_bytes: usize,
    /// Bytes of one attachment at most: a file longer is cut into parts.
    pub part_bytes: usize,
    /// Rows a staged segment's batch holds: a key lookup reads one batch.
    pub batch_rows: usize,
    /// Runs folded from commits (level 0) a manifest keeps before merging
    /// them into its bottom run.
    pub level0_runs: usize,
    /// ... or before their bytes times this reach the bottom run's.
    pub level0_ratio: u64,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compact_after: 100,
            // Room under Discord's 25 MiB a request for the message itself.
            segment_bytes: MAX_REQUEST_BYTES - (1 << 20),
            part_bytes: PART_BYTES,
            batch_rows: 8192,
            level0_runs: 4,
            level0_ratio: 10,
        }
    }
}
