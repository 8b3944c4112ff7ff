//! Segments: rows as columnar files in a message's attachments.
//!
//! The data file is an Arrow IPC file (see [`super::ipc`]) of the table's
//! columns plus `_op` (insert, upsert, delete), its rows sorted by primary
//! key (see [`super::key`]) in record batches. An index's file holds the
//! segment's live rows again, whole, sorted by the indexed value then the
//! key (a covering index: a lookup reads its rows there and nowhere else);
//! index files of the first format held only (value, key) pairs, and still
//! read. The header says what the files hold: row counts, per-column
//! min/max/null counts, the key range, and each file's batch directory, so
//! that a reader prunes a segment by its statistics and reads one batch of
//! it with one HTTP range request.
//!
//! A commit's own segment carries its header in the message's content; a
//! segment staged for a manifest or a large statement is described by the
//! directory that names it (see [`super::manifest`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt8Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use discord_api::NewFile;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::columns::{arrow_type, column};
use super::ipc::{BatchDir, KEY_BOUND, WrittenFile, boundaries, write_file};
use super::key::{Key, row_key};
use super::op::Change;
use super::op::Op;
use super::parts::cut;
use super::value::Value;
use crate::store::schema::{ColumnType, IndexDef, TableDef};

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
    /// An index file of whole rows (the covering form); without it, an
    /// index file of the first format, (value, key) pairs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub covering: bool,
}

impl FileDir {
    /// The attachment positions this file occupies.
    pub fn attachments(&self) -> std::ops::Range<usize> {
        self.file..self.file + self.parts.map_or(1, |(_, n)| n)
    }

    /// Bytes of the file's batches.
    pub fn bytes(&self) -> u64 {
        self.batches.iter().map(BatchDir::len).sum()
    }
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

/// What a segment's files hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentHeader {
    pub rows: u64,
    pub deletes: u64,
    /// A checkpoint of the first format: this segment holds every live row
    /// of all commits up to and including this message ID, which it
    /// replaces. (Checkpoints are manifests now; these still read.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers: Option<discord_api::Snowflake>,
    /// Bounds of the smallest and largest key, hex: the keys themselves,
    /// or shorter keys below and above them when they are long. For an
    /// index segment, of its (value, key) order.
    pub keys: (String, String),
    pub stats: BTreeMap<String, ColumnStats>,
    /// The data file (for an index segment, its covering index file).
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

    /// Rows that are not tombstones.
    pub fn live(&self) -> u64 {
        self.rows - self.deletes
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
    let mut fields = row_fields(def);
    fields.push(Field::new("_op", DataType::UInt8, false));
    Arc::new(Schema::new(fields))
}

fn row_fields(def: &TableDef) -> Vec<Field> {
    def.columns
        .iter()
        .map(|c| Field::new(c.stored(), arrow_type(c.ty), true))
        .collect()
}

/// The schema a segment's data file was written with: the columns `cols`
/// lists (or the table's, for segments older than any ALTER), then `_op`.
pub fn segment_schema(def: &TableDef, cols: Option<&Vec<String>>) -> Result<SchemaRef, ArrowError> {
    let mut fields = written_fields(def, cols)?;
    fields.push(Field::new("_op", DataType::UInt8, false));
    Ok(Arc::new(Schema::new(fields)))
}

/// The schema a covering index file was written with: the segment's
/// columns, no `_op` (it holds live rows only).
pub fn covering_schema(
    def: &TableDef,
    cols: Option<&Vec<String>>,
) -> Result<SchemaRef, ArrowError> {
    Ok(Arc::new(Schema::new(written_fields(def, cols)?)))
}

fn written_fields(def: &TableDef, cols: Option<&Vec<String>>) -> Result<Vec<Field>, ArrowError> {
    def.segment_columns(cols)
        .iter()
        .map(|name| {
            let ty = def.stored_type(name).ok_or_else(|| {
                ArrowError::SchemaError(format!(
                    "the segment has column {name}, which the table never had"
                ))
            })?;
            Ok(Field::new(name, arrow_type(ty), true))
        })
        .collect()
}

/// The schema of an index file of the first format: the value, then the
/// key columns.
pub fn pair_schema(def: &TableDef, index: &IndexDef) -> Option<SchemaRef> {
    let col = def.index_column(index)?;
    let mut fields = vec![Field::new("_value", arrow_type(def.columns[col].ty), false)];
    for k in &def.primary_key {
        let i = def.column_index(k)?;
        let c = &def.columns[i];
        fields.push(Field::new(c.stored(), arrow_type(c.ty), false));
    }
    Some(Arc::new(Schema::new(fields)))
}

/// The columns a table's segments list in their header: none unless an
/// ALTER TABLE changed the columns.
fn listed_columns(def: &TableDef) -> Option<Vec<String>> {
    def.altered()
        .then(|| def.columns.iter().map(|c| c.stored().to_string()).collect())
}

/// How a segment's files are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Rows a batch holds: a lookup reads one batch.
    pub per_batch: usize,
    /// Bytes of an attachment at most: a longer file is cut into parts.
    pub part_bytes: usize,
}

