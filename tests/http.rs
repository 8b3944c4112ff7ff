//! The real backend (serenity over HTTP, dbcord's own rate limiter) against
//! the emulator served as Discord API v10.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Stack, http_config};
use dbcord::discord::emulator::{Emulator, EmulatorConfig, Route};
use dbcord::discord::http::{HttpDiscord, StartupError};
use dbcord::discord::limiter::Patient;
use dbcord::discord::serve::{self, AppState, FaultPlan, ServeOptions};
use dbcord::discord::{Discord, ManualClock, RealClock, ScaledClock, SharedClock};
use dbcord::sql::Engine;
use dbcord::store::Store;

/// A served emulator on a clock running `scale` times faster than real
/// time, and dbcord on real time reaching it over HTTP.
async fn scaled(scale: f64, faults: &str, timeout: Duration) -> (Arc<Emulator>, Engine) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = EmulatorConfig {
        attachment_url_base: format!("http://{addr}"),
        ..EmulatorConfig::in_memory()
    };
    let emulator = Arc::new(Emulator::open(config, Arc::new(ScaledClock::new(scale))).unwrap());
    let options = ServeOptions {
        token: None,
        time_scale: scale,
        faults: FaultPlan::parse(faults).unwrap(),
    };
    tokio::spawn(serve::serve(
        listener,
        AppState {
            emulator: Arc::clone(&emulator),
            options: Arc::new(options),
        },
    ));
    let clock: SharedClock = Arc::new(RealClock);
    let mut cfg = http_config(&emulator, addr);
    cfg.request_timeout = timeout;
    cfg.max_retries = 8;
    let http = HttpDiscord::connect(cfg, Arc::clone(&clock)).await.unwrap();
    let store = Store::open(Arc::new(http) as Arc<dyn Discord>, clock)
        .await
        .unwrap();
    (emulator, Engine::new(Arc::new(store)))
}

