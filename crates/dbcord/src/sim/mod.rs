//! `dbcord sim`: seeded simulation of several dbcord clients sharing one
//! guild while Discord misbehaves, with invariants checked as it runs and
//! at the end, in the manner of FoundationDB's and TigerBeetle's
//! simulators: a failing seed prints the command that replays it.
//!
//! | file | its one job |
//! | --- | --- |
//! | `plan` | how one seed runs, and the command that replays it |
//! | `workload` | the statements, what each must do, and how they end |
//! | `client` | a dbcord process behind its faults, killed and restarted |
//! | `world` | one seed: set up, drive the clients, check |
//! | `served` | the same over HTTP against a served emulator, on real time |
//! | `history` | what the clients did, for the checker |
//! | `check` | the invariants, of each read and at the end |
//! | `model` | MemTables asked the same queries as dbcord |
//! | `report` | the totals over seeds |

mod check;
mod client;
mod history;
mod model;
mod plan;
mod report;
mod served;
mod workload;
mod world;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use discord_emulator::FaultSpec;

pub use client::{DEFAULT_FAULTS, SMALL_LAYOUT};
pub use plan::Plan;
pub use report::{Outcomes, Totals};
pub use workload::{Class, Outcome, Refusal, Statement};
pub use world::SeedRun;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// The first seed; seeds `seed..seed + seeds` run.
    pub seed: u64,
    pub seeds: u64,
    pub ops: usize,
    pub clients: usize,
    pub faults: FaultSpec,
    pub kill_chance: f64,
    /// Over HTTP against a served emulator instead of in process.
    pub served: bool,
    /// Keep starting new seeds until this much time has passed (a soak).
    pub for_duration: Option<std::time::Duration>,
    /// Print every statement and its outcome.
    pub trace: bool,
    /// Also create and drop a UNIQUE index while others insert.
    pub unique_ddl: bool,
}

impl SimOptions {
    fn plan(&self, seed: u64) -> Plan {
        Plan {
            seed,
            ops: self.ops,
            clients: self.clients,
            faults: self.faults.clone(),
            kill_chance: self.kill_chance,
            served: self.served,
            trace: self.trace,
            unique_ddl: self.unique_ddl,
        }
    }
}

/// Run every seed, on as many threads as there are cores (one for
/// `--served`), each seed on a one-thread runtime of its own: it replays
/// exactly, and nothing it started (a served emulator, a connection)
/// outlives it.
pub fn run(options: &SimOptions, progress: impl Fn(&Totals) + Sync) -> Result<Totals, String> {
    if options.clients == 0 || options.ops == 0 {
        return Err("--clients and --ops must be at least 1".into());
    }
    let started = std::time::Instant::now();
    let next = AtomicUsize::new(0);
    let totals = Mutex::new(Totals::default());
    let workers = if options.served {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let more = |i: usize| match options.for_duration {
        Some(d) => started.elapsed() < d,
        None => (i as u64) < options.seeds,
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if !more(i) {
                        break;
                    }
                    let one = run_seed(&options.plan(options.seed + i as u64));
                    let mut all = totals.lock().unwrap_or_else(|p| p.into_inner());
                    all.merge(one.totals);
                    progress(&all);
                }
            });
        }
    });
    Ok(totals.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// Run one seed on a runtime of its own, and check it.
pub fn run_seed(plan: &Plan) -> SeedRun {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if plan.served {
        runtime.block_on(served::run(plan))
    } else {
        runtime.block_on(world::run(plan))
    }
}
