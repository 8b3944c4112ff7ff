//! The `dbcord` binary, as a user runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::common::{run_dbcord as dbcord, stderr_of as stderr, stdout_of as stdout};

#[test]
fn commands_run_in_order_and_csv_prints_only_result_sets() {
    let dir = tempfile::tempdir().unwrap();
    let o = dbcord(
        dir.path(),
        &[
            "-c",
            "CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT)",
            "-c",
            "INSERT INTO t VALUES ('a',1),('b',2)",
            "-c",
            "SELECT sum(n) AS s FROM t",
            "--format",
            "csv",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "s\n3\n");
}

#[test]
fn quickstart_runs_and_a_second_run_sees_the_same_tables_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sql/quickstart.sql");
    let first = dbcord(dir.path(), &["-f", script]);
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    for want in ["Ada Lovelace", "Grace Hopper", "(4 rows)"] {
        assert!(out.contains(want), "{want:?} missing from\n{out}");
    }
    let second = dbcord(dir.path(), &["-f", script]);
    assert!(second.status.success(), "{}", stderr(&second));
    let result_sets = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with('|') || l.starts_with('('))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(result_sets(&out), result_sets(&stdout(&second)));
    assert!(
        stdout(&second).contains("INSERT 0"),
        "the rows were already there"
    );
    let count = dbcord(
        dir.path(),
        &[
            "-c",
            "SELECT count(*) AS n FROM shop.orders",
            "--format",
            "csv",
        ],
    );
    assert_eq!(stdout(&count), "n\n6\n");
    let unpaid = dbcord(
        dir.path(),
        &[
            "-c",
            "SELECT c.city, sum(o.amount) AS unpaid FROM shop.orders o \
             JOIN shop.customers c ON o.customer = c.id WHERE NOT o.paid \
             GROUP BY c.city ORDER BY c.city",
            "--format",
            "csv",
        ],
    );
    assert_eq!(stdout(&unpaid), "city,unpaid\nLondon,12.5\nNew York,45.0\n");
}

#[test]
fn a_failing_statement_stops_the_script_with_a_nonzero_status() {
    let dir = tempfile::tempdir().unwrap();
    let o = dbcord(
        dir.path(),
        &["-c", "SELECT * FROM missing", "-c", "SELECT 1"],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("-c #1") && err.contains("missing"), "{err}");
    assert!(stdout(&o).is_empty(), "the second command must not run");
}

#[test]
fn statements_are_read_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"CREATE TABLE t (id TEXT PRIMARY KEY);\nINSERT INTO t VALUES ('x');\nSELECT id FROM t;\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "id\nx\n");
}

