//! Pushdown on the log-structured store: key lookups read one batch of one
//! segment, index lookups read the index file then the rows, scans skip the
//! segments whose statistics exclude the filter, and every answer equals the
//! answer with pushdown off.

use discord_api::Route;
use discord_emulator::Counters;

use crate::common::{Stack, table};

const USERS_SQL: &str = include_str!("../../../../sql/users.sql");

/// The users table (2,000 rows, a UNIQUE index on email, an index on role),
/// and a second process that has read nothing of it yet.
async fn users() -> (Stack, Stack) {
    let s = Stack::new().await;
    s.engine().execute(USERS_SQL).await.unwrap();
    let cold = s.another().await;
    (s, cold)
}

/// `big` with 20,000 rows written by one statement: one segment of 16 batches.
async fn big() -> Stack {
    let s = Stack::new().await;
    s.sql("CREATE TABLE big (id BIGINT PRIMARY KEY, tag TEXT, n BIGINT)")
        .await;
    s.sql("INSERT INTO big SELECT value, 'same', value % 97 FROM generate_series(1, 20000) AS g(value)")
        .await;
    s.another().await
}

/// A metric of the Discord scan in `EXPLAIN ANALYZE` output (a plain count).
fn metric(explain: &str, name: &str) -> u64 {
    let at = explain
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name} in\n{explain}"));
    let digits: String = explain[at + name.len() + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// What `sql` cost on the emulator, run by `s`.
async fn cost(s: &Stack, sql: &str) -> (Vec<Vec<String>>, Counters) {
    let before = s.counters();
    let rows = s.values(sql).await;
    (rows, s.counters().since(&before))
}

#[tokio::test]
async fn a_primary_key_lookup_reads_one_batch_of_one_segment() {
    let s = big().await;
    let q = "SELECT tag, n FROM big WHERE id = 12345";
    let explain = s.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(
        explain.contains("strategy=key lookup (1 keys)"),
        "{explain}"
    );
    let cold = s.another().await;
    let (answer, pushed) = cost(&cold, q).await;
    assert_eq!(answer, table(&[&["same", &(12345 % 97).to_string()]]));
    assert_eq!(pushed.cdn_requests(), 1, "one range read: {pushed:?}");
    assert!(pushed.total_requests() <= 3, "{pushed:?}");

    let cold = s.another().await;
    cold.sql("SET dbcord.pushdown = false").await;
    let (same, full) = cost(&cold, q).await;
    assert_eq!(same, answer);
    assert!(
        full.cdn_bytes >= 10 * pushed.cdn_bytes,
        "the lookup read {} bytes, the scan {}",
        pushed.cdn_bytes,
        full.cdn_bytes
    );
}

#[tokio::test]
async fn an_indexed_lookup_of_20_rows_reads_the_index_then_the_rows() {
    let (_, cold) = users().await;
    let q = "SELECT * FROM users WHERE role = 'admin' ORDER BY id";
    let explain = cold.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(
        explain.contains("strategy=index lookup (users_role)"),
        "{explain}"
    );
    assert!(metric(&explain, "cdn_requests") <= 2, "{explain}");
    let rows = cold.values(q).await;
    assert_eq!(rows.len(), 20);
    assert_eq!(rows[0], ["u_00007", "user7@example.com", "admin", "67"]);
    assert!(rows.iter().all(|r| r[2] == "admin"));
}

#[tokio::test]
async fn a_range_skips_the_segments_whose_statistics_exclude_it() {
    let s = Stack::new().await;
    s.sql("SET dbcord.compact_after = 0").await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT)")
        .await;
    for part in 0..3 {
        let (lo, hi) = (part * 1500, part * 1500 + 1499);
        s.sql(&format!(
            "INSERT INTO t SELECT value, value * 2 FROM generate_series({lo}, {hi}) AS g(value)"
        ))
        .await;
    }
    let q = "SELECT count(*) AS c, sum(n) AS s FROM t WHERE id BETWEEN 1600 AND 1700";
    let explain = s.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(
        explain.contains("skip_segments_outside=[id >= 1600, id <= 1700]"),
        "{explain}"
    );
    assert_eq!(metric(&explain, "runs_pruned"), 2, "{explain}");
    assert_eq!(metric(&explain, "runs_read"), 1, "{explain}");
    let sum: i64 = (1600..=1700).map(|v| v * 2).sum();
    assert_eq!(s.values(q).await, table(&[&["101", &sum.to_string()]]));
    s.sql("SET dbcord.pushdown = false").await;
    assert_eq!(s.values(q).await, table(&[&["101", &sum.to_string()]]));
}

