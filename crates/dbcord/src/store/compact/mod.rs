//! Compaction and vacuum: a table's log folded into a checkpoint, and the
//! messages it replaced removed.
//!
//! | file | its one job |
//! | --- | --- |
//! | `checkpoint` | fold the log into one checkpoint segment |
//! | `vacuum` | compact, archive the history, delete what the checkpoint replaced |

pub(crate) mod checkpoint;
pub(crate) mod vacuum;
