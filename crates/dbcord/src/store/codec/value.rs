//! One cell: its kinds, how it is written in a row's JSON, and how it reads back.
//!
//! Each column type has exactly one JSON form: TEXT a string, BIGINT/INT an
//! integer, DOUBLE/REAL a number (non-finite ones as the strings "NaN",
//! "Infinity", "-Infinity"), BOOLEAN true/false, TIMESTAMP integer
//! nanoseconds since the Unix epoch. A NULL is an absent key. Numbers are
//! written in their shortest exact form and parsed exactly (serde_json's
//! `float_roundtrip`), so a value reads back bit for bit as written.

use serde_json::Value as Json;

use crate::store::schema::{ColumnType, TableDef};

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

impl Value {
    /// The value as SQL would write it, for error messages.
    pub fn show(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format!("{f:?}"),
            Value::Bool(b) => b.to_string(),
            Value::Timestamp(t) => format!("{t} ns"),
        }
    }

    /// The value as text, identical exactly for values SQL calls equal
    /// within one column type (`0.0` and `-0.0` are one value); `None`
    /// for NULL, which equals nothing. Tokens and keys are made of it.
    pub fn canonical(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Text(s) => format!("s:{s}"),
            Value::Int(i) => format!("i:{i}"),
            Value::Float(f) if *f == 0.0 => "f:0".to_string(),
            Value::Float(f) if f.is_nan() => "f:nan".to_string(),
            Value::Float(f) => format!("f:{f:?}"),
            Value::Bool(b) => format!("b:{b}"),
            Value::Timestamp(t) => format!("t:{t}"),
        })
    }

    /// The JSON form for a column of type `ty`, or `None` if the value is
    /// not of that type (NULL has no JSON form: the key is left out).
    pub fn to_json(&self, ty: ColumnType) -> Option<Json> {
        Some(match (ty, self) {
            (ColumnType::Text, Value::Text(s)) => Json::String(s.clone()),
            // A document is kept as its text, so it reads back byte for byte.
            (ColumnType::Json, Value::Text(s)) if is_json(s) => Json::String(s.clone()),
            (ColumnType::BigInt, Value::Int(i)) => Json::from(*i),
            (ColumnType::Int, Value::Int(i)) if i32::try_from(*i).is_ok() => Json::from(*i),
            (ColumnType::Double | ColumnType::Real, Value::Float(f)) => float_to_json(*f),
            (ColumnType::Boolean, Value::Bool(b)) => Json::Bool(*b),
            (ColumnType::Timestamp, Value::Timestamp(t)) => Json::from(*t),
            _ => return None,
        })
    }

    /// A value of type `ty` from its JSON form, or `None` if it is not one.
    pub fn from_json(ty: ColumnType, j: &Json) -> Option<Value> {
        Some(match ty {
            ColumnType::Text | ColumnType::Json => Value::Text(j.as_str()?.to_string()),
            ColumnType::BigInt => Value::Int(j.as_i64()?),
            ColumnType::Int => Value::Int(i32::try_from(j.as_i64()?).ok()?.into()),
            ColumnType::Double => Value::Float(json_to_float(j)?),
            ColumnType::Real => Value::Float(f64::from(json_to_float(j)? as f32)),
            ColumnType::Boolean => Value::Bool(j.as_bool()?),
            ColumnType::Timestamp => Value::Timestamp(j.as_i64()?),
        })
    }
}

/// A row's key for people: `id = 'u_1'`, parts joined by commas.
pub fn key_text(def: &TableDef, values: &[Value]) -> String {
    def.primary_key
        .iter()
        .filter_map(|k| {
            Some(format!(
                "{k} = {}",
                values.get(def.column_index(k)?)?.show()
            ))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether text is one JSON value (any: object, array, string, number...).
pub fn is_json(text: &str) -> bool {
    json_error(text).is_none()
}

/// Why text is not one JSON value. serde_json refuses nesting deeper than
/// 128, which bounds a document (and the stack that reads it).
pub fn json_error(text: &str) -> Option<String> {
    serde_json::from_str::<Json>(text)
        .err()
        .map(|e| e.to_string())
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

fn json_to_float(j: &Json) -> Option<f64> {
    match j {
        Json::String(s) if s == "NaN" => Some(f64::NAN),
        Json::String(s) if s == "Infinity" => Some(f64::INFINITY),
        Json::String(s) if s == "-Infinity" => Some(f64::NEG_INFINITY),
        _ => j.as_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many doubles of every magnitude, repeatably (random bit patterns).
    fn doubles(n: usize) -> Vec<f64> {
        let mut rng = discord_api::SeededRng::new(0x9e37_79b9_7f4a_7c15);
        (0..n)
            .map(|_| f64::from_bits(rng.next_u64()))
            .filter(|f| f.is_finite())
            .collect()
    }

    #[test]
    fn doubles_and_reals_read_back_bit_for_bit() {
        for f in doubles(20_000) {
            let text = Value::Float(f)
                .to_json(ColumnType::Double)
                .unwrap()
                .to_string();
            let back: Json = serde_json::from_str(&text).unwrap();
            let Some(Value::Float(g)) = Value::from_json(ColumnType::Double, &back) else {
                panic!("{text}")
            };
            assert_eq!(f.to_bits(), g.to_bits(), "{f:?} came back as {g:?}");
            let r = f64::from(f as f32);
            let text = Value::Float(r)
                .to_json(ColumnType::Real)
                .unwrap()
                .to_string();
            let back: Json = serde_json::from_str(&text).unwrap();
            assert_eq!(
                Value::from_json(ColumnType::Real, &back),
                Some(Value::Float(r))
            );
        }
    }

    #[test]
    fn equal_values_share_a_canonical_form_and_null_has_none() {
        assert_eq!(
            Value::Float(0.0).canonical(),
            Value::Float(-0.0).canonical()
        );
        assert_ne!(
            Value::Text("1".into()).canonical(),
            Value::Int(1).canonical()
        );
        assert_eq!(Value::Null.canonical(), None);
    }
}
