//! dbcord: a SQL database whose only durable store is a Discord guild.
//!
//! A guild is the catalog, a category `dbcord-<db>` is a database, a text
//! channel `#table-<t>` is a table, a message is a row. Apache DataFusion
//! plans and runs the SQL; table providers turn channels into scans.
//!
//! # Module map
//!
//! Data flows down; each layer knows only the one beneath it.
//!
//! | module | its one job |
//! | --- | --- |
//! | [`cli`] | the REPL, `-c` / `-f` scripts, output formats: no storage work |
//! | [`sql`] | DataFusion: catalog, schema and table providers, scans, inserts, DDL |
//! | [`store`] | the Discord-native data model: catalog, tables, the row message format |
//! | [`discord`] | the boundary: the [`discord::Discord`] trait, typed errors, time, the limiter, the emulator |
//! | [`error`] | the library's error type above the Discord boundary |
//!
//! Within [`discord`]: [`discord::emulator`] is the embedded guild (limits,
//! search, lag, buckets, counters, journal); [`discord::serve`] serves it as
//! Discord API v10 over HTTP; [`discord::http`] is the real backend
//! (serenity-built requests, dbcord's own header-driven rate limiter,
//! retries, the start-up check, the secret token); [`discord::limiter`]
//! waits out 429s for the embedded backend; [`discord::clock`] supplies
//! virtual, accounted, scaled or real time.
//!
//! Within [`store`]: `row` and `tokens` (the row message and its search
//! words), `catalog`, `ddl`, `table` (insert), `lookup` (access paths),
//! `index`, `unique`. Within [`sql`]: `engine`, `ddl`, `catalog`,
//! `provider`, `pushdown`, `scan`, `sink`, `options`.

pub mod cli;
pub mod discord;
pub mod error;
pub mod sql;
pub mod store;

pub use error::{Error, Result};
