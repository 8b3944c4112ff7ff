//! What a simulation did, summed over seeds: statements by kind and
//! outcome, faults by kind, kills, invariants checked, and every violation
//! with the command that replays its seed.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::workload::{Kind, Outcome, Statement};
use super::world::Plan;

#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub seeds: u64,
    /// Statements by kind, then by outcome (acked, failed, unknown).
    pub statements: BTreeMap<&'static str, [u64; 3]>,
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
        let slot = match outcome {
            Outcome::Acked(_) => 0,
            Outcome::Failed(_) => 1,
            Outcome::Unknown(_) => 2,
        };
        self.statements.entry(kind_name(&stmt.kind)).or_default()[slot] += 1;
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
            replay_command(plan)
        ));
    }

    pub fn merge(&mut self, other: Totals) {
        self.seeds += other.seeds;
        for (k, v) in other.statements {
            let mine = self.statements.entry(k).or_default();
            for i in 0..3 {
                mine[i] += v[i];
            }
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
        let all: [u64; 3] = self.statements.values().fold([0; 3], |mut a, v| {
            (0..3).for_each(|i| a[i] += v[i]);
            a
        });
        let _ = writeln!(
            out,
            "seeds: {}  statements: {} ({} acknowledged, {} failed, {} indeterminate)  \
             Discord calls: {}",
            self.seeds,
            all.iter().sum::<u64>(),
            all[0],
            all[1],
            all[2],
            self.requests
        );
        let kinds: Vec<String> = self
            .statements
            .iter()
            .map(|(k, v)| format!("{k} {}/{}/{}", v[0], v[1], v[2]))
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

fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Transfer { .. } => "transfer",
        Kind::Retag { .. } => "retag",
        Kind::Insert { .. } => "insert",
        Kind::Delete { .. } => "delete",
        Kind::Rewrite { .. } => "rewrite",
        Kind::Read(_) => "select",
        Kind::Vacuum => "vacuum",
        Kind::CreateScratch { .. } | Kind::DropScratch { .. } => "table ddl",
        Kind::CreateIndex { .. } | Kind::DropIndex { .. } => "index ddl",
    }
}

/// The command that runs `plan`'s seed alone.
pub fn replay_command(plan: &Plan) -> String {
    format!(
        "dbcord sim --seed {} --seeds 1 --ops {} --clients {} --faults '{}' --kills {}{}{} --trace",
        plan.seed,
        plan.ops,
        plan.clients,
        plan.faults,
        plan.kill_chance,
        if plan.served { " --served" } else { "" },
        if plan.unique_ddl {
            " --unique-index-ddl"
        } else {
            ""
        }
    )
}
