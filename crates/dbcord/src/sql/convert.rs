//! Rows to Arrow record batches and back.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Float32Array, Float32Builder, Float64Array,
    Float64Builder, Int32Array, Int32Builder, Int64Array, Int64Builder, RecordBatch,
    RecordBatchOptions, StringArray, StringBuilder, TimestampNanosecondArray,
    TimestampNanosecondBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::{DataFusionError, Result};

use super::types::arrow_type;
use crate::store::table::StoredRow;
use crate::store::{ColumnType, TableDef, Value};

/// Build a batch of the projected columns. `projection` indexes the table's
/// columns, then the hidden `_message_id` and `_channel_id` after them.
pub fn rows_to_batch(
    schema: SchemaRef,
    def: &TableDef,
    projection: &[usize],
    rows: &[StoredRow],
) -> Result<RecordBatch> {
    let n = def.columns.len();
    let id =
        |f: fn(&StoredRow) -> i64| Arc::new(rows.iter().map(f).collect::<Int64Array>()) as ArrayRef;
    let columns: Vec<ArrayRef> = projection
        .iter()
        .map(|&i| match i {
            i if i < n => column_array(def.columns[i].ty, rows.iter().map(|r| &r.values[i])),
            i if i == n => id(|r| r.message_id.0 as i64),
            _ => id(|r| r.channel_id.0 as i64),
        })
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    Ok(RecordBatch::try_new_with_options(
        schema, columns, &options,
    )?)
}

fn column_array<'a>(ty: ColumnType, values: impl Iterator<Item = &'a Value>) -> ArrayRef {
    macro_rules! build {
        ($builder:expr, $pat:pat => $val:expr) => {{
            let mut b = $builder;
            for v in values {
                match v {
                    $pat => b.append_value($val),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    match ty {
        ColumnType::Text => build!(StringBuilder::new(), Value::Text(s) => s),
        ColumnType::BigInt => build!(Int64Builder::new(), Value::Int(x) => *x),
        // The row decoder keeps INT values within i32.
        ColumnType::Int => build!(Int32Builder::new(), Value::Int(x) => *x as i32),
        ColumnType::Double => build!(Float64Builder::new(), Value::Float(x) => *x),
        ColumnType::Real => build!(Float32Builder::new(), Value::Float(x) => *x as f32),
        ColumnType::Boolean => build!(BooleanBuilder::new(), Value::Bool(x) => *x),
        ColumnType::Timestamp => {
            build!(TimestampNanosecondBuilder::new(), Value::Timestamp(x) => *x)
        }
    }
}

/// Rows (values in table column order) from a batch shaped like the table.
pub fn batch_to_rows(def: &TableDef, batch: &RecordBatch) -> Result<Vec<Vec<Value>>> {
    if batch.num_columns() != def.columns.len() {
        return Err(DataFusionError::Plan(format!(
            "insert into {} supplies {} columns, the table has {}",
            def.qualified_name(),
            batch.num_columns(),
            def.columns.len()
        )));
    }
    let mut rows = vec![Vec::with_capacity(def.columns.len()); batch.num_rows()];
    for (col, array) in def.columns.iter().zip(batch.columns()) {
        let array = cast(array, &arrow_type(col.ty))?;
        for (r, row) in rows.iter_mut().enumerate() {
            row.push(cell(col.ty, &array, r));
        }
    }
    Ok(rows)
}

fn cell(ty: ColumnType, array: &ArrayRef, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    let any = array.as_any();
    let get = || -> Option<Value> {
        Some(match ty {
            ColumnType::Text => {
                Value::Text(any.downcast_ref::<StringArray>()?.value(i).to_string())
            }
            ColumnType::BigInt => Value::Int(any.downcast_ref::<Int64Array>()?.value(i)),
            ColumnType::Int => Value::Int(any.downcast_ref::<Int32Array>()?.value(i).into()),
            ColumnType::Double => Value::Float(any.downcast_ref::<Float64Array>()?.value(i)),
            ColumnType::Real => Value::Float(any.downcast_ref::<Float32Array>()?.value(i).into()),
            ColumnType::Boolean => Value::Bool(any.downcast_ref::<BooleanArray>()?.value(i)),
            ColumnType::Timestamp => {
                Value::Timestamp(any.downcast_ref::<TimestampNanosecondArray>()?.value(i))
            }
        })
    };
    get().unwrap_or(Value::Null)
}
