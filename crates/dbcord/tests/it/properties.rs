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
use proptest::strategy::ValueTree;
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

/// A row; with a composite key (`a`, `id`), `a` is never NULL.
fn row(composite: bool) -> impl Strategy<Value = Row> {
    let a = proptest::sample::select(TEXTS.to_vec());
    let a = if composite {
        a.prop_map(Some).boxed()
    } else {
        proptest::option::of(a).boxed()
    };
    (
        a,
        proptest::option::of(-3i64..3),
        proptest::option::of(any::<bool>()),
        proptest::option::of(proptest::sample::select(FLOATS.to_vec())),
    )
        .prop_map(|(a, b, c, d)| Row { a, b, c, d })
}

/// One predicate, as SQL: equalities and INs (pushed), conjunctions that
/// name a whole key, and others (post-filters).
fn predicate(rows: usize) -> impl Strategy<Value = String> {
    let t = || proptest::sample::select(TEXTS.to_vec());
    let id = move || 0..rows.max(1) as i64;
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
        id().prop_map(|v| format!("id = {v}")),
        (id(), t()).prop_map(|(v, a)| format!("id = {v} AND a = {}", text(a))),
        (id(), t(), -3i64..3).prop_map(|(v, a, b)| format!(
            "a = {} AND b = {b} AND id IN ({v}, {})",
            text(a),
            v + 1
        )),
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

/// The table, keyed by `id` or by (`a`, `id`).
fn create(composite: bool) -> &'static str {
    if composite {
        "CREATE TABLE t (id BIGINT, a TEXT, b BIGINT, c BOOLEAN, d DOUBLE, PRIMARY KEY (a, id))"
    } else {
        "CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT, b BIGINT, c BOOLEAN, d DOUBLE)"
    }
}

const MEMTABLE: &str = "CREATE TABLE t (id BIGINT, a TEXT, b BIGINT, c BOOLEAN, d DOUBLE)";

fn ids(batches: &[datafusion::arrow::array::RecordBatch]) -> Vec<i64> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            (0..a.len()).map(|i| a.value(i)).collect::<Vec<_>>()
        })
        .collect()
}

/// A dbcord table and a MemTable holding the same rows: `old` written long
/// ago (only search finds them), `new` just now (search lags them).
struct Pair {
    stack: Stack,
    memory: SessionContext,
}

impl Pair {
    async fn load(old: &[Row], new: &[Row], composite: bool, index: bool) -> Pair {
        let config = EmulatorConfig::in_memory_with_lag(Duration::from_secs(20));
        let stack = Stack::with_config(config).await;
        let memory = SessionContext::new();
        memory.sql(MEMTABLE).await.unwrap().collect().await.unwrap();
        stack.sql(create(composite)).await;
        if index {
            stack.sql("CREATE INDEX t_b ON t (b)").await;
        }
        for (batch, from) in [(old, 0), (new, old.len())] {
            if batch.is_empty() {
                continue;
            }
            let insert = format!("INSERT INTO t VALUES {}", values(batch, from));
            stack.sql(&insert).await;
            memory.sql(&insert).await.unwrap().collect().await.unwrap();
            // The old rows become searchable and older than the fresh window,
            // so only search finds them; the new ones stay inside the lag.
            if from == 0 {
                stack.clock.advance(Duration::from_secs(400));
            }
        }
        Pair { stack, memory }
    }

    /// Run `preds` with pushdown, without, and on the MemTable; panics on
    /// a disagreement; returns whether the pushed query searched.
    async fn check(&self, preds: &[String]) -> bool {
        let s = &self.stack;
        let query = format!("SELECT id FROM t WHERE {} ORDER BY id", preds.join(" AND "));
        let expected = ids(&self
            .memory
            .sql(&query)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap());
        s.sql("SET dbcord.pushdown = true").await;
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
}

const CASES: u32 = 200;

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
    let strategy = any::<bool>().prop_flat_map(|composite| {
        (
            proptest::collection::vec(row(composite), 0..30),
            proptest::collection::vec(row(composite), 0..10),
            proptest::collection::vec(predicate(40), 1..4),
            Just(composite),
            any::<bool>(),
        )
    });
    let searched = AtomicUsize::new(0);
    TestRunner::new(config)
        .run(&strategy, |(old, new, preds, composite, index)| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let pair = rt.block_on(Pair::load(&old, &new, composite, index));
            if rt.block_on(pair.check(&preds)) {
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

/// 2,000 random queries on one table with a composite key and an index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_random_queries_agree_with_pushdown_on_and_off_and_a_memtable() {
    let mut runner = TestRunner::deterministic();
    let old = proptest::collection::vec(row(true), 250)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let new = proptest::collection::vec(row(true), 50)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let pair = Pair::load(&old, &new, true, true).await;
    let queries = proptest::collection::vec(predicate(300), 1..4);
    let mut searched = 0;
    for _ in 0..2_000 {
        let preds = queries.new_tree(&mut runner).unwrap().current();
        if pair.check(&preds).await {
            searched += 1;
        }
    }
    assert!(searched > 500, "only {searched} of 2,000 queries searched");
}
