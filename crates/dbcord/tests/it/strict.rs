//! dbcord on a Discord as unkind as the real one: phrase matching, a long
//! lag tail, inexact totals, empty pages, refusals, bans. Each test failed
//! on the code written for the kinder emulator.

use std::sync::Arc;
use std::time::Duration;

use dbcord::session::Session;
use discord_api::limits::FLAG_SUPPRESS_EMBEDS;
use discord_api::{Discord, HistoryAnchor, HistoryQuery, ManualClock, NewMessage, Route};
use discord_emulator::serve::{self, EdgeRules, ServeOptions};
use discord_emulator::{
    BucketRule, DeepIndex, EmulatorConfig, SearchConfig, StripSet, default_buckets,
};

use crate::common::{Stack, http_config, table};

/// A stack some minutes after its rows were written, its guild searched
/// once (with `filter`, an equality on `table_name`).
async fn settled(s: &Stack, table_name: &str, filter: &str) {
    s.clock.advance(Duration::from_secs(400));
    s.sql(&format!("SELECT count(*) FROM {table_name} WHERE {filter}"))
        .await;
}

#[tokio::test]
async fn two_equalities_find_their_row_under_phrase_matching() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, b TEXT, c TEXT)")
        .await;
    s.sql("INSERT INTO t VALUES ('k', 'x', 'y', 'z'), ('l', 'x', 'q', 'z')")
        .await;
    settled(&s, "t", "id = 'w'").await;
    // The tokens of c and a are neither adjacent nor in this order in the row.
    let q = "SELECT id FROM t WHERE c = 'z' AND a = 'x' AND b = 'y'";
    let explain = s.text(&format!("EXPLAIN {q}")).await;
    assert!(explain.contains("token search"), "{explain}");
    assert_eq!(s.values(q).await, table(&[&["k"]]));
}

#[tokio::test]
async fn a_composite_key_duplicate_is_refused_under_phrase_matching() {
    let s = Stack::new().await;
    // The key's columns in the other order than the table's.
    s.sql("CREATE TABLE k (a TEXT, b TEXT, n BIGINT, PRIMARY KEY (b, a))")
        .await;
    s.sql("INSERT INTO k VALUES ('x', 'y', 1)").await;
    settled(&s, "k", "a = 'w'").await;
    let e = s.sql_err("INSERT INTO k VALUES ('x', 'y', 2)").await;
    assert!(
        e.contains("duplicate key") && e.contains("primary key"),
        "{e}"
    );
    assert_eq!(
        s.values("SELECT n FROM k WHERE a = 'x' AND b = 'y'").await,
        table(&[&["1"]])
    );
    let explain = s
        .text("EXPLAIN SELECT n FROM k WHERE a = 'x' AND b = 'y'")
        .await;
    assert!(explain.contains("primary key search"), "{explain}");
}

#[tokio::test]
async fn rows_are_found_under_a_lag_longer_than_the_old_60s_window() {
    let s = Stack::with_config(EmulatorConfig::in_memory_with_lag(Duration::from_secs(150))).await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, tag TEXT)")
        .await;
    s.sql("SELECT count(*) FROM t WHERE tag = 'warm-up'").await;
    s.sql("INSERT INTO t VALUES ('a', 'x'), ('b', 'y')").await;
    s.clock.advance(Duration::from_secs(100));
    assert_eq!(
        s.values("SELECT id FROM t WHERE tag = 'x'").await,
        table(&[&["a"]])
    );
    assert_eq!(
        s.values("SELECT tag FROM t WHERE id = 'b'").await,
        table(&[&["y"]])
    );
}

#[tokio::test]
async fn a_fresh_window_below_the_known_lag_is_refused() {
    let s = Stack::with_config(EmulatorConfig::in_memory_with_lag(Duration::from_secs(150))).await;
    let e = s.sql_err("SET dbcord.fresh_window = 60").await;
    assert!(e.contains("at least 150 seconds"), "{e}");
    s.sql("SET dbcord.fresh_window = 200").await;
    let shown = s.values("SHOW dbcord.fresh_window").await;
    assert_eq!(shown[0][1], "200");
}

