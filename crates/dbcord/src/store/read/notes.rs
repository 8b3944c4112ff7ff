//! What the latest scans did, kept for the shell's `.timing`: the path each
//! took and what it read.

use std::collections::VecDeque;

use super::stats::ReadStats;

/// What one scan of a table did: its path and what it read.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanNote {
    pub table: String,
    /// The access path, as EXPLAIN names it.
    pub strategy: String,
    pub stats: ReadStats,
    pub rows_fetched: u64,
    /// What a full scan of the same snapshot reads: CDN range reads and
    /// bytes (the comparison `.timing` makes for pushdown).
    pub full_reads: u64,
    pub full_bytes: u64,
}

/// The latest scans, numbered from the first of the process.
#[derive(Debug, Default)]
pub struct ScanLog {
    pub total: u64,
    latest: VecDeque<ScanNote>,
}

/// Scans remembered for `.timing` (a statement runs a few).
const SCANS_KEPT: usize = 64;

impl ScanLog {
    pub fn push(&mut self, note: ScanNote) {
        self.total += 1;
        self.latest.push_back(note);
        if self.latest.len() > SCANS_KEPT {
            self.latest.pop_front();
        }
    }

    /// The scans noted since `mark` (the latest ones, if there were many).
    pub fn since(&self, mark: u64) -> Vec<ScanNote> {
        let n = (self.total - mark).min(self.latest.len() as u64) as usize;
        self.latest
            .iter()
            .skip(self.latest.len() - n)
            .cloned()
            .collect()
    }
}
