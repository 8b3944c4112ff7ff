//! dbcord: a SQL database whose only durable store is a Discord guild.
//!
//! A guild is the catalog, a category `dbcord-<db>` is a database, a text
//! channel `#table-<t>` is a table, a message is a row. Apache DataFusion
//! plans and runs the SQL; table providers turn channels into scans.
//!
//! Two terms come from the designs dbcord grew out of. The *Python
//! dbcord* was a Discord bot that kept a database in a guild through slash
//! commands (rows as messages, indexes as channels, history in threads).
//! *Storcord* was a specification for a JSON document store on Discord;
//! its *ObjectID* names a stored document by the pair (channel ID, message
//! ID), which dbcord shows as the hidden columns `_channel_id` and
//! `_message_id`. A *snowflake* is Discord's 64-bit ID, which encodes the
//! time it was made, so IDs double as timestamps.
//!
//! # Module map
//!
//! Data flows down; each layer knows only the one beneath it. Discord
//! itself is in other crates: `discord-api` (the trait and every Discord
//! fact), `discord-emulator` and `discord-http` (the two backends).
//!
//! | module | its one job |
//! | --- | --- |
//! | [`cli`] | the REPL, `-c` / `-f` scripts, output formats: no storage work |
//! | [`pg`] | `dbcord serve --pg`: the PostgreSQL wire protocol, one engine per client |
//! | [`session`] | wiring a backend, the store and the engine together |
//! | [`sim`] | `dbcord sim`: seeded clients under faults and kills, invariants checked |
//! | [`sql`] | DataFusion: catalog, schema and table providers, scans, inserts, DDL |
//! | [`store`] | the Discord-native data model: catalog, tables, the message formats |
//! | [`error`] | the library's error type above the Discord boundary |
//!
//! Within [`store`]: `codec` (the message formats as pure functions:
//! values, keys, rows, commits, segments, shards, catalog entries),
//! `catalog`, `ddl`, `log` (a table's commit log), `runs` (which commits
//! count), `read` and `source` (access paths), `write` (commits),
//! `compact` (checkpoints and vacuum), `segments` (Arrow files on the CDN),
//! and the admin operations. Within [`sql`]: `engine`, `ddl`, `catalog`,
//! `provider`, `pushdown`, `scan`, `dml`, `sink`, `options`, `admin`.
//!
//! # The life of a query
//!
//! `SELECT email FROM users WHERE id = 'u_1'` typed at the prompt goes
//! through every layer once:
//!
//! 1. [`cli::repl`] reads the line (rustyline) and hands the statement to
//!    [`sql::Engine::run`].
//! 2. DataFusion parses and plans it. The catalog ([`sql::catalog`]) names
//!    the table; its [`sql::provider::DiscordTable`] accepts the filter
//!    `id = 'u_1'` and [`sql::pushdown`] chooses the access path: the
//!    primary key is known, so a key lookup.
//! 3. The physical plan's [`sql::scan::DiscordScanExec`] streams: it asks
//!    the store for the table's snapshot, the commit log of `#table-users`
//!    since its newest checkpoint, read by history pages through the
//!    [`discord_api::Discord`] trait ([`store::log`]), and walks its runs
//!    from the newest, reading of each segment only the batch whose key
//!    range holds `u_1` (a byte range of an attachment on the CDN).
//! 4. The trait's backend answers: the embedded emulator applies its rate
//!    limits and serves the pages and byte ranges; over HTTP the same
//!    requests go to Discord. Discord's search is never asked: its lag and
//!    fuzziness could hide a row.
//! 5. The newest version of the row wins, every filter is re-checked, the
//!    survivors become an Arrow batch, and DataFusion projects `email` and
//!    prints it.

pub mod bench;
pub mod bot;
pub mod cli;
pub mod error;
pub mod pg;
pub mod session;
pub mod sim;
pub mod sql;
pub mod store;

pub use error::{Error, Result};
