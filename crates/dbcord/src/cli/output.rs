//! Printing outcomes: aligned tables, CSV, TSV, JSON, JSON lines, Markdown.

use std::io::Write;

use anyhow::Result;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::{ArrayWriter, LineDelimitedWriter};
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::args::Format;
use crate::sql::Outcome;

/// How outcomes are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub format: Format,
    /// Rows a table or Markdown result shows at most (0: all). Machine
    /// formats (CSV, TSV, JSON) always carry every row.
    pub maxrows: usize,
    /// No command tags or row counts: result sets only.
    pub quiet: bool,
}

impl Style {
    pub fn new(format: Format) -> Style {
        Style {
            format,
            maxrows: 0,
            quiet: false,
        }
    }
}

/// Print one statement's outcome to `out`.
pub fn print(out: &mut dyn Write, outcome: &Outcome, style: Style) -> Result<()> {
    match outcome {
        // Machine formats carry result sets only, so they can be piped on.
        Outcome::Status(tag) => {
            if matches!(style.format, Format::Table | Format::Markdown) && !style.quiet {
                writeln!(out, "{tag}")?;
            }
        }
        Outcome::Rows { schema, batches } => rows(out, schema, batches, style)?,
    }
    Ok(())
}

fn rows(
    out: &mut dyn Write,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    style: Style,
) -> Result<()> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let empty = [RecordBatch::new_empty(schema.clone())];
    let all: &[RecordBatch] = if batches.is_empty() { &empty } else { batches };
    match style.format {
        Format::Table => {
            let shown = limited(all, style.maxrows);
            writeln!(out, "{}", pretty_format_batches(&shown)?)?;
            count_line(out, total, style)?;
        }
        Format::Markdown => {
            markdown(out, schema, &limited(all, style.maxrows))?;
            count_line(out, total, style)?;
        }
        Format::Csv | Format::Tsv => {
            let delimiter = if style.format == Format::Tsv {
                b'\t'
            } else {
                b','
            };
            let mut w = WriterBuilder::new()
                .with_header(true)
                .with_delimiter(delimiter)
                .build(&mut *out);
            for b in all {
                w.write(b)?;
            }
        }
        Format::Json if total == 0 => writeln!(out, "[]")?,
        Format::Json => {
            let mut w = ArrayWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            let mut w = LineDelimitedWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
    }
    Ok(())
}

/// `(3 rows)`, or `(500 rows, 40 shown)` when `maxrows` cut the table.
fn count_line(out: &mut dyn Write, total: usize, style: Style) -> Result<()> {
    if style.quiet {
        return Ok(());
    }
    let plural = if total == 1 { "" } else { "s" };
    if style.maxrows > 0 && total > style.maxrows {
        writeln!(
            out,
            "({total} row{plural}, the first {} shown; .maxrows 0 shows all)",
            style.maxrows
        )?;
    } else {
        writeln!(out, "({total} row{plural})")?;
    }
    Ok(())
}

/// The first `max` rows of the batches (all if `max` is 0).
fn limited(batches: &[RecordBatch], max: usize) -> Vec<RecordBatch> {
    if max == 0 {
        return batches.to_vec();
    }
    let mut left = max;
    let mut out = Vec::new();
    for b in batches {
        if left == 0 {
            break;
        }
        let n = b.num_rows().min(left);
        out.push(b.slice(0, n));
        left -= n;
    }
    if out.is_empty() {
        out.push(batches[0].slice(0, 0));
    }
    out
}

/// A GitHub-flavoured Markdown table; `|` in values is escaped.
fn markdown(out: &mut dyn Write, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let names: Vec<String> = schema.fields().iter().map(|f| cell(f.name())).collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(names.len()))?;
    for row in crate::sql::convert::text_cells(batches)? {
        let cells: Vec<String> = row.iter().map(|v| cell(v)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn outcome() -> Outcome {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["a|b", "c"])),
                Arc::new(Int64Array::from(vec![Some(1), None])),
            ],
        )
        .unwrap();
        Outcome::Rows {
            schema,
            batches: vec![batch],
        }
    }

    fn printed(format: Format, maxrows: usize) -> String {
        let mut out = Vec::new();
        let style = Style {
            format,
            maxrows,
            quiet: false,
        };
        print(&mut out, &outcome(), style).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn an_empty_result_is_an_empty_json_array() {
        let Outcome::Rows { schema, batches } = outcome() else {
            unreachable!()
        };
        let empty = Outcome::Rows {
            schema,
            batches: vec![batches[0].slice(0, 0)],
        };
        let mut out = Vec::new();
        print(&mut out, &empty, Style::new(Format::Json)).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[]\n");
    }

    #[test]
    fn every_format_prints_the_rows() {
        assert_eq!(printed(Format::Csv, 0), "id,n\na|b,1\nc,\n");
        assert_eq!(printed(Format::Tsv, 0), "id\tn\na|b\t1\nc\t\n");
        assert_eq!(
            printed(Format::Json, 0),
            "[{\"id\":\"a|b\",\"n\":1},{\"id\":\"c\"}]\n"
        );
        assert_eq!(
            printed(Format::Ndjson, 0),
            "{\"id\":\"a|b\",\"n\":1}\n{\"id\":\"c\"}\n"
        );
        assert_eq!(
            printed(Format::Markdown, 0),
            "| id | n |\n|---|---|\n| a\\|b | 1 |\n| c | NULL |\n(2 rows)\n"
        );
        let table = printed(Format::Table, 1);
        assert!(table.contains("| a|b |"), "{table}");
        assert!(!table.contains("| c "), "{table}");
        assert!(table.ends_with("(2 rows, the first 1 shown; .maxrows 0 shows all)\n"));
    }
}
