//! SQL through the whole stack: DataFusion, the store, the emulator.

use discord_api::{Discord, Route};
use discord_emulator::EmulatorConfig;

use crate::common::{Stack, insert_numbers, table};

#[tokio::test]
async fn create_insert_and_aggregate() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    s.sql("INSERT INTO t VALUES ('a', 1), ('b', 2)").await;
    assert_eq!(s.value("SELECT sum(n) AS s FROM t").await, "3");
}

#[tokio::test]
async fn a_250_row_table_is_read_with_one_history_page_and_one_download() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    s.sql(&insert_numbers("t", 0, 250)).await;
    let cold = s.another().await;
    let before = s.counters();
    let out = cold
        .values("SELECT count(*) AS c, sum(n) AS total FROM t")
        .await;
    assert_eq!(out, table(&[&["250", "31125"]]));
    let cost = s.counters().since(&before);
    assert_eq!(cost.route(Route::ListMessages).requests, 1, "{cost:?}");
    assert_eq!(cost.cdn_requests(), 1, "{cost:?}");
    assert_eq!(
        cost.total_requests(),
        2,
        "the channel list that says what changed, and the page: {cost:?}"
    );
}

#[tokio::test]
async fn limit_stops_requests_once_met() {
    let s = Stack::new().await;
    s.sql("SET dbcord.compact_after = 0").await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    for part in 0..4 {
        s.sql(&insert_numbers("t", part * 250, part * 250 + 250))
            .await;
    }
    let cold = s.another().await;
    let before = s.counters();
    let batches = cold.rows("SELECT id FROM t LIMIT 5").await;
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
    let cost = s.counters().since(&before);
    assert_eq!(cost.cdn_requests(), 1, "one of four segments: {cost:?}");
}

#[tokio::test]
async fn limit_and_offset_read_one_segment_in_key_order() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    s.sql(&insert_numbers("t", 0, 150)).await;
    let out = s.values("SELECT n FROM t LIMIT 3 OFFSET 99").await;
    assert_eq!(out, table(&[&["99"], &["100"], &["101"]]));
}

#[tokio::test]
async fn a_row_over_the_message_limit_is_stored_whole_in_a_segment() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT)")
        .await;
    s.sql("INSERT INTO t VALUES ('big', repeat('xy', 60000))")
        .await;
    let reader = s.another().await;
    assert_eq!(
        reader
            .value("SELECT length(body) FROM t WHERE id = 'big'")
            .await,
        "120000"
    );
}

#[tokio::test]
async fn a_statement_larger_than_one_message_is_staged_and_committed_whole() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, body TEXT)")
        .await;
    let before = s.counters();
    // About 30 MB of random digits, which do not compress away: more than
    // one message (25 MiB) holds.
    s.sql(
        "INSERT INTO t SELECT a.value, string_agg(CAST(random() AS VARCHAR), '') \
         FROM generate_series(1, 28) a CROSS JOIN generate_series(1, 60000) b GROUP BY a.value",
    )
    .await;
    let posted = s
        .counters()
        .since(&before)
        .route(Route::CreateMessage)
        .requests;
    assert!(
        posted >= 3,
        "two staged segments at least, then the commit: {posted}"
    );
    let other = s.another().await;
    assert_eq!(other.value("SELECT count(*) AS c FROM t").await, "28");
    let short = other
        .value("SELECT count(*) FROM t WHERE length(body) < 1000000")
        .await;
    assert_eq!(short, "0", "every row whole");
}

#[tokio::test]
async fn all_types_round_trip() {
    let s = Stack::new().await;
    s.sql(
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR, big BIGINT, x DOUBLE, r REAL, \
         ok BOOLEAN, at TIMESTAMP)",
    )
    .await;
    s.sql(
        "INSERT INTO t VALUES (1, 'Zoë \"q\" @everyone', 9007199254740993, 1.5, 2.25, true, \
         TIMESTAMP '2026-11-21T08:00:00'), (2, NULL, NULL, NULL, NULL, NULL, NULL)",
    )
    .await;
    let out = s.values("SELECT * FROM t ORDER BY id").await;
    assert_eq!(
        out,
        table(&[
            &[
                "1",
                "Zoë \"q\" @everyone",
                "9007199254740993",
                "1.5",
                "2.25",
                "true",
                "2026-11-21T08:00:00"
            ],
            &["2", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
        ])
    );
    assert_eq!(
        s.value("SELECT count(*) AS c FROM t WHERE name IS NULL")
            .await,
        "1"
    );
}