#[tokio::test]
async fn explain_shows_the_lookup_and_every_filter_the_scan_rechecks() {
    let (s, _) = users().await;
    let q = "SELECT * FROM users WHERE role = 'admin' AND age > 50";
    let explain = s.text(&format!("EXPLAIN {q}")).await;
    assert!(explain.contains("lookup=[role = 'admin']"), "{explain}");
    assert!(explain.contains("age > Int64(50)"), "{explain}");
    assert!(
        !explain.contains("FilterExec"),
        "the scan re-checks its filters itself:\n{explain}"
    );
    let rows: usize = s.rows(q).await.iter().map(|b| b.num_rows()).sum();
    let expected = (0..2000)
        .filter(|v| v % 100 == 7 && 18 + (v * 7) % 60 > 50)
        .count();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn a_duplicate_email_is_refused_and_nothing_is_written() {
    let (s, _) = users().await;
    let before = s.counters();
    let e = s
        .sql_err("INSERT INTO users VALUES ('u_x', 'user42@example.com', 'viewer', 20)")
        .await;
    assert!(
        e.contains("users_email") && e.contains("user42@example.com"),
        "{e}"
    );
    assert_eq!(
        s.counters()
            .since(&before)
            .route(Route::CreateMessage)
            .requests,
        0
    );
    s.sql("INSERT INTO users VALUES ('u_y', 'fresh@example.com', 'viewer', 20)")
        .await;
    let e = s
        .sql_err("INSERT INTO users VALUES ('u_z', 'fresh@example.com', 'viewer', 21)")
        .await;
    assert!(e.contains("fresh@example.com"), "{e}");
    let e = s
        .sql_err("INSERT INTO users VALUES ('u_y', 'other@example.com', 'viewer', 22)")
        .await;
    assert!(e.contains("primary key") && e.contains("u_y"), "{e}");
    let e = s
        .sql_err("INSERT INTO users VALUES ('a1', 'same@x', 'v', 1), ('a2', 'same@x', 'v', 2)")
        .await;
    assert!(e.contains("same@x"), "{e}");
    assert_eq!(s.value("SELECT count(*) AS n FROM users").await, "2001");
}

#[tokio::test]
async fn a_query_matching_20000_rows_returns_all_of_them() {
    let s = big().await;
    assert_eq!(
        s.values("SELECT count(*) AS n, count(DISTINCT id) AS d FROM big WHERE tag = 'same'")
            .await,
        table(&[&["20000", "20000"]])
    );
}

#[tokio::test]
async fn dropping_an_index_moves_lookups_back_to_a_scan() {
    let (s, _) = users().await;
    let q = "SELECT id FROM users WHERE email = 'user5@example.com'";
    // The index is taken, or weighed against the scan and its predicted
    // bytes named (a 2,000-row table's one segment can read less).
    let explain = s.text(&format!("EXPLAIN {q}")).await;
    assert!(
        explain.contains("strategy=index lookup (users_email)")
            || explain.contains("note=index lookup (users_email) predicted to read"),
        "{explain}"
    );
    s.sql("DROP INDEX users_email").await;
    let explain = s.text(&format!("EXPLAIN {q}")).await;
    assert!(explain.contains("strategy=scan"), "{explain}");
    assert!(!explain.contains("users_email"), "{explain}");
    assert_eq!(s.value(q).await, "u_00005");
}

#[tokio::test]
async fn hidden_object_ids_appear_when_named_and_find_their_rows() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    s.sql("INSERT INTO t VALUES ('a', 1)").await;
    s.sql("INSERT INTO t VALUES ('b', 2)").await;
    let star = s.values("SELECT * FROM t ORDER BY id").await;
    assert_eq!(star, table(&[&["a", "1"], &["b", "2"]]), "hidden from *");
    let def = s.engine().store().table("main", "t").unwrap();
    let ids = s
        .values("SELECT id, _message_id, _channel_id FROM t ORDER BY id")
        .await;
    assert_eq!(ids[1][2], def.channel_id.to_string());
    assert_ne!(ids[0][1], ids[1][1], "one commit message per statement");
    let q = format!("SELECT n FROM t WHERE _message_id = {}", ids[1][1]);
    let explain = s.text(&format!("EXPLAIN {q}")).await;
    assert!(explain.contains("strategy=message lookup"), "{explain}");
    assert_eq!(s.value(&q).await, "2");
    assert!(
        s.values("SELECT n FROM t WHERE _message_id = 12345")
            .await
            .is_empty(),
        "no such message, no row"
    );
    let e = s
        .sql_err("INSERT INTO t (id, n, _message_id) VALUES ('c', 3, 1)")
        .await;
    assert!(e.contains("given by Discord"), "{e}");
}

/// `.timing`'s "a full scan reads N bytes in K CDN reads" is what a run
/// with pushdown off really reads, on a table of many segments.
#[tokio::test]
async fn the_full_scan_figure_of_timing_is_what_a_pushdown_off_run_reads() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    s.sql("SET dbcord.segment_bytes = 4096").await;
    s.sql("SET dbcord.batch_rows = 100").await;
    s.sql("INSERT INTO t SELECT value, 'v' || CAST(value * 7919 AS VARCHAR) FROM generate_series(1, 4000) AS g(value)")
        .await;
    s.sql("VACUUM t").await;
    let query = "SELECT count(*) FROM t WHERE id BETWEEN 100 AND 200";
    let reader = s.another().await;
    let store = reader.engine().store();
    let mark = store.scan_mark();
    assert_eq!(reader.value(query).await, "101");
    let note = store.scans_since(mark).pop().expect("the scan was noted");
    assert!(
        note.stats.cdn_bytes * 4 < note.full_bytes,
        "pushdown read a small part: {note:?}"
    );
    // A process that has read the log (a count from statistics reads no
    // data batch) runs the same query with pushdown off.
    let off = s.another().await;
    assert_eq!(off.value("SELECT count(*) FROM t").await, "4000");
    off.sql("SET dbcord.pushdown = false").await;
    let before = off.counters();
    assert_eq!(off.value(query).await, "101");
    let spent = off.counters().since(&before);
    assert!(note.full_reads > 1, "{note:?}");
    assert_eq!(
        (note.full_reads, note.full_bytes),
        (spent.cdn_requests(), spent.cdn_bytes),
        "the figure .timing gives against the reads of a full scan"
    );
}
