//! Several dbcord processes on one guild: each sees what the others
//! commit before its next statement, and a key inserted by two at once
//! ends up as exactly one row.

use std::sync::Arc;

use dbcord::session::Session;
use dbcord::sql::{Engine, Outcome, errors::user_message};
use discord_api::{RealClock, ScaledClock};
use discord_emulator::EmulatorConfig;
use discord_emulator::serve::ServeOptions;

use crate::common::{Stack, cells, http_config, serve, table};

#[tokio::test]
async fn a_session_left_open_enforces_a_unique_index_made_by_another() {
    let open = Stack::new().await;
    open.sql("CREATE TABLE t (id TEXT PRIMARY KEY, v BIGINT)")
        .await;
    open.sql("INSERT INTO t VALUES ('a', 1)").await;
    let other = open.another().await;
    other.sql("CREATE UNIQUE INDEX t_v ON t (v)").await;
    other.sql("CREATE TABLE fresh (id TEXT PRIMARY KEY)").await;
    let e = open.sql_err("INSERT INTO t VALUES ('b', 1)").await;
    assert!(e.contains("UNIQUE index t_v") && e.contains("v = 1"), "{e}");
    assert_eq!(open.value("SELECT count(*) FROM fresh").await, "0");
    other.sql("DROP INDEX t_v").await;
    open.sql("INSERT INTO t VALUES ('b', 1)").await;
    assert_eq!(other.value("SELECT count(*) FROM t WHERE v = 1").await, "2");
}

#[tokio::test]
async fn a_statement_reads_what_another_process_committed_just_before() {
    let a = Stack::new().await;
    a.sql("CREATE TABLE t (id TEXT PRIMARY KEY, v BIGINT)")
        .await;
    let b = a.another().await;
    for i in 0..5 {
        b.sql(&format!("INSERT INTO t VALUES ('k{i}', {i})")).await;
        a.sql(&format!("UPDATE t SET v = v + 10 WHERE id = 'k{i}'"))
            .await;
        assert_eq!(
            b.value(&format!("SELECT v FROM t WHERE id = 'k{i}'")).await,
            (i + 10).to_string()
        );
    }
}

async fn run(engine: &Engine, sql: &str) -> Result<Vec<Outcome>, String> {
    engine.execute(sql).await.map_err(|e| user_message(&e))
}

async fn one_value(engine: &Engine, sql: &str) -> Vec<Vec<String>> {
    let mut out = run(engine, sql).await.unwrap();
    match out.pop() {
        Some(Outcome::Rows { batches, .. }) => cells(&batches),
        other => panic!("{sql}: {other:?}"),
    }
}

/// Two processes over HTTP insert the same key at the same moment, 50
/// times: one wins, the other reports the duplicate, and every reader
/// (either process, pushdown on or off) sees the winner's row only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_inserting_one_key_at_once_make_exactly_one_row() {
    let scale = 100.0;
    let options = ServeOptions {
        token: None,
        time_scale: scale,
        ..Default::default()
    };
    let clock = Arc::new(ScaledClock::new(scale));
    let (emulator, addr) = serve(EmulatorConfig::in_memory(), clock, options).await;
    let open = || async {
        Session::over_http(http_config(&emulator, addr), Arc::new(RealClock))
            .await
            .unwrap()
    };
    let (p1, p2) = (open().await, open().await);
    run(&p1.engine, "CREATE TABLE t (id TEXT PRIMARY KEY, who TEXT)")
        .await
        .unwrap();
    let mut wins = [0, 0];
    for i in 0..50 {
        let (s1, s2) = (
            format!("INSERT INTO t VALUES ('k{i}', 'p1')"),
            format!("INSERT INTO t VALUES ('k{i}', 'p2')"),
        );
        let (r1, r2) = tokio::join!(run(&p1.engine, &s1), run(&p2.engine, &s2));
        let winner = match (&r1, &r2) {
            (Ok(_), Err(e)) if e.contains("duplicate key") => "p1",
            (Err(e), Ok(_)) if e.contains("duplicate key") => "p2",
            _ => panic!("round {i}: {r1:?} / {r2:?}"),
        };
        wins[usize::from(winner == "p2")] += 1;
        let q = format!("SELECT who FROM t WHERE id = 'k{i}'");
        for p in [&p1, &p2] {
            assert_eq!(one_value(&p.engine, &q).await, table(&[&[winner]]));
        }
    }
    run(&p2.engine, "SET dbcord.pushdown = false")
        .await
        .unwrap();
    let all = "SELECT count(*), count(DISTINCT id) FROM t";
    for p in [&p1, &p2] {
        assert_eq!(one_value(&p.engine, all).await, table(&[&["50", "50"]]));
    }
    // A commit that lost stays in the channel, void, until VACUUM: more
    // than 50 messages show that both writers really did commit at once.
    let def = p1.engine.store().table("main", "t").unwrap();
    let posted = emulator.messages_of(def.channel_id).len();
    assert!(
        posted > 50,
        "no round raced to the commit: {posted} messages, wins {wins:?}"
    );
}
