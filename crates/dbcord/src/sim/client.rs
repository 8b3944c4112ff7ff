//! One simulated client: a dbcord process of its own (store, caches,
//! engine) on the shared guild, behind its own faults, which may die in
//! the middle of any statement and come back as a new process.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::error::DataFusionError;
use discord_api::{Clock, Discord, ManualClock, RateLimitPolicy, SeededRng, SharedClock, Waiting};
use discord_emulator::{Emulator, FaultSpec, Faulty};

use super::workload::{Outcome, Refusal};
use crate::error::Error;
use crate::sql::{Engine, Outcome as SqlOutcome, errors::user_message};
use crate::store::Store;

/// A client's view of time: the guild's clock, off by a fixed skew.
#[derive(Debug)]
pub struct SkewedClock {
    pub base: Arc<ManualClock>,
    pub skew_us: i64,
}

#[async_trait]
impl Clock for SkewedClock {
    fn now_us(&self) -> u64 {
        self.base.now_us().saturating_add_signed(self.skew_us)
    }

    async fn sleep(&self, d: Duration) {
        self.base.sleep(d).await;
    }

    fn advance_to(&self, unix_us: u64) {
        self.base
            .advance_to(unix_us.saturating_add_signed(-self.skew_us));
    }
}

/// Faults as a spec for [`FaultSpec::parse`], the default of `dbcord sim`.
pub const DEFAULT_FAULTS: &str = "429=0.02,429g=0.004,429s=0.002,500=0.004,502=0.004,503=0.004,stall=0.003,drop=0.004,lose=0.006";

/// The guild the clients share, and how a client reaches it.
pub enum Guild {
    /// The emulator in this process, on virtual time, faults drawn per
    /// client ([`Faulty`]), clocks skewed per client.
    InProcess {
        emulator: Arc<Emulator>,
        base: Arc<ManualClock>,
    },
    /// A served emulator over HTTP, on real time; its server draws the
    /// faults. `emulator` is the server's own handle, for the checker.
    Served {
        emulator: Arc<Emulator>,
        config: discord_http::DiscordConfig,
    },
}

impl Guild {
    pub fn emulator(&self) -> &Arc<Emulator> {
        match self {
            Guild::InProcess { emulator, .. } | Guild::Served { emulator, .. } => emulator,
        }
    }
}

/// A live client process.
pub struct Client {
    pub index: usize,
    pub rng: SeededRng,
    /// In process: the faults in front of this process, which also kill it.
    faulty: Option<Arc<Faulty<Arc<Emulator>>>>,
    clock: SharedClock,
    pub engine: Engine,
    /// Faults drawn by earlier (killed) processes of this client.
    pub past_faults: Vec<FaultPlanCounts>,
}

/// What one process's plan drew.
pub type FaultPlanCounts = std::collections::BTreeMap<&'static str, u64>;

/// What a statement returned, for checking reads.
pub type Cells = Vec<Vec<String>>;

