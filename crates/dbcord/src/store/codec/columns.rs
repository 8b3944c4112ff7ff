//! Values and Arrow columns, both ways, per column type. Segments store rows
//! as Arrow; SQL hands rows to and takes rows from DataFusion as Arrow.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Float32Array, Float32Builder, Float64Array,
    Float64Builder, Int32Array, Int32Builder, Int64Array, Int64Builder, StringArray, StringBuilder,
    TimestampNanosecondArray, TimestampNanosecondBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::error::ArrowError;

use super::value::Value;
use crate::store::schema::ColumnType;

/// The Arrow type a column type is stored and shown as.
pub fn arrow_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::Text | ColumnType::Json => DataType::Utf8,
        ColumnType::BigInt => DataType::Int64,
        ColumnType::Int => DataType::Int32,
        ColumnType::Double => DataType::Float64,
        ColumnType::Real => DataType::Float32,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, None),
    }
}

/// One Arrow column of `ty` from values (anything not of the type is NULL).
pub fn column<'a>(ty: ColumnType, values: impl Iterator<Item = &'a Value>) -> ArrayRef {
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
        ColumnType::Text | ColumnType::Json => build!(StringBuilder::new(), Value::Text(s) => s),
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

/// The values of an Arrow column, read as `ty` (cast first if its type differs).
pub fn values(ty: ColumnType, array: &ArrayRef) -> Result<Vec<Value>, ArrowError> {
    let array = cast(array, &arrow_type(ty))?;
    Ok((0..array.len()).map(|i| cell(ty, &array, i)).collect())
}

fn cell(ty: ColumnType, array: &ArrayRef, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    let any = array.as_any();
    let get = || -> Option<Value> {
        Some(match ty {
            ColumnType::Text | ColumnType::Json => {
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
