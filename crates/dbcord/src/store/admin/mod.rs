//! The admin operations: what a person runs on a table besides SQL.
//!
//! | file | its one job |
//! | --- | --- |
//! | `verify` | a table checked against itself, read whole from Discord |
//! | `backup` | a table as one snapshot message, and restore from it |
//! | `transfer` | export to and import from a local CSV or JSON-lines file |
//! | `inspect` | where a row is in Discord, and what it costs there |
//! | `versions` | a row's versions, and their archive in the table's history thread |
//!
//! Reindex is with CREATE INDEX (`catalog::index`); vacuum with compaction
//! (`compact::vacuum`).

pub(crate) mod backup;
pub(crate) mod inspect;
pub(crate) mod objects;
pub(crate) mod transfer;
pub(crate) mod verify;
pub(crate) mod versions;
