//! Command-line arguments.

use std::path::PathBuf;

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use discord_api::RateLimitPolicy;
use discord_emulator::{DeepIndex, FaultSpec, LagModel, SearchConfig};

/// dbcord: a SQL database whose only durable store is a Discord guild.
///
/// Without -c or -f, statements are read from standard input when it is not
/// a terminal, and an interactive shell starts when it is. The rc file
/// (--rc, else ~/.dbcordrc, else $XDG_CONFIG_HOME/dbcord/dbcordrc) runs
/// first: SQL and dot-commands, such as `.timing on`.
#[derive(Debug, Parser)]
#[command(
    name = "dbcord",
    version,
    about,
    long_about = None,
    after_help = "Examples:
  dbcord                                      the shell (.help inside)
  dbcord --data-dir demo-data -f sql/quickstart.sql
  dbcord -c \"SELECT * FROM shop.customers\" --format json
  dbcord --database shop --timing -c \"SELECT count(*) FROM orders\"
  dbcord -f a.sql -f b.sql --no-bail          every statement, failures counted
  dbcord bench --rows 20000
  dbcord emulator serve --addr 127.0.0.1:8080"
)]
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

    /// The database unqualified table names are in [default: main].
    #[arg(long, value_name = "DB")]
    pub database: Option<String>,

    /// Rows a table or Markdown result shows at most; 0 shows all [default:
    /// 40 in the shell, all otherwise].
    #[arg(long, value_name = "N")]
    pub maxrows: Option<usize>,

    /// Print result sets only: no command tags, row counts or banner.
    #[arg(short, long)]
    pub quiet: bool,

    /// Go on after a failing statement (the exit status is still non-zero).
    #[arg(long)]
    pub no_bail: bool,

    /// After each statement, print its time and its cost on Discord to stderr.
    #[arg(long)]
    pub timing: bool,

    /// Run this file first instead of ~/.dbcordrc.
    #[arg(long, value_name = "PATH", conflicts_with = "no_rc")]
    pub rc: Option<PathBuf>,

    /// Run no rc file.
    #[arg(long)]
    pub no_rc: bool,

    /// Where the embedded Discord emulator keeps the guild
    /// [default: $XDG_DATA_HOME/dbcord, else ~/.local/share/dbcord].
    #[arg(long, env = "DBCORD_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Keep the emulated guild in memory only; nothing survives the process.
    #[arg(long, conflicts_with = "data_dir", global = true)]
    pub in_memory: bool,

    #[command(flatten)]
    pub search: SearchArgs,

    /// The longest rate-limit wait a statement accepts before it fails with
    /// "Discord asks to wait N s"; 0 waits however long Discord asks (for
    /// long-running jobs).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub max_wait: f64,

    /// Embedded emulator: sleep rate-limit waits for real instead of
    /// accounting them on its clock (for demonstrations).
    #[arg(long)]
    pub real_time: bool,

    /// Embedded emulator: milliseconds each request takes (slept for real
    /// with --real-time), to see dbcord on a slow link.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency: u64,

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
    /// Tab-separated values with a header row per result set.
    Tsv,
    /// One JSON array of objects per result set.
    Json,
    /// One JSON object per row (JSON lines).
    Ndjson,
    /// A Markdown table per result set.
    Markdown,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        <Format as ValueEnum>::from_str(s, true)
    }
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
    /// Measure loads, reads and writes of a users table on the embedded
    /// emulator: Discord requests by kind, CDN bytes, simulated time, local
    /// time, each beside its lower bound and a MemTable's engine time.
    #[command(
        after_help = "Examples:\n  dbcord bench\n  dbcord bench --rows 20000 --rows 100000 --format json\n  dbcord bench --guild --messages 100000"
    )]
    Bench {
        /// Rows in the users table (repeatable: one run per size).
        #[arg(long, default_values_t = [20_000])]
        rows: Vec<usize>,
        /// Instead: search pushdown against the full history scan, on a
        /// generated guild (the `discord` schema's benchmark).
        #[arg(long)]
        guild: bool,
        /// With --guild: messages in the generated guild (repeatable).
        #[arg(long, default_values_t = [100_000, 1_000_000], requires = "guild")]
        messages: Vec<usize>,
        /// Markdown table for people, or JSON (stable field names) for scripts.
        #[arg(long = "format", value_enum, default_value_t = BenchFormat::Markdown)]
        format: BenchFormat,
    },
    /// Seeded simulation: several clients run random statements on one
    /// emulated guild under Discord's faults and random kills; every
    /// acknowledged statement must be there once and whole, no failed one,
    /// each indeterminate one all or nothing, and pushdown, full scans and
    /// a model must agree. A failing seed prints the command that replays it.
    #[command(after_help = "Examples:
          dbcord sim                                 200 seeds of 200 statements, 3 clients
          dbcord sim --seed 17 --seeds 1             replay seed 17
          dbcord sim --served --seeds 2 --ops 60     over HTTP against a served emulator
          DBCORD_SOAK=2h dbcord sim                  new seeds for two hours")]
    Sim(SimArgs),
    /// The Discord bot: registers the slash commands (/dbc_init, /dbc_find,
    /// /dbc_sql, ...) in the guild and answers them until Ctrl-C or SIGTERM.
    /// It talks to Discord over HTTP (DISCORD_BOT_TOKEN, DBCORD_GUILD_ID,
    /// optional DISCORD_API_BASE for a served emulator).
    #[command(after_help = "Examples:
  dbcord bot                                       over the Gateway (no public URL needed)
  dbcord bot --endpoint 127.0.0.1:8443 --public-url https://bot.example.org/interactions")]
    Bot(BotArgs),
    /// Serve the guild to PostgreSQL clients (psql, drivers, tools) over
    /// the Postgres wire protocol, until Ctrl-C or SIGTERM. Each connection
    /// is a session of its own, with its own transactions.
    #[command(after_help = "Examples:
  dbcord serve --pg 127.0.0.1:5433                 then: psql -h 127.0.0.1 -p 5433 -d main
  DBCORD_PG_PASSWORD=s3cret dbcord serve --pg 0.0.0.0:5433 --tls-cert c.pem --tls-key k.pem")]
    Serve(PgServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct PgServeArgs {
    /// The address to listen on. Without a password only a loopback
    /// address is accepted.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5433")]
    pub pg: std::net::SocketAddr,
    /// The password clients must give (SCRAM-SHA-256), from the environment.
    #[arg(
        long,
        env = "DBCORD_PG_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub password: Option<String>,
    /// A PEM certificate chain: TLS is offered (with --tls-key).
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Connections served at once; more are refused.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_connections: usize,
    /// The largest statement (or COPY data) accepted, in bytes.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_statement: usize,
}

#[derive(Debug, clap::Args)]
pub struct BotArgs {
    /// Receive interactions as HTTP POSTs on this address instead of over
    /// the Gateway (signatures checked against the application's key).
    #[arg(long, value_name = "ADDR")]
    pub endpoint: Option<std::net::SocketAddr>,
    /// The URL Discord reaches the endpoint at; given, the bot sets it as
    /// the application's interactions endpoint URL (Discord checks it first).
    #[arg(long, value_name = "URL", requires = "endpoint")]
    pub public_url: Option<String>,
    /// Open the read commands (/dbc_find, /dbc_inspect, /dbc_export) to
    /// members with this role only (repeatable; default: every member).
    #[arg(long, value_name = "ROLE_ID")]
    pub read_role: Vec<u64>,
}

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Seeds to run, starting at --seed.
    #[arg(long, default_value_t = 200)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Statements per seed, shared among the clients.
    #[arg(long, default_value_t = 200)]
    pub ops: usize,
    /// Clients (dbcord processes) sharing the guild.
    #[arg(long, default_value_t = 3)]
    pub clients: usize,
    /// Run against a served emulator over HTTP (real time; slower).
    #[arg(long)]
    pub served: bool,
    /// Fault probabilities per Discord call (kinds: 429 429g 429s 500 502
    /// 503 stall drop lose).
    #[arg(long, default_value = crate::sim::DEFAULT_FAULTS, value_parser = FaultSpec::parse)]
    pub faults: FaultSpec,
    /// Chance that a client is killed during a statement.
    #[arg(long, default_value_t = 0.03)]
    pub kills: f64,
    /// Soak: keep running new seeds for this long (e.g. 90s, 30m, 2h)
    /// instead of --seeds.
    #[arg(long, env = "DBCORD_SOAK", value_parser = parse_duration)]
    pub soak: Option<std::time::Duration>,
    /// Print every statement and its outcome (to stderr) as it finishes.
    #[arg(long)]
    pub trace: bool,
    /// Also create and drop a UNIQUE index while the clients insert. This
    /// finds two known defects (see the README), so it is off by default.
    #[arg(long)]
    pub unique_index_ddl: bool,
}

