//! `dbcord serve --pg`: real Postgres clients against the server. psql runs
//! the quickstart and describes tables, psycopg (installed by these tests
//! from `tests/pg/requirements.txt`) runs a program's transactions, and
//! tokio-postgres prepares, binds binary parameters and reads binary rows,
//! copies, authenticates and races another client.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use dbcord::pg::{PgOptions, start};
use tokio_postgres::{Client, NoTls};

use crate::common::{Stack, table};

/// A server on an embedded guild; its address.
async fn serve(s: &Stack, password: Option<&str>) -> std::net::SocketAddr {
    let options = PgOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        password: password.map(str::to_string),
        ..PgOptions::default()
    };
    start(Arc::clone(s.engine().store()), options)
        .await
        .unwrap()
        .addr
}

async fn connect(
    addr: std::net::SocketAddr,
    password: Option<&str>,
) -> Result<Client, tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(addr.port())
        .user("dbcord")
        .dbname("main");
    if let Some(p) = password {
        config.password(p);
    }
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run a program off the runtime's threads (the server runs on them).
async fn output(mut c: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || c.output())
        .await
        .unwrap()
        .expect("the program is installed (psql: the README's set-up)")
}

/// psql on `addr`, with `args`.
fn psql_command(addr: std::net::SocketAddr, args: &[&str]) -> Command {
    let mut c = Command::new("psql");
    c.args([
        "-X",
        "-h",
        "127.0.0.1",
        "-p",
        &addr.port().to_string(),
        "-d",
        "main",
    ])
    .args(args)
    .env("PGCONNECT_TIMEOUT", "10");
    c
}