#[test]
fn a_syntax_error_is_reported_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let o = dbcord(dir.path(), &["-c", "SELEC 1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("error: -c #1"), "{}", stderr(&o));
}

#[test]
fn stats_report_the_cost_on_discord() {
    let dir = tempfile::tempdir().unwrap();
    let o = dbcord(
        dir.path(),
        &[
            "--stats",
            "-c",
            "CREATE TABLE t (id TEXT PRIMARY KEY)",
            "-c",
            "SELECT * FROM t",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("Discord requests:") && err.contains("list_messages 1"),
        "{err}"
    );
}

/// `dbcord emulator serve` in the background; killed when dropped.
pub struct Served {
    child: std::process::Child,
    pub base: String,
    pub guild: String,
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        Self::start_with(&["--in-memory"], extra)
    }

    /// Served 20 times faster than real time.
    fn start_with(storage: &[&str], extra: &[&str]) -> Served {
        let mut args = vec!["--time-scale", "20"];
        args.extend_from_slice(storage);
        args.extend_from_slice(extra);
        Self::start_args(&args)
    }

    /// `dbcord emulator serve --addr 127.0.0.1:0 <args>`, once it has
    /// printed its address and guild.
    pub fn start_args(args: &[&str]) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_dbcord"))
            .args(["emulator", "serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut base, mut guild) = (String::new(), String::new());
        while guild.is_empty() {
            let line = lines
                .next()
                .expect("the server prints its address")
                .unwrap();
            if let Some(b) = line.strip_prefix("DISCORD_API_BASE=") {
                base = b.to_string();
            }
            if let Some(g) = line.strip_prefix("DBCORD_GUILD_ID=") {
                guild = g.to_string();
            }
        }
        Served { child, base, guild }
    }

    fn client(&self, token: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_dbcord"))
            .args(["--backend", "discord"])
            .args(args)
            .env("DISCORD_API_BASE", &self.base)
            .env("DISCORD_BOT_TOKEN", token)
            .env("DBCORD_GUILD_ID", &self.guild)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn quickstart_over_http_prints_the_same_as_the_embedded_default() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sql/quickstart.sql");
    let served = Served::start(&[]);
    let over_http = served.client("x", &["-f", script]);
    assert!(over_http.status.success(), "{}", stderr(&over_http));
    let dir = tempfile::tempdir().unwrap();
    let embedded = dbcord(dir.path(), &["-f", script]);
    assert_eq!(stdout(&over_http), stdout(&embedded));
}

#[test]
fn the_bot_token_never_appears_in_output_or_logs() {
    let served = Served::start(&["--token", "the-right-token"]);
    let secret = "wrong-token-Zx81.secret";
    let o = served.client(secret, &["-c", "SELECT 1"]);
    assert!(!o.status.success());
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("refused the bot token"), "{all}");
    assert!(!all.contains(secret), "the token leaked:\n{all}");
    let ok = served.client(
        "the-right-token",
        &["-c", "SELECT 1 AS one", "--format", "csv"],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        !stderr(&ok).contains("the-right-token"),
        "the token leaked into the debug log"
    );
    assert_eq!(stdout(&ok), "one\n1\n");
}

#[test]
fn acknowledged_writes_survive_kill_9_of_the_served_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut served = Served::start_with(&["--data-dir", data], &[]);
    let o = served.client(
        "x",
        &[
            "-c",
            "CREATE TABLE t (id TEXT PRIMARY KEY)",
            "-c",
            "INSERT INTO t VALUES ('a'), ('b')",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    served.child.kill().unwrap(); // SIGKILL: no chance to flush anything
    served.child.wait().unwrap();
    let again = Served::start_with(&["--data-dir", data], &[]);
    assert_eq!(again.guild, served.guild, "the guild keeps its ID");
    let o = again.client(
        "x",
        &["-c", "SELECT count(*) AS n FROM t", "--format", "csv"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "n\n2\n");
}

#[test]
fn the_served_emulator_refuses_a_client_without_a_discord_bot_user_agent() {
    let served = Served::start(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/api/v10/users/@me", served.base))
            .header("authorization", "Bot x")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 403, "as Cloudflare answers curl");
    let o = served.client("x", &["-c", "SELECT 1 AS one", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `dbcord bench --format json` at small scale: stable fields, and the
/// costs the storage engine promises (counted by the emulator, not timed).
#[test]
fn bench_json_reports_every_scenario_within_its_goal() {
    let dir = tempfile::tempdir().unwrap();
    let o = dbcord(
        dir.path(),
        &["bench", "--rows", "20000", "--format", "json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let all: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 19);
    let find = |name: &str| {
        all.iter()
            .find(|m| m["scenario"].as_str().unwrap() == name)
            .unwrap_or_else(|| panic!("no scenario {name}"))
    };
    let cost = |name: &str, what: &str| find(name)["cost"][what].as_u64().unwrap();
    assert!(cost("count(*)", "api_requests") <= 3);
    // The manifest at most: no data batch.
    assert!(cost("count(*)", "cdn_requests") <= 1);
    assert!(cost("count(*)", "cdn_bytes") * 10 < cost("count(*) (pushdown off)", "cdn_bytes"));
    assert!(cost("primary-key lookup", "api_requests") <= 3);
    assert!(cost("primary-key lookup", "cdn_requests") <= 2);
    assert!(cost("indexed equality, 0.01% of rows", "api_requests") <= 5);
    let full = "full scan of every column";
    let lower = find(full)["lower_bound"].as_str().unwrap();
    let table: u64 = lower
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no table size in {lower}"));
    assert!(cost(full, "cdn_bytes") * 10 <= table * 11, "{lower}");
    let wa = find("the 100th one-row INSERT and the compaction it brings")["lower_bound"]
        .as_str()
        .unwrap();
    let factor: f64 = wa
        .strip_prefix("write amplification ")
        .and_then(|r| r.split('x').next())
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("{wa}"));
    assert!(factor <= 30.0, "{wa}");
    for after in [
        "one-row INSERT after the compaction",
        "primary-key lookup after the compaction",
    ] {
        assert!(cost(after, "cdn_bytes") < table / 10, "{after}");
        assert!(cost(after, "uploaded_bytes") < table / 10, "{after}");
    }
    assert!(find("count(*)")["memtable_ms"].as_f64().is_some());
}

#[test]
fn the_seed_walkthrough_runs_clean_and_shows_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sql/seed_walkthrough.sql"
    );
    let o = dbcord(dir.path(), &["-f", script, "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    for want in [
        "id,email",
        "u_1,a@example.com",
        "id,role",
        "u_1,student",
        "id,email,role",
        "u_1,a@example.com,admin",
        "kind,ok,detail",
        "table_name,row_count,checksum",
        "version,op,row_json",
        r#"1,insert,"{""id"":""u_1"",""email"":""a@example.com"",""role"":""student""}""#,
        r#"2,update,"{""id"":""u_1"",""email"":""a@example.com"",""role"":""admin""}""#,
    ] {
        assert!(lines.contains(&want), "{want:?} missing from\n{out}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("duplicate key,true,none among")),
        "{out}"
    );
    assert!(!out.contains(",false,"), "verify found a problem:\n{out}");
    assert!(
        lines.iter().any(|l| l.starts_with("prod.users,1,")),
        "the snapshot holds one row:\n{out}"
    );
    // The snapshot is in the guild: a second process restores it.
    let id = dbcord(
        dir.path(),
        &[
            "-c",
            "SELECT snapshot_id FROM snapshot('prod.users')",
            "--format",
            "csv",
        ],
    );
    let id = stdout(&id).lines().nth(1).unwrap().to_string();
    let restored = dbcord(
        dir.path(),
        &[
            "-c",
            &format!("SELECT row_count FROM restore('prod.users_copy', {id})"),
            "-c",
            "SELECT role FROM prod.users_copy WHERE email = 'a@example.com'",
            "--format",
            "csv",
        ],
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    assert_eq!(stdout(&restored), "row_count\n1\nrole\nadmin\n");
}
