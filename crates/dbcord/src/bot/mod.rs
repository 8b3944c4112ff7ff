//! The seeds' front end: what a slash command asks, turned into plans the
//! same `Engine` runs as SQL (the bot itself, over the Gateway and the
//! interactions endpoint, is issue 20's next part).
//!
//! | file | its one job |
//! | --- | --- |
//! | `where_json` | `where_json` filter documents as DataFusion expressions |
//! | `documents` | `schema_json` as a table's columns, `value_json` as its rows |

pub mod documents;
pub mod where_json;

pub use where_json::{WhereError, filter};
