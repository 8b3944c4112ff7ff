//! The command line: arguments, the shell, scripts, output. It does no
//! storage work itself. Files: `args` (clap), `backend` (opening a guild),
//! `shell` (settings, running SQL and dot-commands, shared by the shell and
//! scripts), `script` (cutting scripts into statements), `repl` (the
//! interactive shell), `dot` (dot-commands), `describe` (`.schema`),
//! `timing` (`.timing`), `output` (result formats), `pager`, `progress` (bars), `rc` (the rc file),
//! `serve` (`dbcord emulator serve`), `pg` (`dbcord serve --pg`).

pub mod args;
pub mod backend;
mod bot;
pub mod describe;
pub mod dot;
pub mod output;
pub mod pager;
mod pg;
pub mod progress;
pub mod rc;
pub mod repl;
pub mod script;
pub mod serve;
pub mod shell;
pub mod timing;

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context, Result};

pub use args::{Args, Format};
use output::Style;
use shell::{Flow, Shell};

/// Run dbcord as the arguments say; the exit code is non-zero if any statement failed.
pub async fn run(args: Args) -> Result<ExitCode> {
    match &args.command {
        Some(args::Command::Bench {
            guild: true,
            messages,
            format,
            ..
        }) => {
            let mut all = Vec::new();
            for n in messages {
                all.extend(crate::bench::guild::run(*n).await?);
            }
            match format {
                args::BenchFormat::Markdown => print!("{}", crate::bench::guild::markdown(&all)),
                args::BenchFormat::Json => println!("{}", crate::bench::guild::json(&all)),
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(args::Command::Bench { rows, format, .. }) => {
            let mut all = Vec::new();
            for n in rows {
                all.extend(crate::bench::run(*n).await?);
            }
            match format {
                args::BenchFormat::Markdown => print!("{}", crate::bench::markdown(&all)),
                args::BenchFormat::Json => println!("{}", crate::bench::json(&all)),
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(args::Command::Sim(s)) => return sim(s).await,
        Some(args::Command::Emulator {
            command: args::EmulatorCommand::Serve(s),
        }) => {
            serve::run(&args, s).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(args::Command::Emulator {
            command: args::EmulatorCommand::Interact(i),
        }) => return bot::interact(i).await,
        Some(args::Command::Bot(b)) => return bot::run(b).await,
        Some(args::Command::Serve(s)) => return pg::run(&args, s).await,
        None => {}
    }
    let session = backend::open(&args).await?;
    if std::io::stderr().is_terminal() {
        let bars = std::sync::Arc::new(progress::Bars::default());
        session.engine.store().set_progress(bars);
    }
    let interactive =
        args.commands.is_empty() && args.files.is_empty() && std::io::stdin().is_terminal();
    let style = Style {
        format: args.format,
        maxrows: args.maxrows.unwrap_or(if interactive { 40 } else { 0 }),
        quiet: args.quiet,
    };
    let mut shell = Shell::new(&session, style);
    shell.pager = interactive && std::io::stdout().is_terminal();
    shell.timing = args.timing;
    shell.bail = !args.no_bail;
    if let Some(db) = &args.database {
        session
            .engine
            .use_database(db)
            .map_err(|e| anyhow::anyhow!(crate::sql::errors::user_message(&e)))?;
    }
    if let Some((path, text)) = rc::load(&args)? {
        let failures = shell.failures;
        shell.run_script(&text, &path.display().to_string()).await;
        if shell.failures > failures && shell.bail {
            return Ok(ExitCode::FAILURE);
        }
    }
    if interactive {
        let history = backend::data_dir(&args)
            .ok()
            .flatten()
            .map(|d| d.join("history.txt"));
        repl::run(&mut shell, history).await?;
    } else if !args.commands.is_empty() || !args.files.is_empty() {
        run_scripts(&mut shell, &args).await?;
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        shell.run_script(&text, "standard input").await;
    }
    if args.stats {
        eprintln!("{}", session.cost_report());
    }
    Ok(if shell.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every -c, then every -f, in order; stops at the first failure unless
/// --no-bail.
async fn run_scripts(shell: &mut Shell<'_>, args: &Args) -> Result<()> {
    for (i, sql) in args.commands.iter().enumerate() {
        if shell.run_script(sql, &format!("-c #{}", i + 1)).await == Flow::Quit {
            return Ok(());
        }
    }
    for path in &args.files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        if shell.run_script(&text, &path.display().to_string()).await == Flow::Quit {
            return Ok(());
        }
    }
    Ok(())
}

/// `dbcord sim`: run the seeds, print the totals, fail on any violation.
async fn sim(s: &args::SimArgs) -> Result<ExitCode> {
    let options = crate::sim::SimOptions {
        seed: s.seed,
        seeds: s.seeds,
        ops: s.ops,
        clients: s.clients,
        faults: s.faults.clone(),
        kill_chance: s.kills,
        served: s.served,
        for_duration: s.soak,
        trace: s.trace,
        unique_ddl: s.unique_index_ddl,
    };
    let every = (s.seeds / 10).max(1);
    let totals = tokio::task::spawn_blocking(move || {
        crate::sim::run(&options, |t| {
            if t.seeds % every == 0 {
                eprintln!(
                    "sim: {} seeds done, {} violations",
                    t.seeds,
                    t.violations.len()
                );
            }
        })
    })
    .await?
    .map_err(anyhow::Error::msg)?;
    print!("{}", totals.render());
    Ok(if totals.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
