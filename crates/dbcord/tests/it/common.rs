//! A whole dbcord stack on an emulator and virtual time, opened the way the
//! binary opens it (`Session`), plus helpers that read results as values.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use dbcord::session::Session;
use dbcord::sql::{Engine, Outcome};
use discord_api::{ManualClock, SharedClock};
use discord_emulator::serve::{self, ServeOptions};
use discord_emulator::{Counters, Emulator, EmulatorConfig};
use discord_http::{DiscordConfig, Secret};

/// How the tests' HTTP backend reaches a served emulator.
pub fn http_config(emulator: &Emulator, addr: std::net::SocketAddr) -> DiscordConfig {
    DiscordConfig {
        token: Secret::new("test-token"),
        guild_id: discord_api::Discord::guild_id(emulator),
        api_base: format!("http://{addr}"),
        request_timeout: std::time::Duration::from_secs(5),
        max_retries: 5,
        rate_limit: Default::default(),
        invalid_request_budget: 9_000,
    }
}

/// Serve a new emulator on 127.0.0.1 in the background.
pub async fn serve(
    config: EmulatorConfig,
    clock: SharedClock,
    options: ServeOptions,
) -> (Arc<Emulator>, std::net::SocketAddr) {
    let served = serve::start("127.0.0.1:0".parse().unwrap(), config, clock, options)
        .await
        .unwrap();
    (served.emulator, served.addr)
}

pub struct Stack {
    pub clock: Arc<ManualClock>,
    pub emulator: Arc<Emulator>,
    pub session: Session,
}

impl Stack {
    pub async fn new() -> Stack {
        Self::with_config(EmulatorConfig::in_memory()).await
    }

    pub async fn with_config(config: EmulatorConfig) -> Stack {
        Self::try_with_config(config).await.unwrap()
    }

    pub async fn try_with_config(config: EmulatorConfig) -> anyhow::Result<Stack> {
        let clock = Arc::new(ManualClock::fixed());
        let session = Session::embedded(config, clock.clone(), Default::default()).await?;
        Ok(Stack {
            clock,
            emulator: Arc::clone(session.emulator().unwrap()),
            session,
        })
    }

    /// A second process on the same guild and clock: its own client and
    /// caches, so it reads what is committed, not what this one remembers.
    pub async fn another(&self) -> Stack {
        let session = Session::attach(
            Arc::clone(&self.emulator),
            self.clock.clone(),
            Default::default(),
        )
        .await
        .unwrap();
        Stack {
            clock: Arc::clone(&self.clock),
            emulator: Arc::clone(&self.emulator),
            session,
        }
    }

    /// The same stack through HTTP: the emulator served on 127.0.0.1 by
    /// `dbcord emulator serve`'s server, dbcord on its HTTP backend. Both
    /// share one virtual clock.
    pub async fn over_http(config: EmulatorConfig, options: ServeOptions) -> Stack {
        let clock = Arc::new(ManualClock::fixed());
        let (emulator, addr) = serve(config, clock.clone(), options).await;
        let session = Session::over_http(http_config(&emulator, addr), clock.clone())
            .await
            .unwrap();
        Stack {
            clock,
            emulator,
            session,
        }
    }

    /// An in-memory emulator served over HTTP on real-time settings.
    pub async fn served() -> Stack {
        Self::over_http(EmulatorConfig::in_memory(), ServeOptions::default()).await
    }

    pub fn engine(&self) -> &Engine {
        &self.session.engine
    }

    /// Run SQL, panicking on error; returns the last outcome.
    pub async fn sql(&self, sql: &str) -> Outcome {
        match self.engine().execute(sql).await {
            Ok(mut v) => v.pop().expect("at least one statement"),
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    /// Run SQL expecting an error; returns its text for people.
    pub async fn sql_err(&self, sql: &str) -> String {
        match self.engine().execute(sql).await {
            Ok(_) => panic!("{sql}: expected an error"),
            Err(e) => dbcord::sql::errors::user_message(&e),
        }
    }

    /// A query's result as pretty text, for output that people read (EXPLAIN).
    pub async fn text(&self, sql: &str) -> String {
        match self.sql(sql).await {
            Outcome::Rows { batches, .. } => {
                datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                    .unwrap()
                    .to_string()
            }
            Outcome::Status(s) => s,
        }
    }

    pub async fn rows(&self, sql: &str) -> Vec<RecordBatch> {
        match self.sql(sql).await {
            Outcome::Rows { batches, .. } => batches,
            Outcome::Status(s) => panic!("{sql}: expected rows, got {s}"),
        }
    }

    /// A query's rows, each cell as text (NULL as `NULL`), for comparing.
    pub async fn values(&self, sql: &str) -> Vec<Vec<String>> {
        cells(&self.rows(sql).await)
    }

    /// A query that returns one cell, as text.
    pub async fn value(&self, sql: &str) -> String {
        let rows = self.values(sql).await;
        assert_eq!(rows.len(), 1, "{sql}: expected one row, got {rows:?}");
        assert_eq!(rows[0].len(), 1, "{sql}: expected one column");
        rows[0][0].clone()
    }

    /// Let replaced commits age past vacuum's grace, so that a vacuum
    /// deletes them (it keeps younger ones for writers still confirming).
    pub fn age_past_vacuum_grace(&self) {
        let grace = dbcord::store::VACUUM_GRACE;
        self.clock
            .advance(grace + std::time::Duration::from_secs(1));
    }

    /// Vacuum `table` until nothing is left to delete: once past the
    /// grace, then again past it (the segments the first one's own
    /// compaction replaced stay for the grace: a read that began before it
    /// may still use them).
    pub async fn vacuum_clean(&self, table: &str) {
        for _ in 0..2 {
            self.age_past_vacuum_grace();
            self.sql(&format!("SELECT * FROM vacuum('{table}')")).await;
        }
    }

    pub fn counters(&self) -> Counters {
        self.emulator.counters()
    }
}

/// The cells of batches as text, row by row.
pub fn cells(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    dbcord::sql::convert::text_cells(batches).unwrap()
}

/// `[["a", "1"], ...]` as owned rows, for comparing with [`Stack::values`].
pub fn table(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// `INSERT INTO table VALUES ...` for rows `from..to` of a simple (id, n) table.
pub fn insert_numbers(table: &str, from: usize, to: usize) -> String {
    let values: Vec<String> = (from..to).map(|i| format!("('k{i:05}', {i})")).collect();
    format!("INSERT INTO {table} VALUES {}", values.join(", "))
}

/// Run the `dbcord` binary on data directory `data`, as a user would
/// (no rc file, no log settings, nothing on standard input).
pub fn run_dbcord(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .arg("--data-dir")
        .arg(data)
        .arg("--no-rc")
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("dbcord runs")
}

/// A run's standard output, and its standard error.
pub fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
