//! The row message format: how one row is written as one Discord message.
//!
//! ```text
//! dbc1 qhxkzpwmfaqrtlb qbnvuzeoyqfcmha qdwlkhjtzrmsxqe
//! {"id":"u_1","email":"a@example.com","age":31}
//! ```
//!
//! Line 1 is the marker `dbc1` (format version 1), which tells dbcord's rows
//! apart from anything else posted in the channel, followed by one search
//! token per non-NULL cell (see [`super::tokens`]). Line 2 is the row as a
//! JSON object keyed by column name, so rows stay readable in Discord and
//! survive columns being added. A NULL is written as an absent key.
//! Values: TEXT as a string, BIGINT/INT as integers, DOUBLE/REAL as numbers
//! (non-finite ones as the strings "NaN", "Infinity", "-Infinity"), BOOLEAN
//! as true/false, TIMESTAMP as integer nanoseconds since the Unix epoch.
//! The whole content must fit in Discord's 2000 characters (UTF-16 units).

use serde_json::{Map, Value as Json};

use super::schema::{ColumnType, TableDef};
use super::tokens::token;
use crate::discord::discord_len;
use crate::error::{Error, Result};

pub const ROW_MARKER: &str = "dbc1";
pub const MAX_MESSAGE_LEN: usize = 2000;

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Nanoseconds since the Unix epoch, UTC.
    Timestamp(i64),
}

/// A value as SQL would write it, for error messages.
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Timestamp(t) => format!("{t} ns"),
    }
}

/// Encode a row (values in column order). `row_no` (1-based) names it in errors.
pub fn encode(def: &TableDef, values: &[Value], row_no: usize) -> Result<String> {
    let json = row_json(def, values, row_no)?;
    let tokens = row_tokens(def, values).join(" ");
    let content = format!("{ROW_MARKER} {tokens}\n{json}");
    let len = discord_len(&content);
    if len > MAX_MESSAGE_LEN {
        return Err(Error::RowTooLarge { row: row_no, len });
    }
    Ok(content)
}

/// The row as a JSON object, after checking arity, types and NOT NULL.
pub fn row_json(def: &TableDef, values: &[Value], row_no: usize) -> Result<String> {
    if values.len() != def.columns.len() {
        return Err(Error::InvalidRow(format!(
            "row {row_no} has {} values but table {} has {} columns",
            values.len(),
            def.qualified_name(),
            def.columns.len()
        )));
    }
    let mut obj = Map::new();
    for (col, v) in def.columns.iter().zip(values) {
        if *v == Value::Null {
            if !col.nullable || def.primary_key.contains(&col.name) {
                return Err(Error::InvalidRow(format!(
                    "row {row_no}: column \"{}\" of {} may not be NULL",
                    col.name,
                    def.qualified_name()
                )));
            }
            continue;
        }
        obj.insert(col.name.clone(), to_json(col.ty, v, &col.name, row_no)?);
    }
    Ok(Json::Object(obj).to_string())
}

/// The search tokens of a row: one per non-NULL cell.
pub fn row_tokens(def: &TableDef, values: &[Value]) -> Vec<String> {
    def.columns
        .iter()
        .zip(values)
        .filter_map(|(c, v)| token(&c.name, v))
        .collect()
}

fn to_json(ty: ColumnType, v: &Value, col: &str, row_no: usize) -> Result<Json> {
    let j = match (ty, v) {
        (ColumnType::Text, Value::Text(s)) => Json::String(s.clone()),
        (ColumnType::BigInt | ColumnType::Int, Value::Int(i)) => Json::from(*i),
        (ColumnType::Double | ColumnType::Real, Value::Float(f)) => float_to_json(*f),
        (ColumnType::Boolean, Value::Bool(b)) => Json::Bool(*b),
        (ColumnType::Timestamp, Value::Timestamp(t)) => Json::from(*t),
        _ => {
            return Err(Error::InvalidRow(format!(
                "row {row_no}: column \"{col}\" is {} but the value is {v:?}",
                ty.sql_name()
            )));
        }
    };
    Ok(j)
}

fn float_to_json(f: f64) -> Json {
    if f.is_nan() {
        Json::from("NaN")
    } else if f.is_infinite() {
        Json::from(if f > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        Json::from(f)
    }
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
    if marker.split(' ').next() != Some(ROW_MARKER) {
        return Err(NotARow("no row marker".into()));
    }
    decode_json(def, json)
}

/// Values in column order from a row's JSON object.
pub fn decode_json(def: &TableDef, json: &str) -> Result<Vec<Value>, NotARow> {
    let obj: Map<String, Json> =
        serde_json::from_str(json).map_err(|e| NotARow(format!("row JSON unreadable: {e}")))?;
    def.columns
        .iter()
        .map(|c| match obj.get(&c.name) {
            None | Some(Json::Null) => Ok(Value::Null),
            Some(j) => from_json(c.ty, j).ok_or_else(|| {
                NotARow(format!(
                    "column {} holds {j}, not {}",
                    c.name,
                    c.ty.sql_name()
                ))
            }),
        })
        .collect()
}

fn from_json(ty: ColumnType, j: &Json) -> Option<Value> {
    Some(match ty {
        ColumnType::Text => Value::Text(j.as_str()?.to_string()),
        ColumnType::BigInt => Value::Int(j.as_i64()?),
        ColumnType::Int => Value::Int(i32::try_from(j.as_i64()?).ok()?.into()),
        ColumnType::Double | ColumnType::Real => Value::Float(match j {
            Json::String(s) if s == "NaN" => f64::NAN,
            Json::String(s) if s == "Infinity" => f64::INFINITY,
            Json::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
            _ => j.as_f64()?,
        }),
        ColumnType::Boolean => Value::Bool(j.as_bool()?),
        ColumnType::Timestamp => Value::Timestamp(j.as_i64()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::Snowflake;
    use crate::store::schema::Column;

    fn def() -> TableDef {
        let col = |name: &str, ty, nullable| Column {
            name: name.into(),
            ty,
            nullable,
        };
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
        let content = encode(&d, &row, 1).unwrap();
        assert!(content.starts_with("dbc1 q"));
        assert_eq!(
            content.lines().next().unwrap().split(' ').count(),
            4,
            "marker + 3 tokens"
        );
        assert_eq!(decode(&d, &content).unwrap(), row);
    }

    #[test]
    fn null_key_and_size_are_refused() {
        let d = def();
        let err = encode(&d, &[Value::Null, Value::Null, Value::Null, Value::Null], 2).unwrap_err();
        assert!(err.to_string().contains("\"id\""), "{err}");
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
    fn foreign_text_is_not_a_row() {
        assert!(decode(&def(), "hello from a person").is_err());
        assert!(decode(&def(), "dbc1\n{\"n\":\"five\"}").is_err());
    }
}
