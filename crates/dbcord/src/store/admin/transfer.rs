//! `export` and `import`: a table to and from a local file.
//!
//! The format follows the file's extension. `.csv` has a header of column
//! names and each value as Arrow writes it as text (timestamps as
//! `2024-05-01T12:00:00`); an empty field is NULL, so CSV cannot keep an
//! empty string apart from NULL. `.jsonl` (or `.ndjson`, `.json`) has one
//! object per line keyed by column name, each value in its row-message
//! form (see `codec::value`), and keeps everything exactly.
//! An import is one INSERT: every row is checked first, and a bad one
//! stops it with its line and nothing written. A column the file does not
//! have takes its DEFAULT (given by the caller, who can evaluate SQL); a
//! column the table does not have is an error naming it.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::DataType;

use crate::error::{Error, Result};
use crate::store::codec::columns::{arrow_type, column, values};
use crate::store::codec::row::{KeyNames, decode_object, row_text, sql_keys_to_stored};
use crate::store::codec::value::Value;
use crate::store::schema::{ColumnType, TableDef};
use crate::store::state::Store;
use crate::store::write::options::WriteOptions;

/// A file format `export` and `import` know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    JsonLines,
}

impl FileFormat {
    /// The format a file name's extension names.
    pub fn of(path: &str) -> Result<FileFormat> {
        let ext = Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(FileFormat::Csv),
            Some("jsonl" | "ndjson" | "json") => Ok(FileFormat::JsonLines),
            _ => Err(bad(path, "unknown format: name a .csv or .jsonl file")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::JsonLines => "jsonl",
        }
    }
}

/// What an export or import moved.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfer {
    pub file: String,
    pub format: FileFormat,
    pub rows: u64,
    pub bytes: u64,
}

fn bad(file: &str, why: impl Into<String>) -> Error {
    Error::BadFile {
        file: file.to_string(),
        why: why.into(),
    }
}

impl Store {
    /// Write every row of `def` to `path`.
    pub async fn export(&self, def: &Arc<TableDef>, path: &str) -> Result<Transfer> {
        let format = FileFormat::of(path)?;
        let rows = self.all_rows(def).await?;
        let text = match format {
            FileFormat::Csv => to_csv(def, &rows).map_err(|e| bad(path, e))?,
            FileFormat::JsonLines => rows
                .iter()
                .map(|r| format!("{}\n", row_text(def, r, KeyNames::Sql)))
                .collect(),
        };
        std::fs::write(path, &text).map_err(|e| bad(path, format!("cannot write: {e}")))?;
        Ok(Transfer {
            file: path.to_string(),
            format,
            rows: rows.len() as u64,
            bytes: text.len() as u64,
        })
    }

    /// Insert every row of `path` into `def`, as one statement; a column
    /// the file leaves out takes `defaults[i]`.
    pub async fn import(
        &self,
        def: &Arc<TableDef>,
        path: &str,
        defaults: &[Value],
    ) -> Result<Transfer> {
        let format = FileFormat::of(path)?;
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let rows = match format {
            FileFormat::Csv => from_csv(def, &text, defaults).map_err(|e| bad(path, e))?,
            FileFormat::JsonLines => {
                from_json_lines(def, &text, defaults).map_err(|e| bad(path, e))?
            }
        };
        let n = rows.len() as u64;
        if n > 0 {
            self.insert(def, rows, &WriteOptions::default())
                .await
                .map_err(|e| {
                    bad(
                        path,
                        format!("{e} (row n of the file is its line n+1 in CSV, n in JSON lines)"),
                    )
                })?;
        }
        Ok(Transfer {
            file: path.to_string(),
            format,
            rows: n,
            bytes: text.len() as u64,
        })
    }
}