/// Encode `changes` (any order) as a segment with a covering file for
/// each of `indexes`.
pub fn encode(
    def: &TableDef,
    indexes: &[Arc<IndexDef>],
    changes: &[Change],
    layout: Layout,
) -> Result<EncodedSegment, ArrowError> {
    let per_batch = layout.per_batch;
    let mut keyed: Vec<(Key, &Change)> = changes
        .iter()
        .filter_map(|c| Some((row_key(def, &c.values)?, c)))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let data_rows: Vec<&Change> = keyed.iter().map(|(_, c)| *c).collect();
    let (data, data_dir) = data_file(def, &keyed, per_batch)?;
    let mut files = vec![("rows.arrow".to_string(), data)];
    let mut index_dirs = BTreeMap::new();
    for index in indexes {
        let entries = index_order(def, index, &data_rows);
        if entries.is_empty() {
            continue;
        }
        let (bytes, batches) = covering_file(def, &entries, per_batch)?;
        index_dirs.insert(index.name.clone(), covering_dir(files.len(), batches));
        files.push((format!("idx-{}.arrow", index.name), bytes));
    }
    let mut header = SegmentHeader {
        rows: changes.len() as u64,
        deletes: changes.iter().filter(|c| c.op == Op::Delete).count() as u64,
        covers: None,
        keys: range_of(&keyed),
        stats: stats(def, &data_rows),
        data: FileDir {
            file: 0,
            batches: data_dir,
            parts: None,
            covering: false,
        },
        indexes: index_dirs,
        cols: listed_columns(def),
    };
    let files = split_parts(&mut header, files, layout.part_bytes);
    Ok(EncodedSegment { header, files })
}

/// Encode live rows already in (value, key) order of an index, each with
/// that order's key, as an index segment: its one file the covering file.
pub fn encode_index(
    def: &TableDef,
    entries: &[(Key, &Change)],
    layout: Layout,
) -> Result<EncodedSegment, ArrowError> {
    let (bytes, batches) = covering_file(def, entries, layout.per_batch)?;
    let rows: Vec<&Change> = entries.iter().map(|(_, c)| *c).collect();
    let mut header = SegmentHeader {
        rows: entries.len() as u64,
        deletes: 0,
        covers: None,
        keys: range_of(entries),
        stats: stats(def, &rows),
        data: covering_dir(0, batches),
        indexes: BTreeMap::new(),
        cols: listed_columns(def),
    };
    let files = split_parts(
        &mut header,
        vec![("index.arrow".into(), bytes)],
        layout.part_bytes,
    );
    Ok(EncodedSegment { header, files })
}

fn covering_dir(file: usize, batches: Vec<BatchDir>) -> FileDir {
    FileDir {
        file,
        batches,
        parts: None,
        covering: true,
    }
}

/// The key of a row in `index`'s order: the value's key, then the row's.
/// `None` for a NULL value (which `=` never finds) or a NULL key.
pub fn index_key(def: &TableDef, col: usize, values: &[Value]) -> Option<Key> {
    let mut k = Key::of([&values[col]])?;
    k.0.extend(row_key(def, values)?.0);
    Some(k)
}

