//! Regression tests, each named after a defect found by review or audit;
//! each failed before its fix.

use std::time::Duration;

use crate::common::{Stack, table};

#[tokio::test]
async fn explain_of_a_hidden_column_does_not_panic() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    let plan = s.text("EXPLAIN SELECT _message_id FROM t").await;
    assert!(plan.contains("projection=[_message_id]"), "{plan}");
    let plan = s
        .text("EXPLAIN SELECT n, _channel_id FROM t WHERE id = 'a'")
        .await;
    assert!(plan.contains("projection=[n, _channel_id]"), "{plan}");
}

#[tokio::test]
async fn hidden_columns_are_not_switched_on_by_a_string_or_a_longer_name() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE m (id TEXT PRIMARY KEY, note TEXT)")
        .await;
    s.sql("INSERT INTO m VALUES ('x', 'see _message_id docs')")
        .await;
    assert_eq!(
        s.values("SELECT * FROM m WHERE note <> '_channel_id'")
            .await,
        table(&[&["x", "see _message_id docs"]])
    );
    s.sql("CREATE TABLE w (id TEXT PRIMARY KEY, last_message_id BIGINT)")
        .await;
    s.sql("INSERT INTO w VALUES ('a', 7)").await;
    assert_eq!(
        s.values("SELECT * FROM w").await,
        table(&[&["a", "7"]]),
        "SELECT * does not grow two columns"
    );
    let named = s.values("SELECT id, _message_id FROM w").await;
    assert_eq!(named[0].len(), 2, "naming one shows it: {named:?}");
}

/// Doubles of every magnitude, repeatably (random bit patterns).
fn doubles(n: usize) -> Vec<f64> {
    let mut rng = discord_api::SeededRng::new(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::new();
    while out.len() < n {
        let f = f64::from_bits(rng.next_u64());
        if f.is_finite() && f != 0.0 {
            out.push(f);
        }
    }
    out
}

#[tokio::test]
async fn doubles_read_back_exactly_and_are_found_by_their_displayed_value() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE d (id DOUBLE PRIMARY KEY, r REAL)")
        .await;
    let values = doubles(300);
    let rows: Vec<String> = values
        .iter()
        .map(|f| format!("({f:?}, CAST({f:?} AS REAL))"))
        .collect();
    s.sql(&format!("INSERT INTO d VALUES {}", rows.join(", ")))
        .await;
    s.clock.advance(Duration::from_secs(120));
    let back = s.rows("SELECT id, r FROM d").await;
    let mut read = Vec::new();
    for b in &back {
        let ids = b
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Float64Array>()
            .unwrap();
        read.extend(ids.values().iter().copied());
    }
    // Compared as sets of bit patterns: rows come back in key order.
    let bits = |v: &[f64]| {
        let mut b: Vec<u64> = v.iter().map(|f| f.to_bits()).collect();
        b.sort_unstable();
        b
    };
    assert_eq!(
        bits(&read),
        bits(&values),
        "every double reads back exactly"
    );
    let shown = s.values("SELECT id FROM d").await;
    for row in shown.iter().step_by(15) {
        let q = format!("SELECT count(*) FROM d WHERE id = {}", row[0]);
        assert_eq!(s.value(&q).await, "1", "{q} finds its row by key");
    }
}

#[tokio::test]
async fn the_same_double_key_cannot_be_inserted_twice() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE d (id DOUBLE PRIMARY KEY)").await;
    let values = doubles(40);
    for f in &values {
        s.sql(&format!("INSERT INTO d VALUES ({f:?})")).await;
    }
    s.clock.advance(Duration::from_secs(120));
    for f in values.iter().step_by(7) {
        let e = s.sql_err(&format!("INSERT INTO d VALUES ({f:?})")).await;
        assert!(e.contains("duplicate key"), "{f:?}: {e}");
    }
    assert_eq!(s.value("SELECT count(*) FROM d").await, "40");
}

#[tokio::test]
async fn null_into_a_not_null_column_names_the_column() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT NOT NULL, note TEXT)")
        .await;
    let e = s.sql_err("INSERT INTO t VALUES (NULL, 'a', 'b')").await;
    assert_eq!(
        e,
        "row 1: column \"id\" of main.t may not be NULL; nothing was written"
    );
    let e = s
        .sql_err("INSERT INTO t VALUES ('k1', 'a', NULL), ('k2', NULL, 'b')")
        .await;
    assert_eq!(
        e,
        "row 2: column \"name\" of main.t may not be NULL; nothing was written"
    );
    assert_eq!(s.value("SELECT count(*) FROM t").await, "0");
}

#[tokio::test]
async fn composite_keys_with_nul_in_a_value_stay_distinct() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE k (a TEXT, b TEXT, PRIMARY KEY (a, b))")
        .await;
    // Joined with a NUL separator, ('x\0s:y', 'z') and ('x', 'y\0s:z') read
    // the same: s:x\0s:y\0s:z.
    s.sql("INSERT INTO k VALUES ('x' || chr(0) || 's:y', 'z'), ('x', 'y' || chr(0) || 's:z')")
        .await;
    assert_eq!(s.value("SELECT count(*) FROM k").await, "2");
    let e = s
        .sql_err("INSERT INTO k VALUES ('x', 'y' || chr(0) || 's:z')")
        .await;
    assert!(e.contains("duplicate key"), "{e}");
}
