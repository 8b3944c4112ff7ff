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
//! search, lag, buckets, counters, journal); [`discord::limiter`] waits out
//! rate limits; [`discord::clock`] supplies virtual or real time.

pub mod cli;
pub mod discord;
pub mod error;
pub mod sql;
pub mod store;

pub use error::{Error, Result};
