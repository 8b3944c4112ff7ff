//! The shell's features as a user meets them through the binary: output
//! formats, --maxrows, --quiet, --no-bail, --timing, --database, the rc
//! file, dot-commands in scripts, errors naming file and line; and the
//! interactive shell's completion and validation.

use std::path::Path;
use std::process::{Command, Stdio};

use dbcord::cli::repl::SqlHelper;

use crate::common::Stack;

use crate::common::{run_dbcord as dbcord, stderr_of as err, stdout_of as out};

fn setup(dir: &Path) {
    let o = dbcord(
        dir,
        &[
            "-c",
            "CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, note TEXT NOT NULL DEFAULT 'x' CHECK (length(note) < 9))",
            "-c",
            "CREATE UNIQUE INDEX t_note ON t (note)",
            "-c",
            "INSERT INTO t VALUES ('a', 1, 'p|q'), ('b', NULL, 'y')",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
}

#[test]
fn every_output_format_prints_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let q = "SELECT id, n, note FROM t ORDER BY id";
    let expected = [
        ("csv", "id,n,note\na,1,p|q\nb,,y\n"),
        ("tsv", "id\tn\tnote\na\t1\tp|q\nb\t\ty\n"),
        (
            "json",
            "[{\"id\":\"a\",\"n\":1,\"note\":\"p|q\"},{\"id\":\"b\",\"note\":\"y\"}]\n",
        ),
        (
            "ndjson",
            "{\"id\":\"a\",\"n\":1,\"note\":\"p|q\"}\n{\"id\":\"b\",\"note\":\"y\"}\n",
        ),
        (
            "markdown",
            "| id | n | note |\n|---|---|---|\n| a | 1 | p\\|q |\n| b | NULL | y |\n(2 rows)\n",
        ),
        (
            "table",
            "+----+---+------+\n| id | n | note |\n+----+---+------+\n| a  | 1 | p|q  |\n| b  |   | y    |\n+----+---+------+\n(2 rows)\n",
        ),
    ];
    for (format, want) in expected {
        let o = dbcord(dir.path(), &["-c", q, "--format", format]);
        assert!(o.status.success(), "{format}: {}", err(&o));
        assert_eq!(out(&o), want, "--format {format}");
    }
}

#[test]
fn maxrows_quiet_and_database_shape_what_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let o = dbcord(
        dir.path(),
        &["-c", "SELECT id FROM t ORDER BY id", "--maxrows", "1"],
    );
    let text = out(&o);
    assert!(
        text.contains("| a  |") && !text.contains("| b  |"),
        "{text}"
    );
    assert!(text.contains("(2 rows, the first 1 shown"), "{text}");
    let o = dbcord(
        dir.path(),
        &[
            "-c",
            "CREATE DATABASE shop",
            "-c",
            "SELECT 1 AS one",
            "--quiet",
        ],
    );
    assert_eq!(out(&o), "+-----+\n| one |\n+-----+\n| 1   |\n+-----+\n");
    let o = dbcord(
        dir.path(),
        &[
            "--database",
            "shop",
            "-c",
            "CREATE TABLE s (id BIGINT PRIMARY KEY)",
            "-c",
            "SHOW TABLES",
            "--format",
            "csv",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains("dbcord,shop,s,BASE TABLE"), "{}", out(&o));
    let o = dbcord(dir.path(), &["--database", "nope", "-c", "SELECT 1"]);
    assert!(!o.status.success());
    assert!(
        err(&o).contains("database \"nope\" does not exist"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_script_error_names_its_file_and_line_and_no_bail_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let script = dir.path().join("s.sql");
    std::fs::write(
        &script,
        "-- two good, one bad, one good\n\
         SELECT 'a;b' AS s;\n\
         /* a comment; with semicolons; */\n\
         INSERT INTO t (id, note)\n\
             VALUES ('c', 'much too long');\n\
         SELECT count(*) AS n FROM t;\n",
    )
    .unwrap();
    let path = script.to_str().unwrap();
    let o = dbcord(dir.path(), &["-f", path, "--format", "csv"]);
    assert!(!o.status.success());
    assert_eq!(out(&o), "s\na;b\n", "the script stopped at the error");
    assert!(
        err(&o).contains(&format!("error: {path}:4: ")),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("violates CHECK"), "{}", err(&o));
    let o = dbcord(dir.path(), &["-f", path, "--format", "csv", "--no-bail"]);
    assert!(!o.status.success(), "a failure still fails the run");
    assert_eq!(out(&o), "s\na;b\nn\n2\n", "the rest ran");
}

#[test]
fn dot_commands_run_in_scripts_and_the_rc_file() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let other = dir.path().join("other.sql");
    std::fs::write(&other, "SELECT 'from other' AS w;\n").unwrap();
    let into = dir.path().join("out.txt");
    let rc = dir.path().join("rc");
    std::fs::write(&rc, ".mode csv\n.timing on\n").unwrap();
    let script = dir.path().join("s.sql");
    std::fs::write(
        &script,
        format!(
            ".schema t\n.indexes\n.read {}\n.output {}\nSELECT id FROM t ORDER BY id;\n.output stdout\n.use main\n.tables\n",
            other.display(),
            into.display()
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--rc")
        .arg(&rc)
        .arg("-f")
        .arg(&script)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    for want in [
        "CREATE TABLE main.t (",
        "    note TEXT NOT NULL DEFAULT 'x',",
        "    PRIMARY KEY (id),",
        "    CONSTRAINT t_check1 CHECK (length(note) < 9)",
        "CREATE UNIQUE INDEX t_note ON main.t (note);",
        "t_note on main.t (note) unique",
        "w\nfrom other\n",
    ] {
        assert!(text.contains(want), "{want:?} missing from\n{text}");
    }
    assert!(text.trim_end().ends_with('t'), ".tables lists t: {text}");
    assert_eq!(std::fs::read_to_string(&into).unwrap(), "id\na\nb\n");
    let timing = err(&o);
    assert!(timing.contains("Time: "), "{timing}");
    assert!(
        timing.contains("Discord: 1 requests (list_channels 1)"),
        "{timing}"
    );
    assert!(timing.contains("CDN: 0 requests"), "{timing}");
}

#[test]
fn timing_reports_each_statements_requests() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let o = dbcord(
        dir.path(),
        &[
            "--timing",
            "-c",
            "INSERT INTO t VALUES ('z', 3, 'zz')",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let timing = err(&o);
    let line = timing
        .lines()
        .find(|l| l.starts_with("Discord: "))
        .unwrap_or_else(|| panic!("{timing}"));
    assert!(line.contains("create_message 1"), "{line}");
    // The total is the sum of the routes listed.
    let total: u64 = line["Discord: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let listed: u64 = line
        .split(['(', ')', ','])
        .filter_map(|part| part.trim().rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(total, listed, "{line}");
    let o = dbcord(
        dir.path(),
        &[
            "--timing",
            "-c",
            "SELECT id FROM t WHERE id = 'z'",
            "--quiet",
        ],
    );
    let timing = err(&o);
    assert!(timing.contains("Rows returned: 1"), "{timing}");
    assert!(
        timing.contains("Scan of main.t: key lookup (1 keys)"),
        "{timing}"
    );
    assert!(timing.contains("simulated Discord time"), "{timing}");
}

#[tokio::test]
async fn completion_offers_keywords_tables_columns_and_dot_commands() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT)")
        .await;
    let h = SqlHelper::new(std::sync::Arc::clone(s.engine().store()), "main".into());
    let words = |line: &str| h.complete_at(line, line.len()).1;
    assert_eq!(words("SEL"), ["SELECT"]);
    assert_eq!(words("sel"), ["select"]);
    assert!(words("SELECT * FROM us").contains(&"users".to_string()));
    assert!(words("SELECT * FROM main.u").contains(&"main.users".to_string()));
    assert!(words("SELECT em").contains(&"email".to_string()));
    assert!(words(".ti").contains(&".timing".to_string()));
    assert!(words("SELECT * FROM veri").contains(&"verify".to_string()));
    assert_eq!(
        h.complete_at("SELECT em", 9).0,
        7,
        "the word starts after the space"
    );
    assert_eq!(
        words("SELECT →em"),
        ["email"],
        "after a character of 3 bytes"
    );
}

#[tokio::test]
async fn explain_format_tree_puts_the_scan_path_and_rechecks_on_lines_of_their_own() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, b BIGINT)")
        .await;
    s.sql("CREATE INDEX t_b ON t (b)").await;
    let plan = s
        .text("EXPLAIN FORMAT TREE SELECT id FROM t WHERE b = 3 AND id > 2")
        .await;
    for want in [
        "DiscordScanExec",
        "channel: #table-t",
        "strategy:",
        "index lookup (t_b)",
        "rechecked:",
    ] {
        assert!(plan.contains(want), "{want:?} missing from\n{plan}");
    }
}

#[tokio::test]
async fn explain_analyze_puts_each_fact_and_metric_on_a_line_of_its_own() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, b BIGINT)")
        .await;
    s.sql("CREATE INDEX t_b ON t (b)").await;
    s.sql("INSERT INTO t SELECT value, value % 10 FROM generate_series(1, 3000)")
        .await;
    let rows = s
        .values("EXPLAIN ANALYZE SELECT id FROM t WHERE b = 3 AND id > 2")
        .await;
    let plan = &rows[0][1];
    let lines: Vec<&str> = plan.lines().collect();
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "{plan}");
    for want in [
        "DiscordScanExec: table=main.t (#table-t)",
        "strategy=index lookup (t_b)",
        "metrics:",
        "cdn_requests=",
        "runs_pruned=0",
    ] {
        assert!(
            lines.iter().any(|l| l.trim_start().starts_with(want)),
            "{want:?} does not start a line of\n{plan}"
        );
    }
}

