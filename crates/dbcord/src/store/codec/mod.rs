//! The stored formats, as pure functions: nothing here talks to Discord
//! or holds state, so every format is tested on its own.
//!
//! | file | its one job |
//! | --- | --- |
//! | `value` | one cell: its kinds and its JSON form in a row |
//! | `key` | keys (and indexed values) as bytes whose order is the values' |
//! | `columns` | values and Arrow columns, both ways |
//! | `op` | the row operation (insert, upsert, delete) in every written form |
//! | `token` | search tokens: a value as one word Discord's search finds |
//! | `ascii_json` | JSON in ASCII alone, so Discord never alters it |
//! | `row` | one row as a message (the first format) and as JSON |
//! | `commit` | a statement as one message: row lines, or a segment's header |
//! | `segment` | many rows as Arrow files in attachments, with their header |
//! | `parts` | a file larger than one attachment, cut into parts |
//! | `shard` | Storcord's shards: a large row as several readable messages |
//! | `catalog_entry` | one DDL statement as a catalog message |

pub mod ascii_json;
pub mod catalog_entry;
pub mod columns;
pub mod commit;
pub mod key;
pub mod op;
pub mod parts;
pub mod row;
pub mod segment;
pub mod shard;
pub mod token;
pub mod value;
