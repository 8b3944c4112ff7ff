//! Column types between the store and Arrow.

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use crate::store::{ColumnType, TableDef};

pub fn arrow_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::Text => DataType::Utf8,
        ColumnType::BigInt => DataType::Int64,
        ColumnType::Int => DataType::Int32,
        ColumnType::Double => DataType::Float64,
        ColumnType::Real => DataType::Float32,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, None),
    }
}

/// The store type for a type `CREATE TABLE` produced, if dbcord supports it.
pub fn column_type(dt: &DataType) -> Option<ColumnType> {
    Some(match dt {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => ColumnType::Text,
        DataType::Int64 => ColumnType::BigInt,
        DataType::Int32 => ColumnType::Int,
        DataType::Float64 => ColumnType::Double,
        DataType::Float32 => ColumnType::Real,
        DataType::Boolean => ColumnType::Boolean,
        DataType::Timestamp(_, None) => ColumnType::Timestamp,
        _ => return None,
    })
}

/// Storcord's ObjectID of a row: the message and the channel that hold it.
/// They are hidden: a statement sees them only when it names one of them.
pub const MESSAGE_ID: &str = "_message_id";
pub const CHANNEL_ID: &str = "_channel_id";

/// Whether a statement names a hidden column (and so should see them).
pub fn mentions_hidden(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    lower.contains(MESSAGE_ID) || lower.contains(CHANNEL_ID)
}

/// The Arrow schema of a table as SQL sees it, with the hidden columns last if asked.
pub fn table_schema(def: &TableDef, hidden: bool) -> Schema {
    let mut fields: Vec<Field> = def
        .columns
        .iter()
        .map(|c| Field::new(&c.name, arrow_type(c.ty), c.nullable))
        .collect();
    if hidden {
        fields.push(Field::new(MESSAGE_ID, DataType::Int64, false));
        fields.push(Field::new(CHANNEL_ID, DataType::Int64, false));
    }
    Schema::new(fields)
}

pub const SUPPORTED_TYPES: &str = "TEXT, VARCHAR, BIGINT, INT, DOUBLE, REAL, BOOLEAN, TIMESTAMP";