fn to_csv(def: &TableDef, rows: &[Vec<Value>]) -> Result<String, String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(def.columns.iter().map(|c| c.name.as_str()))
        .map_err(|e| e.to_string())?;
    let texts: Vec<StringArray> = def
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let array = column(c.ty, rows.iter().map(|r| &r[i]));
            let text = cast(&array, &DataType::Utf8).map_err(|e| e.to_string())?;
            Ok(text
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("a cast to Utf8 gives strings")
                .clone())
        })
        .collect::<Result<_, String>>()?;
    for r in 0..rows.len() {
        let record = texts
            .iter()
            .map(|t| if t.is_null(r) { "" } else { t.value(r) });
        out.write_record(record).map_err(|e| e.to_string())?;
    }
    let bytes = out.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn from_csv(def: &TableDef, text: &str, defaults: &[Value]) -> Result<Vec<Vec<Value>>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let positions = header
        .iter()
        .map(|h| {
            def.column_index(h.trim())
                .ok_or_else(|| format!("line 1: {} has no column \"{h}\"", def.qualified_name()))
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let mut cells: Vec<Vec<Option<String>>> = vec![Vec::new(); def.columns.len()];
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", n + 2))?;
        if record.len() != positions.len() {
            return Err(format!(
                "line {}: {} fields, the header has {}",
                n + 2,
                record.len(),
                positions.len()
            ));
        }
        for (field, &col) in record.iter().zip(&positions) {
            cells[col].push((!field.is_empty()).then(|| field.to_string()));
        }
    }
    let n = cells.iter().map(Vec::len).max().unwrap_or(0);
    let mut columns = Vec::with_capacity(def.columns.len());
    for (i, c) in def.columns.iter().enumerate() {
        let text: StringArray = if cells[i].is_empty() {
            std::iter::repeat_n(None::<String>, n).collect()
        } else {
            cells[i].iter().cloned().collect()
        };
        let typed = typed_column(&text, c.ty).map_err(|(row, value)| {
            format!(
                "line {}: column \"{}\" is {} but the value is '{value}'",
                row + 2,
                c.name,
                c.ty.sql_name()
            )
        })?;
        columns.push(values(c.ty, &typed).map_err(|e| e.to_string())?);
    }
    let named: Vec<bool> = (0..def.columns.len())
        .map(|i| positions.contains(&i))
        .collect();
    Ok((0..n)
        .map(|r| {
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| match named[i] {
                    true => c[r].clone(),
                    false => defaults.get(i).cloned().unwrap_or(Value::Null),
                })
                .collect()
        })
        .collect())
}

/// Text cells as a column of `ty`, or the first cell that is not one.
fn typed_column(text: &StringArray, ty: ColumnType) -> Result<ArrayRef, (usize, String)> {
    let options = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    let typed =
        cast_with_options(text, &arrow_type(ty), &options).map_err(|e| (0, e.to_string()))?;
    if let Some(r) = (0..text.len()).find(|&r| text.is_valid(r) && typed.is_null(r)) {
        return Err((r, text.value(r).to_string()));
    }
    Ok(typed)
}

fn from_json_lines(
    def: &TableDef,
    text: &str,
    defaults: &[Value],
) -> Result<Vec<Vec<Value>>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let line = |e: String| format!("line {}: {e}", n + 1);
            let obj: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(l).map_err(|e| line(format!("not a JSON object: {e}")))?;
            if let Some(k) = obj.keys().find(|k| def.column_index(k).is_none()) {
                return Err(line(format!(
                    "{} has no column \"{k}\"",
                    def.qualified_name()
                )));
            }
            let given: Vec<bool> = def
                .columns
                .iter()
                .map(|c| obj.contains_key(&c.name))
                .collect();
            let mut row = decode_object(def, &sql_keys_to_stored(def, obj))
                .map_err(|e| line(e.to_string()))?;
            for (i, v) in row.iter_mut().enumerate() {
                if !given[i] {
                    *v = defaults.get(i).cloned().unwrap_or(Value::Null);
                }
            }
            Ok(row)
        })
        .collect()
}
