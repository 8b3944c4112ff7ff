//! `kill -9` at random points of a transaction over two tables: of the
//! client (a `dbcord -c` process running BEGIN ... COMMIT), and of a
//! `dbcord serve --pg` server in the middle of a client's COMMIT. After
//! each kill, every reader (a new process, and a second one beside it)
//! sees all of the transaction or none of it, and the guild goes on
//! taking transactions.

use std::io::BufRead;
use std::process::Stdio;
use std::time::Duration;

use discord_api::SeededRng;
use tokio_postgres::NoTls;

use crate::crash::{dbcord, kill_between, reopen, run_to_end};

const KILLS: usize = 20;
const ROWS: i64 = 300;

const SCHEMA: [&str; 2] = [
    "CREATE TABLE a (id BIGINT PRIMARY KEY, v TEXT)",
    "CREATE TABLE b (id BIGINT PRIMARY KEY, v TEXT)",
];

/// Transaction `i`: the same `ROWS` keys into both tables.
fn statements(i: i64) -> Vec<String> {
    let (from, to) = (i * ROWS, i * ROWS + ROWS - 1);
    ["a", "b"]
        .iter()
        .map(|t| {
            format!(
                "INSERT INTO {t} SELECT value, repeat('x', 200) FROM generate_series({from}, {to}) AS g(value)"
            )
        })
        .collect()
}

fn script(i: i64) -> String {
    format!("BEGIN; {}; COMMIT;", statements(i).join("; "))
}

/// Transactions with a part posted in some table and no commit point: the
/// kills that landed inside a COMMIT, between its first part and its point.
async fn cut_short(dir: &std::path::Path) -> usize {
    let s = reopen(dir).await;
    let txn_of = |content: &str| {
        let head = content.lines().next().unwrap_or_default();
        let words: Vec<&str> = head.split(' ').collect();
        let part = words.contains(&"part") || words.first() == Some(&"dbcpoint");
        let at = words.iter().position(|w| *w == "txn")?;
        part.then(|| words.get(at + 1).map(|t| t.to_string()))
            .flatten()
    };
    let mut parts = std::collections::HashSet::new();
    for t in ["a", "b"] {
        let def = s.engine().store().table("main", t).unwrap();
        for m in s.emulator.messages_of(def.channel_id) {
            parts.extend(txn_of(&m.content));
        }
    }
    let points: std::collections::HashSet<String> = s
        .emulator
        .channels()
        .into_iter()
        .filter(|c| c.name == "dbc-transactions")
        .flat_map(|c| s.emulator.messages_of(c.id))
        .filter_map(|m| txn_of(&m.content))
        .collect();
    parts.difference(&points).count()
}

/// The kills were enough, some came before a commit, and some between a
/// part and its commit point: the property was exercised.
async fn landed(dir: &std::path::Path, who: &str, kills: usize, outcomes: [usize; 2]) {
    assert_eq!(kills, KILLS, "too few {who} kills landed mid-transaction");
    assert!(
        outcomes[0] > 0,
        "no {who} kill came before a commit: {outcomes:?}"
    );
    let inside = cut_short(dir).await;
    eprintln!("{who} kills: {outcomes:?} (absent, whole); {inside} inside a COMMIT");
    assert!(
        inside > 0,
        "no {who} kill landed between a part and the commit point"
    );
}

/// Transaction `i`'s rows in each table, as two readers see them: equal,
/// and all or none. Whether it committed.
async fn whole_or_none(dir: &std::path::Path, i: i64) -> bool {
    let s = reopen(dir).await;
    let other = s.another().await;
    let q = |t: &str| {
        format!(
            "SELECT count(*) FROM {t} WHERE id BETWEEN {} AND {}",
            i * ROWS,
            i * ROWS + ROWS - 1
        )
    };
    let mut seen = Vec::new();
    for reader in [&s, &other] {
        for t in ["a", "b"] {
            seen.push(reader.value(&q(t)).await);
        }
    }
    let all = ROWS.to_string();
    assert!(
        seen.iter().all(|n| *n == seen[0]) && (seen[0] == "0" || seen[0] == all),
        "transaction {i} seen in part: {seen:?}"
    );
    seen[0] == all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_during_a_two_table_commit_leaves_it_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    run_to_end(dir.path(), &SCHEMA);
    // The kills land from the end of the statements before COMMIT (as a
    // run without the COMMIT takes) to just past the whole run's time.
    let whole = run_to_end(dir.path(), &[&script(0)]);
    let before = run_to_end(
        dir.path(),
        &[&format!("BEGIN; {}", statements(-1).join("; "))],
    );
    let (from, to) = (before.mul_f64(0.8), whole.mul_f64(1.2));
    let mut rng = SeededRng::new(23);
    let (mut kills, mut outcomes) = (0, [0, 0]);
    for i in 1..=3 * KILLS as i64 {
        if kill_between(dir.path(), &script(i), from, to, &mut rng) {
            kills += 1;
        }
        outcomes[whole_or_none(dir.path(), i).await as usize] += 1;
        if kills == KILLS {
            break;
        }
    }
    landed(dir.path(), "client", kills, outcomes).await;
    // The guild still takes transactions over both tables.
    run_to_end(dir.path(), &[&script(1000)]);
    assert!(whole_or_none(dir.path(), 1000).await);
}

/// A `dbcord serve --pg` on `dir`, and its port once it listens.
fn server(dir: &std::path::Path) -> (std::process::Child, u16) {
    let mut c = dbcord(dir, &[]);
    c.args(["serve", "--pg", "127.0.0.1:0"])
        .stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .split_whitespace()
        .find_map(|w| w.rsplit_once(':').and_then(|(_, p)| p.parse().ok()))
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (child, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_a_clients_two_table_commit_leaves_it_whole_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    run_to_end(dir.path(), &SCHEMA);
    let mut rng = SeededRng::new(29);
    let mut window = Duration::from_millis(400);
    let (mut kills, mut outcomes) = (0, [0, 0]);
    for i in 1..=3 * KILLS as i64 {
        let path = dir.path().to_path_buf();
        let (mut child, port) = tokio::task::spawn_blocking(move || server(&path))
            .await
            .unwrap();
        let config = format!("host=127.0.0.1 port={port} user=dbcord dbname=main");
        let (client, connection) = tokio_postgres::connect(&config, NoTls).await.unwrap();
        let driver = tokio::spawn(connection);
        client.batch_execute("BEGIN").await.unwrap();
        for s in statements(i) {
            client.batch_execute(&s).await.unwrap();
        }
        // COMMIT, and kill the server at a random moment of it.
        let client = std::sync::Arc::new(client);
        let committing = std::sync::Arc::clone(&client);
        let commit = tokio::spawn(async move { committing.batch_execute("COMMIT").await });
        let delay = rng.below(window.as_micros() as u64);
        tokio::time::sleep(Duration::from_micros(delay)).await;
        let running = child.try_wait().unwrap().is_none() && !commit.is_finished();
        child.kill().unwrap();
        let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        let _ = commit.await;
        driver.abort();
        if running {
            kills += 1;
        } else {
            window = window.mul_f64(0.8);
        }
        outcomes[whole_or_none(dir.path(), i).await as usize] += 1;
        if kills == KILLS {
            break;
        }
    }
    landed(dir.path(), "server", kills, outcomes).await;
}
