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

/// The Arrow schema of a table as SQL sees it.
pub fn table_schema(def: &TableDef) -> Schema {
    Schema::new(
        def.columns
            .iter()
            .map(|c| Field::new(&c.name, arrow_type(c.ty), c.nullable))
            .collect::<Vec<_>>(),
    )
}

pub const SUPPORTED_TYPES: &str = "TEXT, VARCHAR, BIGINT, INT, DOUBLE, REAL, BOOLEAN, TIMESTAMP";
