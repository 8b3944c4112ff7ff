//! Segments: a commit's rows as columnar files in attachments.
//!
//! The data file is an Arrow IPC file (LZ4-compressed) of the table's
//! columns plus `_op` (insert, upsert, delete), its rows sorted by primary
//! key (see [`super::key`]) in a few record batches. Each index gets a file
//! of its own: the indexed value and the key columns, sorted by value then
//! key. The message's content holds the header: row counts, per-column
//! min/max/null counts, the key range, and each file's batch directory
//! (first key, byte offset, metadata and body lengths), so that a reader
//! prunes a segment from one history page and reads one batch of it with
//! one HTTP range request.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt8Array};
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::reader::{FileDecoder, FileReader, read_footer_length};
use datafusion::arrow::ipc::writer::{FileWriter, IpcWriteOptions};
use datafusion::arrow::ipc::{Block, CompressionType, MetadataVersion, root_as_footer};
use discord_api::NewFile;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::columns::{arrow_type, column, values};
use super::commit::Change;
use super::key::{Key, row_key};
use super::op::Op;
use super::parts::{PART_BYTES, cut};
use super::value::Value;
use crate::store::schema::{ColumnType, IndexDef, TableDef};

/// One record batch of a file: its first key (or indexed value and key),
/// and where its bytes are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchDir(pub String, pub u64, pub i32, pub i64);

impl BatchDir {
    pub fn first(&self) -> Option<Key> {
        Key::from_hex(&self.0)
    }

    pub fn offset(&self) -> u64 {
        self.1
    }

    /// Bytes of the batch: its metadata and body.
    pub fn len(&self) -> u64 {
        self.2 as u64 + self.3 as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn block(&self) -> Block {
        Block::new(self.1 as i64, self.2, self.3)
    }
}

/// A file's bytes and its batch directory.
type WrittenFile = (Vec<u8>, Vec<BatchDir>);

/// A file among the message's attachments and its batch directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileDir {
    /// The attachment's position in the message (its first part's).
    pub file: usize,
    pub batches: Vec<BatchDir>,
    /// A file larger than Discord takes in one attachment is cut into
    /// parts of this many bytes, consecutive attachments: (bytes, parts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<(u64, usize)>,
}

impl FileDir {
    /// The attachment positions this file occupies.
    pub fn attachments(&self) -> std::ops::Range<usize> {
        self.file..self.file + self.parts.map_or(1, |(_, n)| n)
    }
}

/// Cut every file over `max` bytes into parts, renumbering the header's
/// file positions to match.
fn split_parts(
    header: &mut SegmentHeader,
    files: Vec<(String, Vec<u8>)>,
    max: usize,
) -> Vec<NewFile> {
    let mut out = Vec::new();
    let mut first = Vec::with_capacity(files.len());
    let mut parts = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        first.push(out.len());
        let cut = cut(&name, bytes, max);
        parts.push((cut.len() > 1).then_some((max as u64, cut.len())));
        out.extend(cut);
    }
    for dir in std::iter::once(&mut header.data).chain(header.indexes.values_mut()) {
        dir.parts = parts[dir.file];
        dir.file = first[dir.file];
    }
    out
}

/// Per-column statistics: enough to skip a segment a filter cannot match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Json>,
    pub nulls: u64,
}

/// What a segment message's content says of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentHeader {
    pub rows: u64,
    pub deletes: u64,
    /// A checkpoint: this segment holds every live row of all commits up to
    /// and including this message ID, which it replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers: Option<discord_api::Snowflake>,
    /// Bounds of the smallest and largest key, hex: the keys themselves,
    /// or shorter keys below and above them when they are long.
    pub keys: (String, String),
    pub stats: BTreeMap<String, ColumnStats>,
    pub data: FileDir,
    /// Index name -> its file (absent: the index came later; scan the data).
    pub indexes: BTreeMap<String, FileDir>,
    /// The stored names of the data file's columns, in order, for tables
    /// an ALTER TABLE has changed (others' segments have the table's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cols: Option<Vec<String>>,
}

impl SegmentHeader {
    pub fn key_range(&self) -> Option<(Key, Key)> {
        Some((Key::from_hex(&self.keys.0)?, Key::from_hex(&self.keys.1)?))
    }
}

/// A segment ready to be attached: the files, and the header describing them.
pub struct EncodedSegment {
    pub header: SegmentHeader,
    /// The attachments, in order.
    pub files: Vec<NewFile>,
}

/// The schema of the data files a table writes now: its columns by
/// stored name, then `_op`. Decoded batches are brought to this shape.
pub fn data_schema(def: &TableDef) -> SchemaRef {
    let mut fields: Vec<Field> = def
        .columns
        .iter()
        .map(|c| Field::new(c.stored(), arrow_type(c.ty), true))
        .collect();
    fields.push(Field::new("_op", DataType::UInt8, false));
    Arc::new(Schema::new(fields))
}

