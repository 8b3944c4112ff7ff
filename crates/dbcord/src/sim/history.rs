//! What the clients of one seed did, in the order their statements
//! finished: what the checker judges at the end.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use super::client::Cells;
use super::report::Totals;
use super::workload::{Known, LedgerRow, Outcome, Statement};

/// Everything the clients did, in the order they finished.
#[derive(Default)]
pub struct History {
    pub statements: Vec<(Statement, Outcome)>,
    pub known: Known,
    /// Inserts a DELETE was sent for, and the rewrites sent for each
    /// insert, from when they were sent: a read may see them before
    /// their clients hear back.
    pub deleted: HashSet<i64>,
    pub rewrites: HashMap<i64, Vec<i64>>,
    /// What the checker read at the end, once it passed the checks.
    pub final_accounts: Cells,
    pub final_ledger: Vec<LedgerRow>,
    pub totals: Totals,
}

/// The history shared by a seed's clients, locked (a panicked holder's
/// history is still the history).
pub fn lock(history: &Arc<Mutex<History>>) -> MutexGuard<'_, History> {
    history.lock().unwrap_or_else(|p| p.into_inner())
}
