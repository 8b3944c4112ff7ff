//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// dbcord: a SQL database whose only durable store is a Discord guild.
///
/// Without -c or -f, statements are read from standard input when it is not
/// a terminal, and an interactive shell starts when it is.
#[derive(Debug, Parser)]
#[command(name = "dbcord", version, about, long_about = None)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Run this SQL (repeatable; run in order, before any -f).
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub commands: Vec<String>,

    /// Run the statements in this file (repeatable).
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,

    /// How result sets are printed.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Where the embedded Discord emulator keeps the guild
    /// [default: $XDG_DATA_HOME/dbcord, else ~/.local/share/dbcord].
    #[arg(long, env = "DBCORD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Keep the emulated guild in memory only; nothing survives the process.
    #[arg(long, conflicts_with = "data_dir")]
    pub in_memory: bool,

    /// Seconds before a write shows in the emulator's search.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub search_lag: f64,

    /// After running, print what the work cost on Discord (requests, rate-limit waits) to stderr.
    #[arg(long)]
    pub stats: bool,

    /// Log more (repeat for more detail); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text with a header.
    Table,
    /// Comma-separated values with a header row per result set.
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure what pushdown saves against a full scan (requests and
    /// rate-limit waiting on Discord, from the emulator's counters).
    Bench {
        /// Rows in the benchmark's users table.
        #[arg(long, default_value_t = 2000)]
        rows: usize,
    },
}