/// The schema a segment's data file was written with: the columns its
/// header lists (or the table's, for segments older than any ALTER).
pub fn segment_schema(def: &TableDef, header: &SegmentHeader) -> Result<SchemaRef, ArrowError> {
    let mut fields = def
        .segment_columns(header.cols.as_ref())
        .iter()
        .map(|name| {
            let ty = def.stored_type(name).ok_or_else(|| {
                ArrowError::SchemaError(format!(
                    "the segment has column {name}, which the table never had"
                ))
            })?;
            Ok(Field::new(name, arrow_type(ty), true))
        })
        .collect::<Result<Vec<Field>, ArrowError>>()?;
    fields.push(Field::new("_op", DataType::UInt8, false));
    Ok(Arc::new(Schema::new(fields)))
}

/// A decoded data batch in the table's current shape ([`data_schema`]):
/// a column added since reads as its fill, a dropped one is left out.
pub fn normalize(def: &TableDef, raw: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = data_schema(def);
    if raw.schema().fields() == schema.fields() {
        return Ok(raw.clone());
    }
    let n = raw.num_rows();
    let mut cols: Vec<ArrayRef> = def
        .columns
        .iter()
        .map(|c| match raw.column_by_name(c.stored()) {
            Some(a) => Arc::clone(a),
            None => {
                let fill = super::row::fill(c);
                column(c.ty, std::iter::repeat_n(&fill, n))
            }
        })
        .collect();
    let ops = raw
        .column_by_name("_op")
        .ok_or_else(|| ArrowError::SchemaError("no _op column".into()))?;
    cols.push(Arc::clone(ops));
    RecordBatch::try_new(schema, cols)
}

/// The schema of an index's files: the value, then the key columns.
pub fn index_schema(def: &TableDef, index: &IndexDef) -> Option<SchemaRef> {
    let col = def.index_column(index)?;
    let mut fields = vec![Field::new("_value", arrow_type(def.columns[col].ty), false)];
    for k in &def.primary_key {
        let i = def.column_index(k)?;
        let c = &def.columns[i];
        fields.push(Field::new(c.stored(), arrow_type(c.ty), false));
    }
    Some(Arc::new(Schema::new(fields)))
}

/// Encode `changes` (any order) as a segment with files for `indexes`,
/// `batches` record batches in the data file (fewer for small segments).
pub fn encode(
    def: &TableDef,
    indexes: &[Arc<IndexDef>],
    changes: &[Change],
    batches: usize,
) -> Result<EncodedSegment, ArrowError> {
    let mut keyed: Vec<(Key, &Change)> = changes
        .iter()
        .filter_map(|c| Some((row_key(def, &c.values)?, c)))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    // An empty segment (a checkpoint of an empty table) has an empty key
    // range, which no key falls in.
    let (first, last) = match (keyed.first(), keyed.last()) {
        (Some(f), Some(l)) => (
            f.0.lower_bound(KEY_BOUND).to_hex(),
            l.0.upper_bound(KEY_BOUND).to_hex(),
        ),
        _ => (String::new(), String::new()),
    };
    let data_rows: Vec<&Change> = keyed.iter().map(|(_, c)| *c).collect();
    let (data, data_dir) = data_file(def, &keyed, batches.max(1))?;
    let mut files = vec![("rows.arrow".to_string(), data)];
    let mut index_dirs = BTreeMap::new();
    for index in indexes {
        if let Some((bytes, batches)) = index_file(def, index, &data_rows, batches.div_ceil(2))? {
            index_dirs.insert(
                index.name.clone(),
                FileDir {
                    file: files.len(),
                    batches,
                    parts: None,
                },
            );
            files.push((format!("idx-{}.arrow", index.name), bytes));
        }
    }
    let header = SegmentHeader {
        rows: changes.len() as u64,
        deletes: changes.iter().filter(|c| c.op == Op::Delete).count() as u64,
        covers: None,
        keys: (first, last),
        stats: stats(def, &data_rows),
        data: FileDir {
            file: 0,
            batches: data_dir,
            parts: None,
        },
        indexes: index_dirs,
        cols: def
            .altered()
            .then(|| def.columns.iter().map(|c| c.stored().to_string()).collect()),
    };
    let mut header = header;
    let files = split_parts(&mut header, files, PART_BYTES);
    Ok(EncodedSegment { header, files })
}