/// Every row of `t`, read from the emulator's own history: (count, distinct ids).
async fn stored_rows(emulator: &Arc<Emulator>, engine: &Engine) -> (usize, usize) {
    let def = engine.store().table("main", "t").unwrap();
    let emulator = Patient::new(Arc::clone(emulator), Arc::clone(emulator.clock()));
    let mut ids = std::collections::HashSet::new();
    let mut count = 0;
    let mut after = dbcord::discord::Snowflake(0);
    loop {
        let q = dbcord::discord::HistoryQuery {
            anchor: dbcord::discord::HistoryAnchor::After(after),
            limit: 100,
        };
        let page = emulator.list_messages(def.channel_id, &q).await.unwrap();
        for m in &page {
            let json = m.content.split_once('\n').unwrap().1;
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            ids.insert(v["id"].as_i64().unwrap());
            count += 1;
        }
        match page.iter().map(|m| m.id).max() {
            Some(newest) if page.len() == 100 => after = newest,
            _ => return (count, ids.len()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1000_row_insert_waits_for_the_buckets_instead_of_hitting_429s() {
    let (emulator, engine) = scaled(200.0, "", Duration::from_secs(10)).await;
    engine
        .execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    engine.execute("INSERT INTO t SELECT value, 'row ' || CAST(value AS VARCHAR) FROM generate_series(1, 1000) AS g(value)").await.unwrap();
    let creates = emulator.counters().route(Route::CreateMessage);
    assert_eq!(
        creates.rate_limited, 0,
        "the limiter waits before a spent bucket: {creates:?}"
    );
    assert_eq!(emulator.counters().total_rate_limited(), 0);
    assert_eq!(stored_rows(&emulator, &engine).await, (1000, 1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_429s_5xx_stalls_and_lost_answers_every_row_is_stored_once() {
    // Discord remembers a nonce for a few minutes; at time scale 25 that is
    // 12 s of real time, far more than a run of retries takes.
    let faults = "429=0.05,500=0.05,stall=0.03,lose=0.03,stall_ms=1000,seed=11";
    let (emulator, engine) = scaled(25.0, faults, Duration::from_millis(500)).await;
    engine
        .execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    engine
        .execute("INSERT INTO t SELECT value, 'row' FROM generate_series(1, 200) AS g(value)")
        .await
        .unwrap();
    assert_eq!(
        stored_rows(&emulator, &engine).await,
        (200, 200),
        "no row lost, none twice"
    );
    let out = engine.execute("SELECT count(*) AS n FROM t").await.unwrap();
    let dbcord::sql::Outcome::Rows { batches, .. } = &out[0] else {
        panic!()
    };
    let text = datafusion::arrow::util::pretty::pretty_format_batches(batches)
        .unwrap()
        .to_string();
    assert!(text.contains("| 200 |"), "{text}");
    let channels = emulator.list_channels().await.unwrap();
    assert_eq!(
        channels.iter().filter(|c| c.name == "table-t").count(),
        1,
        "a lost create is not repeated"
    );
}

#[tokio::test]
async fn the_same_sql_gives_the_same_answers_over_http() {
    let embedded = Stack::new().await;
    let http = Stack::served().await;
    let script = include_str!("../sql/quickstart.sql");
    for s in [&embedded, &http] {
        s.engine.execute(script).await.unwrap();
    }
    for q in [
        "SELECT * FROM shop.customers ORDER BY id",
        "SELECT customer, sum(amount) AS s FROM shop.orders GROUP BY customer ORDER BY customer",
    ] {
        assert_eq!(embedded.text(q).await, http.text(q).await, "{q}");
    }
    let explain = http
        .text("EXPLAIN ANALYZE SELECT * FROM shop.customers WHERE id = 'c2'")
        .await;
    assert!(explain.contains("primary key search"), "{explain}");
    assert!(
        http.text("SELECT name FROM shop.customers WHERE id = 'c2'")
            .await
            .contains("Grace Hopper")
    );
}

async fn startup(
    config: EmulatorConfig,
    token: Option<&str>,
    guild: Option<u64>,
) -> Result<HttpDiscord, StartupError> {
    let clock = Arc::new(ManualClock::fixed());
    let emulator = Arc::new(Emulator::open(config, clock.clone()).unwrap());
    let options = ServeOptions {
        token: token.map(str::to_string),
        time_scale: 1.0,
        ..Default::default()
    };
    let addr = serve::spawn(
        "127.0.0.1:0".parse().unwrap(),
        AppState {
            emulator: Arc::clone(&emulator),
            options: Arc::new(options),
        },
    )
    .await
    .unwrap();
    let mut cfg = http_config(&emulator, addr);
    if let Some(g) = guild {
        cfg.guild_id = dbcord::discord::Snowflake(g);
    }
    HttpDiscord::connect(cfg, clock).await
}

#[tokio::test]
async fn the_startup_check_names_each_problem() {
    let err = startup(EmulatorConfig::in_memory(), Some("another-token"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StartupError::InvalidToken), "{err}");
    assert!(!err.to_string().contains("test-token"));
    let err = startup(EmulatorConfig::in_memory(), None, Some(42))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not in guild 42"), "{err}");
    let no_perms = EmulatorConfig {
        bot_permissions: (1 << 10) | (1 << 11),
        ..EmulatorConfig::in_memory()
    };
    let err = startup(no_perms, None, None).await.unwrap_err();
    assert!(
        err.to_string().contains("MANAGE_CHANNELS")
            && err.to_string().contains("READ_MESSAGE_HISTORY"),
        "{err}"
    );
    let no_intent = EmulatorConfig {
        message_content_intent: false,
        ..EmulatorConfig::in_memory()
    };
    let err = startup(no_intent, None, None).await.unwrap_err();
    assert!(err.to_string().contains("Message Content intent"), "{err}");
    startup(EmulatorConfig::in_memory(), Some("test-token"), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn search_values_are_percent_encoded() {
    let s = Stack::served().await;
    let new = dbcord::discord::NewChannel {
        name: "t".into(),
        kind: 0,
        topic: None,
        parent_id: None,
    };
    let ch = s.emulator.create_channel(&new).await.unwrap();
    s.emulator
        .post_as_person(ch.id, "fish&chips #1 c++")
        .unwrap();
    let http = HttpDiscord::connect(
        http_config(&s.emulator, s.http_addr.unwrap()),
        s.clock.clone(),
    )
    .await
    .unwrap();
    // Unencoded, '&' and '#' would cut the query short and '+' would become a space.
    let q = dbcord::discord::SearchQuery {
        content: Some("\"fish&chips #1\"".into()),
        channel_ids: vec![ch.id],
        ..Default::default()
    };
    assert_eq!(http.search(&q).await.unwrap().total_results, 1);
    let q = dbcord::discord::SearchQuery {
        content: Some("c++ nothing".into()),
        channel_ids: vec![ch.id],
        ..Default::default()
    };
    assert_eq!(
        http.search(&q).await.unwrap().total_results,
        0,
        "both words must match"
    );
}

#[tokio::test]
async fn files_upload_as_multipart_and_expired_urls_are_refreshed() {
    let s = Stack::served().await;
    let http = HttpDiscord::connect(
        http_config(&s.emulator, s.http_addr.unwrap()),
        s.clock.clone(),
    )
    .await
    .unwrap();
    let new = dbcord::discord::NewChannel {
        name: "files".into(),
        kind: 0,
        topic: None,
        parent_id: None,
    };
    let ch = http.create_channel(&new).await.unwrap();
    let file = dbcord::discord::NewFile {
        filename: "a.bin".into(),
        bytes: vec![1, 2, 3],
    };
    let msg = dbcord::discord::NewMessage {
        content: "blob".into(),
        files: vec![file],
        ..Default::default()
    };
    let m = http.create_message(ch.id, &msg).await.unwrap();
    let a = &m.attachments[0];
    assert!(
        a.url
            .starts_with(&format!("http://{}/", s.http_addr.unwrap())),
        "the URL points at the server: {}",
        a.url
    );
    assert_eq!(
        http.download_attachment(ch.id, m.id, a).await.unwrap(),
        vec![1, 2, 3]
    );
    s.clock.advance(Duration::from_secs(25 * 3600));
    assert_eq!(
        reqwest::get(&a.url).await.unwrap().status().as_u16(),
        404,
        "the old URL has expired"
    );
    assert_eq!(
        http.download_attachment(ch.id, m.id, a).await.unwrap(),
        vec![1, 2, 3],
        "re-read for a fresh URL"
    );
}
