//! The scenarios: two ways to load a users table (text key, a UNIQUE
//! index on email, an index on role, an age column), then reads and
//! writes on the loaded table, each by a process that has cached nothing.

use std::time::Instant;

use anyhow::{Context, Result, ensure};
use datafusion::prelude::SessionContext;

use super::measure::{Bench, Cost, Measured, rows_of};

const SCHEMA: [&str; 3] = [
    "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, role TEXT, age BIGINT)",
    "CREATE UNIQUE INDEX users_email ON users (email)",
    "CREATE INDEX users_role ON users (role)",
];

/// The users `from..to`: 1 in 100 an admin, a third editors.
fn users_select(from: usize, to: usize) -> String {
    format!(
        "SELECT 'u_' || lpad(CAST(value AS VARCHAR), 6, '0') AS id, \
         'user' || CAST(value AS VARCHAR) || '@example.com' AS email, \
         CASE WHEN value % 100 = 7 THEN 'admin' WHEN value % 3 = 0 THEN 'editor' ELSE 'viewer' END \
         AS role, 18 + (value * 7) % 60 AS age \
         FROM generate_series({from}, {}) AS s(value)",
        to - 1
    )
}

/// Runs of each query whose best engine time is reported.
const ENGINE_RUNS: usize = 5;

/// Bytes one message's attachments may hold.
const UPLOAD_LIMIT: f64 = 10.0 * 1024.0 * 1024.0;

/// Every scenario at `rows` rows.
pub async fn run(rows: usize) -> Result<Vec<Measured>> {
    ensure!(rows >= 1_000, "--rows must be at least 1000");
    let mut out = vec![load_in_small_statements(rows).await?];
    let bench = Bench::new().await?;
    out.push(load_in_one_statement(&bench, rows).await?);
    let memtable = memtable(rows).await?;
    for (scenario, sql, lower, goal) in queries(rows) {
        out.push(query(&bench, &memtable, rows, scenario, &sql, lower, goal).await?);
    }
    // One writer, as a shell would be: the first write pays for reading
    // the table's log, the others only for what changed since.
    let writer = bench.cold().await?;
    for (scenario, sql, lower, goal) in writes(rows) {
        let (cost, _) = bench.measure(&writer, &[sql]).await?;
        out.push(measured(rows, scenario, cost, lower, goal));
    }
    Ok(out)
}

fn measured(rows: usize, scenario: &str, cost: Cost, lower: String, goal: &str) -> Measured {
    Measured {
        rows,
        scenario: scenario.to_string(),
        cost,
        lower_bound: lower,
        goal: goal.to_string(),
        memtable_ms: None,
        warm_ms: None,
    }
}

async fn load_in_small_statements(rows: usize) -> Result<Measured> {
    let bench = Bench::new().await?;
    let schema: Vec<String> = SCHEMA.iter().map(|s| s.to_string()).collect();
    bench.measure(&bench.session, &schema).await?;
    let statements: Vec<String> = (0..rows)
        .step_by(100)
        .map(|from| {
            format!(
                "INSERT INTO users {}",
                users_select(from, (from + 100).min(rows))
            )
        })
        .collect();
    let n = statements.len();
    let (cost, _) = bench.measure(&bench.session, &statements).await?;
    Ok(measured(
        rows,
        &format!("load as {n} INSERTs of 100 rows"),
        cost,
        format!("{n} creates (one message per statement)"),
        "at most 5 requests per statement; 20,000 rows in at most 15 min",
    ))
}

async fn load_in_one_statement(bench: &Bench, rows: usize) -> Result<Measured> {
    let schema: Vec<String> = SCHEMA.iter().map(|s| s.to_string()).collect();
    bench.measure(&bench.session, &schema).await?;
    let insert = format!("INSERT INTO users {}", users_select(0, rows));
    let (cost, _) = bench.measure(&bench.session, &[insert]).await?;
    let creates = (cost.uploaded_bytes as f64 / UPLOAD_LIMIT).ceil().max(1.0);
    let lower = format!(
        "{creates} create(s): {} bytes at 10 MiB a message",
        cost.uploaded_bytes
    );
    Ok(measured(
        rows,
        "load in one INSERT ... SELECT",
        cost,
        lower,
        "at most 20 API requests and 60 s (100,000 rows)",
    ))
}

