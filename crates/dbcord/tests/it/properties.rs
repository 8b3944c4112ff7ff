//! Property: for random tables and random conjunctions of predicates, the
//! answer with pushdown = the answer of a full scan = DataFusion's own
//! MemTable's answer, on an emulator whose search lags writes and is as
//! fuzzy as Discord's (case folding, stemming). The test also counts the
//! cases whose pushed query really searched, so that it fails if pushdown
//! silently stops.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use datafusion::arrow::array::{Array, Int64Array};
use datafusion::prelude::SessionContext;
use discord_api::Route;
use discord_emulator::EmulatorConfig;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

use crate::common::Stack;

#[derive(Clone, Debug)]
struct Row {
    a: Option<&'static str>,
    b: Option<i64>,
    c: Option<bool>,
    d: Option<f64>,
}

const TEXTS: [&str; 8] = ["x", "X", "x y", "xs", "ünï", "", "o'k", "admins"];
const FLOATS: [f64; 4] = [0.0, -0.0, 1.5, 2.0];

fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn float(f: f64) -> String {
    format!("{f:?}")
}

fn row() -> impl Strategy<Value = Row> {
    (
        proptest::option::of(proptest::sample::select(TEXTS.to_vec())),
        proptest::option::of(-3i64..3),
        proptest::option::of(any::<bool>()),
        proptest::option::of(proptest::sample::select(FLOATS.to_vec())),
    )
        .prop_map(|(a, b, c, d)| Row { a, b, c, d })
}

/// One predicate, as SQL: equalities and INs (pushed) and others (post-filters).
fn predicate(rows: usize) -> impl Strategy<Value = String> {
    let t = || proptest::sample::select(TEXTS.to_vec());
    prop_oneof![
        t().prop_map(|v| format!("a = {}", text(v))),
        proptest::collection::vec(t(), 1..4).prop_map(|vs| format!(
            "a IN ({})",
            vs.iter().map(|v| text(v)).collect::<Vec<_>>().join(", ")
        )),
        (-3i64..3).prop_map(|v| format!("b = {v}")),
        proptest::collection::vec(-3i64..3, 1..4).prop_map(|vs| format!(
            "b IN ({})",
            vs.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        )),
        any::<bool>().prop_map(|v| format!("c = {v}")),
        proptest::sample::select(FLOATS.to_vec()).prop_map(|v| format!("d = {}", float(v))),
        (0..rows.max(1) as i64).prop_map(|v| format!("id = {v}")),
        (-3i64..3).prop_map(|v| format!("b > {v}")),
        (-3i64..3).prop_map(|v| format!("b <> {v}")),
        Just("a IS NULL".to_string()),
        t().prop_map(|v| format!("(a = {} OR b = 1)", text(v))),
    ]
}

fn values(rows: &[Row], from: usize) -> String {
    let cell = |v: Option<String>| v.unwrap_or_else(|| "NULL".into());
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "({}, {}, {}, {}, {})",
                from + i,
                cell(r.a.map(text)),
                cell(r.b.map(|v| v.to_string())),
                cell(r.c.map(|v| v.to_string())),
                cell(r.d.map(float))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

const CREATE: &str =
    "CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT, b BIGINT, c BOOLEAN, d DOUBLE)";

fn ids(batches: &[datafusion::arrow::array::RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            (0..a.len()).map(|i| a.value(i)).collect::<Vec<_>>()
        })
        .collect()
}

/// Check one case; returns whether the pushed query searched.
async fn check(old: Vec<Row>, new: Vec<Row>, preds: Vec<String>, index: bool) -> bool {
    let config = EmulatorConfig {
        search_lag: Duration::from_secs(20),
        ..EmulatorConfig::in_memory()
    };
    let s = Stack::with_config(config).await;
    let memory = SessionContext::new();
    memory
        .sql(CREATE.replace(" PRIMARY KEY", "").as_str())
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    s.sql(CREATE).await;
    if index {
        s.sql("CREATE INDEX t_a ON t (a)").await;
    }
    for (batch, from) in [(&old, 0), (&new, old.len())] {
        if batch.is_empty() {
            continue;
        }
        let insert = format!("INSERT INTO t VALUES {}", values(batch, from));
        s.sql(&insert).await;
        memory.sql(&insert).await.unwrap().collect().await.unwrap();
        // The old rows become searchable and older than the fresh window
        // (60 s), so only search finds them; the new ones stay inside the lag.
        s.clock
            .advance(Duration::from_secs(if from == 0 { 100 } else { 0 }));
    }
    let query = format!("SELECT id FROM t WHERE {} ORDER BY id", preds.join(" AND "));
    let expected = ids(&memory.sql(&query).await.unwrap().collect().await.unwrap());
    let before = s.counters();
    let pushed = ids(&s.rows(&query).await);
    let searched = s.counters().since(&before).route(Route::Search).requests > 0;
    s.sql("SET dbcord.pushdown = false").await;
    let scanned = ids(&s.rows(&query).await);
    assert_eq!(
        pushed, expected,
        "pushdown differs from MemTable for {query}"
    );
    assert_eq!(
        scanned, expected,
        "full scan differs from MemTable for {query}"
    );
    searched
}

const CASES: u32 = 40;

#[test]
fn pushdown_equals_full_scan_equals_memtable() {
    let config = Config {
        cases: CASES,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let strategy = (
        proptest::collection::vec(row(), 0..30),
        proptest::collection::vec(row(), 0..10),
        proptest::collection::vec(predicate(40), 1..4),
        any::<bool>(),
    );
    let searched = AtomicUsize::new(0);
    TestRunner::new(config)
        .run(&strategy, |(old, new, preds, index)| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            if rt.block_on(check(old, new, preds, index)) {
                searched.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    let searched = searched.load(Ordering::Relaxed);
    assert!(
        searched >= CASES as usize / 4,
        "only {searched} of {CASES} cases searched: pushdown is not being exercised"
    );
}