#[tokio::test]
async fn a_scan_reads_past_undercounted_totals_and_empty_pages() {
    let mut config = EmulatorConfig::in_memory();
    config.search.inexact_totals = 0.9;
    config.search.empty_pages = 0.25;
    config.search.short_pages = 0.5;
    let s = Stack::with_config(config).await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, tag TEXT)")
        .await;
    s.sql("INSERT INTO t SELECT value, 'same' FROM generate_series(1, 300) AS g(value)")
        .await;
    settled(&s, "t", "id = 0").await;
    let q = "SELECT count(*) FROM t WHERE tag = 'same'";
    let explain = s.text(&format!("EXPLAIN ANALYZE {q}")).await;
    assert!(!explain.contains("fell back"), "{explain}");
    assert_eq!(s.value(q).await, "300");
}

#[tokio::test]
async fn a_search_refused_with_403_falls_back_to_history() {
    let mut config = EmulatorConfig::in_memory();
    config.search.forbidden = true;
    let s = Stack::with_config(config).await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY)").await;
    s.sql("INSERT INTO t VALUES ('a'), ('b')").await;
    let explain = s
        .text("EXPLAIN ANALYZE SELECT id FROM t WHERE id = 'b'")
        .await;
    assert!(
        explain.contains("fell back to full scan: search answered 403"),
        "{explain}"
    );
    assert_eq!(
        s.values("SELECT id FROM t WHERE id = 'b'").await,
        table(&[&["b"]])
    );
}

#[tokio::test]
async fn an_incomplete_search_index_falls_back_to_history() {
    let mut config = EmulatorConfig::in_memory();
    config.search.deep_index = Some(DeepIndex {
        every: Duration::from_secs(10),
        lasting: Duration::from_secs(10),
        hides_older_than: Duration::from_secs(1),
    });
    let s = Stack::with_config(config).await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY)").await;
    s.sql("INSERT INTO t VALUES ('a'), ('b')").await;
    settled(&s, "t", "id = 'w'").await;
    let explain = s
        .text("EXPLAIN ANALYZE SELECT id FROM t WHERE id = 'a'")
        .await;
    assert!(explain.contains("doing_deep_historical_index"), "{explain}");
    assert_eq!(
        s.values("SELECT id FROM t WHERE id = 'a'").await,
        table(&[&["a"]])
    );
}

#[tokio::test]
async fn a_row_discord_alters_is_removed_and_names_its_column() {
    let config = EmulatorConfig {
        strip: StripSet {
            extra: vec!['~'],
            ..StripSet::default()
        },
        ..EmulatorConfig::in_memory()
    };
    let s = Stack::with_config(config).await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, note TEXT)")
        .await;
    let e = s
        .sql_err("INSERT INTO t VALUES ('a', 'fine'), ('b', 'a ~ tilde')")
        .await;
    assert!(
        e.contains("row 2 of main.t") && e.contains("column \"note\""),
        "{e}"
    );
    assert_eq!(
        s.value("SELECT count(*) FROM t").await,
        "0",
        "nothing was written"
    );
    // Characters Discord is known to strip reach it escaped, and survive.
    s.sql("INSERT INTO t VALUES ('c', 'nul ' || chr(0) || ' rlo ' || chr(8238))")
        .await;
    assert_eq!(
        s.value("SELECT length(note) FROM t WHERE id = 'c'").await,
        "11"
    );
}

#[tokio::test]
async fn data_messages_suppress_link_previews() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, url TEXT)")
        .await;
    s.sql("INSERT INTO t VALUES ('a', 'https://example.com')")
        .await;
    let def = s.engine().store().table("main", "t").unwrap();
    let q = HistoryQuery {
        anchor: HistoryAnchor::Latest,
        limit: 10,
    };
    let page = s.emulator.list_messages(def.channel_id, &q).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].flags & FLAG_SUPPRESS_EMBEDS, FLAG_SUPPRESS_EMBEDS);
}

