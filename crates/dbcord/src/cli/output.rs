//! Printing outcomes: aligned tables or CSV.

use std::io::Write;

use anyhow::Result;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::args::Format;
use crate::sql::Outcome;

/// Print one statement's outcome to `out`.
pub fn print(out: &mut dyn Write, outcome: &Outcome, format: Format) -> Result<()> {
    match (outcome, format) {
        (Outcome::Status(tag), Format::Table) => writeln!(out, "{tag}")?,
        // CSV output carries result sets only, so it can be piped into other tools.
        (Outcome::Status(_), Format::Csv) => {}
        (Outcome::Rows { schema, batches }, Format::Table) => {
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            let empty;
            let shown: &[RecordBatch] = if batches.is_empty() {
                empty = [RecordBatch::new_empty(schema.clone())];
                &empty
            } else {
                batches
            };
            writeln!(out, "{}", pretty_format_batches(shown)?)?;
            writeln!(out, "({rows} row{})", if rows == 1 { "" } else { "s" })?;
        }
        (Outcome::Rows { schema, batches }, Format::Csv) => {
            let mut w = WriterBuilder::new().with_header(true).build(&mut *out);
            if batches.is_empty() {
                w.write(&RecordBatch::new_empty(schema.clone()))?;
            }
            for b in batches {
                w.write(b)?;
            }
        }
    }
    Ok(())
}
