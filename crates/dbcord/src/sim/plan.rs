//! How one seed runs, and the command that runs it again.

use discord_emulator::FaultSpec;

/// The bot token of a served run's clients: no output of a run may show it.
pub const TOKEN: &str = "sim-token-7c1f0e55d2b8a9ab41";

/// How one seed runs.
#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: u64,
    /// Statements in all, shared out among the clients.
    pub ops: usize,
    pub clients: usize,
    /// The faults every client's Discord calls draw from.
    pub faults: FaultSpec,
    /// Chance that a client dies during a statement.
    pub kill_chance: f64,
    /// Over HTTP against a served emulator.
    pub served: bool,
    /// Also create and drop a UNIQUE index while others insert (it finds
    /// known defects; see the README).
    pub unique_ddl: bool,
    /// Print each statement and its outcome as it finishes.
    pub trace: bool,
}

impl Plan {
    /// The command that runs this plan's seed alone, with every statement traced.
    pub fn replay_command(&self) -> String {
        format!(
            "dbcord sim --seed {} --seeds 1 --ops {} --clients {} --faults '{}' --kills {}{}{} --trace",
            self.seed,
            self.ops,
            self.clients,
            self.faults,
            self.kill_chance,
            if self.served { " --served" } else { "" },
            if self.unique_ddl {
                " --unique-index-ddl"
            } else {
                ""
            }
        )
    }
}
