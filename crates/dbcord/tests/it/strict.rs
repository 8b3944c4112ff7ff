//! dbcord on a Discord as unkind as the real one: phrase matching, a long
//! lag tail, a refused or incomplete search, altered content, 429s that
//! last minutes, bans. Each test failed on code written for a kinder
//! emulator.

use std::sync::Arc;
use std::time::Duration;

use dbcord::session::Session;
use dbcord::sql::Outcome;
use discord_api::limits::FLAG_SUPPRESS_EMBEDS;
use discord_api::{Discord, HistoryAnchor, HistoryQuery, ManualClock, NewMessage, Route};
use discord_emulator::serve::{self, EdgeRules, ServeOptions};
use discord_emulator::{
    BucketRule, DeepIndex, EmulatorConfig, SearchConfig, StripSet, default_buckets,
};

use crate::common::{Stack, cells, http_config, table};

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
    assert!(e.contains("primary key"), "{e}");
    assert_eq!(
        s.values("SELECT n FROM k WHERE a = 'x' AND b = 'y'").await,
        table(&[&["1"]])
    );
    let explain = s
        .text("EXPLAIN SELECT n FROM k WHERE a = 'x' AND b = 'y'")
        .await;
    assert!(
        explain.contains("strategy=key lookup (1 keys)"),
        "{explain}"
    );
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

/// Reads take the history and the CDN, never search: a search that is
/// refused, lagging and incomplete all at once changes no answer and is
/// never asked.
#[tokio::test]
async fn reads_never_depend_on_search() {
    let mut config = EmulatorConfig::in_memory_with_lag(Duration::from_secs(3600));
    config.search.forbidden = true;
    config.search.deep_index = Some(DeepIndex {
        every: Duration::from_secs(10),
        lasting: Duration::from_secs(10),
        hides_older_than: Duration::from_secs(1),
    });
    let s = Stack::with_config(config).await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, tag TEXT)")
        .await;
    s.sql("CREATE UNIQUE INDEX t_tag ON t (tag)").await;
    s.sql("INSERT INTO t VALUES ('a', 'x'), ('b', 'y')").await;
    s.sql("INSERT INTO t VALUES ('c', 'z')").await;
    let e = s.sql_err("INSERT INTO t VALUES ('d', 'x')").await;
    assert!(e.contains("t_tag"), "{e}");
    let reader = s.another().await;
    assert_eq!(
        reader.values("SELECT id FROM t WHERE tag = 'y'").await,
        table(&[&["b"]])
    );
    assert_eq!(
        reader.values("SELECT tag FROM t WHERE id = 'c'").await,
        table(&[&["z"]])
    );
    assert_eq!(reader.value("SELECT count(*) FROM t").await, "3");
    assert_eq!(s.counters().route(Route::Search).requests, 0);
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
            limit: 5,
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
    let mut acknowledged = 0;
    let msg = loop {
        assert!(acknowledged < 10, "the bucket never ran dry");
        let insert = format!("INSERT INTO t VALUES ('r{acknowledged}')");
        match engine.execute(&insert).await {
            Ok(_) => acknowledged += 1,
            Err(e) => break dbcord::sql::errors::user_message(&e),
        }
    };
    assert!(
        msg.contains("Discord asks to wait") && msg.contains("on create_message"),
        "{msg}"
    );
    let def = engine.store().table("main", "t").unwrap();
    let left = served.emulator.messages_of(def.channel_id);
    assert_eq!(
        left.len(),
        acknowledged,
        "one commit per acknowledged INSERT, none for the refused one"
    );
    let mut out = engine.execute("SELECT count(*) FROM t").await.unwrap();
    let Some(Outcome::Rows { batches, .. }) = out.pop() else {
        panic!("a count has rows")
    };
    assert_eq!(cells(&batches), [[acknowledged.to_string()]]);
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
