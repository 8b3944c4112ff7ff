//! Rows put in an index's (value, key) order: an external merge sort.
//! Rows gather in memory up to a budget, then go sorted to a temporary
//! local file (Arrow IPC); at the end the files and what is left in memory
//! are merged. An index of a table of any size is built in bounded memory.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BinaryArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::ipc::writer::FileWriter;

use crate::store::codec::columns::{arrow_type, column, values};
use crate::store::codec::key::Key;
use crate::store::codec::op::Change;
use crate::store::codec::op::Op;
use crate::store::codec::segment::index_key;
use crate::store::codec::value::Value;
use crate::store::compact::writer::row_bytes;
use crate::store::schema::TableDef;

/// Bytes of rows (as they would be stored) a sort holds in memory before
/// it spills. Held as decoded values they take about four times that: at
/// 32 MiB a sort stays near 128 MiB (the bench measures a compaction's
/// peak at 10,000,000 rows).
pub const SORT_BUDGET: usize = 32 << 20;

/// Rows a spill file's batch holds.
const SPILL_BATCH: usize = 8192;

/// An external sort of live rows by one index's order.
pub(crate) struct IndexSorter {
    def: Arc<TableDef>,
    col: usize,
    budget: usize,
    buffer: Vec<(Key, Vec<Value>)>,
    bytes: usize,
    spills: Vec<File>,
}

impl IndexSorter {
    pub fn new(def: Arc<TableDef>, col: usize, budget: usize) -> Self {
        IndexSorter {
            def,
            col,
            budget,
            buffer: Vec::new(),
            bytes: 0,
            spills: Vec::new(),
        }
    }

    /// Take in a live row (one whose value is NULL is no entry).
    pub fn push(&mut self, values: Vec<Value>) -> Result<(), ArrowError> {
        let Some(order) = index_key(&self.def, self.col, &values) else {
            return Ok(());
        };
        self.bytes += row_bytes(&order, &values);
        self.buffer.push((order, values));
        if self.bytes >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// How many files the sort has spilled to.
    #[cfg(test)]
    pub fn spilled(&self) -> usize {
        self.spills.len()
    }

    fn spill(&mut self) -> Result<(), ArrowError> {
        let mut rows = std::mem::take(&mut self.buffer);
        self.bytes = 0;
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let file = tempfile::tempfile().map_err(|e| ArrowError::IoError(e.to_string(), e))?;
        let schema = spill_schema(&self.def);
        let mut writer = FileWriter::try_new(BufWriter::new(file), &schema)?;
        for chunk in rows.chunks(SPILL_BATCH) {
            writer.write(&spill_batch(&self.def, &schema, chunk)?)?;
        }
        writer.finish()?;
        let file = writer
            .into_inner()?
            .into_inner()
            .map_err(|e| ArrowError::IoError(e.to_string(), e.into_error()))?;
        self.spills.push(file);
        Ok(())
    }

    /// The rows in order, as live changes with their order keys.
    pub fn finish(mut self) -> Result<Sorted, ArrowError> {
        self.buffer.sort_by(|a, b| a.0.cmp(&b.0));
        let mut inputs = vec![Input::Memory(std::mem::take(&mut self.buffer).into_iter())];
        for mut file in self.spills.drain(..) {
            use std::io::Seek;
            file.rewind()
                .map_err(|e| ArrowError::IoError(e.to_string(), e))?;
            let reader = FileReader::try_new(BufReader::new(file), None)?;
            inputs.push(Input::Spill {
                reader: Box::new(reader),
                rows: Vec::new().into_iter(),
            });
        }
        let heads = inputs.iter().map(|_| None).collect();
        Ok(Sorted {
            def: self.def,
            inputs,
            heads,
        })
    }
}

/// One input of the final merge.
enum Input {
    Memory(std::vec::IntoIter<(Key, Vec<Value>)>),
    Spill {
        reader: Box<FileReader<BufReader<File>>>,
        rows: std::vec::IntoIter<(Key, Vec<Value>)>,
    },
}

impl Input {
    fn next(&mut self, def: &TableDef) -> Result<Option<(Key, Vec<Value>)>, ArrowError> {
        match self {
            Input::Memory(rows) => Ok(rows.next()),
            Input::Spill { reader, rows } => loop {
                if let Some(row) = rows.next() {
                    return Ok(Some(row));
                }
                let Some(batch) = reader.next().transpose()? else {
                    return Ok(None);
                };
                *rows = read_spill(def, &batch)?.into_iter();
            },
        }
    }
}

/// Sorted rows, merged from memory and the spill files.
pub(crate) struct Sorted {
    def: Arc<TableDef>,
    inputs: Vec<Input>,
    heads: Vec<Option<(Key, Vec<Value>)>>,
}

impl Sorted {
    /// The next row in order, as an insert with its order key.
    pub fn next_row(&mut self) -> Result<Option<(Key, Change)>, ArrowError> {
        for (input, head) in self.inputs.iter_mut().zip(self.heads.iter_mut()) {
            if head.is_none() {
                *head = input.next(&self.def)?;
            }
        }
        let smallest = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|(k, _)| (k, i)))
            .min()
            .map(|(_, i)| i);
        Ok(smallest
            .and_then(|i| self.heads[i].take())
            .map(|(k, values)| {
                let change = Change {
                    op: Op::Insert,
                    values,
                };
                (k, change)
            }))
    }
}

