//! Rows as a read hands them on.

use datafusion::arrow::array::RecordBatch;
use discord_api::Snowflake;

use super::snapshot::Snapshot;
use crate::store::codec::value::Value;

/// A row as read, with Storcord's ObjectID: the table's channel and the
/// message holding the row's current version (a row message or a segment).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRow {
    pub channel_id: Snowflake,
    pub message_id: Snowflake,
    pub values: Vec<Value>,
}

/// One page of a read: rows, or (a scan's fast path) a decoded segment
/// batch that needs no version resolution, handed on as Arrow.
#[derive(Debug, Default)]
pub struct RowPage {
    pub rows: Vec<StoredRow>,
    pub arrow: Option<ArrowRows>,
}

/// Live rows of one segment batch: the table's columns, in table order.
#[derive(Debug)]
pub struct ArrowRows {
    pub batch: RecordBatch,
    pub channel_id: Snowflake,
    pub message_id: Snowflake,
}

impl StoredRow {
    /// A row of `snap`'s table whose newest version is in `message`.
    pub fn new(snap: &Snapshot, message: Snowflake, values: Vec<Value>) -> StoredRow {
        StoredRow {
            channel_id: snap.def.channel_id,
            message_id: message,
            values,
        }
    }
}

impl RowPage {
    pub fn len(&self) -> usize {
        self.rows.len() + self.arrow.as_ref().map_or(0, |a| a.batch.num_rows())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
