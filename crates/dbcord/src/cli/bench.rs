//! `dbcord bench`: what pushdown saves against a full scan, counted as
//! Discord counts it (requests and rate-limit waiting) on an in-memory
//! emulator with virtual time, next to the engine's own wall-clock time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use discord_api::{ManualClock, RateLimitPolicy};
use discord_emulator::EmulatorConfig;

use crate::session::Session;

/// The queries measured, each with pushdown on and off.
const QUERIES: [(&str, &str); 5] = [
    ("primary key", "SELECT * FROM users WHERE id = 'u_01234'"),
    (
        "unique index",
        "SELECT * FROM users WHERE email = 'user77@example.com'",
    ),
    ("index, 1%", "SELECT * FROM users WHERE role = 'admin'"),
    (
        "token, no index",
        "SELECT count(*) FROM users WHERE age = 42",
    ),
    (
        "range",
        "SELECT count(*) FROM users WHERE age BETWEEN 30 AND 40",
    ),
];

/// One measurement.
pub struct Measure {
    pub requests: u64,
    pub waited: Duration,
    pub wall: Duration,
    pub rows: usize,
}

/// Load a users table of `rows` rows and measure every query both ways.
pub async fn run(rows: usize) -> Result<String> {
    let clock = Arc::new(ManualClock::fixed());
    let config = EmulatorConfig::default();
    let session = Session::embedded(config, clock.clone(), RateLimitPolicy::default()).await?;
    let emulator = session.emulator().expect("an embedded session");
    let load = Instant::now();
    session
        .engine
        .execute(&users_sql(rows))
        .await
        .context("loading the users table")?;
    let load_wall = load.elapsed();
    let load_requests = emulator.counters().total_requests();
    clock.advance(Duration::from_secs(120)); // let search index the load
    let mut out = format!(
        "users: {rows} rows, UNIQUE index on email, index on role; loading took {load_requests} \
         requests, {:.0} s of rate-limit waiting on Discord, {:.2} s here\n\n",
        session.wait_stats().waited.as_secs_f64(),
        load_wall.as_secs_f64()
    );
    out.push_str("| query | pushdown: requests | wait (s) | full scan: requests | wait (s) | rows | engine ms (on/off) |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    for (name, sql) in QUERIES {
        let on = measure(&session, sql, true).await?;
        let off = measure(&session, sql, false).await?;
        anyhow::ensure!(on.rows == off.rows, "{name}: pushdown changed the answer");
        out.push_str(&format!(
            "| {name} | {} | {:.1} | {} | {:.1} | {} | {:.1} / {:.1} |\n",
            on.requests,
            on.waited.as_secs_f64(),
            off.requests,
            off.waited.as_secs_f64(),
            on.rows,
            on.wall.as_secs_f64() * 1e3,
            off.wall.as_secs_f64() * 1e3
        ));
    }
    Ok(out)
}

async fn measure(session: &Session, sql: &str, pushdown: bool) -> Result<Measure> {
    let engine = &session.engine;
    let emulator = session.emulator().expect("an embedded session");
    engine
        .execute(&format!("SET dbcord.pushdown = {pushdown}"))
        .await?;
    let before = emulator.counters();
    let waited = session.wait_stats().waited;
    let start = Instant::now();
    let outcomes = engine.execute(sql).await?;
    let wall = start.elapsed();
    let rows = match outcomes.last() {
        Some(crate::sql::Outcome::Rows { batches, .. }) => {
            batches.iter().map(|b| b.num_rows()).sum()
        }
        _ => 0,
    };
    Ok(Measure {
        requests: emulator.counters().since(&before).total_requests(),
        waited: session.wait_stats().waited - waited,
        wall,
        rows,
    })
}

/// `sql/users.sql`, with the number of rows as given.
fn users_sql(rows: usize) -> String {
    include_str!("../../../../sql/users.sql").replace(
        "generate_series(0, 1999)",
        &format!("generate_series(0, {})", rows.max(1) - 1),
    )
}