#[tokio::test]
async fn rows_written_in_the_first_format_are_still_read() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)")
        .await;
    let def = s.engine().store().table("main", "t").unwrap();
    s.emulator
        .create_message(
            def.channel_id,
            &NewMessage::text("dbc1 qaaaaaaaaaaaaaa\n{\"id\":\"Zoë\",\"n\":7}"),
        )
        .await
        .unwrap();
    assert_eq!(
        s.values("SELECT id, n FROM t").await,
        table(&[&["Zoë", "7"]])
    );
}

/// An emulator served on loopback with `buckets` and `edge`, and a session
/// reaching it over HTTP on the real clock.
async fn served(buckets: Vec<(Route, BucketRule)>, edge: EdgeRules) -> (serve::Served, Session) {
    let config = EmulatorConfig {
        buckets,
        search: SearchConfig::strict_with_lag(Duration::ZERO),
        ..EmulatorConfig::in_memory()
    };
    let options = ServeOptions {
        edge,
        ..Default::default()
    };
    let clock = Arc::new(ManualClock::fixed());
    let served = serve::start(
        "127.0.0.1:0".parse().unwrap(),
        config,
        clock.clone(),
        options,
    )
    .await
    .unwrap();
    let session = Session::over_http(http_config(&served.emulator, served.addr), clock)
        .await
        .unwrap();
    (served, session)
}

#[tokio::test]
async fn a_ten_minute_429_fails_fast_with_the_route_and_writes_nothing() {
    let mut buckets = default_buckets();
    buckets.retain(|(r, _)| *r != Route::CreateMessage);
    buckets.push((
        Route::CreateMessage,
        BucketRule {
            limit: 3,
            per: Duration::from_secs(600),
            shared: false,
        },
    ));
    let (served, session) = served(buckets, EdgeRules::default()).await;
    let engine = &session.engine;
    engine
        .execute("CREATE TABLE t (id TEXT PRIMARY KEY)")
        .await
        .unwrap();
    let e = engine
        .execute("INSERT INTO t VALUES ('a'), ('b'), ('c'), ('d')")
        .await
        .unwrap_err();
    let msg = dbcord::sql::errors::user_message(&e);
    assert!(
        msg.contains("Discord asks to wait") && msg.contains("on create_message"),
        "{msg}"
    );
    let def = engine.store().table("main", "t").unwrap();
    let q = HistoryQuery {
        anchor: HistoryAnchor::Latest,
        limit: 100,
    };
    let left = served
        .emulator
        .list_messages(def.channel_id, &q)
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "the rows written before were removed: {left:?}"
    );
}

#[tokio::test]
async fn a_cloudflare_ban_stops_all_traffic_and_says_when_to_retry() {
    let edge = EdgeRules {
        ban_after: 2,
        ..EdgeRules::default()
    };
    let (served, session) = served(default_buckets(), edge).await;
    session
        .engine
        .execute("CREATE TABLE t (id TEXT PRIMARY KEY)")
        .await
        .unwrap();
    // Someone else behind the same IP sends two requests without a token.
    let url = format!("http://{}/api/v10/users/@me", served.addr);
    let other = reqwest::Client::builder()
        .user_agent("DiscordBot (https://example.com, 1.0)")
        .build()
        .unwrap();
    for _ in 0..2 {
        other.get(&url).send().await.unwrap();
    }
    let e = session.engine.execute("SELECT * FROM t").await.unwrap_err();
    let msg = dbcord::sql::errors::user_message(&e);
    assert!(
        msg.contains("Cloudflare has banned this IP") && msg.contains("try again in"),
        "{msg}"
    );
    let seen = served.edge.requests();
    for _ in 0..3 {
        assert!(session.engine.execute("SELECT * FROM t").await.is_err());
    }
    assert_eq!(
        served.edge.requests(),
        seen,
        "no request left dbcord during the ban"
    );
}
