//! The index entry format: one message in `#idx-<table>-<column>` per
//! indexed row, carrying the row so an index lookup needs no further
//! request per hit:
//!
//! ```text
//! dbcidx <token> <row message id>
//! {"id":"u_1","email":"a@example.com",...}
//! ```
//!
//! The token is the indexed cell's (see [`super::token`]); rows whose
//! indexed value is NULL have no entry, since `=` never matches NULL.
//! Entries of the first format (marker `dbcx1`) still read.

use discord_api::limits::MAX_CONTENT_LEN;
use discord_api::{Snowflake, discord_len};

use super::row::{decode_json, row_json};
use super::token::token;
use super::value::Value;
use crate::error::{Error, Result};
use crate::store::schema::{IndexDef, TableDef};

pub const ENTRY_MARKER: &str = "dbcidx";
/// The marker of the first entry format, still read.
pub const ENTRY_MARKER_V1: &str = "dbcx1";

/// The entry for a row, or `None` if the indexed value is NULL.
pub fn encode_entry(
    table: &TableDef,
    index: &IndexDef,
    values: &[Value],
    row_id: Snowflake,
    row_no: usize,
) -> Result<Option<String>> {
    let col = table
        .column_index(&index.column)
        .ok_or_else(|| Error::NoSuchColumn {
            table: table.qualified_name(),
            column: index.column.clone(),
        })?;
    let Some(tok) = token(&index.column, &values[col]) else {
        return Ok(None);
    };
    let json = row_json(table, values, row_no)?;
    let content = format!("{ENTRY_MARKER} {tok} {row_id}\n{json}");
    let len = discord_len(&content);
    if len > MAX_CONTENT_LEN {
        return Err(Error::RowTooLarge {
            table: table.qualified_name(),
            row: row_no,
            len,
            what: format!(" (as its entry in index {})", index.name),
        });
    }
    Ok(Some(content))
}

/// (row message id, values) from an entry's content.
pub fn decode_entry(table: &TableDef, content: &str) -> Option<(Snowflake, Vec<Value>)> {
    let (head, json) = content.split_once('\n')?;
    let mut words = head.split(' ');
    if !matches!(words.next()?, ENTRY_MARKER | ENTRY_MARKER_V1) {
        return None;
    }
    let row_id = words.nth(1)?.parse().ok()?;
    Some((row_id, decode_json(table, json).ok()?))
}
