//! The command line: arguments, the shell, scripts, output. It does no
//! storage work itself. Files: `args` (clap), `backend` (opening a guild),
//! `exec` (scripts), `repl` (the shell), `dot` (dot-commands), `output`
//! (tables and CSV), `serve` (`dbcord emulator serve`).

pub mod args;
pub mod backend;
pub mod dot;
pub mod exec;
pub mod output;
pub mod repl;
pub mod serve;

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context, Result};

pub use args::{Args, Format};

use crate::session::Session;

/// Run dbcord as the arguments say; the exit code is non-zero if any statement failed.
pub async fn run(args: Args) -> Result<ExitCode> {
    match &args.command {
        Some(args::Command::Bench { rows, format }) => {
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
        Some(args::Command::Emulator {
            command: args::EmulatorCommand::Serve(s),
        }) => {
            serve::run(&args, s).await?;
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let session = backend::open(&args).await?;
    let ok = if !args.commands.is_empty() || !args.files.is_empty() {
        run_scripts(&session, &args).await?
    } else if !std::io::stdin().is_terminal() {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        exec::run_script(&session, &text, "standard input", args.format).await
    } else {
        let history = backend::data_dir(&args)
            .ok()
            .flatten()
            .map(|d| d.join("history.txt"));
        repl::run(&session, args.format, history).await?;
        true
    };
    if args.stats {
        eprintln!("{}", session.cost_report());
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run_scripts(session: &Session, args: &Args) -> Result<bool> {
    for (i, sql) in args.commands.iter().enumerate() {
        if !exec::run_script(session, sql, &format!("-c #{}", i + 1), args.format).await {
            return Ok(false);
        }
    }
    for path in &args.files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        if !exec::run_script(session, &text, &path.display().to_string(), args.format).await {
            return Ok(false);
        }
    }
    Ok(true)
}
