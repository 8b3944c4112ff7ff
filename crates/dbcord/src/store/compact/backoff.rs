//! When a table's compaction may be tried again after it failed.

/// A table's failed compactions: how many in a row, and until when (our
/// clock, ms) a statement does not try again.
#[derive(Clone, Copy, Debug, Default)]
pub struct Backoff {
    pub failures: u32,
    pub until_ms: u64,
}
