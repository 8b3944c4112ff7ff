//! What a simulation did, summed over seeds: statements by kind and
//! outcome, faults by kind, kills, invariants checked, and every violation
//! with the command that replays its seed.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::plan::Plan;
use super::workload::{Class, Outcome, Statement};

/// How many statements ended each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub acked: u64,
    /// Refused with an error that says nothing was written.
    pub failed: u64,
    /// May or may not have taken effect (all or nothing).
    pub indeterminate: u64,
}

impl Outcomes {
    pub fn total(&self) -> u64 {
        self.acked + self.failed + self.indeterminate
    }

    fn add(&mut self, other: &Outcomes) {
        self.acked += other.acked;
        self.failed += other.failed;
        self.indeterminate += other.indeterminate;
    }
}

#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub seeds: u64,
    /// Statements by kind.
    pub statements: BTreeMap<Class, Outcomes>,
    /// Faults drawn, by kind as `--faults` names them (`429`, `lose`, ...).
    pub faults: BTreeMap<&'static str, u64>,
    pub kills: u64,
    /// Discord calls the clients made (faulted ones included).
    pub requests: u64,
    pub invariants: u64,
    /// Tables that verify found unclean until vacuum and reindex.
    pub mended: u64,
    /// What verify found before them, by kind (leftovers are expected:
    /// commits a checkpoint replaced, void commits of lost races).
    pub before_vacuum: BTreeMap<String, u64>,
    /// Each violation, with its replay command.
    pub violations: Vec<String>,
}

impl Totals {
    pub fn count(&mut self, stmt: &Statement, outcome: &Outcome) {
        let counts = self.statements.entry(stmt.kind.class()).or_default();
        match outcome {
            Outcome::Acked(_) => counts.acked += 1,
            Outcome::Failed(..) => counts.failed += 1,
            Outcome::Unknown(_) => counts.indeterminate += 1,
        }
    }

    /// Statements of every kind.
    pub fn all_statements(&self) -> Outcomes {
        let mut all = Outcomes::default();
        self.statements.values().for_each(|o| all.add(o));
        all
    }

    pub fn add_faults(&mut self, counts: &BTreeMap<&'static str, u64>) {
        for (k, n) in counts {
            *self.faults.entry(k).or_default() += n;
        }
    }

    pub fn violation(&mut self, plan: &Plan, what: String) {
        self.violations.push(format!(
            "seed {}: {what}\n  replay: {}",
            plan.seed,
            plan.replay_command()
        ));
    }

    pub fn merge(&mut self, other: Totals) {
        self.seeds += other.seeds;
        for (k, v) in other.statements {
            self.statements.entry(k).or_default().add(&v);
        }
        self.add_faults(&other.faults);
        self.kills += other.kills;
        self.requests += other.requests;
        self.invariants += other.invariants;
        self.mended += other.mended;
        for (k, n) in other.before_vacuum {
            *self.before_vacuum.entry(k).or_default() += n;
        }
        self.violations.extend(other.violations);
    }

    /// The totals as a few lines for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let all = self.all_statements();
        let _ = writeln!(
            out,
            "seeds: {}  statements: {} ({} acknowledged, {} failed, {} indeterminate)  \
             Discord calls: {}",
            self.seeds,
            all.total(),
            all.acked,
            all.failed,
            all.indeterminate,
            self.requests
        );
        let kinds: Vec<String> = self
            .statements
            .iter()
            .map(|(k, v)| format!("{k} {}/{}/{}", v.acked, v.failed, v.indeterminate))
            .collect();
        let _ = writeln!(
            out,
            "by kind (acked/failed/indeterminate): {}",
            kinds.join(", ")
        );
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let injected: u64 = self.faults.values().sum();
        let _ = writeln!(out, "faults injected: {injected} ({})", faults.join(", "));
        let _ = writeln!(
            out,
            "clients killed: {}  invariants checked: {}",
            self.kills, self.invariants
        );
        let found: Vec<String> = self
            .before_vacuum
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "tables verify passed only after reindex and vacuum: {} (what it found first: {})",
            self.mended,
            if found.is_empty() {
                "nothing".into()
            } else {
                found.join(", ")
            }
        );
        let _ = writeln!(out, "violations: {}", self.violations.len());
        for v in &self.violations {
            let _ = writeln!(out, "  {v}");
        }
        out
    }
}