/// psql with `args`, on `addr`; its standard output (panics on failure).
async fn psql(addr: std::net::SocketAddr, args: &[&str]) -> String {
    let out = output(psql_command(addr, args)).await;
    assert!(
        out.status.success(),
        "psql {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_runs_the_quickstart_and_prints_the_rows_the_shell_prints() {
    let s = Stack::new().await;
    let addr = serve(&s, None).await;
    let quickstart = workspace().join("sql/quickstart.sql");
    let quickstart = quickstart.to_str().unwrap();
    // Unaligned, tuples only: one line a row, cells joined by |.
    let printed = psql(
        addr,
        &["-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", quickstart],
    )
    .await;
    // The same statements through the shell's engine, on a fresh guild.
    let shell = Stack::new().await;
    let text = std::fs::read_to_string(quickstart).unwrap();
    let mut expected = Vec::new();
    for outcome in shell.engine().execute(&text).await.unwrap() {
        if let dbcord::sql::Outcome::Rows { batches, .. } = outcome {
            for r in crate::common::cells(&batches) {
                expected.push(r.join("|").replace("NULL", ""));
            }
        }
    }
    let got: Vec<String> = printed.lines().map(str::to_string).collect();
    assert!(expected.len() >= 10, "{expected:?}");
    assert_eq!(got, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_lists_and_describes_tables_from_the_catalog() {
    let s = Stack::new().await;
    let addr = serve(&s, None).await;
    s.sql("CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, age INT DEFAULT 30, CHECK (age >= 0))")
        .await;
    s.sql("CREATE UNIQUE INDEX customers_name ON customers (name)")
        .await;
    let dt = psql(addr, &["-c", "\\dt"]).await;
    assert!(dt.contains("main   | customers | table | dbcord"), "{dt}");
    let d = psql(addr, &["-c", "\\d customers"]).await;
    for line in [
        "Table \"main.customers\"",
        " id     | text    |           | not null | ",
        " name   | text    |           | not null | ",
        " age    | integer |           |          | 30",
        "\"customers_pkey\" PRIMARY KEY, btree (id)",
        "\"customers_name\" UNIQUE, btree (name)",
        "CHECK (age >= 0)",
    ] {
        assert!(d.contains(line), "missing {line:?} in:\n{d}");
    }
    let l = psql(addr, &["-c", "\\l"]).await;
    assert!(l.contains(" main "), "{l}");
    let dn = psql(addr, &["-c", "\\dn"]).await;
    assert!(dn.contains(" main ") && dn.contains(" discord "), "{dn}");
    let missing = output(psql_command(addr, &["-c", "\\d nosuch"])).await;
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(
        said.contains("Did not find any relation named \"nosuch\""),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copies_rows_in_and_out() {
    let s = Stack::new().await;
    let addr = serve(&s, None).await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, n INT DEFAULT 7)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.tsv");
    std::fs::write(&input, "1\tone\t\\N\n2\ttwo, \"quoted\"\\ttab\t5\n").unwrap();
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, "id,name\n3,\"three, with a comma\"\n").unwrap();
    let out = psql(
        addr,
        &[
            "-c",
            &format!("\\copy t from '{}'", input.display()),
            "-c",
            &format!(
                "\\copy t (id, name) from '{}' with (format csv, header true)",
                csv.display()
            ),
            "-c",
            "\\copy (SELECT * FROM t ORDER BY id) to stdout with (format csv)",
        ],
    )
    .await;
    assert_eq!(
        out,
        "COPY 2\nCOPY 1\n1,one,\n2,\"two, \"\"quoted\"\"\ttab\",5\n3,\"three, with a comma\",7\n"
    );
    // A bad line writes nothing.
    std::fs::write(&input, "4\tfour\t1\nfive\tfive\t2\n").unwrap();
    let copy = format!("\\copy t from '{}'", input.display());
    let bad = output(psql_command(addr, &["-c", &copy])).await;
    assert!(!bad.status.success());
    assert_eq!(s.value("SELECT count(*) FROM t").await, "3");
}

/// A Python with psycopg, in `target/pg-venv`, made once from the
/// requirements file (pip fetches from PyPI, as for any project file).
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let venv = workspace().join("target/pg-venv");
        let python = venv.join("bin/python");
        let requirements = workspace().join("crates/dbcord/tests/pg/requirements.txt");
        let stamp = venv.join("requirements.txt");
        let wanted = std::fs::read_to_string(&requirements).unwrap();
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(&wanted) {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status();
            assert!(made.is_ok_and(|s| s.success()), "python3 -m venv");
            let pip = Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "--disable-pip-version-check", "-r"])
                .arg(&requirements)
                .status()
                .unwrap();
            assert!(pip.success(), "pip install -r {}", requirements.display());
            std::fs::write(&stamp, wanted).unwrap();
        }
        python
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_psycopg_program_runs_its_transactions() {
    let python = tokio::task::spawn_blocking(python).await.unwrap();
    let s = Stack::new().await;
    let addr = serve(&s, None).await;
    let script = workspace().join("crates/dbcord/tests/pg/psycopg_bank.py");
    let mut c = Command::new(python);
    c.arg(script).arg(addr.port().to_string());
    let out = output(c).await;
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && printed.ends_with("all ok\n"),
        "{printed}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The server's rows are the store's.
    assert_eq!(
        s.values("SELECT c.balance + s.balance FROM checking c JOIN savings s ON c.id = s.id ORDER BY c.id")
            .await,
        table(&[&["1100"], &["555"]])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_prepares_binds_and_reads_binary() {
    let s = Stack::new().await;
    let addr = serve(&s, None).await;
    let c = connect(addr, None).await.unwrap();
    c.batch_execute(
        "CREATE TABLE m (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE, ok BOOLEAN, at TIMESTAMP)",
    )
    .await
    .unwrap();
    let insert = c
        .prepare("INSERT INTO m VALUES ($1, $2, $3, $4, $5)")
        .await
        .unwrap();
    let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 6)
        .unwrap()
        .and_hms_opt(3, 4, 5)
        .unwrap();
    for i in 0..5i64 {
        let n = c
            .execute(
                &insert,
                &[&i, &format!("n{i}"), &(i as f64 / 2.0), &(i % 2 == 0), &at],
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    let rows = c
        .query(
            "SELECT id, name, score, ok, at FROM m WHERE id >= $1 ORDER BY id",
            &[&3i64],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<_, i64>(0), 3);
    assert_eq!(rows[0].get::<_, String>(1), "n3");
    assert_eq!(rows[0].get::<_, f64>(2), 1.5);
    assert!(!rows[0].get::<_, bool>(3));
    assert_eq!(rows[1].get::<_, chrono::NaiveDateTime>(4), at);
    // Command tags carry the counts.
    assert_eq!(
        c.execute("UPDATE m SET ok = true WHERE id < 3", &[])
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        c.execute("DELETE FROM m WHERE id = 4", &[]).await.unwrap(),
        1
    );
    // An error carries its SQLSTATE, and the connection goes on.
    let e = c
        .execute("INSERT INTO m (id) VALUES (1)", &[])
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().code(), "23505");
    let e = c.query("SELECT * FROM nosuch", &[]).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "42P01");
    // A portal read a few rows at a time.
    let mut c = c;
    let t = c.transaction().await.unwrap();
    let portal = t.bind("SELECT id FROM m ORDER BY id", &[]).await.unwrap();
    let first = t.query_portal(&portal, 3).await.unwrap();
    let rest = t.query_portal(&portal, 10).await.unwrap();
    let ids: Vec<i64> = first.iter().chain(&rest).map(|r| r.get(0)).collect();
    assert_eq!((first.len(), ids), (3, vec![0, 1, 2, 3]));
    t.commit().await.unwrap();
    // What drivers ask of the server.
    let v = c.simple_query("SHOW server_version").await.unwrap();
    let shown = v.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(shown.as_deref(), Some("15.0"));
    let db: String = c
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(db, "main");
    // A transaction through the client's own API.
    let t = c.transaction().await.unwrap();
    t.execute("INSERT INTO m (id, name) VALUES (10, 'ten')", &[])
        .await
        .unwrap();
    t.rollback().await.unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM m", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_is_required_and_checked_and_loopback_is_the_default() {
    let s = Stack::new().await;
    let addr = serve(&s, Some("s3cret")).await;
    let right = connect(addr, Some("s3cret")).await.unwrap();
    let one: i64 = right
        .query_one("SELECT 1::BIGINT", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(one, 1);
    let Err(wrong) = connect(addr, Some("nope")).await else {
        panic!("a wrong password is refused");
    };
    assert_eq!(wrong.code().unwrap().code(), "28P01");
    // The server asks for the password: a client without one cannot go on.
    assert!(connect(addr, None).await.is_err(), "no password is refused");
    // Without a password, only loopback addresses may be listened on.
    let open = PgOptions {
        addr: "0.0.0.0:0".parse().unwrap(),
        ..PgOptions::default()
    };
    let Err(refused) = start(Arc::clone(s.engine().store()), open).await else {
        panic!("a non-loopback address without a password is refused");
    };
    assert!(
        refused.to_string().contains("without a password"),
        "{refused}"
    );
}

/// Two clients move money between the same accounts in two tables at
/// once, round after round: a loser is told 40001 and tries again; no
/// update is lost and the total never changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_transfers_across_two_tables_conserve_the_total() {
    let s = Stack::new().await;
    let addr = serve(&s, None).await;
    s.sql("CREATE TABLE a (id TEXT PRIMARY KEY, v BIGINT)")
        .await;
    s.sql("CREATE TABLE b (id TEXT PRIMARY KEY, v BIGINT)")
        .await;
    s.sql("INSERT INTO a VALUES ('x', 1000)").await;
    s.sql("INSERT INTO b VALUES ('x', 1000)").await;
    const ROUNDS: usize = 15;
    let transfer = |amount: i64| async move {
        let mut c = connect(addr, None).await.unwrap();
        let mut retries = 0;
        for _ in 0..ROUNDS {
            loop {
                let t = c.transaction().await.unwrap();
                let r = async {
                    t.execute("UPDATE a SET v = v - $1 WHERE id = 'x'", &[&amount])
                        .await?;
                    t.execute("UPDATE b SET v = v + $1 WHERE id = 'x'", &[&amount])
                        .await?;
                    t.commit().await
                }
                .await;
                match r {
                    Ok(()) => break,
                    Err(e) if e.code().map(|c| c.code()) == Some("40001") => retries += 1,
                    Err(e) => panic!("transfer: {e}"),
                }
            }
        }
        retries
    };
    let (r1, r2) = tokio::join!(transfer(3), transfer(5));
    let a: i64 = s.value("SELECT v FROM a").await.parse().unwrap();
    let b: i64 = s.value("SELECT v FROM b").await.parse().unwrap();
    assert_eq!(a + b, 2000, "the total changed");
    assert_eq!(a, 1000 - (3 + 5) * ROUNDS as i64, "an update was lost");
    assert!(
        r1 + r2 > 0,
        "the clients never raced: no 40001 was exercised"
    );
}

/// A server with `options` (its address chosen by the system).
async fn serve_with(s: &Stack, options: PgOptions) -> std::net::SocketAddr {
    let options = PgOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..options
    };
    start(Arc::clone(s.engine().store()), options)
        .await
        .unwrap()
        .addr
}

/// A cancel request stops a statement while it waits on Discord (here a
/// bulk INSERT over HTTP): the client is told 57014, and the INSERT,
/// stopped before its commit, wrote nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_stops_a_statement_waiting_on_discord() {
    let s = Stack::served().await;
    s.sql("CREATE TABLE big (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    let addr = serve(&s, None).await;
    let c = connect(addr, None).await.unwrap();
    let token = c.cancel_token();
    let slow = "INSERT INTO big SELECT value, repeat('x', 500) FROM generate_series(1, 200000) AS g(value)";
    let started = std::time::Instant::now();
    let running = tokio::spawn(async move { c.simple_query(slow).await.map(|_| ()) });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    token.cancel_query(NoTls).await.unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(60), running)
        .await
        .expect("the statement stops once cancelled")
        .unwrap();
    let e = ended.expect_err("a cancelled statement fails");
    assert_eq!(
        e.code().unwrap().code(),
        "57014",
        "{e} after {:?}",
        started.elapsed()
    );
    assert_eq!(s.value("SELECT count(*) FROM big").await, "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_and_statements_are_bounded() {
    let s = Stack::new().await;
    let options = PgOptions {
        max_connections: 1,
        max_statement: 4096,
        ..PgOptions::default()
    };
    let addr = serve_with(&s, options).await;
    let first = connect(addr, None).await.unwrap();
    let Err(second) = connect(addr, None).await else {
        panic!("a connection over the bound is refused");
    };
    assert_eq!(second.code().unwrap().code(), "53300", "{second}");
    let long = format!("SELECT '{}'", "x".repeat(5000));
    let e = first.simple_query(&long).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "54000", "{e}");
    // The connection goes on, and its slot is freed when it closes.
    first.simple_query("SELECT 1").await.unwrap();
    drop(first);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    connect(addr, None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_offered_when_a_certificate_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let mut openssl = Command::new("openssl");
    openssl
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert);
    assert!(
        output(openssl).await.status.success(),
        "openssl made no certificate"
    );
    let s = Stack::new().await;
    let options = PgOptions {
        tls: Some((cert, key)),
        ..PgOptions::default()
    };
    let addr = serve_with(&s, options).await;
    let mut c = Command::new("psql");
    c.arg(format!(
        "host=127.0.0.1 port={} dbname=main sslmode=require",
        addr.port()
    ))
    .args(["-X", "-A", "-t", "-c", "SELECT 'over tls'"]);
    let out = output(c).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "over tls\n");
}

