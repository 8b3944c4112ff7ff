//! Progress of long work (posting shards, reading many segment batches),
//! for a progress bar. The store says what it is doing and how far it is;
//! whoever shows it (the shell, with indicatif) decides how. The estimate
//! of what is left comes from Discord's rate limits where they set the
//! pace (messages to one channel), so it says how long Discord will make
//! the work take, not how fast this machine is.

use std::sync::Arc;

/// Receives the progress of one piece of work at a time.
pub trait Progress: Send + Sync {
    /// Work of `total` steps begins; `eta_s` is the time Discord's rate
    /// limits alone will take for it, if they set its pace.
    fn start(&self, what: &str, total: u64, eta_s: Option<f64>);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The work ended (done or not).
    fn finish(&self);
}

/// No progress shown.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _what: &str, _total: u64, _eta_s: Option<f64>) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Ends the work when dropped, so a cancelled statement leaves no bar.
pub struct Step {
    progress: Arc<dyn Progress>,
}

impl Step {
    pub fn start(progress: Arc<dyn Progress>, what: &str, total: u64, eta_s: Option<f64>) -> Step {
        progress.start(what, total, eta_s);
        Step { progress }
    }

    pub fn advance(&self, n: u64) {
        self.progress.advance(n);
    }
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Step")
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.progress.finish();
    }
}

/// Messages one channel takes in 5 seconds (Discord's bucket for
/// `POST /channels/{id}/messages`): the pace of posting shards.
pub const MESSAGES_PER_5_S: f64 = 5.0;
