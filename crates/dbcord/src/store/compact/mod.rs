//! Compaction and vacuum: a table's commits folded into a manifest, and
//! the messages it replaced removed.
//!
//! | file | its one job |
//! | --- | --- |
//! | `checkpoint` | fold the commits into a new manifest, rewriting only what changed |
//! | `merge` | a k-way merge of sorted runs, newest change of each key |
//! | `writer` | a sorted run posted as staged segments within Discord's limits |
//! | `sort` | an external sort of rows into an index's order |
//! | `backoff` | when a failed compaction may be tried again |
//! | `vacuum` | compact, archive the history, delete what no manifest names |

pub(crate) mod backoff;
pub(crate) mod checkpoint;
pub(crate) mod merge;
pub(crate) mod sort;
pub(crate) mod vacuum;
pub(crate) mod writer;
