//! One seed: a guild, clients taking turns at random statements under
//! faults and kills, the reads checked as they come, then the checker.
//!
//! In process ([`run`]), everything runs on one thread and on virtual
//! time, so the order in which the clients' requests interleave, every
//! fault and every kill follow from the seed: the same seed replays the
//! same run. [`run_on`] also drives the clients of `--served`.

use std::sync::{Arc, Mutex};

use discord_api::{ManualClock, RealClock, SeededRng, SharedClock};
use discord_emulator::{Emulator, EmulatorConfig, SearchConfig};
use futures::future::join_all;

use super::check;
use super::client::{Cells, Client, Guild, SkewedClock, engine_on};
use super::history::{History, lock};
use super::plan::{Plan, TOKEN};
use super::report::Totals;
use super::workload::{self, Kind, Outcome, Statement};

/// One seed's run: its totals (with any violation found), and every
/// statement with its outcome, in the order they finished.
pub struct SeedRun {
    pub totals: Totals,
    pub statements: Vec<(Statement, Outcome)>,
}

/// Run one seed in process and check it.
pub async fn run(plan: &Plan) -> SeedRun {
    let base = Arc::new(ManualClock::fixed());
    let config = EmulatorConfig {
        search: SearchConfig {
            seed: plan.seed,
            ..SearchConfig::strict()
        },
        fsync: false,
        ..EmulatorConfig::default()
    };
    let emulator = Arc::new(Emulator::in_memory(
        config,
        Arc::clone(&base) as SharedClock,
    ));
    run_on(plan, &Guild::InProcess { emulator, base }).await
}

/// Run one seed on `guild`: set up, drive the clients, check.
pub async fn run_on(plan: &Plan, guild: &Guild) -> SeedRun {
    let emulator = guild.emulator();
    let clock = Arc::clone(emulator.clock());
    let history = Arc::new(Mutex::new(History::default()));
    if let Err(e) = setup(emulator, &clock).await {
        let mut totals = Totals::default();
        totals.violation(plan, format!("setting up failed: {e}"));
        return SeedRun {
            totals,
            statements: Vec::new(),
        };
    }
    let mut rng = SeededRng::new(plan.seed);
    let per_client = plan.ops.div_ceil(plan.clients.max(1));
    let clients = (0..plan.clients).map(|i| {
        let clock: SharedClock = match guild {
            Guild::InProcess { base, .. } => Arc::new(SkewedClock {
                base: Arc::clone(base),
                skew_us: rng.range(-5_000_000, 5_000_000),
            }),
            Guild::Served { .. } => Arc::new(RealClock),
        };
        let client_rng = SeededRng::new(rng.next_u64());
        drive(plan, i, client_rng, per_client, guild, clock, &history)
    });
    join_all(clients).await;
    let mut history = Arc::into_inner(history)
        .expect("the clients are done")
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    match engine_on(Arc::clone(emulator) as _, &clock).await {
        Ok(engine) => check::all(plan, &engine, &mut history).await,
        Err(e) => history
            .totals
            .violation(plan, format!("the checker could not open: {e}")),
    }
    history.totals.seeds = 1;
    SeedRun {
        totals: history.totals,
        statements: history.statements,
    }
}

async fn setup(emulator: &Arc<Emulator>, clock: &SharedClock) -> Result<(), String> {
    let engine = engine_on(Arc::clone(emulator) as _, clock).await?;
    engine
        .execute(&workload::setup_sql())
        .await
        .map_err(|e| crate::sql::errors::user_message(&e))?;
    Ok(())
}

/// One client's turn after turn, restarted after each kill.
async fn drive(
    plan: &Plan,
    index: usize,
    rng: SeededRng,
    statements: usize,
    guild: &Guild,
    clock: SharedClock,
    history: &Arc<Mutex<History>>,
) {
    let mut client = match Client::open(index, rng, guild, &clock, &plan.faults).await {
        Ok(c) => c,
        Err(e) => return lock(history).totals.violation(plan, e),
    };
    let mut scratch = Vec::new();
    let mut calls = 0;
    for n in 0..statements {
        let id = (n * plan.clients + index + 1) as i64;
        let stmt = {
            let mut h = lock(history);
            let stmt = workload::draw(
                &mut client.rng,
                id,
                index,
                &h.known,
                &mut scratch,
                plan.unique_ddl,
            );
            match stmt.kind {
                Kind::Delete { of } => {
                    h.deleted.insert(of);
                }
                Kind::Rewrite { of } => h.rewrites.entry(of).or_default().push(stmt.id),
                _ => {}
            }
            stmt
        };
        let kill = client
            .rng
            .chance(plan.kill_chance)
            .then(|| client.rng.range(1, 40) as u64);
        let (outcome, cells, died) = client.run(&stmt.sql, kill).await;
        record(plan, history, &stmt, &outcome, &cells);
        if died {
            calls += client.calls();
            lock(history).totals.kills += 1;
            client = match client.restart(guild, &plan.faults).await {
                Ok(c) => c,
                Err(e) => return lock(history).totals.violation(plan, e),
            };
        }
    }
    calls += client.calls();
    let mut h = lock(history);
    h.totals.requests += calls;
    for counts in client.faults() {
        h.totals.add_faults(&counts);
    }
}

/// Note a finished statement; check a read's answer at once.
fn record(
    plan: &Plan,
    history: &Arc<Mutex<History>>,
    stmt: &Statement,
    outcome: &Outcome,
    cells: &Cells,
) {
    if plan.trace {
        eprintln!(
            "[client {} #{}] {} => {outcome:?}",
            stmt.client, stmt.id, stmt.sql
        );
    }
    let mut h = lock(history);
    h.totals.count(stmt, outcome);
    if let (Kind::Read(read), Outcome::Acked(_)) = (&stmt.kind, outcome) {
        let verdict = check::read(read, cells, &h);
        h.totals.invariants += 1;
        if let Err(why) = verdict {
            h.totals
                .violation(plan, format!("statement {} ({}): {why}", stmt.id, stmt.sql));
        }
    }
    if let Outcome::Failed(_, why) | Outcome::Unknown(why) = outcome
        && why.contains(TOKEN)
    {
        h.totals.violation(
            plan,
            format!("statement {}: an error shows the bot token", stmt.id),
        );
    }
    // A read has no expected failure, so any definite one is reported here.
    if let Some(why) = check::unexpected_failure(stmt, outcome) {
        h.totals.violation(plan, why);
    }
    if let (Kind::Insert { rows }, Outcome::Acked(_)) = (&stmt.kind, outcome) {
        h.known.acked_inserts.push((stmt.id, rows.clone()));
    }
    h.statements.push((stmt.clone(), outcome.clone()));
}
