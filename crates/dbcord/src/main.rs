//! The `dbcord` binary: parse arguments, run, map errors to an exit code.

use std::process::ExitCode;

use clap::Parser;
use dbcord::cli::{self, Args};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // A simulation provokes the warnings a session would show (compaction
    // put off, a 429 too long to wait) thousands of times: it reports
    // them in its totals instead.
    let quiet = matches!(args.command, Some(cli::args::Command::Sim(_)));
    let level = match args.verbose {
        0 if quiet => "error",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match cli::run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