fn spill_schema(def: &TableDef) -> SchemaRef {
    let mut fields: Vec<Field> = def
        .columns
        .iter()
        .map(|c| Field::new(c.stored(), arrow_type(c.ty), true))
        .collect();
    fields.push(Field::new("_order", DataType::Binary, false));
    Arc::new(Schema::new(fields))
}

fn spill_batch(
    def: &TableDef,
    schema: &SchemaRef,
    rows: &[(Key, Vec<Value>)],
) -> Result<RecordBatch, ArrowError> {
    let mut cols: Vec<ArrayRef> = def
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| column(c.ty, rows.iter().map(|(_, v)| &v[i])))
        .collect();
    cols.push(Arc::new(BinaryArray::from_iter_values(
        rows.iter().map(|(k, _)| k.0.as_slice()),
    )));
    RecordBatch::try_new(Arc::clone(schema), cols)
}

fn read_spill(def: &TableDef, batch: &RecordBatch) -> Result<Vec<(Key, Vec<Value>)>, ArrowError> {
    let n = def.columns.len();
    let mut rows = vec![Vec::with_capacity(n); batch.num_rows()];
    for (i, c) in def.columns.iter().enumerate() {
        for (row, v) in rows.iter_mut().zip(values(c.ty, batch.column(i))?) {
            row.push(v);
        }
    }
    let order = batch
        .column(n)
        .as_any()
        .downcast_ref::<BinaryArray>()
        .ok_or_else(|| ArrowError::SchemaError("a spill file without its order".into()))?;
    Ok((0..order.len())
        .map(|i| Key(order.value(i).to_vec()))
        .zip(rows)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::{ColumnType, test_table};

    #[test]
    fn spilled_rows_come_back_in_index_order() {
        let def = Arc::new(test_table(
            "t",
            &[("id", ColumnType::BigInt), ("tag", ColumnType::Text)],
        ));
        let mut sorter = IndexSorter::new(Arc::clone(&def), 1, 2_000);
        let mut rng = discord_api::SeededRng::new(3);
        for id in 0..1000 {
            let tag = format!("t{}", rng.below(37));
            sorter.push(vec![Value::Int(id), Value::Text(tag)]).unwrap();
        }
        sorter.push(vec![Value::Int(5000), Value::Null]).unwrap();
        assert!(sorter.spilled() > 5, "the budget made it spill");
        let mut sorted = sorter.finish().unwrap();
        let mut out = Vec::new();
        while let Some((k, c)) = sorted.next_row().unwrap() {
            out.push((k, c.values));
        }
        assert_eq!(out.len(), 1000, "every row once; a NULL value is no entry");
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0));
        let first = &out[0].1;
        assert_eq!(first[1], Value::Text("t0".into()));
    }
}
