//! The scenarios, on a users table of realistic entropy (see `data`): the
//! two ways to load it, VACUUM, the reads (each by a process that has
//! cached nothing, with pushdown on and off), 100 one-row commits and the
//! compaction they bring, and last the same reads on a DataFusion MemTable
//! (last, so that its rows held in memory do not count in dbcord's peaks).

use std::time::Instant;

use anyhow::{Context, Result, ensure};
use datafusion::prelude::SessionContext;

use super::data::{self, COMMON_ROLE, RARE_ROLE, SCHEMA};
use super::measure::{Bench, Cost, Measured, answer_of, digest, rows_of};
use crate::store::{Access, DEFAULT_DATABASE};

/// Rows of each statement of the load in many statements.
const LOAD_STATEMENT_ROWS: usize = 100_000;

/// Runs of each query whose best engine time is reported.
const ENGINE_RUNS: usize = 3;

/// One-row commits before the compaction they bring (the default
/// `compact_after`).
const SMALL_COMMITS: usize = 100;

/// Every scenario at `rows` rows.
pub async fn run(rows: usize) -> Result<Vec<Measured>> {
    ensure!(rows >= 10_000, "--rows must be at least 10000");
    // The one-statement load has a guild of its own, dropped before the
    // rest so that its stored attachments do not weigh on their memory.
    let mut out = vec![load_in_one_statement(rows).await?];
    let bench = Bench::new().await?;
    out.extend(load_in_statements(&bench, rows).await?);
    // The table is one run already: VACUUM archives the replaced commits'
    // versions into the history thread and deletes them.
    let (cost, _) = bench
        .measure(&bench.session, &sql(&["VACUUM users"]))
        .await?;
    let bytes = table_bytes(&bench);
    out.push(measured(
        rows,
        "VACUUM (history archived, replaced commits deleted)",
        cost,
        "every version once more, as JSON lines in the history thread".into(),
        "-",
    ));
    let mut queries = Vec::new();
    for q in reads(rows, bytes) {
        out.push(query(&bench, rows, &q, true).await?);
        if q.pushdown_matters {
            out.push(query(&bench, rows, &q, false).await?);
        }
        queries.push(q);
    }
    out.extend(small_commits(&bench, rows).await?);
    engine_times(&mut out, &queries, rows).await?;
    Ok(out)
}

fn sql(statements: &[&str]) -> Vec<String> {
    statements.iter().map(|s| s.to_string()).collect()
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
        answer: None,
    }
}

/// Compressed bytes of the table's data segments, as the manifest lists them.
fn table_bytes(bench: &Bench) -> u64 {
    let store = bench.session.engine.store();
    let def = store
        .table(DEFAULT_DATABASE, "users")
        .expect("the bench made it");
    store.predict(&def, &Access::Scan(Vec::new())).full_bytes
}

fn insert(from: usize, to: usize) -> String {
    format!("INSERT INTO users SELECT * FROM bench_users({from}, {to})")
}

async fn load_in_one_statement(rows: usize) -> Result<Measured> {
    let bench = Bench::new().await?;
    bench.measure(&bench.session, &sql(&SCHEMA)).await?;
    let (cost, _) = bench.measure(&bench.session, &[insert(0, rows)]).await?;
    let lower = format!(
        "{} segment messages of 24 MiB, 1 commit",
        (cost.uploaded_bytes as f64 / (24.0 * 1024.0 * 1024.0)).ceil()
    );
    Ok(measured(
        rows,
        "load in one INSERT ... SELECT",
        cost,
        lower,
        "one statement, all or nothing",
    ))
}

/// The load in statements of [`LOAD_STATEMENT_ROWS`]; the last one brings
/// the compaction of them all (`compact_after` is their number), measured
/// on its own.
async fn load_in_statements(bench: &Bench, rows: usize) -> Result<Vec<Measured>> {
    bench.measure(&bench.session, &sql(&SCHEMA)).await?;
    let step = LOAD_STATEMENT_ROWS.min(rows / 10);
    let mut statements: Vec<String> = (0..rows)
        .step_by(step)
        .map(|from| insert(from, (from + step).min(rows)))
        .collect();
    let n = statements.len();
    bench
        .session
        .engine
        .execute(&format!("SET dbcord.compact_after = {n}"))
        .await?;
    let last = statements.pop().expect("at least ten statements");
    let (load, _) = bench.measure(&bench.session, &statements).await?;
    let (compaction, _) = bench.measure(&bench.session, &[last]).await?;
    Ok(vec![
        measured(
            rows,
            &format!("load in {} INSERTs of {step} rows", n - 1),
            load,
            format!("{} commits and their segments", n - 1),
            "-",
        ),
        measured(
            rows,
            &format!("INSERT {n} and the compaction of all {rows} rows it brings"),
            compaction,
            "the table and its index written once more".into(),
            "peak memory under 1 GiB",
        ),
    ])
}

/// A read measured by the bench.
struct Read {
    scenario: String,
    sql: String,
    lower: String,
    goal: String,
    /// Whether pushdown changes the plan (then it is measured off too).
    pushdown_matters: bool,
}

fn read(scenario: &str, sql: String, lower: &str, goal: &str, pushdown_matters: bool) -> Read {
    Read {
        scenario: scenario.into(),
        sql,
        lower: lower.into(),
        goal: goal.into(),
        pushdown_matters,
    }
}