/// The server on Discord's HTTP API (a served emulator that checks the
/// token): neither its output, nor its logs at the most verbose, nor any
/// error a client is sent, shows the bot token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_token_is_in_no_output_log_or_error() {
    const TOKEN: &str = "NzkyNzE1NDU0MTk2MDg4ODQy.X-hvzA.Ovy4MCQywSkoMRRclStW4xAYK7I";
    let served = crate::cli::Served::start_args(&["--in-memory", "--token", TOKEN]);
    let mut server = Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .args([
            "--backend",
            "discord",
            "-vvv",
            "serve",
            "--pg",
            "127.0.0.1:0",
        ])
        .env("DISCORD_API_BASE", &served.base)
        .env("DISCORD_BOT_TOKEN", TOKEN)
        .env("DBCORD_GUILD_ID", &served.guild)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Both streams drained as they come (a full pipe would stop the server).
    let drain = |r: Box<dyn std::io::Read + Send>,
                 first: Option<std::sync::mpsc::Sender<String>>| {
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut all = String::new();
            for line in std::io::BufReader::new(r).lines().map_while(Result::ok) {
                if let Some(tx) = &first {
                    let _ = tx.send(line.clone());
                }
                all.push_str(&line);
                all.push('\n');
            }
            all
        })
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let out = drain(Box::new(server.stdout.take().unwrap()), Some(tx));
    let err = drain(Box::new(server.stderr.take().unwrap()), None);
    let first = tokio::task::spawn_blocking(move || rx.recv().unwrap())
        .await
        .unwrap();
    let port = first
        .split_whitespace()
        .find_map(|w| w.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()))
        .unwrap_or_else(|| panic!("no port in {first:?}"));
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let c = connect(addr, None).await.unwrap();
    let mut said = vec![first];
    c.batch_execute(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a')",
    )
    .await
    .unwrap();
    for bad in [
        "INSERT INTO t VALUES (1, 'again')",
        "SELECT * FROM nosuch",
        "SELEC 1",
        "INSERT INTO t VALUES ('x', 1)",
    ] {
        said.push(c.simple_query(bad).await.unwrap_err().to_string());
    }
    drop(c);
    server.kill().unwrap();
    let logs = tokio::task::spawn_blocking(move || {
        let _ = server.wait();
        out.join().unwrap() + &err.join().unwrap()
    })
    .await
    .unwrap();
    assert!(
        logs.contains("DEBUG") || logs.contains("TRACE"),
        "no logs: {logs}"
    );
    said.push(logs);
    for text in &said {
        assert!(!text.contains(TOKEN), "the token shows in: {text}");
        assert!(
            !text.contains("X-hvzA"),
            "part of the token shows in: {text}"
        );
    }
}