/// The data file: rows in key order, `_op` last, in `batches` batches.
fn data_file(
    def: &TableDef,
    keyed: &[(Key, &Change)],
    batches: usize,
) -> Result<WrittenFile, ArrowError> {
    let schema = data_schema(def);
    let per = keyed.len().div_ceil(batches).max(1);
    let chunks: Vec<&[(Key, &Change)]> = keyed.chunks(per).collect();
    let mut record_batches = Vec::with_capacity(chunks.len());
    for chunk in &chunks {
        let mut cols: Vec<ArrayRef> = def
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| column(c.ty, chunk.iter().map(|(_, ch)| &ch.values[i])))
            .collect();
        cols.push(Arc::new(
            chunk
                .iter()
                .map(|(_, ch)| ch.op.code())
                .collect::<UInt8Array>(),
        ));
        record_batches.push(RecordBatch::try_new(Arc::clone(&schema), cols)?);
    }
    let firsts = boundaries(&chunks);
    write_file(&schema, &record_batches, &firsts)
}

/// An index's file: (value, key columns) of inserts and upserts, sorted by
/// value then key; `None` if no row has a value.
fn index_file(
    def: &TableDef,
    index: &IndexDef,
    rows: &[&Change],
    batches: usize,
) -> Result<Option<WrittenFile>, ArrowError> {
    let (Some(schema), Some(col)) = (index_schema(def, index), def.index_column(index)) else {
        return Ok(None);
    };
    let mut entries: Vec<(Key, &Change)> = rows
        .iter()
        .filter(|c| c.op != Op::Delete)
        .filter_map(|c| {
            let mut k = Key::of([&c.values[col]])?;
            k.0.extend(row_key(def, &c.values)?.0);
            Some((k, *c))
        })
        .collect();
    if entries.is_empty() {
        return Ok(None);
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let per = entries.len().div_ceil(batches.max(1)).max(1);
    let chunks: Vec<&[(Key, &Change)]> = entries.chunks(per).collect();
    let key_cols: Vec<usize> = def
        .primary_key
        .iter()
        .filter_map(|k| def.column_index(k))
        .collect();
    let mut record_batches = Vec::with_capacity(chunks.len());
    for chunk in &chunks {
        let mut cols = vec![column(
            def.columns[col].ty,
            chunk.iter().map(|(_, c)| &c.values[col]),
        )];
        for &k in &key_cols {
            cols.push(column(
                def.columns[k].ty,
                chunk.iter().map(|(_, c)| &c.values[k]),
            ));
        }
        record_batches.push(RecordBatch::try_new(Arc::clone(&schema), cols)?);
    }
    let firsts = boundaries(&chunks);
    write_file(&schema, &record_batches, &firsts).map(Some)
}

/// Bytes of a key the header's key range keeps: longer keys are bounded
/// by a shorter one, so that the header fits in a message however long the
/// keys are.
const KEY_BOUND: usize = 48;

/// Each batch's boundary in the directory: the shortest key that sorts
/// after the previous batch's last key and no later than its own first.
fn boundaries<T>(chunks: &[&[(Key, T)]]) -> Vec<Key> {
    let mut out = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let first = &chunk[0].0;
        out.push(match i {
            0 => first.lower_bound(KEY_BOUND),
            _ => {
                let before = &chunks[i - 1][chunks[i - 1].len() - 1].0;
                Key::separator(before, first)
            }
        });
    }
    out
}

/// An LZ4-compressed IPC file, and its batches' places read back from its footer.
fn write_file(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    firsts: &[Key],
) -> Result<WrittenFile, ArrowError> {
    let options =
        IpcWriteOptions::default().try_with_compression(Some(CompressionType::LZ4_FRAME))?;
    let mut writer = FileWriter::try_new_with_options(Vec::new(), schema, options)?;
    for b in batches {
        writer.write(b)?;
    }
    writer.finish()?;
    let bytes = writer.into_inner()?;
    let blocks = footer_blocks(&bytes)?;
    let dir = blocks
        .iter()
        .zip(firsts)
        .map(|(b, k)| {
            BatchDir(
                k.to_hex(),
                b.offset() as u64,
                b.metaDataLength(),
                b.bodyLength(),
            )
        })
        .collect();
    Ok((bytes, dir))
}

fn footer_blocks(file: &[u8]) -> Result<Vec<Block>, ArrowError> {
    let n = file.len();
    let tail: [u8; 10] = file
        .get(n.saturating_sub(10)..)
        .and_then(|t| t.try_into().ok())
        .ok_or_else(|| ArrowError::IpcError("file too short".into()))?;
    let len = read_footer_length(tail)?;
    let footer = root_as_footer(&file[n - 10 - len..n - 10])
        .map_err(|e| ArrowError::IpcError(format!("unreadable footer: {e}")))?;
    Ok(footer
        .recordBatches()
        .map(|b| b.iter().copied().collect())
        .unwrap_or_default())
}

