//! A whole dbcord stack on an in-memory emulator and virtual time.

#![allow(dead_code)]

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use dbcord::discord::emulator::{Counters, Emulator, EmulatorConfig};
use dbcord::discord::limiter::Patient;
use dbcord::discord::{Discord, ManualClock};
use dbcord::sql::{Engine, Outcome};
use dbcord::store::Store;

pub struct Stack {
    pub clock: Arc<ManualClock>,
    pub emulator: Arc<Emulator>,
    pub engine: Engine,
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
        }
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
