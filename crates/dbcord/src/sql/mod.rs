//! SQL over the store, with Apache DataFusion.
//!
//! Files: `engine` (statements in, outcomes out), `admin` (the admin
//! operations as table functions), `ddl` (CREATE/DROP carried
//! out on the store), `alter` (ALTER TABLE), `catalog` (the guild as DataFusion catalog), `provider`
//! (a table as TableProvider), `scan` (the streaming Discord scan), `sink`
//! (INSERT), `convert` (rows and Arrow), `types` (column types), `errors`
//! (error text for people), `options` (the `dbcord.*` settings), `pushdown`
//! (which filters narrow a scan, and the access path), `rules` (DEFAULT and
//! CHECK), `json` (the JSON operators' precedence), `json_patch`
//! (`json_merge_patch` and `json_set`: partial updates of documents),
//! `explain` (plans a person can read), `insert` (DEFAULT in VALUES, ON
//! CONFLICT, RETURNING), `guild` (the read-only `discord`
//! schema: the guild's own messages, by search or history), `txn` (BEGIN,
//! COMMIT, ROLLBACK and savepoints: a session's transaction block),
//! `pg_catalog` (PostgreSQL's system catalog, generated from dbcord's).

pub mod admin;
mod alter;
pub mod catalog;
pub mod convert;
mod ddl;
mod dml;
pub mod engine;
pub mod errors;
pub mod explain;
pub mod guild;
mod insert;
pub mod json;
pub mod json_patch;
pub mod options;
pub mod pg_catalog;
pub mod provider;
pub mod pushdown;
pub mod rules;
pub mod scan;
pub mod sink;
pub mod txn;
pub mod types;

pub use engine::{Engine, Outcome};