/// Min, max (short values only) and null count of every column.
fn stats(def: &TableDef, rows: &[&Change]) -> BTreeMap<String, ColumnStats> {
    let live: Vec<&&Change> = rows.iter().filter(|c| c.op != Op::Delete).collect();
    def.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let set: Vec<&Value> = live
                .iter()
                .map(|r| &r.values[i])
                .filter(|v| **v != Value::Null)
                .collect();
            let min = set
                .iter()
                .min_by_key(|v| Key::of([**v]))
                .and_then(|v| short(v, c.ty));
            let max = set
                .iter()
                .max_by_key(|v| Key::of([**v]))
                .and_then(|v| short(v, c.ty));
            let s = ColumnStats {
                min,
                max,
                nulls: (live.len() - set.len()) as u64,
            };
            (c.stored().to_string(), s)
        })
        .collect()
}

/// A value's JSON for statistics, unless it is long text (a prefix would
/// not bound the maximum, so long values are simply left out).
fn short(v: &Value, ty: ColumnType) -> Option<Json> {
    match v {
        Value::Text(s) if s.len() > 48 => None,
        v => v.to_json(ty),
    }
}

/// Rows of one batch, read from exactly its bytes.
pub fn decode_batch(
    schema: &SchemaRef,
    dir: &BatchDir,
    bytes: Vec<u8>,
) -> Result<RecordBatch, ArrowError> {
    let decoder = FileDecoder::new(Arc::clone(schema), MetadataVersion::V5);
    decoder
        .read_record_batch(&dir.block(), &Buffer::from_vec(bytes))?
        .ok_or_else(|| ArrowError::IpcError("an empty batch".into()))
}

/// Every batch of a whole file.
pub fn decode_file(bytes: Vec<u8>) -> Result<Vec<RecordBatch>, ArrowError> {
    FileReader::try_new(std::io::Cursor::new(bytes), None)?.collect()
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

/// The changes of a data batch, in key order.
pub fn changes(def: &TableDef, batch: &RecordBatch) -> Result<Vec<Change>, ArrowError> {
    let n = def.columns.len();
    let mut rows = vec![Vec::with_capacity(n); batch.num_rows()];
    for c in &def.columns {
        let col = batch
            .column_by_name(c.stored())
            .ok_or_else(|| ArrowError::SchemaError(format!("no column {}", c.stored())))?;
        for (row, v) in rows.iter_mut().zip(values(c.ty, col)?) {
            row.push(v);
        }
    }
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

/// The (value, key) pairs of an index batch.
pub fn index_entries(
    def: &TableDef,
    index: &IndexDef,
    batch: &RecordBatch,
) -> Result<Vec<(Value, Key)>, ArrowError> {
    let col = def
        .index_column(index)
        .ok_or_else(|| ArrowError::SchemaError(format!("no column {}", index.column)))?;
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
        .filter_map(|(v, k)| Some((v, Key::of(&k)?)))
        .collect())
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::store::schema::{ColumnType, test_table};

    fn def() -> TableDef {
        test_table(
            "t",
            &[("id", ColumnType::BigInt), ("tag", ColumnType::Text)],
        )
    }

    fn tag_index() -> Arc<IndexDef> {
        Arc::new(IndexDef {
            database: "main".into(),
            name: "t_tag".into(),
            table: "t".into(),
            column: "tag".into(),
            unique: false,
            channel_id: None,
            ready: true,
        })
    }

    #[test]
    fn one_batch_reads_back_from_exactly_its_bytes() {
        let d = def();
        let changes: Vec<Change> = (0..1000)
            .rev()
            .map(|i| Change {
                op: if i % 10 == 0 { Op::Delete } else { Op::Insert },
                values: vec![Value::Int(i), Value::Text(format!("tag{}", i % 7))],
            })
            .collect();
        let seg = encode(&d, &[tag_index()], &changes, 8).unwrap();
        let h = &seg.header;
        assert_eq!((h.rows, h.deletes, h.data.batches.len()), (1000, 100, 8));
        assert_eq!(
            h.stats["id"].min,
            Some(Json::from(1)),
            "deletes carry no values"
        );
        let dir = &h.data.batches[3];
        let bytes =
            seg.files[0].bytes[dir.offset() as usize..(dir.offset() + dir.len()) as usize].to_vec();
        let batch = decode_batch(&data_schema(&d), dir, bytes).unwrap();
        let rows = changes_of(&d, &batch);
        assert_eq!(
            rows[0].values[0],
            Value::Int(375),
            "sorted by key, 125 a batch"
        );
        assert_eq!(rows.len(), 125);
        let idx = &h.indexes["t_tag"];
        let all = decode_file(seg.files[idx.file].bytes.clone()).unwrap();
        let entries: usize = all
            .iter()
            .map(|b| index_entries(&d, &tag_index(), b).unwrap().len())
            .sum();
        assert_eq!(entries, 900, "deleted rows have no index entries");
    }

    fn changes_of(d: &TableDef, b: &RecordBatch) -> Vec<Change> {
        changes(d, b).unwrap()
    }
}