#[tokio::test]
async fn joins_groups_subqueries_and_insert_select() {
    let s = Stack::new().await;
    s.sql("CREATE DATABASE shop").await;
    s.sql("CREATE TABLE shop.c (id TEXT PRIMARY KEY, city TEXT)")
        .await;
    s.sql("CREATE TABLE shop.o (id BIGINT PRIMARY KEY, c TEXT, amount DOUBLE)")
        .await;
    s.sql("INSERT INTO shop.c VALUES ('a', 'Oslo'), ('b', 'Lima')")
        .await;
    s.sql("INSERT INTO shop.o VALUES (1, 'a', 10), (2, 'a', 5), (3, 'b', 7)")
        .await;
    let out = s
        .values(
            "SELECT c.city, sum(o.amount) AS total FROM shop.o o JOIN shop.c c ON o.c = c.id \
             GROUP BY c.city ORDER BY total DESC",
        )
        .await;
    assert_eq!(out, table(&[&["Oslo", "15.0"], &["Lima", "7.0"]]));
    s.sql("CREATE TABLE shop.big (id BIGINT PRIMARY KEY)").await;
    s.sql("INSERT INTO shop.big SELECT id FROM shop.o WHERE amount > (SELECT avg(amount) FROM shop.o)").await;
    assert_eq!(s.values("SELECT id FROM shop.big").await, table(&[&["1"]]));
}

#[tokio::test]
async fn ddl_errors_name_the_problem() {
    let s = Stack::new().await;
    let e = s.sql_err("CREATE TABLE t (id TEXT, n BIGINT)").await;
    assert_eq!(
        e,
        "table main.t needs a PRIMARY KEY: dbcord finds rows by their key"
    );
    let e = s
        .sql_err("CREATE TABLE t (id TEXT PRIMARY KEY, d DECIMAL(10,2))")
        .await;
    assert!(
        e.contains("column \"d\"") && e.contains("not supported"),
        "{e}"
    );
    let e = s
        .sql_err("CREATE TABLE \"Bad\" (id TEXT PRIMARY KEY)")
        .await;
    assert!(e.contains("invalid table name \"Bad\""), "{e}");
    let e = s
        .sql_err("CREATE TABLE t (id TEXT PRIMARY KEY, \"_secret\" TEXT)")
        .await;
    assert!(e.contains("column name \"_secret\" is reserved"), "{e}");
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY)").await;
    let e = s.sql_err("CREATE TABLE t (id TEXT PRIMARY KEY)").await;
    assert_eq!(e, "table \"main.t\" already exists");
    s.sql("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY)")
        .await;
    let e = s
        .sql_err("CREATE TABLE nowhere.t (id TEXT PRIMARY KEY)")
        .await;
    assert_eq!(e, "database \"nowhere\" does not exist");
}

#[tokio::test]
async fn drop_table_removes_channel_and_catalog_entry() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY)").await;
    s.sql("INSERT INTO t VALUES ('a')").await;
    let channel = s.engine().store().table("main", "t").unwrap().channel_id;
    s.sql("DROP TABLE t").await;
    let e = s.sql_err("SELECT * FROM t").await;
    assert!(e.contains("table 'dbcord.main.t' not found"), "{e}");
    assert!(
        s.emulator.get_channel(channel).await.is_err(),
        "the table's channel is gone"
    );
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY)").await;
    assert_eq!(s.value("SELECT count(*) AS c FROM t").await, "0");
    s.sql("DROP TABLE IF EXISTS gone").await;
}

#[tokio::test]
async fn messages_from_people_in_a_table_channel_are_skipped() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY)").await;
    s.sql("INSERT INTO t VALUES ('a')").await;
    let def = s.engine().store().table("main", "t").unwrap();
    s.emulator
        .post_as_person(def.channel_id, "dbc1\n{\"id\":\"forged\"}")
        .unwrap();
    s.emulator
        .post_as_person(def.channel_id, "hello from a human")
        .unwrap();
    assert_eq!(s.values("SELECT id FROM t").await, table(&[&["a"]]));
}

#[tokio::test]
async fn show_tables_lists_dbcord_tables() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE users (id TEXT PRIMARY KEY)").await;
    let out = s
        .values("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
        .await;
    assert_eq!(out, table(&[&["users"]]));
    let shown = s.values("SHOW TABLES").await;
    assert!(
        shown.iter().any(|r| r.contains(&"users".to_string())),
        "{shown:?}"
    );
}

#[tokio::test]
async fn a_new_session_sees_the_catalog_written_by_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmulatorConfig {
        data_dir: Some(dir.path().into()),
        ..EmulatorConfig::in_memory()
    };
    {
        let s = Stack::with_config(config.clone()).await;
        s.sql("CREATE DATABASE shop").await;
        s.sql("CREATE TABLE shop.t (id TEXT PRIMARY KEY, n BIGINT)")
            .await;
        s.sql("INSERT INTO shop.t VALUES ('a', 41), ('b', 1)").await;
    }
    let s = Stack::with_config(config).await;
    assert_eq!(s.value("SELECT sum(n) AS s FROM shop.t").await, "42");
}
