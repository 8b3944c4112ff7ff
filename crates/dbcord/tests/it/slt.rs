//! The `.slt` files under `tests/slt/` are the executable spec of dbcord's
//! SQL. Each file runs on a fresh emulated guild whose search lags writes by
//! 30 s, so freshness is always in play; the suite runs twice, on the
//! embedded emulator and over HTTP against the served one. Besides SQL, the harness knows one
//! statement of its own: `ADVANCE CLOCK <seconds>` moves virtual time.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use dbcord::sql::Outcome;
use discord_emulator::EmulatorConfig;
use discord_emulator::serve::ServeOptions;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};

use crate::common::Stack;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SltError(String);

struct SltDb {
    stack: Stack,
}

#[async_trait]
impl AsyncDB for SltDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        if let Some(secs) = sql
            .trim()
            .trim_end_matches(';')
            .strip_prefix("ADVANCE CLOCK ")
        {
            let secs: f64 = secs
                .trim()
                .parse()
                .map_err(|_| SltError(format!("bad ADVANCE CLOCK: {sql}")))?;
            self.stack.clock.advance(Duration::from_secs_f64(secs));
            return Ok(DBOutput::StatementComplete(0));
        }
        let outcomes = self
            .stack
            .engine()
            .execute(sql)
            .await
            .map_err(|e| SltError(dbcord::sql::errors::user_message(&e)))?;
        match outcomes.into_iter().last() {
            Some(Outcome::Rows { schema, batches }) => Ok(DBOutput::Rows {
                types: schema
                    .fields()
                    .iter()
                    .map(|f| column_type(f.data_type()))
                    .collect(),
                rows: batches.iter().flat_map(rows_of).collect(),
            }),
            Some(Outcome::Status(_)) | None => Ok(DBOutput::StatementComplete(0)),
        }
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "dbcord"
    }

    async fn sleep(dur: Duration) {
        tokio::time::sleep(dur).await
    }
}

fn column_type(t: &DataType) -> DefaultColumnType {
    match t {
        t if t.is_integer() => DefaultColumnType::Integer,
        t if t.is_floating() => DefaultColumnType::FloatingPoint,
        _ => DefaultColumnType::Text,
    }
}

/// Cells as text: NULL as `NULL`, an empty string as `(empty)`.
fn rows_of(batch: &RecordBatch) -> Vec<Vec<String>> {
    let mut rows = crate::common::cells(std::slice::from_ref(batch));
    for cell in rows.iter_mut().flatten() {
        if cell.is_empty() {
            *cell = "(empty)".to_string();
        }
    }
    rows
}

fn slt_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    files
}

fn config() -> EmulatorConfig {
    EmulatorConfig::in_memory_with_lag(Duration::from_secs(30))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_suite_on_the_embedded_emulator() {
    run_suite(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slt_suite_over_http_against_the_served_emulator() {
    run_suite(true).await;
}

async fn run_suite(http: bool) {
    let files = slt_files();
    assert!(!files.is_empty(), "no .slt files found");
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = Runner::new(|| async move {
            let stack = if http {
                let options = ServeOptions {
                    time_scale: 1.0,
                    ..Default::default()
                };
                Stack::over_http(config(), options).await
            } else {
                Stack::with_config(config()).await
            };
            Ok::<_, SltError>(SltDb { stack })
        });
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}:\n{e}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} .slt files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
