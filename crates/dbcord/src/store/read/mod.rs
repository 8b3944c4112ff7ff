//! Reading a table: a statement's snapshot, the access paths, and the
//! segment batches they fetch.
//!
//! | file | its one job |
//! | --- | --- |
//! | `snapshot` | a statement's view of a table: its log brought up to date, the runs that count |
//! | `access` | the access paths (scan, keys, index, commits) and the source that walks one lazily |
//! | `lookup` | rows by key, by index value, by commit |
//! | `scan` | every live row, a page at a time, pruned by statistics |
//! | `batches` | segment batches from the CDN by range reads, decoded |
//! | `cache` | decoded batches kept for the next read, weighed by bytes |
//! | `parts` | the messages of staged segments, for their attachments |
//! | `rows` | rows as a read hands them on |
//! | `predict` | what a read will cost, before it runs (EXPLAIN) |
//! | `stats` | what a read cost (EXPLAIN ANALYZE) |
//! | `notes` | the latest scans, for `.timing` |

pub(crate) mod access;
pub(crate) mod batches;
pub(crate) mod cache;
pub(crate) mod lookup;
pub(crate) mod notes;
pub(crate) mod parts;
pub(crate) mod predict;
pub(crate) mod rows;
pub(crate) mod scan;
pub(crate) mod snapshot;
pub(crate) mod stats;