/// A soak's length: `90s`, `30m`, `2h`, `1h 30m` (humantime's forms), or
/// a bare number of seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = match s.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => std::time::Duration::from_secs_f64(secs),
        Ok(_) => return Err(format!("\"{s}\" is not a duration like 90s, 30m or 2h")),
        Err(_) => humantime::parse_duration(s.trim())
            .map_err(|e| format!("\"{s}\" is not a duration like 90s, 30m or 2h ({e})"))?,
    };
    if d.is_zero() {
        return Err(format!("\"{s}\": a soak lasts more than 0 s"));
    }
    Ok(d)
}

/// How `dbcord bench` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    Markdown,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator as Discord API v10 over HTTP (until Ctrl-C).
    Serve(Box<ServeArgs>),
    /// Play a guild member typing a slash command into a served emulator
    /// where a bot is connected, and print the reply as Discord shows it.
    #[command(after_help = "Example:
  dbcord emulator interact '/dbc_find database:prod table:users where_json:{\"role\":\"student\"}'")]
    Interact(InteractArgs),
}

#[derive(Debug, clap::Args)]
pub struct InteractArgs {
    /// The command as typed in Discord: /name option:value ...
    pub command: String,
    /// The served emulator's base URL.
    #[arg(
        long,
        env = "DISCORD_API_BASE",
        default_value = "http://127.0.0.1:8080"
    )]
    pub api_base: String,
    /// The member's user ID.
    #[arg(long = "user", default_value_t = 4_242_424_242)]
    pub user: u64,
    /// The member's permissions (default 32: Manage Guild; 0: none).
    #[arg(long, default_value_t = 32)]
    pub permissions: u64,
    /// Seconds to wait for the reply.
    #[arg(long, default_value_t = 60.0)]
    pub wait: f64,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: std::net::SocketAddr,
    /// The guild ID of a new data directory (an existing one keeps its own).
    #[arg(long)]
    pub guild_id: Option<u64>,
    #[command(flatten)]
    pub search: SearchArgs,
    /// Accept API requests without a `DiscordBot (url, version)` User-Agent
    /// (Discord's Cloudflare refuses them).
    #[arg(long)]
    pub allow_any_user_agent: bool,
    /// Invalid requests (401, 403, 429) in 10 minutes that get a client
    /// banned, as Cloudflare does at 10,000.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub ban_after: u32,
    /// Milliseconds each request takes.
    #[arg(long, default_value_t = 0)]
    pub latency: u64,
    /// Emulator seconds per real second: at 100, Discord's 5-second buckets last 50 ms.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Faults on demand, a probability per request for each kind: 429
    /// (bucket), 429g (global), 429s (shared scope, minutes), 500, 502,
    /// 503 (half done first), stall (held stall_ms, half done), drop (never
    /// arrives), lose (done, answer lost); e.g.
    /// "429=0.05,503=0.02,lose=0.02,stall_ms=2000,seed=7".
    #[arg(long, default_value = "", value_parser = FaultSpec::parse)]
    pub faults: FaultSpec,
    /// Accept only this bot token (default: any `Bot <token>`).
    #[arg(long, env = "DBCORD_EMULATOR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Serve without the Message Content intent (content of others' messages is hidden).
    #[arg(long)]
    pub no_message_content: bool,
}