#[tokio::test]
async fn explain_predicts_the_cdn_reads_and_the_segments_pushdown_skips() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, b BIGINT)")
        .await;
    let unknown = s.text("EXPLAIN SELECT * FROM t WHERE id > 8000").await;
    assert!(
        unknown.contains("not read by this process yet"),
        "{unknown}"
    );
    s.sql("INSERT INTO t SELECT value, value % 10 FROM generate_series(1, 5000)")
        .await;
    s.sql("VACUUM t").await;
    s.sql("INSERT INTO t SELECT value, value % 10 FROM generate_series(5001, 9000)")
        .await;
    s.sql("SELECT count(*) FROM t").await;
    let plan = s.text("EXPLAIN SELECT * FROM t WHERE id > 8000").await;
    assert!(
        plan.contains("predicted=[1 request (no history page unless the table changed), at most 1 CDN reads, 1 segments skipped]"),
        "{plan}"
    );
    let lookup = s.text("EXPLAIN SELECT * FROM t WHERE id = 3").await;
    assert!(lookup.contains("at most 1 CDN reads]"), "{lookup}");
}

/// Progress as the store reports it: (what, total, paced by Discord) at
/// each start, then steps, then a finish.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<String>>);

impl dbcord::store::Progress for Recorder {
    fn start(&self, what: &str, total: u64, eta_s: Option<f64>) {
        let paced = eta_s.map_or("-".into(), |s| format!("{s:.0}s"));
        self.0
            .lock()
            .unwrap()
            .push(format!("start {what} {total} {paced}"));
    }
    fn advance(&self, n: u64) {
        self.0.lock().unwrap().push(format!("+{n}"));
    }
    fn finish(&self) {
        self.0.lock().unwrap().push("finish".into());
    }
}