type Scenario = (&'static str, String, String, &'static str);

fn queries(rows: usize) -> Vec<Scenario> {
    vec![
        (
            "count(*), sum(age) over every row",
            "SELECT count(*), sum(age) FROM users".into(),
            "1 history page, 1 download of the segment".into(),
            "at most 5 API requests",
        ),
        (
            "primary-key lookup",
            format!("SELECT * FROM users WHERE id = 'u_{:06}'", rows / 2 + 1),
            "1 API request, 1 CDN range read".into(),
            "at most 3 API requests and 1 CDN range read",
        ),
        (
            "indexed equality, 1% of rows",
            "SELECT * FROM users WHERE role = 'admin'".into(),
            format!(
                "1 history page; the index's and rows' batches ({} hits)",
                rows / 100
            ),
            "at most 5 API requests",
        ),
        (
            "range on a column without index",
            "SELECT count(*) FROM users WHERE age BETWEEN 30 AND 40".into(),
            "1 history page, 1 download of the segment".into(),
            "-",
        ),
    ]
}

fn emails(from: usize, n: usize) -> String {
    let list: Vec<String> = (from..from + n)
        .map(|v| format!("'user{v}@example.com'"))
        .collect();
    list.join(", ")
}

fn writes(rows: usize) -> Vec<Scenario> {
    let mid = rows / 3;
    vec![
        (
            "UPDATE of 100 rows chosen by an indexed equality",
            format!(
                "UPDATE users SET age = age + 1 WHERE email IN ({})",
                emails(mid, 100)
            ),
            "1 history page, 1 create".into(),
            "at most 6 API requests",
        ),
        (
            "DELETE of 100 rows chosen by an indexed equality",
            format!(
                "DELETE FROM users WHERE email IN ({})",
                emails(mid + 100, 100)
            ),
            "1 history page, 1 create".into(),
            "at most 6 API requests",
        ),
        (
            "one-row INSERT (two indexes)",
            "INSERT INTO users VALUES ('x_1', 'x1@example.com', 'viewer', 40)".into(),
            "1 create".into(),
            "at most 3 requests, a readable row message",
        ),
    ]
}

/// A cold read of `sql`, then a warm one (its batches cached) to set
/// beside the MemTable's engine time; the two engines must agree.
async fn query(
    bench: &Bench,
    memtable: &SessionContext,
    rows: usize,
    scenario: &str,
    sql: &str,
    lower: String,
    goal: &str,
) -> Result<Measured> {
    let cold = bench.cold().await?;
    let (cost, out) = bench.measure(&cold, &[sql.to_string()]).await?;
    // Engine times are the best of a few runs: single runs of a few
    // milliseconds are mostly noise.
    let mut warm_ms = f64::MAX;
    let mut memtable_ms = f64::MAX;
    for _ in 0..ENGINE_RUNS {
        let (warm, _) = bench.measure(&cold, &[sql.to_string()]).await?;
        warm_ms = warm_ms.min(warm.local_ms);
        let start = Instant::now();
        let theirs = memtable.sql(sql).await?.collect().await?;
        memtable_ms = memtable_ms.min(start.elapsed().as_secs_f64() * 1e3);
        let n: usize = theirs.iter().map(|b| b.num_rows()).sum();
        ensure!(
            n == rows_of(&out),
            "{scenario}: dbcord and the MemTable disagree"
        );
    }
    let mut m = measured(rows, scenario, cost, lower, goal);
    m.memtable_ms = Some(memtable_ms);
    m.warm_ms = Some(warm_ms);
    Ok(m)
}

/// The same users in a MemTable.
async fn memtable(rows: usize) -> Result<SessionContext> {
    let ctx = SessionContext::new();
    let create = format!("CREATE TABLE users AS {}", users_select(0, rows));
    ctx.sql(&create)
        .await?
        .collect()
        .await
        .context("loading the MemTable")?;
    Ok(ctx)
}
