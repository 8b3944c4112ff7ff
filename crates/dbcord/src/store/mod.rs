//! The Discord-native data model: databases, tables, rows as messages.
//!
//! The store knows Discord (through the trait), JSON and Arrow (segments
//! are Arrow files), nothing of SQL. A table is a log of commits in its
//! channel; the newest committed version of each row wins.
//!
//! # Rooms
//!
//! | module | its one job |
//! | --- | --- |
//! | `state` | the [`Store`]: what it caches of the guild, and its catalog's accessors |
//! | [`codec`] | the stored formats, as pure functions |
//! | `catalog` | which databases, tables and indexes exist; DDL; staying current |
//! | `log` | a table's commits, which of them count, reading them from its channel |
//! | `read` | snapshots, access paths, scans, lookups, segment batches, cost |
//! | `write` | a statement as one commit: checks, message, confirmation |
//! | `compact` | checkpoints and vacuum |
//! | `txn` | transactions over statements and tables: snapshot, writes, commit points |
//! | `admin` | verify, backup and restore, import and export, inspect, row versions |
//! | `schema` | table and index definitions |
//! | `names` | naming rules, channel names and ownership markers |
//! | `timing` | how long things are kept and waited for |
//! | `progress` | long work reported to whoever shows it |
//!
//! Inside the store, a file imports an item from the file that defines it;
//! the `pub use` below is the surface for the SQL layer, the shell and the
//! tests.

mod admin;
mod catalog;
pub mod codec;
mod compact;
mod log;
mod names;
mod progress;
mod read;
mod schema;
mod state;
mod timing;
mod txn;
mod write;

pub use admin::backup::{Restored, SnapshotInfo};
pub use admin::inspect::Fact;
pub use admin::transfer::{FileFormat, Transfer};
pub use admin::verify::{CHECKS, Finding};
pub use admin::versions::Version;
pub use catalog::ddl::find_or_make_guild_channel;
pub use codec::key::{Key, row_key};
pub use codec::op::Change;
pub use codec::op::Op;
pub use codec::value::Value;
pub use compact::vacuum::VacuumReport;
pub use names::check as check_name;
pub use names::is_dbcord_topic;
pub use names::{AUDIT_CHANNEL, audit_topic};
pub use progress::{Progress, Silent};
pub use read::access::{Access, RowSource};
pub use read::batches::READ_AHEAD;
pub use read::notes::ScanNote;
pub use read::predict::Prediction;
pub use read::rows::{ArrowRows, RowPage, StoredRow};
pub use read::scan::{Bound, Prune};
pub use read::stats::ReadStats;
pub use schema::{CheckDef, Column, ColumnType, IndexDef, LargeRows, NewIndex, NewTable, TableDef};
pub use state::{DEFAULT_DATABASE, Store};
pub use timing::{STAGE_GRACE, VACUUM_GRACE};
pub use txn::point_log::Upto;
pub use txn::transaction::Txn;
pub use txn::view::ReadView;
pub use write::options::WriteOptions;

#[cfg(test)]
pub use schema::test_table;
