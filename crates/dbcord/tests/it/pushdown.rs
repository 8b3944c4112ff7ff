//! Issue 3's acceptance: search pushdown and secondary indexes on a
//! 2,000-row users table made by `sql/users.sql`.

use std::time::Duration;

use discord_api::Route;
use discord_emulator::EmulatorConfig;

use crate::common::{Stack, table};

const USERS_SQL: &str = include_str!("../../../../sql/users.sql");

/// The users table on an emulator whose search lags writes by `lag`, some
/// minutes after the load, on a guild that has been searched before (the
/// first search of a guild answers 202).
async fn users(lag: Duration) -> Stack {
    let s = Stack::with_config(EmulatorConfig::in_memory_with_lag(lag)).await;
    s.engine().execute(USERS_SQL).await.unwrap();
    s.clock.advance(Duration::from_secs(300));
    s.sql("SELECT count(*) FROM users WHERE id = 'warm-up'")
        .await;
    s
}

/// What a search lookup costs at best: one page of hits, two empty pages to
/// prove the end (Discord may send one empty page while hits remain), one
/// page of recent history; and one more page if search sends a spurious
/// empty or short page, as the strict emulator sometimes does.
const LOOKUP_REQUESTS: u64 = 5;

/// A metric of the Discord scan in `EXPLAIN ANALYZE` output.
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

#[tokio::test]
async fn a_primary_key_lookup_costs_at_most_5_requests_and_at_least_20_without_pushdown() {
    let s = users(Duration::from_secs(5)).await;
    let q = "SELECT * FROM users WHERE id = 'u_01234'";
    let pushed = s.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(pushed.contains("strategy=primary key search"), "{pushed}");
    assert!(
        metric(&pushed, "discord_requests") <= LOOKUP_REQUESTS,
        "{pushed}"
    );
    let answer = s.values(q).await;
    assert_eq!(
        answer,
        table(&[&["u_01234", "user1234@example.com", "viewer", "76"]])
    );
    s.sql("SET dbcord.pushdown = false").await;
    let full = s.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(full.contains("strategy=full history scan"), "{full}");
    assert!(metric(&full, "discord_requests") >= 20, "{full}");
    assert_eq!(s.values(q).await, answer);
}

#[tokio::test]
async fn an_indexed_lookup_of_20_rows_costs_at_most_5_requests() {
    let s = users(Duration::from_secs(5)).await;
    let q = "SELECT * FROM users WHERE role = 'admin'";
    let explain = s.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(
        explain.contains("strategy=index search (users_role"),
        "{explain}"
    );
    assert!(
        metric(&explain, "discord_requests") <= LOOKUP_REQUESTS,
        "{explain}"
    );
    let before = s.counters();
    let rows: usize = s.rows(q).await.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 20);
    assert!(s.counters().since(&before).total_requests() <= LOOKUP_REQUESTS);
}

#[tokio::test]
async fn a_range_is_a_full_scan_of_20_pages_with_exactly_the_right_rows() {
    let s = users(Duration::from_secs(5)).await;
    let q = "SELECT count(*) AS n FROM users WHERE age BETWEEN 30 AND 40";
    let explain = s.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(explain.contains("strategy=full history scan"), "{explain}");
    // 20 pages of 100 rows, and the empty page that proves the end.
    assert_eq!(metric(&explain, "history_requests"), 21, "{explain}");
    assert_eq!(metric(&explain, "search_requests"), 0, "{explain}");
    let expected = (0..2000)
        .filter(|v| (30..=40).contains(&(18 + (v * 7) % 60)))
        .count();
    assert_eq!(s.value(q).await, expected.to_string());
}

#[tokio::test]
async fn explain_shows_the_pushed_equality_and_the_range_post_filter() {
    let s = users(Duration::from_secs(5)).await;
    let explain = s
        .text("EXPLAIN SELECT * FROM users WHERE role = 'admin' AND age > 50")
        .await;
    assert!(explain.contains("search=[role = 'admin']"), "{explain}");
    assert!(
        explain.contains("post_filters=[age > Int64(50)]"),
        "{explain}"
    );
    assert!(
        !explain.contains("FilterExec"),
        "the scan re-checks its filters itself:\n{explain}"
    );
    let rows: usize = s
        .rows("SELECT * FROM users WHERE role = 'admin' AND age > 50")
        .await
        .iter()
        .map(|b| b.num_rows())
        .sum();
    let expected = (0..2000)
        .filter(|v| v % 100 == 7 && 18 + (v * 7) % 60 > 50)
        .count();
    assert_eq!(rows, expected);
}

#[tokio::test]
async fn fresh_mode_reads_its_own_writes_through_a_30s_search_lag() {
    let s = users(Duration::from_secs(30)).await;
    s.sql("INSERT INTO users VALUES ('u_new', 'new@example.com', 'admin', 33)")
        .await;
    let by_key = "SELECT email FROM users WHERE id = 'u_new'";
    assert_eq!(
        s.values(by_key).await,
        table(&[&["new@example.com"]]),
        "fresh mode must see the new row"
    );
    let admins = s.values("SELECT id FROM users WHERE role = 'admin'").await;
    assert_eq!(admins.len(), 21);
    assert!(admins.contains(&vec!["u_new".to_string()]), "{admins:?}");
    s.sql("SET dbcord.consistency = 'eventual'").await;
    let explain = s.text(&format!("EXPLAIN {by_key}")).await;
    assert!(explain.contains("may miss recent writes"), "{explain}");
    assert!(
        s.values(by_key).await.is_empty(),
        "search alone has not indexed it yet"
    );
    s.clock.advance(Duration::from_secs(31));
    assert_eq!(s.values(by_key).await, table(&[&["new@example.com"]]));
}

