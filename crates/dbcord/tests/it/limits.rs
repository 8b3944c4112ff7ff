//! Discord's structural limits as dbcord's own errors: a statement that
//! would break one fails before anything is uploaded or made, and names
//! the limit; a compaction Discord refuses backs off instead of being
//! tried again by every later statement.

use std::time::Duration;

use discord_api::{Discord, Route};

use crate::common::Stack;

/// Requests that write (messages and channels) and bytes uploaded.
fn writes(s: &Stack) -> (u64, u64, u64) {
    let c = s.counters();
    (
        c.route(Route::CreateMessage).requests,
        c.route(Route::CreateChannel).requests,
        c.uploaded_bytes,
    )
}

#[tokio::test]
async fn a_row_past_the_limit_fails_a_bulk_statement_before_any_upload() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, body TEXT)")
        .await;
    // Segments of 1 KiB: the 2,000 small rows alone would be staged over
    // many messages, so a check made only as segments are posted would
    // have uploaded some before meeting the large row.
    s.sql("SET dbcord.segment_bytes = 1024").await;
    let before = writes(&s);
    let err = s
        .sql_err(
            "INSERT INTO t SELECT value, CASE WHEN value = 1999 THEN repeat('x', 11000000) \
             ELSE 'small' END FROM generate_series(0, 1999) AS g(value)",
        )
        .await;
    assert!(err.contains("up to 10 MiB"), "the limit is named: {err}");
    assert_eq!(writes(&s), before, "nothing was posted or uploaded");
    assert_eq!(s.value("SELECT count(*) FROM t").await, "0");
}

#[tokio::test]
async fn a_full_category_refuses_tables_and_indexes_before_making_anything() {
    let s = Stack::new().await;
    // The category holds #dbc-catalog and 49 tables: Discord's 50.
    for i in 0..49 {
        s.sql(&format!(
            "CREATE TABLE t{i} (id BIGINT PRIMARY KEY, v TEXT)"
        ))
        .await;
    }
    let before = writes(&s);
    let err = s
        .sql_err("CREATE TABLE one_more (id BIGINT PRIMARY KEY)")
        .await;
    assert!(
        err.contains("Discord's limit for a category") && err.contains("50 channels"),
        "{err}"
    );
    let err = s.sql_err("CREATE INDEX t0_v ON t0 (v)").await;
    assert!(err.contains("Discord's limit for a category"), "{err}");
    assert_eq!(writes(&s), before, "no channel or catalog entry was made");
    let tables = s.values("SHOW TABLES").await;
    assert!(
        !tables.iter().flatten().any(|t| t == "one_more"),
        "{tables:?}"
    );
    // Making room lets the table be made.
    s.sql("DROP TABLE t48").await;
    s.sql("CREATE TABLE one_more (id BIGINT PRIMARY KEY)").await;
}

#[tokio::test]
async fn a_compaction_discord_refuses_backs_off_instead_of_retrying_every_statement() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    s.sql("CREATE INDEX t_v ON t (v)").await;
    s.sql("SET dbcord.compact_after = 2").await;
    // The index channel goes away behind dbcord's back: every compaction
    // (which posts index segments there) is refused; commits are not.
    let channels = s.emulator.list_channels().await.unwrap();
    let index = channels
        .iter()
        .find(|c| c.name == "idx-t-t_v")
        .expect("the index has a channel");
    s.emulator.delete_channel(index.id).await.unwrap();
    let refused = |s: &Stack| s.counters().route(Route::CreateMessage).errors;
    for i in 0..20 {
        s.sql(&format!("INSERT INTO t VALUES ({i}, 'v{i}')")).await;
    }
    assert_eq!(s.value("SELECT count(*) FROM t").await, "20");
    assert_eq!(
        refused(&s),
        1,
        "one compaction tried and refused, then put off"
    );
    // Past the back-off, the next statement tries once more.
    s.clock.advance(Duration::from_secs(3600));
    s.sql("INSERT INTO t VALUES (100, 'x')").await;
    assert_eq!(refused(&s), 2);
    s.sql("INSERT INTO t VALUES (101, 'y')").await;
    assert_eq!(refused(&s), 2, "and is put off again, for longer");
}

#[tokio::test]
async fn the_embedded_client_waits_for_a_spent_bucket_instead_of_earning_429s() {
    use discord_api::Clock;
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    let t0 = s.clock.now_us();
    for i in 0..60 {
        s.sql(&format!("INSERT INTO t VALUES ({i}, 'row {i}')"))
            .await;
    }
    let c = s.counters();
    assert_eq!(c.total_rate_limited(), 0, "{:?}", c.by_route);
    // 60 creates in a channel at 5 per 5 s: at least 55 s of waiting.
    let waited = Duration::from_micros(s.clock.now_us() - t0);
    assert!(waited >= Duration::from_secs(55), "{waited:?}");
    assert_eq!(s.value("SELECT count(*) FROM t").await, "60");
}

/// The catalog is folded: a process that opens a database whose catalog
/// holds hundreds of DDL statements reads its newest checkpoint and the
/// entries after it, in one or two history pages, not every statement.
#[tokio::test]
async fn a_catalog_of_hundreds_of_ddl_statements_is_read_from_its_checkpoint() {
    let s = Stack::new().await;
    for i in 0..130 {
        s.sql(&format!("CREATE TABLE t{i} (id BIGINT PRIMARY KEY)"))
            .await;
        if i % 4 != 0 {
            s.sql(&format!("DROP TABLE t{i}")).await;
        }
    }
    let tables = "SELECT table_name FROM information_schema.tables \
                  WHERE table_schema = 'main' ORDER BY table_name";
    let expected = s.values(tables).await;
    assert_eq!(expected.len(), 33);
    let before = s.counters();
    let other = s.another().await;
    let spent = s.counters().since(&before);
    // 228 entries would be 3 pages: the checkpoint and what follows it is 1.
    assert_eq!(spent.route(Route::ListMessages).requests, 1, "{spent:?}");
    assert_eq!(spent.cdn_requests(), 1, "the checkpoint's file");
    assert_eq!(other.values(tables).await, expected);
    // Entries after the checkpoint are read on top of it.
    s.sql("CREATE TABLE late (id BIGINT PRIMARY KEY)").await;
    s.sql("INSERT INTO late VALUES (1)").await;
    assert_eq!(other.value("SELECT count(*) FROM late").await, "1");
    let third = s.another().await;
    assert_eq!(third.value("SELECT count(*) FROM t128").await, "0");
}
