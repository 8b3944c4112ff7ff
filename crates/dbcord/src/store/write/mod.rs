//! Writing: a statement as one commit, checked before and confirmed after.
//!
//! | file | its one job |
//! | --- | --- |
//! | `commit` | a statement's commit, step by step, retried after a lost race, confirmed |
//! | `checks` | rows whole, keys and UNIQUE values free, sizes within dbcord's limits |
//! | `build` | the commit message: row lines, or a segment whose header fits |
//! | `shards` | rows posted as Storcord shards before the commit that names them |
//! | `stage` | a statement larger than one message, staged, then one commit naming it |
//! | `options` | how writes behave (when to compact) |

pub(crate) mod build;
pub(crate) mod checks;
pub(crate) mod commit;
pub(crate) mod options;
pub(crate) mod shards;
pub(crate) mod stage;