/// The live rows of `rows` in `index`'s order, with that order's keys.
pub fn index_order<'a>(
    def: &TableDef,
    index: &IndexDef,
    rows: &[&'a Change],
) -> Vec<(Key, &'a Change)> {
    let Some(col) = def.index_column(index) else {
        return Vec::new();
    };
    let mut entries: Vec<(Key, &Change)> = rows
        .iter()
        .filter(|c| c.op != Op::Delete)
        .filter_map(|c| Some((index_key(def, col, &c.values)?, *c)))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// The (low, high) bounds of sorted keys, hex; an empty range for none
/// (no key falls in it).
fn range_of<T>(sorted: &[(Key, T)]) -> (String, String) {
    match (sorted.first(), sorted.last()) {
        (Some(f), Some(l)) => (
            f.0.lower_bound(KEY_BOUND).to_hex(),
            l.0.upper_bound(KEY_BOUND).to_hex(),
        ),
        _ => (String::new(), String::new()),
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

/// The data file: rows in key order, `_op` last, `per_batch` a batch.
fn data_file(
    def: &TableDef,
    keyed: &[(Key, &Change)],
    per_batch: usize,
) -> Result<WrittenFile, ArrowError> {
    let schema = data_schema(def);
    let chunks: Vec<&[(Key, &Change)]> = keyed.chunks(per_batch.max(1)).collect();
    let mut batches = Vec::with_capacity(chunks.len());
    for chunk in &chunks {
        let mut cols = row_columns(def, chunk);
        cols.push(Arc::new(
            chunk
                .iter()
                .map(|(_, ch)| ch.op.code())
                .collect::<UInt8Array>(),
        ));
        batches.push(RecordBatch::try_new(Arc::clone(&schema), cols)?);
    }
    write_file(&schema, &batches, &boundaries(&chunks))
}

/// A covering index file: whole rows in the order of their keys (value,
/// then row key), `per_batch` a batch.
fn covering_file(
    def: &TableDef,
    entries: &[(Key, &Change)],
    per_batch: usize,
) -> Result<WrittenFile, ArrowError> {
    let schema = Arc::new(Schema::new(row_fields(def)));
    let chunks: Vec<&[(Key, &Change)]> = entries.chunks(per_batch.max(1)).collect();
    let batches = chunks
        .iter()
        .map(|chunk| RecordBatch::try_new(Arc::clone(&schema), row_columns(def, chunk)))
        .collect::<Result<Vec<_>, _>>()?;
    write_file(&schema, &batches, &boundaries(&chunks))
}

fn row_columns(def: &TableDef, chunk: &[(Key, &Change)]) -> Vec<ArrayRef> {
    def.columns
        .iter()
        .enumerate()
        .map(|(i, c)| column(c.ty, chunk.iter().map(|(_, ch)| &ch.values[i])))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::super::batch::{changes, index_entries};
    use super::super::ipc::{decode_batch, decode_file};
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
        let changes_in: Vec<Change> = (0..1000)
            .rev()
            .map(|i| Change {
                op: if i % 10 == 0 { Op::Delete } else { Op::Insert },
                values: vec![Value::Int(i), Value::Text(format!("tag{}", i % 7))],
            })
            .collect();
        let layout = Layout {
            per_batch: 125,
            part_bytes: 8 << 20,
        };
        let seg = encode(&d, &[tag_index()], &changes_in, layout).unwrap();
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
        let rows = changes(&d, &batch).unwrap();
        assert_eq!(
            rows[0].values[0],
            Value::Int(375),
            "sorted by key, 125 a batch"
        );
        assert_eq!(rows.len(), 125);
        let idx = &h.indexes["t_tag"];
        assert!(idx.covering);
        let all = decode_file(seg.files[idx.file].bytes.clone()).unwrap();
        let entries: Vec<_> = all
            .iter()
            .flat_map(|b| index_entries(&d, &tag_index(), idx, b).unwrap())
            .collect();
        assert_eq!(entries.len(), 900, "deleted rows have no index entries");
        assert!(
            entries
                .windows(2)
                .all(|w| (&w[0].value, &w[0].key) <= (&w[1].value, &w[1].key))
        );
        let e = &entries[0];
        assert_eq!(e.row.as_ref().unwrap()[1], Value::Text("tag0".into()));
    }
}