/// How the emulator's search behaves (embedded and served). The defaults
/// are as unkind as Discord; see `docs/emulator.md`.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Emulator search")]
pub struct SearchArgs {
    /// Every write shows in search after exactly this many seconds
    /// (default: a heavy-tailed lag, seconds typically, up to --search-lag-max).
    #[arg(long, value_name = "SECONDS", global = true)]
    pub search_lag: Option<f64>,
    /// The longest lag of the heavy-tailed default.
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS", global = true)]
    pub search_lag_max: f64,
    /// The share of new messages search never sees until they are edited.
    #[arg(long, default_value_t = 0.0, value_name = "SHARE", global = true)]
    pub search_unindexed: f64,
    /// How far `total_results` may be off, as a share either way.
    #[arg(long, default_value_t = 0.2, value_name = "SHARE", global = true)]
    pub search_inexact_totals: f64,
    /// The share of pages cut short although more hits follow.
    #[arg(long, default_value_t = 0.1, value_name = "SHARE", global = true)]
    pub search_short_pages: f64,
    /// The share of pages that come back empty although hits remain.
    #[arg(long, default_value_t = 0.05, value_name = "SHARE", global = true)]
    pub search_empty_pages: f64,
    /// Seconds after start during which search answers 202.
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS", global = true)]
    pub search_warmup: f64,
    /// Periods of an incomplete index, "EVERY,LASTING,OLDER" in seconds: a
    /// period starts every EVERY, lasts LASTING, and hides messages older than OLDER.
    #[arg(long, value_name = "EVERY,LASTING,OLDER", global = true)]
    pub search_deep_index: Option<String>,
    /// Seed of every search draw, so a run replays.
    #[arg(long, default_value_t = 0x00d1_5c0d, value_name = "N", global = true)]
    pub search_seed: u64,
    /// The kinder search of old (words ANDed anywhere, exact totals, full
    /// pages, no 202 on the first search): never what Discord does.
    #[arg(long, global = true)]
    pub search_kind: bool,
}

