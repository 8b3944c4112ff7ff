//! The row message format: how one row is written as one Discord message.
//!
//! ```text
//! dbcrow qhxkzpwmfaqrtlb qbnvuzeoyqfcmha qdwlkhjtzrmsxqe
//! {"id":"u_1","email":"a@example.com","age":31}
//! ```
//!
//! Line 1 is the marker `dbcrow`, which tells dbcord's rows apart from
//! anything else posted in the channel, followed by one search token per
//! non-NULL cell and, for a composite primary key, one token for the whole
//! key (see [`super::token`]). Nothing before the tokens holds a digit: a
//! report by others says Discord's tokenizer may stop at a word with one.
//! Line 2 is the row as a JSON object keyed by column name (see
//! [`super::value`] for each type's form), in ASCII alone (see
//! [`super::ascii_json`]), so rows stay readable in Discord, survive columns
//! being added, and reach Discord unaltered. The whole content must fit in
//! Discord's 2000 characters (UTF-16 units). Rows written by the first
//! format (marker `dbc1`, JSON not escaped) read back the same.

use discord_api::discord_len;
use discord_api::limits::MAX_CONTENT_LEN;
use serde_json::{Map, Value as Json};

use super::ascii_json;
use super::token::{key_token, token};
use super::value::Value;
use crate::error::{Error, Result};
use crate::store::schema::{ColumnType, TableDef};

pub const ROW_MARKER: &str = "dbcrow";
/// The marker of the first row format, still read.
pub const ROW_MARKER_V1: &str = "dbc1";

/// A row ready to be sent: its message content and its values exactly as
/// they will read back, from which keys and tokens are computed.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedRow {
    pub content: String,
    pub values: Vec<Value>,
}

/// Encode a row (values in column order). `row_no` (1-based) names it in errors.
pub fn encode(def: &TableDef, values: &[Value], row_no: usize) -> Result<EncodedRow> {
    let json = row_json(def, values, row_no)?;
    // Keys and tokens are computed from the values as they will read back.
    let stored = decode_json(def, &json).expect("a row's own JSON decodes");
    let tokens = row_tokens(def, &stored).join(" ");
    let content = format!("{ROW_MARKER} {tokens}\n{json}");
    let len = discord_len(&content);
    if len > MAX_CONTENT_LEN {
        return Err(Error::RowTooLarge {
            table: def.qualified_name(),
            row: row_no,
            len,
            what: String::new(),
        });
    }
    Ok(EncodedRow {
        content,
        values: stored,
    })
}

/// The row as a JSON object, after checking arity, types and NOT NULL.
pub fn row_json(def: &TableDef, values: &[Value], row_no: usize) -> Result<String> {
    if values.len() != def.columns.len() {
        return Err(Error::WrongArity {
            table: def.qualified_name(),
            row: row_no,
            got: values.len(),
            want: def.columns.len(),
        });
    }
    let mut obj = Map::new();
    for (col, v) in def.columns.iter().zip(values) {
        if *v == Value::Null {
            if !col.nullable || def.primary_key.contains(&col.name) {
                return Err(Error::NullValue {
                    table: def.qualified_name(),
                    column: col.name.clone(),
                    row: row_no,
                });
            }
            if col.fill.is_some() {
                // Absent would read as the fill of rows older than the column.
                obj.insert(col.stored().to_string(), Json::Null);
            }
            continue;
        }
        if let (ColumnType::Json, Value::Text(text)) = (col.ty, v)
            && let Some(why) = super::value::json_error(text)
        {
            return Err(Error::BadJson {
                table: def.qualified_name(),
                column: col.name.clone(),
                row: row_no,
                why,
            });
        }
        let json = v.to_json(col.ty).ok_or_else(|| Error::TypeMismatch {
            table: def.qualified_name(),
            column: col.name.clone(),
            row: row_no,
            expected: col.ty.sql_name(),
            value: v.show(),
        })?;
        obj.insert(col.stored().to_string(), json);
    }
    Ok(ascii_json::to_string(&Json::Object(obj)))
}

/// The search tokens of a row: one per non-NULL cell, and one for the
/// whole primary key when it has several columns.
pub fn row_tokens(def: &TableDef, values: &[Value]) -> Vec<String> {
    let mut tokens: Vec<String> = def
        .columns
        .iter()
        .zip(values)
        .filter_map(|(c, v)| token(c.stored(), v))
        .collect();
    if def.primary_key.len() > 1 {
        tokens.extend(composite_key_token(def, values));
    }
    tokens
}

/// The single token of a composite primary key, if every part is set.
pub fn composite_key_token(def: &TableDef, values: &[Value]) -> Option<String> {
    let parts: Option<Vec<(&str, &Value)>> = def
        .primary_key
        .iter()
        .map(|k| {
            def.column_index(k)
                .map(|i| (def.columns[i].stored(), &values[i]))
        })
        .collect();
    key_token(&parts?)
}

/// Why a message is not a readable row.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct NotARow(pub String);

/// Decode a message's content into values in column order.
pub fn decode(def: &TableDef, content: &str) -> Result<Vec<Value>, NotARow> {
    let (marker, json) = content
        .split_once('\n')
        .ok_or_else(|| NotARow("no row marker".into()))?;
    if !matches!(marker.split(' ').next(), Some(ROW_MARKER | ROW_MARKER_V1)) {
        return Err(NotARow("no row marker".into()));
    }
    decode_json(def, json)
}

/// Values in column order from a row's JSON object.
pub fn decode_json(def: &TableDef, json: &str) -> Result<Vec<Value>, NotARow> {
    let obj: Map<String, Json> =
        serde_json::from_str(json).map_err(|e| NotARow(format!("row JSON unreadable: {e}")))?;
    decode_object(def, &obj)
}

