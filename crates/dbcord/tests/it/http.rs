//! SQL over the real backend (serenity over HTTP, dbcord's own rate
//! limiter) against the emulator served as Discord API v10.

use std::sync::Arc;
use std::time::Duration;

use dbcord::session::Session;
use discord_api::{Discord, HistoryAnchor, HistoryQuery, RealClock, Route, ScaledClock, Snowflake};
use discord_emulator::serve::{FaultPlan, ServeOptions};
use discord_emulator::{Emulator, EmulatorConfig};

use crate::common::{Stack, http_config, serve, table};

/// A served emulator on a clock running `scale` times faster than real
/// time, and a dbcord session on real time reaching it over HTTP.
async fn scaled(scale: f64, faults: &str, timeout: Duration) -> (Arc<Emulator>, Session) {
    let options = ServeOptions {
        token: None,
        time_scale: scale,
        faults: FaultPlan::parse(faults).unwrap(),
        ..Default::default()
    };
    let clock = Arc::new(ScaledClock::new(scale));
    let (emulator, addr) = serve(EmulatorConfig::in_memory(), clock, options).await;
    let mut cfg = http_config(&emulator, addr);
    cfg.request_timeout = timeout;
    cfg.max_retries = 8;
    let session = Session::over_http(cfg, Arc::new(RealClock)).await.unwrap();
    (emulator, session)
}

/// How many messages `t`'s channel holds, read from the emulator's own
/// history: every INSERT is one commit message, so a retried create that
/// Discord applied twice would show here.
async fn messages_in_t(emulator: &Arc<Emulator>, session: &Session) -> usize {
    let def = session.engine.store().table("main", "t").unwrap();
    let q = HistoryQuery {
        anchor: HistoryAnchor::After(Snowflake(0)),
        limit: 100,
    };
    emulator
        .list_messages(def.channel_id, &q)
        .await
        .unwrap()
        .len()
}

/// `SELECT count(*), count(DISTINCT id) FROM t`, as text.
async fn counted(session: &Session) -> Vec<Vec<String>> {
    let out = session
        .engine
        .execute("SELECT count(*) AS n, count(DISTINCT id) AS d FROM t")
        .await
        .unwrap();
    let dbcord::sql::Outcome::Rows { batches, .. } = &out[0] else {
        panic!()
    };
    crate::common::cells(batches)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_inserts_wait_for_the_buckets_instead_of_hitting_429s() {
    let (emulator, session) = scaled(200.0, "", Duration::from_secs(10)).await;
    let engine = &session.engine;
    engine
        .execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    for i in 0..60 {
        engine
            .execute(&format!("INSERT INTO t VALUES ({i}, 'row {i}')"))
            .await
            .unwrap();
    }
    let creates = emulator.counters().route(Route::CreateMessage);
    assert_eq!(
        creates.rate_limited, 0,
        "the limiter waits before a spent bucket: {creates:?}"
    );
    assert_eq!(emulator.counters().total_rate_limited(), 0);
    assert_eq!(messages_in_t(&emulator, &session).await, 60);
    assert_eq!(counted(&session).await, table(&[&["60", "60"]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_429s_5xx_stalls_and_lost_answers_every_row_is_stored_once() {
    // Discord remembers a nonce for a few minutes; at time scale 25 that is
    // 12 s of real time, far more than a run of retries takes.
    let faults = "429=0.05,500=0.05,stall=0.03,lose=0.03,stall_ms=1000,seed=11";
    let (emulator, session) = scaled(25.0, faults, Duration::from_millis(500)).await;
    let engine = &session.engine;
    engine
        .execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    engine
        .execute("INSERT INTO t SELECT value, 'row' FROM generate_series(1, 200) AS g(value)")
        .await
        .unwrap();
    for i in 201..=240 {
        engine
            .execute(&format!("INSERT INTO t VALUES ({i}, 'one')"))
            .await
            .unwrap();
    }
    assert_eq!(
        messages_in_t(&emulator, &session).await,
        41,
        "one commit per statement, none twice"
    );
    assert_eq!(counted(&session).await, table(&[&["240", "240"]]));
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
    let script = include_str!("../../../../sql/quickstart.sql");
    for s in [&embedded, &http] {
        s.engine().execute(script).await.unwrap();
    }
    for q in [
        "SELECT * FROM shop.customers ORDER BY id",
        "SELECT customer, sum(amount) AS s FROM shop.orders GROUP BY customer ORDER BY customer",
    ] {
        assert_eq!(embedded.values(q).await, http.values(q).await, "{q}");
    }
    let explain = http
        .text("EXPLAIN ANALYZE SELECT * FROM shop.customers WHERE id = 'c2'")
        .await;
    assert!(explain.contains("strategy=key lookup"), "{explain}");
    assert_eq!(
        http.value("SELECT name FROM shop.customers WHERE id = 'c2'")
            .await,
        "Grace Hopper"
    );
}
