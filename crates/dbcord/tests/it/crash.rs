//! `kill -9` of a dbcord process (and its embedded Discord) at random
//! points of a large INSERT, a 1,000-row UPDATE and a compaction, and the
//! shell's Ctrl-C: after each, the table holds all of the statement or none
//! of it, the same through every access path, and its indexes agree with
//! its rows.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use discord_api::SeededRng;
use discord_emulator::EmulatorConfig;

use crate::common::Stack;

/// Kills that must land while the statement's process is still running.
const KILLS: usize = 20;

const SCHEMA: [&str; 3] = [
    "CREATE TABLE u (id BIGINT PRIMARY KEY, email TEXT, role TEXT, age BIGINT)",
    "CREATE UNIQUE INDEX u_email ON u (email)",
    "CREATE INDEX u_role ON u (role)",
];

pub(crate) fn dbcord(dir: &Path, sql: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dbcord"));
    c.arg("--data-dir").arg(dir);
    for s in sql {
        c.arg("-c").arg(s);
    }
    c.env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

pub(crate) fn run_to_end(dir: &Path, sql: &[&str]) -> Duration {
    let start = Instant::now();
    let status = dbcord(dir, sql).status().unwrap();
    assert!(status.success(), "{sql:?}");
    start.elapsed()
}

/// `rows` users from `from`: 1 in 100 an admin.
fn insert(from: i64, rows: i64) -> String {
    format!(
        "INSERT INTO u SELECT value, 'user' || CAST(value AS VARCHAR) || '@x', \
         CASE WHEN value % 100 = 7 THEN 'admin' ELSE 'viewer' END, value % 60 \
         FROM generate_series({from}, {}) AS g(value)",
        from + rows - 1
    )
}

/// Start `sql` and kill it after a random delay within `window`; true if
/// the process was still running when killed.
pub(crate) fn kill_during(dir: &Path, sql: &str, window: Duration, rng: &mut SeededRng) -> bool {
    kill_between(dir, sql, Duration::ZERO, window, rng)
}

/// [`kill_during`], the delay drawn from `from..to`.
pub(crate) fn kill_between(
    dir: &Path,
    sql: &str,
    from: Duration,
    to: Duration,
    rng: &mut SeededRng,
) -> bool {
    let mut child = dbcord(dir, &[sql]).spawn().unwrap();
    let span = to.saturating_sub(from).as_micros().max(1) as u64;
    let delay = from.as_micros() as u64 + rng.below(span);
    std::thread::sleep(Duration::from_micros(delay));
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    running
}

/// The guild as a new process reads it. The previous stack's lock on the
/// data directory goes when its last task does, which a loaded machine
/// may delay: a locked directory is tried again for a few seconds.
pub(crate) async fn reopen(dir: &Path) -> Stack {
    let config = EmulatorConfig {
        data_dir: Some(dir.into()),
        ..EmulatorConfig::in_memory()
    };
    for _ in 0..50 {
        match Stack::try_with_config(config.clone()).await {
            Ok(s) => return s,
            Err(e) if format!("{e:#}").contains("in use by another process") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("reopening {}: {e:#}", dir.display()),
        }
    }
    panic!("{} stayed locked for 5 s", dir.display())
}

/// One figure read with pushdown on (lookups, pruning) and off (a scan of
/// everything): they must agree.
async fn both_ways(s: &Stack, q: &str) -> String {
    s.sql("SET dbcord.pushdown = true").await;
    let pushed = s.value(q).await;
    s.sql("SET dbcord.pushdown = false").await;
    let scanned = s.value(q).await;
    s.sql("SET dbcord.pushdown = true").await;
    assert_eq!(pushed, scanned, "{q}: pushdown and scan disagree");
    pushed
}

/// The users in `[from, from + rows)`: all there or none, by key, by
/// index and by scan.
async fn all_or_none(s: &Stack, from: i64, rows: i64) -> bool {
    let to = from + rows - 1;
    let n = both_ways(
        s,
        &format!("SELECT count(*) FROM u WHERE id BETWEEN {from} AND {to}"),
    )
    .await;
    let full = match n.parse::<i64>().unwrap() {
        0 => false,
        c if c == rows => true,
        c => panic!("{c} of {rows} rows of a killed INSERT are visible"),
    };
    let one = full as u8;
    for id in [from, from + rows / 2, to] {
        let by_key = both_ways(s, &format!("SELECT count(*) FROM u WHERE id = {id}")).await;
        let by_email = both_ways(
            s,
            &format!("SELECT count(*) FROM u WHERE email = 'user{id}@x'"),
        )
        .await;
        assert_eq!(
            (by_key, by_email),
            (one.to_string(), one.to_string()),
            "id {id}"
        );
    }
    full
}

/// Every index agrees with the rows: the same answers by index and by scan.
async fn indexes_agree(s: &Stack) {
    for role in ["admin", "viewer"] {
        both_ways(s, &format!("SELECT count(*) FROM u WHERE role = '{role}'")).await;
    }
    both_ways(s, "SELECT count(*) FROM u WHERE email = 'user7@x'").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_10000_row_insert_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run_to_end(dir.path(), &SCHEMA);
    let window = run_to_end(dir.path(), &[&insert(0, 10_000)]).mul_f64(1.2);
    let mut rng = SeededRng::new(9);
    let (mut kills, mut outcomes) = (0, [0, 0]);
    for attempt in 1..=3 * KILLS as i64 {
        let from = attempt * 10_000;
        if kill_during(dir.path(), &insert(from, 10_000), window, &mut rng) {
            kills += 1;
        }
        let s = reopen(dir.path()).await;
        outcomes[all_or_none(&s, from, 10_000).await as usize] += 1;
        indexes_agree(&s).await;
        if kills == KILLS {
            break;
        }
    }
    assert_eq!(kills, KILLS, "too few kills landed mid-statement");
    assert!(outcomes[0] > 0, "no kill came early enough: {outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_update_of_1000_rows_and_a_killed_compaction_change_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run_to_end(dir.path(), &SCHEMA);
    run_to_end(dir.path(), &[&insert(0, 5_000)]);
    let sum = "SELECT sum(age) FROM u WHERE id < 1000";
    // Each update also rewrites a UNIQUE indexed value: one more dot.
    let update = "UPDATE u SET age = age + 1000, email = email || '.' WHERE id < 1000";
    // Each statement's run time, measured once; a kill that came after
    // the end shortens its window.
    let mut windows = [
        run_to_end(dir.path(), &[update]),
        run_to_end(dir.path(), &["VACUUM u"]),
    ];
    let base = both_ways(&reopen(dir.path()).await, sum)
        .await
        .parse::<i64>()
        .unwrap();
    let mut rng = SeededRng::new(17);
    // KILLS for each of the two statements.
    let mut kills = 0;
    for _ in 0..6 * KILLS {
        let before = reopen(dir.path()).await;
        let (old_sum, count) = (
            both_ways(&before, sum).await.parse::<i64>().unwrap(),
            both_ways(&before, "SELECT count(*) FROM u").await,
        );
        drop(before);
        let which = kills % 2;
        let statement = [update, "VACUUM u"][which];
        if kill_during(dir.path(), statement, windows[which], &mut rng) {
            kills += 1;
        } else {
            windows[which] = windows[which].mul_f64(0.7);
        }
        let s = reopen(dir.path()).await;
        let new_sum = both_ways(&s, sum).await.parse::<i64>().unwrap();
        assert!(
            new_sum == old_sum || new_sum == old_sum + 1_000_000,
            "{statement}: sum went from {old_sum} to {new_sum}"
        );
        // The measuring run made one update; each applied since adds 1,000,000.
        let dots = 1 + ((new_sum - base) / 1_000_000) as usize;
        for (d, rows) in [(dots, "1"), (dots - 1, "0"), (dots + 1, "0")] {
            let q = format!(
                "SELECT count(*) FROM u WHERE email = 'user7@x{}'",
                ".".repeat(d)
            );
            assert_eq!(both_ways(&s, &q).await, rows, "{statement}: {q}");
        }
        assert_eq!(both_ways(&s, "SELECT count(*) FROM u").await, count);
        indexes_agree(&s).await;
        if kills == 2 * KILLS {
            break;
        }
    }
    assert_eq!(kills, 2 * KILLS, "too few kills landed mid-statement");
}

/// The shell's Ctrl-C path (`run_cancellable`), fired at random moments of
/// a 2,000-row INSERT over HTTP: each time all of it or none of it, and
/// the session goes on to run the next statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_insert_leaves_all_or_nothing_and_the_session_goes_on() {
    use dbcord::cli::args::Format;
    use dbcord::cli::repl::run_cancellable;

    let s = Stack::served().await;
    for sql in SCHEMA {
        s.sql(sql).await;
    }
    let start = Instant::now();
    s.sql(&insert(0, 2_000)).await;
    let window = start.elapsed().mul_f64(1.5);
    let mut rng = SeededRng::new(5);
    let mut outcomes = [0, 0];
    for round in 1..=KILLS as i64 {
        let from = round * 10_000;
        let delay = Duration::from_micros(rng.below(window.as_micros() as u64));
        let cancel = tokio::time::sleep(delay);
        let done = run_cancellable(&s.session, &insert(from, 2_000), Format::Csv, cancel).await;
        assert!(done.is_ok(), "{done:?}");
        let visible = all_or_none(&s, from, 2_000).await;
        if done == Ok(true) {
            assert!(visible, "an acknowledged INSERT is missing");
        }
        outcomes[visible as usize] += 1;
        indexes_agree(&s).await;
    }
    assert!(outcomes[0] > 0, "no cancel came in time: {outcomes:?}");
    s.sql("INSERT INTO u VALUES (-1, 'after@x', 'viewer', 1)")
        .await;
    assert_eq!(
        s.value("SELECT email FROM u WHERE id = -1").await,
        "after@x"
    );
}

/// `kill -9` at random points of a restore and of a reindex: a restored
/// table is there whole (rows and indexes) or not at all, and a restore run
/// again after a killed one succeeds; after a killed reindex, the index and
/// a scan give the same answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_restore_and_a_killed_reindex_leave_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run_to_end(dir.path(), &SCHEMA);
    run_to_end(dir.path(), &[&insert(0, 3_000)]);
    let id = {
        let s = reopen(dir.path()).await;
        s.value("SELECT snapshot_id FROM snapshot('u')").await
    };
    let restore = |n: usize| format!("SELECT * FROM restore('r{n}', {id})");
    let reindex = "SELECT * FROM reindex('u_email')";
    let mut windows = [
        run_to_end(dir.path(), &[&restore(0)]),
        run_to_end(dir.path(), &[reindex]),
    ];
    let mut rng = SeededRng::new(23);
    let mut kills = 0;
    for attempt in 1..=6 * KILLS {
        let which = kills % 2;
        let statement = if which == 0 {
            restore(attempt)
        } else {
            reindex.to_string()
        };
        if kill_during(dir.path(), &statement, windows[which], &mut rng) {
            kills += 1;
        } else {
            windows[which] = windows[which].mul_f64(0.7);
        }
        let s = reopen(dir.path()).await;
        if which == 0 {
            let table = format!("r{attempt}");
            let exists = s
                .value(&format!(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}'"
                ))
                .await;
            if exists == "1" {
                let n = both_ways(&s, &format!("SELECT count(*) FROM {table}")).await;
                assert_eq!(n, "3000", "a restored table is whole");
                let by_email = both_ways(
                    &s,
                    &format!("SELECT count(*) FROM {table} WHERE email = 'user7@x'"),
                )
                .await;
                assert_eq!(by_email, "1");
            } else {
                drop(s);
                // The same restore again cleans up after the killed one.
                run_to_end(dir.path(), &[&restore(attempt)]);
                continue;
            }
        } else {
            let by_email = both_ways(&s, "SELECT count(*) FROM u WHERE email = 'user7@x'").await;
            assert_eq!(by_email, "1", "the index agrees with the rows");
        }
        if kills == 2 * KILLS {
            break;
        }
    }
    assert_eq!(kills, 2 * KILLS, "too few kills landed mid-statement");
}

