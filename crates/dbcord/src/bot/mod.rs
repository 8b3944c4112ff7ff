//! The seeds' front end: dbcord as a Discord bot with slash commands,
//! every command planned and run by the same `Engine` as SQL.
//!
//! | file | its one job |
//! | --- | --- |
//! | `audit` | each write logged with its member in `#dbc-audit` |
//! | `commands` | the commands registered in the guild, and who may run each |
//! | `invocation` | an interaction's JSON read into who, what and how to answer |
//! | `run` | one command carried out on the engine |
//! | `reply` | an answer as a Discord message (2,000 characters, files, no pings) |
//! | `server` | the running bot: first answer within 3 s, edits, shutdown |
//! | `endpoint` | interactions POSTed to the bot, signatures checked |
//! | `where_json` | `where_json` filter documents as DataFusion expressions |
//! | `documents` | `schema_json` as a table's columns, `value_json` as its rows |

pub mod audit;
pub mod commands;
pub mod documents;
pub mod endpoint;
pub mod invocation;
pub mod reply;
pub mod run;
pub mod server;
pub mod where_json;

pub use server::{Bot, BotError};
pub use where_json::{WhereError, filter};
