//! What reads cost, counted as they go: for `EXPLAIN ANALYZE` and `.timing`.

/// What reads cost, for `EXPLAIN ANALYZE`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReadStats {
    /// History pages read to bring the table's log up to date.
    pub history_requests: u64,
    /// Range reads and downloads from the CDN, and their bytes.
    pub cdn_requests: u64,
    pub cdn_bytes: u64,
    /// Segment batches served from this process's cache.
    pub cached_batches: u64,
    /// Commits (runs) read, and those skipped by their statistics.
    pub runs_read: u64,
    pub runs_pruned: u64,
    /// Data bytes of the segments pruned: what a full scan would have
    /// downloaded from the CDN besides what was read.
    pub pruned_bytes: u64,
}

impl std::ops::AddAssign for ReadStats {
    fn add_assign(&mut self, o: ReadStats) {
        self.history_requests += o.history_requests;
        self.cdn_requests += o.cdn_requests;
        self.cdn_bytes += o.cdn_bytes;
        self.cached_batches += o.cached_batches;
        self.runs_read += o.runs_read;
        self.runs_pruned += o.runs_pruned;
        self.pruned_bytes += o.pruned_bytes;
    }
}