#[tokio::test]
async fn a_duplicate_email_is_refused_and_nothing_is_written() {
    let s = users(Duration::from_secs(30)).await;
    let before = s.counters();
    let e = s
        .sql_err("INSERT INTO users VALUES ('u_x', 'user42@example.com', 'viewer', 20)")
        .await;
    assert!(
        e.contains("duplicate key")
            && e.contains("users_email")
            && e.contains("user42@example.com"),
        "{e}"
    );
    assert!(e.contains("nothing was written"), "{e}");
    assert_eq!(
        s.counters()
            .since(&before)
            .route(Route::CreateMessage)
            .requests,
        0
    );
    // A row inserted a moment ago, not yet searchable, is also a duplicate.
    s.sql("INSERT INTO users VALUES ('u_y', 'fresh@example.com', 'viewer', 20)")
        .await;
    let e = s
        .sql_err("INSERT INTO users VALUES ('u_z', 'fresh@example.com', 'viewer', 21)")
        .await;
    assert!(e.contains("duplicate key"), "{e}");
    let e = s
        .sql_err("INSERT INTO users VALUES ('u_y', 'other@example.com', 'viewer', 22)")
        .await;
    assert!(e.contains("primary key"), "{e}");
    let e = s
        .sql_err("INSERT INTO users VALUES ('a1', 'same@x', 'v', 1), ('a2', 'same@x', 'v', 2)")
        .await;
    assert!(e.contains("would get two rows"), "{e}");
    assert_eq!(s.value("SELECT count(*) AS n FROM users").await, "2001");
}

#[tokio::test]
async fn a_query_with_more_than_10000_matches_returns_all_of_them() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE big (id BIGINT PRIMARY KEY, tag TEXT)")
        .await;
    s.sql("INSERT INTO big SELECT value, 'same' FROM generate_series(1, 10100) AS g(value)")
        .await;
    s.clock.advance(Duration::from_secs(120));
    let explain = s
        .text("EXPLAIN ANALYZE SELECT count(*) AS n FROM big WHERE tag = 'same'")
        .await;
    assert!(explain.contains("strategy=token search"), "{explain}");
    assert!(
        metric(&explain, "search_requests") > 400,
        "past 9,975 the search splits by max_id:\n{explain}"
    );
    assert_eq!(
        s.values("SELECT count(*) AS n, count(DISTINCT id) AS d FROM big WHERE tag = 'same'")
            .await,
        table(&[&["10100", "10100"]])
    );
}

#[tokio::test]
async fn search_not_ready_falls_back_to_a_full_scan_and_says_why() {
    let mut config = EmulatorConfig::in_memory();
    config.search.warmup = Duration::from_secs(3600);
    let s = Stack::with_config(config).await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    s.sql("INSERT INTO t VALUES ('a', 1), ('b', 2)").await;
    let explain = s
        .text("EXPLAIN ANALYZE SELECT n FROM t WHERE id = 'b'")
        .await;
    assert!(
        explain.contains("fell back to full scan: search answered 202"),
        "{explain}"
    );
    assert_eq!(s.value("SELECT n FROM t WHERE id = 'b'").await, "2");
}

#[tokio::test]
async fn dropping_an_index_moves_lookups_back_to_the_table() {
    let s = users(Duration::from_secs(5)).await;
    let explain = s
        .text("EXPLAIN SELECT * FROM users WHERE email = 'user5@example.com'")
        .await;
    assert!(
        explain.contains("unique index search (users_email"),
        "{explain}"
    );
    s.sql("DROP INDEX users_email").await;
    let explain = s
        .text("EXPLAIN SELECT * FROM users WHERE email = 'user5@example.com'")
        .await;
    assert!(explain.contains("token search"), "{explain}");
    assert_eq!(
        s.value("SELECT id FROM users WHERE email = 'user5@example.com'")
            .await,
        "u_00005"
    );
}

#[tokio::test]
async fn hidden_object_ids_appear_when_named_and_fetch_a_row_in_one_request() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    s.sql("INSERT INTO t VALUES ('a', 1), ('b', 2)").await;
    let star = s.values("SELECT * FROM t ORDER BY id").await;
    assert_eq!(star, table(&[&["a", "1"], &["b", "2"]]), "hidden from *");
    let def = s.engine().store().table("main", "t").unwrap();
    let ids = s
        .values("SELECT id, _message_id, _channel_id FROM t ORDER BY id")
        .await;
    assert_eq!(ids[1][2], def.channel_id.to_string());
    let b_id = &ids[1][1];
    let q = format!("SELECT n FROM t WHERE _message_id = {b_id}");
    let explain = s.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(explain.contains("strategy=message-ID fetch"), "{explain}");
    assert_eq!(metric(&explain, "discord_requests"), 1, "{explain}");
    assert_eq!(metric(&explain, "get_requests"), 1, "{explain}");
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
