//! The stored formats, as pure functions: nothing here talks to Discord
//! or holds state, so every format is tested on its own.
//!
//! | file | its one job |
//! | --- | --- |
//! | `value` | one cell: its kinds and its JSON form in a row |
//! | `key` | keys (and indexed values) as bytes whose order is the values' |
//! | `columns` | values and Arrow columns, both ways |
//! | `op` | a row change, and its operation in every written form |
//! | `token` | search tokens: a value as one word Discord's search finds |
//! | `ascii_json` | JSON in ASCII alone, so Discord never alters it |
//! | `row` | one row as a message (the first format) and as JSON |
//! | `commit` | a statement as one message: row lines, or a segment's header |
//! | `meta` | a commit's marker line: its snapshot, its ID, its checksum |
//! | `segment` | many rows as Arrow files in attachments, with their header |
//! | `ipc` | Arrow IPC files whose batches are read one range at a time |
//! | `batch` | a decoded batch as changes, live rows or index entries |
//! | `manifest` | staged segments and the directories that name them |
//! | `parts` | a file larger than one attachment, cut into parts |
//! | `shard` | Storcord's shards: a large row as several readable messages |
//! | `catalog_entry` | one DDL statement as a catalog message |
//! | `point` | a transaction's commit point |

pub mod ascii_json;
pub mod batch;
pub mod catalog_entry;
pub mod columns;
pub mod commit;
pub mod ipc;
pub mod key;
pub mod manifest;
pub mod meta;
pub mod op;
pub mod parts;
pub mod point;
pub mod row;
pub mod segment;
pub mod shard;
pub mod token;
pub mod value;
