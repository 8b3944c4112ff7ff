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

    /// Where the guild lives: the embedded emulator, or Discord over HTTP
    /// (DISCORD_BOT_TOKEN, DBCORD_GUILD_ID, optional DISCORD_API_BASE, from the
    /// environment or a .env file).
    #[arg(long, value_enum, default_value_t = BackendKind::Embedded)]
    pub backend: BackendKind,

    /// How result sets are printed.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Where the embedded Discord emulator keeps the guild
    /// [default: $XDG_DATA_HOME/dbcord, else ~/.local/share/dbcord].
    #[arg(long, env = "DBCORD_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Keep the emulated guild in memory only; nothing survives the process.
    #[arg(long, conflicts_with = "data_dir", global = true)]
    pub in_memory: bool,

    /// Seconds before a write shows in the emulator's search.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub search_lag: f64,

    /// Embedded emulator: sleep rate-limit waits for real instead of
    /// accounting them on its clock (for demonstrations).
    #[arg(long)]
    pub real_time: bool,

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// The in-process Discord emulator (no network).
    Embedded,
    /// Discord's HTTP API, or an emulator served with `dbcord emulator serve`.
    Discord,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The Discord emulator on its own.
    Emulator {
        #[command(subcommand)]
        command: EmulatorCommand,
    },
    /// Measure what pushdown saves against a full scan (requests and
    /// rate-limit waiting on Discord, from the emulator's counters).
    Bench {
        /// Rows in the benchmark's users table.
        #[arg(long, default_value_t = 2000)]
        rows: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator as Discord API v10 over HTTP (until Ctrl-C).
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// The guild ID of a new data directory (an existing one keeps its own).
    #[arg(long)]
    pub guild_id: Option<u64>,
    /// Seconds before a write shows in search.
    #[arg(long, default_value_t = 5.0)]
    pub search_lag: f64,
    /// Seconds after start during which search answers 202.
    #[arg(long, default_value_t = 0.0)]
    pub search_warmup: f64,
    /// Milliseconds each request takes.
    #[arg(long, default_value_t = 0)]
    pub latency: u64,
    /// Emulator seconds per real second: at 100, Discord's 5-second buckets last 50 ms.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Faults on demand, e.g. "429=0.05,500=0.05,stall=0.02,lose=0.02,stall_ms=2000,seed=7".
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Accept only this bot token (default: any `Bot <token>`).
    #[arg(long, env = "DBCORD_EMULATOR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Serve without the Message Content intent (content of others' messages is hidden).
    #[arg(long)]
    pub no_message_content: bool,
}
