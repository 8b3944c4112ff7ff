//! Rows as a scan hands them on.

use discord_api::Snowflake;

use super::codec::value::Value;

/// A row as read, with Storcord's ObjectID: the table's channel and the
/// message holding the row's current version (a row message or a segment).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow {
    pub channel_id: Snowflake,
    pub message_id: Snowflake,
    pub values: Vec<Value>,
}

/// One page of a read.
#[derive(Debug, Default)]
pub struct RowPage {
    pub rows: Vec<StoredRow>,
}
