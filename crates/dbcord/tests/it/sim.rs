//! `dbcord sim`: the seeded simulation keeps every invariant, replays a
//! seed exactly, runs over HTTP without ever showing the token, and a
//! violation's replay command runs. (`.ci/run` runs the full 200 seeds
//! through the binary and prints the totals.)

use std::process::Command;

use dbcord::sim::{DEFAULT_FAULTS, Outcome, Plan, SimOptions, Totals, run, run_seed};
use discord_emulator::FaultSpec;

fn faults(spec: &str) -> FaultSpec {
    FaultSpec::parse(spec).unwrap()
}

fn options(seed: u64, seeds: u64, ops: usize) -> SimOptions {
    SimOptions {
        seed,
        seeds,
        ops,
        clients: 3,
        faults: faults(DEFAULT_FAULTS),
        kill_chance: 0.03,
        served: false,
        for_duration: None,
        trace: false,
        unique_ddl: false,
    }
}

fn simulate(options: &SimOptions) -> Totals {
    run(options, |_| {}).expect("the options are valid")
}

#[test]
fn twenty_seeds_under_faults_and_kills_keep_every_invariant() {
    let totals = simulate(&options(1000, 20, 200));
    let report = totals.render();
    assert!(totals.violations.is_empty(), "{report}");
    // The run went through what it claims to survive.
    assert_eq!(totals.seeds, 20);
    assert!(totals.kills >= 3, "{report}");
    for kind in [
        "429", "429g", "429s", "500", "502", "503", "stall", "drop", "lose",
    ] {
        assert!(
            totals.faults.get(kind).copied().unwrap_or(0) > 0,
            "no {kind}: {report}"
        );
    }
    let all = totals.all_statements();
    assert_eq!(all.total(), 20 * 201);
    assert!(all.failed > 100, "conflicts and duplicates: {report}");
    assert!(all.indeterminate > 10, "indeterminate statements: {report}");
    assert!(totals.invariants > 20 * 60, "{report}");
    assert!(report.contains("faults injected") && report.contains("invariants checked"));
}

/// The plan `options` makes of `seed`.
fn plan(seed: u64, ops: usize) -> Plan {
    let o = options(seed, 1, ops);
    Plan {
        seed,
        ops,
        clients: o.clients,
        faults: o.faults,
        kill_chance: o.kill_chance,
        served: false,
        trace: false,
        unique_ddl: false,
    }
}

#[test]
fn a_seed_replays_exactly() {
    let once = run_seed(&plan(4242, 150));
    let again = run_seed(&plan(4242, 150));
    assert_eq!(once.statements.len(), 150, "every statement is recorded");
    // Every statement, its SQL and how it ended, in the order they ended.
    for (i, (a, b)) in once.statements.iter().zip(&again.statements).enumerate() {
        assert_eq!(a, b, "statement {i} of the replay differs");
    }
    assert_eq!(once.totals.render(), again.totals.render());
    // The run went through outcomes of every kind, so the comparison
    // compared something.
    let ended = |f: fn(&Outcome) -> bool| once.statements.iter().filter(|(_, o)| f(o)).count();
    assert!(ended(|o| matches!(o, Outcome::Acked(_))) > 50);
    assert!(ended(|o| matches!(o, Outcome::Failed(..))) > 0);
    assert!(ended(|o| matches!(o, Outcome::Unknown(_))) > 0);
    let other = run_seed(&plan(4243, 150));
    assert_ne!(
        once.statements, other.statements,
        "a different seed runs differently"
    );
}

#[test]
fn a_violation_prints_its_seed_and_a_replay_command_that_runs() {
    let plan = Plan {
        seed: 31,
        ops: 40,
        clients: 2,
        faults: faults("429=0.05,lose=0.01"),
        kill_chance: 0.05,
        served: false,
        trace: true,
        unique_ddl: false,
    };
    let mut totals = Totals::default();
    totals.violation(&plan, "something broke".into());
    let report = totals.render();
    assert!(report.contains("seed 31: something broke"), "{report}");
    let command = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("replay: "))
        .expect("a replay line");
    let args = shlex::split(command).expect("a command a shell can split");
    assert_eq!(args[0], "dbcord");
    let out = Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .args(&args[1..])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("seeds: 1 ") && stdout.contains("violations: 0"),
        "{stdout}"
    );
    // --trace shows every statement of the replayed seed.
    assert_eq!(stderr.matches("[client ").count(), 40, "{stderr}");
}

#[test]
fn the_served_simulation_keeps_the_invariants_and_never_shows_the_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .args([
            "sim", "--served", "--seed", "5", "--seeds", "1", "--ops", "60",
        ])
        .args([
            "--faults",
            "429=0.03,429g=0.01,500=0.02,503=0.02,drop=0.01,lose=0.01",
        ])
        .args(["--kills", "0.1", "--trace"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("violations: 0"), "{stdout}");
    assert!(stdout.contains("faults injected"), "{stdout}");
    // Every statement's outcome, errors included, went to stderr.
    assert_eq!(stderr.matches("[client ").count(), 60, "{stderr}");
    let token = "sim-token-7c1f0e55d2b8a9ab41";
    assert!(!stdout.contains(token) && !stderr.contains(token));
}

#[test]
fn bad_options_are_refused_by_name() {
    assert!(
        FaultSpec::parse("429=2")
            .unwrap_err()
            .contains("between 0 and 1")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .args(["sim", "--faults", "429=2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 1"));
    let mut o = options(1, 1, 10);
    o.clients = 0;
    assert!(run(&o, |_| {}).unwrap_err().contains("--clients"));
    let out = Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .args(["sim", "--soak", "two hours"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a duration"));
}