#[tokio::test]
async fn long_work_reports_its_progress_with_the_rate_limits_estimate() {
    let s = Stack::new().await;
    let rec = std::sync::Arc::new(Recorder::default());
    s.engine().store().set_progress(rec.clone());
    s.sql("CREATE TABLE d (id TEXT PRIMARY KEY, body TEXT) WITH (large_rows = 'shards')")
        .await;
    s.sql(&format!(
        "INSERT INTO d VALUES ('k', '{}')",
        "x".repeat(17_000)
    ))
    .await;
    let events = std::mem::take(&mut *rec.0.lock().unwrap());
    assert_eq!(events[0], "start posting shards 10 10s", "{events:?}");
    assert_eq!(
        events.iter().filter(|e| *e == "+1").count(),
        10,
        "{events:?}"
    );
    assert_eq!(events.last().unwrap(), "finish");
    // A scan of many segment batches shows its progress too.
    s.sql("CREATE TABLE big (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    for i in 0..9 {
        s.sql(&format!(
            "INSERT INTO big SELECT value, 'v' FROM generate_series({}, {})",
            i * 100 + 1,
            i * 100 + 100
        ))
        .await;
    }
    rec.0.lock().unwrap().clear();
    s.sql("SELECT count(*) FROM big").await;
    let events = std::mem::take(&mut *rec.0.lock().unwrap());
    assert!(
        events[0].starts_with("start reading main.big 9 -"),
        "{events:?}"
    );
    assert_eq!(events.last().unwrap(), "finish");
}