/// Values in column order from a row's JSON object, already parsed.
pub fn decode_object(def: &TableDef, obj: &Map<String, Json>) -> Result<Vec<Value>, NotARow> {
    def.columns
        .iter()
        .map(|c| match obj.get(c.stored()) {
            None => Ok(fill(c)),
            Some(Json::Null) => Ok(Value::Null),
            Some(j) => Value::from_json(c.ty, j).ok_or_else(|| {
                NotARow(format!(
                    "column {} holds {j}, not {}",
                    c.name,
                    c.ty.sql_name()
                ))
            }),
        })
        .collect()
}

/// Which names a row's JSON text uses for its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyNames {
    /// The stored names, as row messages have them (stable under RENAME).
    Stored,
    /// The names SQL shows, for people and files.
    Sql,
}

/// The set cells of a row (or the key of a tombstone) as a JSON object in
/// column order, in ASCII.
pub fn row_text(def: &TableDef, values: &[Value], names: KeyNames) -> String {
    let cells: Vec<String> = def
        .columns
        .iter()
        .zip(values)
        .filter_map(|(c, v)| {
            let name = match names {
                KeyNames::Stored => c.stored(),
                KeyNames::Sql => &c.name,
            };
            let json = v.to_json(c.ty)?;
            Some(format!(
                "{}:{}",
                ascii_json::to_string(&name),
                ascii_json::to_string(&json)
            ))
        })
        .collect();
    format!("{{{}}}", cells.join(","))
}

/// A JSON object keyed by SQL names, re-keyed by stored names (for
/// [`decode_json`]); keys that name no column are left as they are.
pub fn sql_keys_to_stored(def: &TableDef, obj: Map<String, Json>) -> Map<String, Json> {
    obj.into_iter()
        .map(|(k, v)| match def.column_index(&k) {
            Some(i) => (def.columns[i].stored().to_string(), v),
            None => (k, v),
        })
        .collect()
}

/// What a row written before `c` was added reads in it.
pub fn fill(c: &crate::store::schema::Column) -> Value {
    c.fill
        .as_ref()
        .and_then(|j| Value::from_json(c.ty, j))
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use discord_api::Snowflake;

    use super::*;
    use crate::store::schema::{Column, ColumnType};

    fn def() -> TableDef {
        let col = |name: &str, ty, nullable| Column::new(name, ty, nullable);
        TableDef {
            database: "main".into(),
            name: "t".into(),
            columns: vec![
                col("id", ColumnType::Text, false),
                col("n", ColumnType::BigInt, true),
                col("x", ColumnType::Double, true),
                col("b", ColumnType::Boolean, true),
            ],
            primary_key: vec!["id".into()],
            channel_id: Snowflake(1),
            history: None,
            checks: Vec::new(),
            dropped: Vec::new(),
            initial_columns: None,
            large_rows: Default::default(),
        }
    }

    #[test]
    fn round_trip() {
        let d = def();
        let row = vec![
            Value::Text("a \"quoted\" @everyone\nline".into()),
            Value::Int(-5),
            Value::Float(f64::INFINITY),
            Value::Null,
        ];
        let encoded = encode(&d, &row, 1).unwrap();
        assert!(encoded.content.starts_with("dbcrow q"));
        assert!(encoded.content.is_ascii());
        assert_eq!(
            encoded.content.lines().next().unwrap().split(' ').count(),
            4,
            "marker + 3 tokens"
        );
        assert_eq!(encoded.values, row);
        assert_eq!(decode(&d, &encoded.content).unwrap(), row);
    }

    #[test]
    fn null_key_wrong_type_and_size_are_refused_by_name() {
        let d = def();
        let err = encode(&d, &[Value::Null, Value::Null, Value::Null, Value::Null], 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 2: column \"id\" of main.t may not be NULL; nothing was written"
        );
        let err = encode(
            &d,
            &[
                Value::Text("a".into()),
                Value::Bool(true),
                Value::Null,
                Value::Null,
            ],
            1,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("column \"n\" of main.t is BIGINT but the value is true"),
            "{err}"
        );
        let big = vec![
            Value::Text("x".repeat(2000)),
            Value::Null,
            Value::Null,
            Value::Null,
        ];
        assert!(matches!(
            encode(&d, &big, 3),
            Err(Error::RowTooLarge { row: 3, .. })
        ));
    }

    #[test]
    fn rows_of_the_first_format_still_read() {
        let old = "dbc1 qaaaaaaaaaaaaaa\n{\"id\":\"Zoë\",\"n\":1}";
        assert_eq!(
            decode(&def(), old).unwrap(),
            vec![
                Value::Text("Zoë".into()),
                Value::Int(1),
                Value::Null,
                Value::Null
            ]
        );
    }

    #[test]
    fn a_composite_key_has_one_token_of_its_own() {
        let mut d = def();
        d.primary_key = vec!["id".into(), "n".into()];
        let row = vec![
            Value::Text("a".into()),
            Value::Int(1),
            Value::Null,
            Value::Null,
        ];
        let tokens = row_tokens(&d, &row);
        assert_eq!(tokens.len(), 3, "two cells and the key");
        assert_eq!(tokens[2], composite_key_token(&d, &row).unwrap());
    }

    #[test]
    fn foreign_text_is_not_a_row() {
        assert!(decode(&def(), "hello from a person").is_err());
        assert!(decode(&def(), "dbc1\n{\"n\":\"five\"}").is_err());
    }
}