/// Segments of 8 KiB and batches of 64 rows: a few thousand rows span
/// dozens of segment messages, as a table of millions does by default.
const SMALL_LAYOUT: [&str; 3] = [
    "SET dbcord.segment_bytes = 8192",
    "SET dbcord.batch_rows = 64",
    "SET dbcord.compact_after = 0",
];

/// Kills of each statement of the multi-segment test.
const LAYOUT_KILLS: usize = 8;

/// `sql` after the small layout's settings, in one process.
fn small(sql: &str) -> Vec<String> {
    SMALL_LAYOUT
        .iter()
        .map(|s| s.to_string())
        .chain([sql.to_string()])
        .collect()
}

/// `kill -9` at random points of a staged bulk INSERT, of a compaction
/// that rewrites many segments (VACUUM after row commits) and of a CREATE
/// INDEX, each on a table spanning dozens of segments: each statement is
/// there whole or not at all, the same by key, by index and by scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_statements_on_a_multi_segment_table_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = |sql: &str| {
        let all = small(sql);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        run_to_end(dir.path(), &refs)
    };
    run_to_end(dir.path(), &SCHEMA);
    run(&insert(0, 4_000));
    run("VACUUM u");
    let segments = {
        let s = reopen(dir.path()).await;
        // A query reads the table's log; the prediction comes from it.
        assert_eq!(s.value("SELECT count(*) FROM u").await, "4000");
        let store = s.engine().store();
        let def = store.table("main", "u").unwrap();
        store
            .predict(&def, &dbcord::store::Access::Scan(Vec::new()))
            .full_segments
    };
    assert!(segments >= 20, "the table spans {segments} segments");
    let create_index = "CREATE INDEX u_age ON u (age)";
    let mut windows = [
        run(&insert(100_000, 2_000)),
        run("VACUUM u"),
        run(create_index),
    ];
    run_to_end(dir.path(), &["DROP INDEX u_age"]);
    let mut rng = SeededRng::new(29);
    let mut kills = [0; 3];
    for attempt in 1..=9 * LAYOUT_KILLS as i64 {
        if kills.iter().all(|k| *k >= LAYOUT_KILLS) {
            break;
        }
        let which = (attempt % 3) as usize;
        let from = 200_000 + attempt * 10_000;
        // Row commits for the compaction to fold into many segments.
        if which == 1 {
            for id in [from, from + 1, from + 2] {
                run(&format!(
                    "INSERT INTO u VALUES ({id}, 'r{id}@x', 'viewer', 3)"
                ));
            }
        }
        let before = both_ways(&reopen(dir.path()).await, "SELECT count(*) FROM u").await;
        let statement = match which {
            0 => insert(from, 2_000),
            1 => "VACUUM u".to_string(),
            _ => create_index.to_string(),
        };
        let all = small(&statement);
        let mut child = dbcord(
            dir.path(),
            &all.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_micros(
            rng.below(windows[which].as_micros() as u64),
        ));
        if child.try_wait().unwrap().is_none() {
            kills[which] += 1;
        } else {
            windows[which] = windows[which].mul_f64(0.7);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let s = reopen(dir.path()).await;
        let count = both_ways(&s, "SELECT count(*) FROM u").await;
        match which {
            0 => {
                let whole = all_or_none(&s, from, 2_000).await;
                let n: i64 = before.parse().unwrap();
                assert_eq!(count, (n + 2_000 * whole as i64).to_string());
            }
            1 => assert_eq!(count, before, "a compaction changes no row"),
            _ => {
                assert_eq!(count, before, "an index build changes no row");
                // With or without the index, the answers agree.
                for age in [3, 17] {
                    both_ways(&s, &format!("SELECT count(*) FROM u WHERE age = {age}")).await;
                }
                drop(s);
                run_to_end(dir.path(), &["DROP INDEX IF EXISTS u_age"]);
                indexes_agree(&reopen(dir.path()).await).await;
                continue;
            }
        }
        indexes_agree(&s).await;
    }
    assert!(
        kills.iter().all(|k| *k >= LAYOUT_KILLS),
        "too few kills landed mid-statement: {kills:?}"
    );
}
