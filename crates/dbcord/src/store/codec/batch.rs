//! Decoded segment batches as rows: a data batch brought to the table's
//! current shape, its changes and live rows; an index batch's entries.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt8Array};
use datafusion::arrow::error::ArrowError;

use super::columns::{column, values};
use super::key::{Key, row_key};
use super::op::Change;
use super::op::Op;
use super::row::fill;
use super::segment::{FileDir, data_schema};
use super::value::Value;
use crate::store::schema::{IndexDef, TableDef};

/// A decoded data batch in the table's current shape ([`data_schema`]):
/// a column added since reads as its fill, a dropped one is left out.
pub fn normalize(def: &TableDef, raw: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = data_schema(def);
    if raw.schema().fields() == schema.fields() {
        return Ok(raw.clone());
    }
    let mut cols = current_columns(def, raw);
    let ops = raw
        .column_by_name("_op")
        .ok_or_else(|| ArrowError::SchemaError("no _op column".into()))?;
    cols.push(Arc::clone(ops));
    RecordBatch::try_new(schema, cols)
}

/// The table's current columns of a decoded batch, in order: each by its
/// stored name, or its fill where the batch predates it.
fn current_columns(def: &TableDef, raw: &RecordBatch) -> Vec<ArrayRef> {
    let n = raw.num_rows();
    def.columns
        .iter()
        .map(|c| match raw.column_by_name(c.stored()) {
            Some(a) => Arc::clone(a),
            None => column(c.ty, std::iter::repeat_n(&fill(c), n)),
        })
        .collect()
}

/// The live rows of a data batch (no tombstones), as the table's columns.
pub fn live_rows(def: &TableDef, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let n = def.columns.len();
    let ops = batch
        .column_by_name("_op")
        .and_then(|c| c.as_any().downcast_ref::<UInt8Array>())
        .ok_or_else(|| ArrowError::SchemaError("no _op column".into()))?;
    let columns = batch.project(&(0..n).collect::<Vec<_>>())?;
    let delete = UInt8Array::new_scalar(Op::Delete.code());
    let keep = datafusion::arrow::compute::kernels::cmp::neq(ops, &delete)?;
    if keep.true_count() == keep.len() {
        return Ok(columns);
    }
    datafusion::arrow::compute::filter_record_batch(&columns, &keep)
}

/// The values of each row of `batch` in the table's current columns
/// (a column the batch predates reads as its fill).
fn rows_of(def: &TableDef, batch: &RecordBatch) -> Result<Vec<Vec<Value>>, ArrowError> {
    let mut rows = vec![Vec::with_capacity(def.columns.len()); batch.num_rows()];
    for (c, col) in def.columns.iter().zip(current_columns(def, batch)) {
        for (row, v) in rows.iter_mut().zip(values(c.ty, &col)?) {
            row.push(v);
        }
    }
    Ok(rows)
}

/// The changes of a data batch (in the table's shape), in key order.
pub fn changes(def: &TableDef, batch: &RecordBatch) -> Result<Vec<Change>, ArrowError> {
    let rows = rows_of(def, batch)?;
    let ops = batch
        .column(batch.num_columns() - 1)
        .as_any()
        .downcast_ref::<UInt8Array>()
        .ok_or_else(|| ArrowError::SchemaError("no _op column".into()))?;
    rows.into_iter()
        .zip(ops.values().iter())
        .map(|(values, code)| {
            let op = Op::from_code(*code)
                .ok_or_else(|| ArrowError::InvalidArgumentError(format!("op {code}")))?;
            Ok(Change { op, values })
        })
        .collect()
}

/// One entry of an index file: the indexed value's key, the row's key,
/// and (in a covering file) the whole row in the table's current shape.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    pub value: Key,
    pub key: Key,
    pub row: Option<Vec<Value>>,
}

/// The entries of a decoded batch of `file`, an index file for `index`
/// (covering, or pairs of the first format), in the file's order.
pub fn index_entries(
    def: &TableDef,
    index: &IndexDef,
    file: &FileDir,
    batch: &RecordBatch,
) -> Result<Vec<IndexEntry>, ArrowError> {
    let col = def
        .index_column(index)
        .ok_or_else(|| ArrowError::SchemaError(format!("no column {}", index.column)))?;
    if !file.covering {
        return pair_entries(def, col, batch);
    }
    Ok(rows_of(def, batch)?
        .into_iter()
        .filter_map(|row| {
            Some(IndexEntry {
                value: Key::of([&row[col]])?,
                key: row_key(def, &row)?,
                row: Some(row),
            })
        })
        .collect())
}

/// The entries of an index batch of the first format: (value, key columns).
fn pair_entries(
    def: &TableDef,
    col: usize,
    batch: &RecordBatch,
) -> Result<Vec<IndexEntry>, ArrowError> {
    let vals = values(def.columns[col].ty, batch.column(0))?;
    let mut keys: Vec<Vec<Value>> = vec![Vec::new(); batch.num_rows()];
    for (j, k) in def.primary_key.iter().enumerate() {
        let i = def
            .column_index(k)
            .ok_or_else(|| ArrowError::SchemaError(format!("no column {k}")))?;
        for (key, v) in keys
            .iter_mut()
            .zip(values(def.columns[i].ty, batch.column(j + 1))?)
        {
            key.push(v);
        }
    }
    Ok(vals
        .into_iter()
        .zip(keys)
        .filter_map(|(v, k)| {
            Some(IndexEntry {
                value: Key::of([&v])?,
                key: Key::of(&k)?,
                row: None,
            })
        })
        .collect())
}