impl Args {
    /// How 429s are waited out, as `--max-wait` says.
    pub fn rate_limit_policy(&self) -> Result<RateLimitPolicy, String> {
        if !(0.0..=86_400.0).contains(&self.max_wait) {
            return Err(format!(
                "--max-wait must be between 0 and 86400 seconds, not {}",
                self.max_wait
            ));
        }
        Ok(RateLimitPolicy {
            max_wait: (self.max_wait > 0.0).then(|| Duration::from_secs_f64(self.max_wait)),
            ..RateLimitPolicy::default()
        })
    }
}

impl SearchArgs {
    /// The search configuration these flags describe, or what is wrong with them.
    pub fn config(&self) -> Result<SearchConfig, String> {
        let share = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(format!(
                    "--search-{name} is a share between 0 and 1, not {v}"
                ))
            }
        };
        let seconds = |name: &str, v: f64| {
            if (0.0..=86_400.0).contains(&v) {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(format!(
                    "--search-{name} must be between 0 and 86400 seconds, not {v}"
                ))
            }
        };
        let lag_max = seconds("lag-max", self.search_lag_max)?;
        let base = if self.search_kind {
            SearchConfig::kind(lag_max)
        } else {
            SearchConfig::strict()
        };
        let lag = match self.search_lag {
            Some(fixed) => LagModel::Fixed(seconds("lag", fixed)?),
            None if self.search_kind => base.lag,
            None => LagModel::HeavyTailed {
                scale: Duration::from_secs(1).min(lag_max),
                alpha: 1.0,
                max: lag_max,
            },
        };
        Ok(SearchConfig {
            lag,
            unindexed_until_edit: share("unindexed", self.search_unindexed)?,
            inexact_totals: if self.search_kind {
                0.0
            } else {
                share("inexact-totals", self.search_inexact_totals)?
            },
            short_pages: if self.search_kind {
                0.0
            } else {
                share("short-pages", self.search_short_pages)?
            },
            empty_pages: if self.search_kind {
                0.0
            } else {
                share("empty-pages", self.search_empty_pages)?
            },
            warmup: seconds("warmup", self.search_warmup)?,
            deep_index: self
                .search_deep_index
                .as_deref()
                .map(deep_index)
                .transpose()?,
            seed: self.search_seed,
            ..base
        })
    }
}

fn deep_index(spec: &str) -> Result<DeepIndex, String> {
    let parts: Vec<f64> = spec
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            format!("--search-deep-index takes EVERY,LASTING,OLDER in seconds, not \"{spec}\"")
        })?;
    match parts.as_slice() {
        [every, lasting, older] if *every > 0.0 && *lasting >= 0.0 && *older >= 0.0 => {
            Ok(DeepIndex {
                every: Duration::from_secs_f64(*every),
                lasting: Duration::from_secs_f64(*lasting),
                hides_older_than: Duration::from_secs_f64(*older),
            })
        }
        _ => Err(format!(
            "--search-deep-index takes three non-negative numbers EVERY,LASTING,OLDER, not \"{spec}\""
        )),
    }
}