fn reads(rows: usize, table_bytes: u64) -> Vec<Read> {
    let mid = rows / 2;
    let (lo, hi) = (mid, mid + rows / 100 - 1);
    vec![
        read(
            "count(*)",
            "SELECT count(*) FROM users".into(),
            "1 catalog request, 1 history page; the manifest; no data batch",
            "at most 3 API requests, no data batch",
            true,
        ),
        read(
            "primary-key lookup",
            format!("SELECT * FROM users WHERE id = {}", mid + 1),
            "the history page, the segment's message, 1 range read",
            "at most 3 API requests and 2 CDN range reads",
            true,
        ),
        read(
            "indexed equality, 0.01% of rows",
            format!("SELECT * FROM users WHERE role = '{RARE_ROLE}'"),
            "the index's batches holding the value",
            "at most 5 API requests",
            true,
        ),
        read(
            "indexed equality, 1% of rows",
            format!("SELECT * FROM users WHERE role = '{COMMON_ROLE}'"),
            "the index's batches holding the value",
            "fewer CDN bytes than the full scan",
            true,
        ),
        read(
            "1% key range",
            format!("SELECT * FROM users WHERE id BETWEEN {lo} AND {hi}"),
            "the batches of 1% of the keys",
            "-",
            true,
        ),
        read(
            "full scan of every column",
            "SELECT count(*), sum(age), max(email), max(name), max(role), max(bio) FROM users"
                .into(),
            &format!("the table's {table_bytes} compressed bytes"),
            &format!("at most {} bytes (1.1x)", table_bytes + table_bytes / 10),
            false,
        ),
    ]
}

/// A cold read (a process that has cached nothing), then warm reads (its
/// batches cached, as far as the cache holds them) for the engine time.
async fn query(bench: &Bench, rows: usize, q: &Read, pushdown: bool) -> Result<Measured> {
    let cold = bench.cold().await?;
    let mut scenario = q.scenario.clone();
    if !pushdown {
        cold.engine.execute("SET dbcord.pushdown = false").await?;
        scenario.push_str(" (pushdown off)");
    }
    let (cost, out) = bench.measure(&cold, std::slice::from_ref(&q.sql)).await?;
    let mut warm_ms = f64::MAX;
    for _ in 0..ENGINE_RUNS {
        let (warm, again) = bench.measure(&cold, std::slice::from_ref(&q.sql)).await?;
        ensure!(
            rows_of(&again) == rows_of(&out),
            "{scenario}: a warm read differs"
        );
        warm_ms = warm_ms.min(warm.local_ms);
    }
    let mut m = measured(rows, &scenario, cost, q.lower.clone(), &q.goal);
    m.warm_ms = Some(warm_ms);
    m.answer = Some(answer_of(&out)?);
    Ok(m)
}

/// 100 one-row INSERTs (new users), the last of which brings the
/// compaction that folds them; then a statement of each kind after it,
/// which must not read or write the whole table again.
async fn small_commits(bench: &Bench, rows: usize) -> Result<Vec<Measured>> {
    let writer = bench.cold().await?;
    let one = |i: usize| insert(rows + i, rows + i + 1);
    let first: Vec<String> = (0..SMALL_COMMITS - 1).map(one).collect();
    let (commits, _) = bench.measure(&writer, &first).await?;
    let (last, _) = bench.measure(&writer, &[one(SMALL_COMMITS - 1)]).await?;
    // The commits' own bytes: the 99 measured, and the 100th as their mean.
    let posted = |c: &Cost| (c.uploaded_bytes + c.content_bytes) as f64;
    let per_commit = posted(&commits) / (SMALL_COMMITS - 1) as f64;
    let committed = per_commit * SMALL_COMMITS as f64;
    let compaction = (posted(&last) - per_commit).max(0.0);
    let mut out = vec![
        measured(
            rows,
            &format!("{} one-row INSERTs", SMALL_COMMITS - 1),
            commits,
            format!("1 create each, {per_commit:.0} bytes each"),
            "-",
        ),
        measured(
            rows,
            "the 100th one-row INSERT and the compaction it brings",
            last,
            format!(
                "write amplification {:.1}x ({compaction:.0} bytes compacted for \
                 {committed:.0} committed)",
                compaction / committed.max(1.0)
            ),
            "at most 30x",
        ),
    ];
    let after = [
        ("one-row INSERT after the compaction", one(SMALL_COMMITS)),
        (
            "primary-key lookup after the compaction",
            format!("SELECT * FROM users WHERE id = {}", rows + 7),
        ),
    ];
    for (scenario, statement) in after {
        let (cost, _) = bench.measure(&writer, &[statement]).await?;
        out.push(measured(
            rows,
            scenario,
            cost,
            "a few requests".into(),
            "no whole-table read or upload",
        ));
    }
    Ok(out)
}

/// The reads' engine time on a MemTable of the same rows, set beside
/// dbcord's warm time; the two engines must agree on the rows.
async fn engine_times(out: &mut [Measured], queries: &[Read], rows: usize) -> Result<()> {
    let ctx = SessionContext::new();
    ctx.register_udtf("bench_users", std::sync::Arc::new(data::UsersFunction));
    let create = format!("CREATE TABLE users AS SELECT * FROM bench_users(0, {rows})");
    ctx.sql(&create)
        .await?
        .collect()
        .await
        .context("loading the MemTable")?;
    for q in queries {
        let mut best = f64::MAX;
        let mut answer = 0;
        for _ in 0..ENGINE_RUNS {
            let start = Instant::now();
            let theirs = ctx.sql(&q.sql).await?.collect().await?;
            best = best.min(start.elapsed().as_secs_f64() * 1e3);
            answer = digest(&theirs)?;
        }
        for m in out
            .iter_mut()
            .filter(|m| m.scenario.starts_with(&q.scenario) && m.warm_ms.is_some())
        {
            m.memtable_ms = Some(best);
            ensure!(
                m.answer == Some(answer),
                "{}: dbcord and the MemTable disagree",
                m.scenario
            );
        }
    }
    Ok(())
}
