//! The bot as a person runs it, from the README: `dbcord emulator serve`,
//! `dbcord bot` against it, and `dbcord emulator interact` playing a guild
//! member. A bot killed with kill -9 mid-command leaves the statement all
//! or nothing, and started again it answers the next command.

use std::io::BufRead;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::cli::Served;

/// The served emulator on real time (Discord's 3 s are real), with the
/// commands a person runs against it.
struct Person {
    served: Served,
}

impl Person {
    fn start() -> Person {
        Person {
            served: Served::start_args(&["--in-memory"]),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dbcord"));
        c.args(args)
            .env("DISCORD_API_BASE", &self.served.base)
            .env("DISCORD_BOT_TOKEN", "a-bot-token")
            .env("DBCORD_GUILD_ID", &self.served.guild)
            .stdin(Stdio::null());
        c
    }

    /// `dbcord bot`, once it says it is ready; killed when dropped.
    fn bot(&self) -> Bot {
        let mut child = self
            .command(&["bot"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next().expect("the bot says it is ready").unwrap();
        assert_eq!(line, "ready");
        Bot(child)
    }

    fn interact(&self, command: &str, extra: &[&str]) -> Output {
        self.command(&["emulator", "interact", command])
            .args(extra)
            .output()
            .unwrap()
    }

    fn sql(&self, sql: &str) -> String {
        let o = self
            .command(&["--backend", "discord", "-q", "--format", "csv", "-c", sql])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
}

/// A running bot, killed (-9) when dropped, so a failing test leaves none.
struct Bot(Child);

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_person_plays_the_walkthrough_and_the_bot_survives_kill_9() {
    let served = Person::start();
    let bot = served.bot();
    let o = served.interact("/dbc_init database:prod", &[]);
    assert!(
        o.status.success() && text(&o).contains("database prod created"),
        "{}",
        text(&o)
    );
    let o = served.interact("/dbc_table_create database:prod table:t pk:id", &[]);
    assert!(o.status.success(), "{}", text(&o));
    // A member without the permission: Discord's client refuses, exit 2.
    let o = served.interact("/dbc_init database:other", &["--permissions", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // A long statement, and the bot killed while it runs.
    let long = "/dbc_sql query:INSERT INTO prod.t SELECT CAST(value AS VARCHAR), NULL FROM generate_series(1, 400000) AS g(value)";
    let waiting = served
        .command(&["emulator", "interact", long, "--wait", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let mut waiting = waiting;
    if let Some(done) = waiting.try_wait().unwrap() {
        let o = waiting.wait_with_output().unwrap();
        panic!(
            "the statement ended before the kill ({done:?}): {}",
            text(&o)
        );
    }
    drop(bot);
    let o = waiting.wait_with_output().unwrap();
    assert!(
        !o.status.success(),
        "the member never got an answer: {}",
        text(&o)
    );
    let n: u64 = served
        .sql("SELECT count(*) AS n FROM prod.t")
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(n == 0 || n == 400_000, "all or nothing, not {n} rows");
    eprintln!("the killed statement left {n} rows");

    let bot = served.bot();
    let o = served.interact(
        r#"/dbc_insert database:prod table:t key:after value_json:{"a":1}"#,
        &[],
    );
    assert!(
        o.status.success() && text(&o).contains("inserted after"),
        "{}",
        text(&o)
    );
    let o = served.interact(
        r#"/dbc_find database:prod table:t where_json:{"id":"after"}"#,
        &[],
    );
    assert!(
        o.status.success() && text(&o).contains("(1 row)"),
        "{}",
        text(&o)
    );
    drop(bot);
}

/// SIGTERM while a command runs: the bot lets it finish, the member gets
/// the answer, and the bot exits cleanly saying so.
#[test]
fn sigterm_lets_the_running_command_finish_and_answer() {
    let served = Person::start();
    let mut bot = served.bot();
    let o = served.interact("/dbc_init database:prod", &[]);
    assert!(o.status.success(), "{}", text(&o));
    served.interact("/dbc_table_create database:prod table:t pk:id", &[]);
    let long = "/dbc_sql query:INSERT INTO prod.t SELECT CAST(value AS VARCHAR), NULL FROM generate_series(1, 200000) AS g(value)";
    let mut waiting = served
        .command(&["emulator", "interact", long, "--wait", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "still running at SIGTERM"
    );
    let pid = bot.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let answered = waiting.wait_with_output().unwrap();
    assert!(
        answered.status.success() && text(&answered).contains("INSERT 200000"),
        "{}",
        text(&answered)
    );
    let status = bot.0.wait().unwrap();
    assert!(status.success(), "the bot exits cleanly: {status:?}");
    assert_eq!(
        served
            .sql("SELECT count(*) AS n FROM prod.t")
            .lines()
            .nth(1),
        Some("200000")
    );
}
