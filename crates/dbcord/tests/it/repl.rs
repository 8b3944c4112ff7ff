//! The interactive shell through a pseudo-terminal, as a person uses it:
//! multi-line entry, history after a restart, completion, Ctrl-C.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rexpect::session::{PtySession, spawn_command};

fn shell(dir: &Path) -> PtySession {
    shell_with(dir, &[], &[])
}

/// The shell with more environment and arguments.
fn shell_with(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbcord"));
    cmd.arg("--data-dir").arg(dir).arg("--no-rc").args(args);
    cmd.env_remove("RUST_LOG");
    cmd.env("PAGER", "cat");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut p = spawn_command(cmd, Some(30_000)).expect("the shell starts");
    p.exp_string("dbcord main> ")
        .expect("a prompt with the database");
    p
}

/// End the shell with Ctrl-D once it shows `prompt` (unless the caller
/// has already seen it): a key sent before rustyline reads the terminal
/// again can be lost, and the shell then waits forever.
fn quit_at(mut p: PtySession, prompt: Option<&str>) {
    if let Some(prompt) = prompt {
        p.exp_string(prompt).unwrap();
    }
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}

/// [`quit_at`] the next `dbcord main> ` prompt.
fn quit(p: PtySession) {
    quit_at(p, Some("dbcord main> "));
}

#[test]
fn multi_line_entry_history_after_a_restart_and_completion() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = shell(dir.path());
    p.send_line("CREATE TABLE things (id TEXT PRIMARY KEY,")
        .unwrap();
    p.send_line("  note TEXT -- a comment; not the end")
        .unwrap();
    p.send_line(");").unwrap();
    p.exp_string("CREATE TABLE main.things").unwrap();
    p.send_line("INSERT INTO things VALUES ('a', 'x;y');")
        .unwrap();
    p.exp_string("INSERT 1").unwrap();
    p.send_line("SELECT note FROM things;").unwrap();
    p.exp_string("x;y").unwrap();
    quit(p);

    let mut p = shell(dir.path());
    // Up arrow: the last statement of the previous run.
    p.send("\x1b[A").unwrap();
    p.send_line("").unwrap();
    p.exp_string("x;y").unwrap();
    p.exp_string("(1 row)").unwrap();
    // Tab completes a table name.
    p.send("SELECT count(*) AS n FROM thi").unwrap();
    p.send("\t").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    p.send_line(";").unwrap();
    p.exp_string("(1 row)").unwrap();
    p.send_line(".use nope").unwrap();
    p.exp_string("does not exist").unwrap();
    p.send_line("CREATE DATABASE shop;").unwrap();
    p.exp_string("CREATE DATABASE shop").unwrap();
    p.send_line(".use shop").unwrap();
    p.exp_string("dbcord shop> ").unwrap();
    quit_at(p, None);
}

#[test]
fn ctrl_c_cancels_a_running_statement_and_the_shell_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // Every request takes 500 ms, for real: the INSERT is still waiting on
    // Discord when Ctrl-C comes, so only a cancel can end it that soon.
    let mut p = shell_with(dir.path(), &[], &["--real-time", "--latency", "500"]);
    p.send_line("CREATE TABLE big (id BIGINT PRIMARY KEY, v TEXT);")
        .unwrap();
    p.exp_string("CREATE TABLE main.big").unwrap();
    p.send_line("INSERT INTO big SELECT value, 'value ' || value FROM generate_series(1, 300000);")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    let before = p.exp_string("cancelled").unwrap();
    assert!(!before.contains("INSERT 300000"), "{before}");
    // All or nothing: nothing.
    p.send_line("SELECT count(*) AS n FROM big;").unwrap();
    p.exp_regex(r"\| 0 +\|").unwrap();
    // The shell is still there.
    p.send_line("SELECT 40 + 2 AS answer;").unwrap();
    p.exp_string("42").unwrap();
    quit(p);
}

#[test]
fn long_results_go_through_the_pager_and_short_ones_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = shell_with(
        dir.path(),
        &[("PAGER", "sed s/^/paged:/"), ("LINES", "10")],
        &[],
    );
    p.send_line("SELECT value AS v FROM generate_series(1, 30);")
        .unwrap();
    p.exp_string("paged:| 30 |").unwrap();
    p.send_line("SELECT 'short' AS s;").unwrap();
    let before = p.exp_string("(1 row)").unwrap();
    assert!(!before.contains("paged:| short"), "{before}");
    quit(p);
}

#[test]
fn ctrl_c_during_a_slow_scan_leaves_the_shell_usable_and_the_table_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = shell(dir.path());
    p.send_line("CREATE TABLE t (id BIGINT PRIMARY KEY);")
        .unwrap();
    p.exp_string("CREATE TABLE main.t").unwrap();
    p.send_line("INSERT INTO t SELECT value FROM generate_series(1, 500);")
        .unwrap();
    p.exp_string("INSERT 500").unwrap();
    quit(p);
    // Every request now takes 400 ms, for real.
    let mut p = shell_with(dir.path(), &[], &["--real-time", "--latency", "400"]);
    p.send_line("SELECT count(*) AS n FROM t;").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    p.exp_string("cancelled").unwrap();
    p.send_line("SELECT count(*) AS n FROM t;").unwrap();
    p.exp_string("| 500 |").unwrap();
    quit(p);
}