impl Client {
    /// Open client `index` on `guild`, retrying while faults stop it.
    pub async fn open(
        index: usize,
        mut rng: SeededRng,
        guild: &Guild,
        clock: &SharedClock,
        faults: &FaultSpec,
    ) -> Result<Client, String> {
        let mut last = String::new();
        for _ in 0..20 {
            let (faulty, engine) = match guild {
                Guild::InProcess { emulator, .. } => {
                    let plan = faults.plan(rng.next_u64());
                    let faulty =
                        Arc::new(Faulty::new(Arc::clone(emulator), plan, Arc::clone(clock)));
                    (Some(Arc::clone(&faulty)), engine_on(faulty, clock).await)
                }
                Guild::Served { config, .. } => (None, engine_over_http(config, clock).await),
            };
            match engine {
                Ok(engine) => {
                    return Ok(Client {
                        index,
                        rng,
                        faulty,
                        clock: Arc::clone(clock),
                        engine,
                        past_faults: Vec::new(),
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(format!("client {index} could not open in 20 tries: {last}"))
    }

    /// Faults drawn by this client over all its processes.
    pub fn faults(&self) -> Vec<FaultPlanCounts> {
        let mut all = self.past_faults.clone();
        all.extend(self.faulty.as_ref().map(|f| f.plan().drawn()));
        all
    }

    /// Discord calls made by this process (in process only).
    pub fn calls(&self) -> u64 {
        self.faulty.as_ref().map_or(0, |f| f.calls())
    }

    /// Run `sql`; with `kill_after`, the process dies at that call (in
    /// process) or after that many times 5 ms (served). Returns the
    /// outcome, the cells of a result set, and whether it died.
    pub async fn run(&mut self, sql: &str, kill_after: Option<u64>) -> (Outcome, Cells, bool) {
        let result = match (&self.faulty, kill_after) {
            (Some(f), Some(n)) => {
                f.die_after(n);
                let r = tokio::select! {
                    biased;
                    r = self.engine.execute(sql) => Some(r),
                    _ = f.died() => None,
                };
                f.spare();
                r
            }
            (None, Some(n)) => {
                let deadline = Duration::from_millis(5 * n);
                tokio::time::timeout(deadline, self.engine.execute(sql))
                    .await
                    .ok()
            }
            (_, None) => Some(self.engine.execute(sql).await),
        };
        if result.as_ref().is_some_and(Result::is_err) {
            // A transaction the error cut short ends here, as a client's
            // would: its block is rolled back.
            let _ = self.engine.execute("ROLLBACK").await;
        }
        match result {
            None => (Outcome::Unknown("killed".into()), Vec::new(), true),
            Some(Ok(outcomes)) => {
                let (n, cells) = summarize(outcomes);
                (Outcome::Acked(n), cells, false)
            }
            Some(Err(e)) if is_definite(&e) => {
                let failed = Outcome::Failed(refusal(&e), user_message(&e));
                (failed, Vec::new(), false)
            }
            Some(Err(e)) => (Outcome::Unknown(user_message(&e)), Vec::new(), false),
        }
    }

    /// Come back as a new process after a kill: new caches, new faults.
    pub async fn restart(self, guild: &Guild, faults: &FaultSpec) -> Result<Client, String> {
        let mut past = self.faults();
        let clock = Arc::clone(&self.clock);
        let mut next = Client::open(self.index, self.rng, guild, &clock, faults).await?;
        past.append(&mut next.past_faults);
        next.past_faults = past;
        Ok(next)
    }
}

/// A dbcord engine over HTTP with `config`'s token and timeouts.
async fn engine_over_http(
    config: &discord_http::DiscordConfig,
    clock: &SharedClock,
) -> Result<Engine, String> {
    let session = crate::session::Session::over_http(config.clone(), Arc::clone(clock))
        .await
        .map_err(|e| e.to_string())?;
    let engine = session.engine;
    compact_often(&engine).await?;
    Ok(engine)
}

/// Compact often, and lay out segments small: a statement of a few long
/// rows is staged over several messages, and every manifest names many
/// segments of few rows, so that staging, partial rewrites and merges race
/// the other clients and the kills.
async fn compact_often(engine: &Engine) -> Result<(), String> {
    for setting in SMALL_LAYOUT {
        engine
            .execute(setting)
            .await
            .map_err(|e| user_message(&e))?;
    }
    Ok(())
}

/// Catalog entries after which a simulated client folds the catalog.
pub const SMALL_CATALOG_FOLD: usize = 3;

/// The settings every simulated client runs with.
pub const SMALL_LAYOUT: [&str; 5] = [
    "SET dbcord.compact_after = 12",
    "SET dbcord.segment_bytes = 4096",
    "SET dbcord.part_bytes = 2048",
    "SET dbcord.batch_rows = 4",
    "SET dbcord.level0_runs = 2",
];

/// A dbcord engine on `discord`, with the client's retry policy, set to
/// compact often so that compaction races the other clients.
pub async fn engine_on(discord: Arc<dyn Discord>, clock: &SharedClock) -> Result<Engine, String> {
    let waiting = Waiting::new(discord, Arc::clone(clock), RateLimitPolicy::default());
    let store = Store::open(Arc::new(waiting), Arc::clone(clock))
        .await
        .map_err(|e| e.to_string())?;
    // Fold the catalog every few DDL statements, so that checkpoints race
    // the other clients' DDL and the kills too.
    store.set_catalog_checkpoint_every(SMALL_CATALOG_FOLD);
    let engine = Engine::new(Arc::new(store));
    compact_often(&engine).await?;
    Ok(engine)
}

/// Rows affected (a count or a status tag) or returned, and the cells.
fn summarize(outcomes: Vec<SqlOutcome>) -> (u64, Cells) {
    let Some(last) = outcomes.into_iter().last() else {
        return (0, Vec::new());
    };
    match last {
        SqlOutcome::Status(tag) => {
            let n = tag
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            (n, Vec::new())
        }
        SqlOutcome::Rows { schema, batches } => {
            let cells = cells_of(&batches);
            let is_count = schema.fields().len() == 1 && schema.field(0).name() == "count";
            let n = match (is_count, cells.first()) {
                (true, Some(row)) => row[0].parse().unwrap_or(0),
                _ => cells.len() as u64,
            };
            (n, cells)
        }
    }
}

/// Run `sql` on `engine`, as cells (the checker's reads).
pub async fn cells(engine: &Engine, sql: &str) -> Result<Cells, String> {
    let out = engine
        .execute(sql)
        .await
        .map_err(|e| format!("{sql}: {}", user_message(&e)))?;
    match out.into_iter().last() {
        Some(SqlOutcome::Rows { batches, .. }) => Ok(cells_of(&batches)),
        other => Err(format!("{sql}: no rows but {other:?}")),
    }
}

/// Every value of `batches` as text (NULL as `NULL`).
pub fn cells_of(batches: &[datafusion::arrow::array::RecordBatch]) -> Cells {
    crate::sql::convert::text_cells(batches).expect("results of dbcord's own queries format")
}

/// Whether an error says the statement did nothing. Errors from Discord
/// (after the client's retries) or its transport do not: the statement
/// may have committed before the error.
pub fn is_definite(e: &DataFusionError) -> bool {
    match e.find_root() {
        DataFusionError::External(inner) => {
            let dbcord = inner.downcast_ref::<Error>();
            !dbcord.is_some_and(Error::is_indeterminate)
                && inner.downcast_ref::<discord_api::DiscordError>().is_none()
        }
        _ => true,
    }
}

/// Why a definite failure refused its statement, by dbcord's typed error.
pub fn refusal(e: &DataFusionError) -> Refusal {
    let DataFusionError::External(inner) = e.find_root() else {
        return Refusal::Other;
    };
    match inner.downcast_ref::<Error>() {
        // A transaction that lost a race, whose snapshot was compacted away
        // or whose commit outlasted its deadline wrote nothing either.
        Some(Error::Conflict { .. } | Error::SnapshotGone { .. } | Error::TxnTooSlow { .. }) => {
            Refusal::Conflict
        }
        Some(Error::Duplicate { constraint, .. }) => Refusal::Duplicate(constraint.clone()),
        Some(Error::NotUnique { .. }) => Refusal::NotUnique,
        Some(
            Error::TableExists(_)
            | Error::IndexExists(_)
            | Error::DatabaseExists(_)
            | Error::ColumnAlreadyIndexed { .. },
        ) => Refusal::Exists,
        Some(Error::NoSuchTable(_) | Error::NoSuchIndex(_) | Error::NoSuchDatabase(_)) => {
            Refusal::Missing
        }
        _ => Refusal::Other,
    }
}
