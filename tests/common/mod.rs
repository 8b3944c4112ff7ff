//! A whole dbcord stack on an in-memory emulator and virtual time.

#![allow(dead_code)]

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use dbcord::discord::emulator::{Counters, Emulator, EmulatorConfig};
use dbcord::discord::http::{DiscordConfig, HttpDiscord, Secret};
use dbcord::discord::limiter::Patient;
use dbcord::discord::serve::{self, AppState, ServeOptions};
use dbcord::discord::{Discord, ManualClock};
use dbcord::sql::{Engine, Outcome};
use dbcord::store::Store;

/// How the tests' HTTP backend reaches a served emulator.
pub fn http_config(emulator: &Emulator, addr: std::net::SocketAddr) -> DiscordConfig {
    DiscordConfig {
        token: Secret::new("test-token"),
        guild_id: emulator.guild_id(),
        api_base: format!("http://{addr}"),
        request_timeout: std::time::Duration::from_secs(5),
        max_retries: 5,
    }
}

pub struct Stack {
    pub clock: Arc<ManualClock>,
    pub emulator: Arc<Emulator>,
    pub engine: Engine,
    /// Where the emulator is served, for stacks built with `over_http`.
    pub http_addr: Option<std::net::SocketAddr>,
}

impl Stack {
    pub async fn new() -> Stack {
        Self::with_config(EmulatorConfig::in_memory()).await
    }

    pub async fn with_config(config: EmulatorConfig) -> Stack {
        let clock = Arc::new(ManualClock::fixed());
        let emulator = Arc::new(Emulator::open(config, clock.clone()).unwrap());
        let discord = Arc::new(Patient::new(Arc::clone(&emulator), clock.clone()));
        let store = Store::open(discord as Arc<dyn Discord>, clock.clone())
            .await
            .unwrap();
        Stack {
            clock,
            emulator,
            engine: Engine::new(Arc::new(store)),
            http_addr: None,
        }
    }

    /// The same stack through HTTP: the emulator served on 127.0.0.1 by
    /// `dbcord emulator serve`'s server, dbcord on its HTTP backend. Both
    /// share one virtual clock.
    pub async fn over_http(mut config: EmulatorConfig, options: ServeOptions) -> Stack {
        let clock = Arc::new(ManualClock::fixed());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        config.attachment_url_base = format!("http://{addr}");
        let emulator = Arc::new(Emulator::open(config, clock.clone()).unwrap());
        let state = AppState {
            emulator: Arc::clone(&emulator),
            options: Arc::new(options),
        };
        tokio::spawn(serve::serve(listener, state));
        let http = HttpDiscord::connect(http_config(&emulator, addr), clock.clone())
            .await
            .unwrap();
        let store = Store::open(Arc::new(http) as Arc<dyn Discord>, clock.clone())
            .await
            .unwrap();
        Stack {
            clock,
            emulator,
            engine: Engine::new(Arc::new(store)),
            http_addr: Some(addr),
        }
    }

    /// An in-memory emulator served over HTTP on real-time settings.
    pub async fn served() -> Stack {
        Self::over_http(EmulatorConfig::in_memory(), ServeOptions::default()).await
    }

    /// Run SQL, panicking on error; returns the last outcome.
    pub async fn sql(&self, sql: &str) -> Outcome {
        match self.engine.execute(sql).await {
            Ok(mut v) => v.pop().expect("at least one statement"),
            Err(e) => panic!("{sql}: {e}"),
        }
    }

    /// Run SQL expecting an error; returns its text for people.
    pub async fn sql_err(&self, sql: &str) -> String {
        match self.engine.execute(sql).await {
            Ok(_) => panic!("{sql}: expected an error"),
            Err(e) => dbcord::sql::errors::user_message(&e),
        }
    }

    /// A query's result as pretty text, for comparing.
    pub async fn text(&self, sql: &str) -> String {
        match self.sql(sql).await {
            Outcome::Rows { batches, .. } => pretty_format_batches(&batches).unwrap().to_string(),
            Outcome::Status(s) => s,
        }
    }

    pub async fn rows(&self, sql: &str) -> Vec<RecordBatch> {
        match self.sql(sql).await {
            Outcome::Rows { batches, .. } => batches,
            Outcome::Status(s) => panic!("{sql}: expected rows, got {s}"),
        }
    }

    pub fn counters(&self) -> Counters {
        self.emulator.counters()
    }
}

/// `INSERT INTO table VALUES ...` for rows `from..to` of a simple (id, n) table.
pub fn insert_numbers(table: &str, from: usize, to: usize) -> String {
    let values: Vec<String> = (from..to).map(|i| format!("('k{i:05}', {i})")).collect();
    format!("INSERT INTO {table} VALUES {}", values.join(", "))
}
