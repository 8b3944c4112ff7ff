//! A table's log: the commits in its channel, which of them count, and how
//! they are read from Discord.
//!
//! | file | its one job |
//! | --- | --- |
//! | `commit` | one commit as read: metadata, rows or segment, shards named |
//! | `table_log` | the log since the newest checkpoint, and which checkpoint counts |
//! | `sync` | reading the log from the channel, backward then forward |
//! | `validity` | which commits count: first committer wins, judged by every reader alike |
//! | `shards` | reading the rows a commit keeps in shards |
//! | `directories` | reading a manifest's or staged commit's directory from its attachment |
//! | `pager` | paging through any channel's messages, oldest first |
//! | `cache` | each table's log as this process last read it |

pub(crate) mod cache;
pub(crate) mod commit;
pub(crate) mod directories;
pub(crate) mod pager;
pub(crate) mod shards;
pub(crate) mod sync;
pub(crate) mod table_log;
pub(crate) mod validity;
