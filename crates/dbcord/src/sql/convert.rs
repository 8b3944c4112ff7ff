//! Rows to Arrow record batches and back, and batches to text.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::{DataFusionError, Result};

use crate::store::codec::columns;
use crate::store::{StoredRow, TableDef, Value};

/// Every value of `batches` as text, row by row, NULL as `NULL`: what
/// the shell prints in a cell, and what tests and the simulation compare.
pub fn text_cells(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            out.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(out)
}

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
            i if i < n => columns::column(def.columns[i].ty, rows.iter().map(|r| &r.values[i])),
            i if i == n => id(|r| r.message_id.0 as i64),
            _ => id(|r| r.channel_id.0 as i64),
        })
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    Ok(RecordBatch::try_new_with_options(
        schema, columns, &options,
    )?)
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
        for (row, v) in rows.iter_mut().zip(columns::values(col.ty, array)?) {
            row.push(v);
        }
    }
    Ok(rows)
}

/// The values of a batch's first `width` columns: the table's columns,
/// then (an UPDATE's old keys) the primary key columns again.
pub fn batch_values(def: &TableDef, batch: &RecordBatch, width: usize) -> Result<Vec<Vec<Value>>> {
    let key_types = def
        .primary_key
        .iter()
        .filter_map(|k| def.column_index(k).map(|i| def.columns[i].ty));
    let types: Vec<_> = def.columns.iter().map(|c| c.ty).chain(key_types).collect();
    let mut rows = vec![Vec::with_capacity(width); batch.num_rows()];
    for (i, ty) in types
        .iter()
        .take(width.min(batch.num_columns()))
        .enumerate()
    {
        for (row, v) in rows.iter_mut().zip(columns::values(*ty, batch.column(i))?) {
            row.push(v);
        }
    }
    Ok(rows)
}
