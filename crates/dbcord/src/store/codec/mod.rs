//! The message formats of the store, as pure functions: values, search
//! tokens, row messages, index entries and catalog entries, and the
//! ASCII-only JSON they are written in. Nothing here
//! talks to Discord or holds state, so every format is tested on its own.

pub mod ascii_json;
pub mod catalog_entry;
pub mod columns;
pub mod commit;
pub mod key;
pub mod row;
pub mod segment;
pub mod shard;
pub mod token;
pub mod value;

pub use value::Value;
