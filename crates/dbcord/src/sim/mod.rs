//! `dbcord sim`: seeded simulation of several dbcord clients sharing one
//! guild while Discord misbehaves, with invariants checked as it runs and
//! at the end, in the manner of FoundationDB's and TigerBeetle's
//! simulators: a failing seed prints the command that replays it.
//!
//! Files: `workload` (the statements and what each must do), `client`
//! (a dbcord process behind its faults, killed and restarted), `world`
//! (one seed, on virtual time, in process), `served` (the same over HTTP
//! against a served emulator, on real time), `check` (the invariants),
//! `model` (MemTables asked the same queries), `report` (the totals).

mod check;
mod client;
mod model;
mod report;
mod served;
mod workload;
mod world;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use client::DEFAULT_FAULTS;
pub use report::Totals;
pub use world::Plan;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// The first seed; seeds `seed..seed + seeds` run.
    pub seed: u64,
    pub seeds: u64,
    pub ops: usize,
    pub clients: usize,
    pub faults: String,
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

/// Run every seed, on as many threads as there are cores, each seed on a
/// one-thread runtime of its own so that it replays exactly.
pub fn run(options: &SimOptions, progress: impl Fn(&Totals) + Sync) -> Result<Totals, String> {
    discord_emulator::FaultPlan::parse(&options.faults).map_err(|e| format!("--faults: {e}"))?;
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
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if !more(i) {
                        break;
                    }
                    let plan = options.plan(options.seed + i as u64);
                    let one = if options.served {
                        runtime.block_on(served::run(&plan))
                    } else {
                        runtime.block_on(world::run(&plan))
                    };
                    let mut all = totals.lock().unwrap_or_else(|p| p.into_inner());
                    all.merge(one);
                    progress(&all);
                }
            });
        }
    });
    Ok(totals.into_inner().unwrap_or_else(|p| p.into_inner()))
}
