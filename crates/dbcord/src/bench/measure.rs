//! Measuring a scenario: a guild on virtual time, and what a statement
//! cost on it (requests by route, CDN, simulated and local time).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use discord_api::{Clock, ManualClock, RateLimitPolicy};
use discord_emulator::{Emulator, EmulatorConfig};
use serde::Serialize;

use crate::session::Session;
use crate::sql::Outcome;

/// What one scenario cost.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cost {
    /// API requests by route name.
    pub requests: BTreeMap<String, u64>,
    pub api_requests: u64,
    /// Of those, answered 429 (the embedded client waits after a 429; the
    /// HTTP client waits before one, from the bucket headers).
    pub rate_limited: u64,
    pub cdn_requests: u64,
    pub cdn_bytes: u64,
    /// Bytes written: attachments, and message text.
    pub uploaded_bytes: u64,
    pub content_bytes: u64,
    /// Time on Discord's clock: latency, rate-limit waits, transfers.
    pub simulated_s: f64,
    /// Time spent here, by dbcord and the in-process emulator.
    pub local_ms: f64,
    /// Peak resident memory above what was resident when the scenario
    /// began (the emulator keeps its files on disk), in MiB;
    /// `None` where the system does not tell it.
    pub peak_mib: Option<f64>,
}

/// The API requests (not the CDN's) of `spent`, by route name.
pub fn api_requests_by_route(spent: &discord_emulator::Counters) -> BTreeMap<String, u64> {
    spent
        .by_route
        .iter()
        .filter(|(r, c)| !r.is_cdn() && c.requests > 0)
        .map(|(r, c)| (r.name().to_string(), c.requests))
        .collect()
}

/// One row of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    pub rows: usize,
    pub scenario: String,
    pub cost: Cost,
    /// The fewest requests Discord's limits allow, in words and figures.
    pub lower_bound: String,
    /// The goal the storage-engine issue set, for comparison.
    pub goal: String,
    /// The same query's engine time on a MemTable (best of 5), if a query.
    pub memtable_ms: Option<f64>,
    /// dbcord's local time for the query run again, its batches cached
    /// as far as the cache holds them (best of 3), to set beside the
    /// MemTable's.
    pub warm_ms: Option<f64>,
    /// A digest of a query's answer (its rows as text, sorted), to check
    /// that dbcord and the MemTable agree.
    #[serde(skip)]
    pub answer: Option<u64>,
}

/// A guild with virtual time, and what is needed to read its costs.
pub struct Bench {
    pub clock: Arc<ManualClock>,
    pub emulator: Arc<Emulator>,
    pub session: Session,
    /// Where the emulator keeps attachments: on disk, so that the bytes
    /// the guild stores do not count in dbcord's resident memory.
    _dir: tempfile::TempDir,
}

impl Bench {
    /// A new guild with Discord's limits, its files in a temporary
    /// directory (not flushed to disk: nothing here must survive a crash).
    pub async fn new() -> anyhow::Result<Bench> {
        let clock = Arc::new(ManualClock::fixed());
        let dir = tempfile::tempdir()?;
        let config = EmulatorConfig {
            data_dir: Some(dir.path().to_path_buf()),
            fsync: false,
            ..EmulatorConfig::in_memory()
        };
        let session = Session::embedded(config, clock.clone(), RateLimitPolicy::default()).await?;
        let emulator = Arc::clone(session.emulator().expect("embedded"));
        with_rows(&session);
        Ok(Bench {
            clock,
            emulator,
            session,
            _dir: dir,
        })
    }

    /// A second process on the same guild: nothing cached.
    pub async fn cold(&self) -> anyhow::Result<Session> {
        let clock = self.clock.clone();
        let session = Session::attach(
            Arc::clone(&self.emulator),
            clock,
            RateLimitPolicy::default(),
        )
        .await?;
        with_rows(&session);
        Ok(session)
    }

    /// Run `sql` on `session` and say what it cost; the last outcome too.
    pub async fn measure(
        &self,
        session: &Session,
        sql: &[String],
    ) -> anyhow::Result<(Cost, Outcome)> {
        let base = super::memory::start();
        let before = self.emulator.counters();
        let t0 = self.clock.now_us();
        let start = Instant::now();
        let mut last = Outcome::Status(String::new());
        for statement in sql {
            let mut out = session.engine.execute(statement).await?;
            if let Some(o) = out.pop() {
                last = o;
            }
        }
        let local = start.elapsed();
        let spent = self.emulator.counters().since(&before);
        let cost = Cost {
            requests: api_requests_by_route(&spent),
            api_requests: spent.total_requests(),
            rate_limited: spent.total_rate_limited(),
            cdn_requests: spent.cdn_requests(),
            cdn_bytes: spent.cdn_bytes,
            uploaded_bytes: spent.uploaded_bytes,
            content_bytes: spent.content_bytes,
            simulated_s: Duration::from_micros(self.clock.now_us() - t0).as_secs_f64(),
            local_ms: local.as_secs_f64() * 1e3,
            peak_mib: super::memory::peak_above(base),
        };
        Ok((cost, last))
    }
}

/// The bench's rows, as the table function `bench_users(from, to)`.
fn with_rows(session: &Session) {
    session
        .engine
        .register_table_function("bench_users", Arc::new(super::data::UsersFunction));
}

/// A digest of result rows as text, in sorted order.
pub fn digest(batches: &[datafusion::arrow::array::RecordBatch]) -> anyhow::Result<u64> {
    use std::hash::{Hash, Hasher};
    let mut rows = crate::sql::convert::text_cells(batches)?;
    rows.sort_unstable();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    rows.hash(&mut h);
    Ok(h.finish())
}

/// A digest of an outcome's rows (see [`digest`]).
pub fn answer_of(o: &Outcome) -> anyhow::Result<u64> {
    match o {
        Outcome::Rows { batches, .. } => digest(batches),
        Outcome::Status(s) => digest(&[]).map(|d| d ^ s.len() as u64),
    }
}

/// Rows of an outcome.
pub fn rows_of(o: &Outcome) -> usize {
    match o {
        Outcome::Rows { batches, .. } => batches.iter().map(|b| b.num_rows()).sum(),
        Outcome::Status(_) => 0,
    }
}
