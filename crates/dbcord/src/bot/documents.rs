//! The seeds' documents on dbcord's tables: `schema_json` (`{"required":
//! ["id"], "properties": {"id": "str", "age": "int"}}`) as the columns of a
//! table, and `value_json` documents as its rows, checked the way the
//! seeds checked them: a value of the wrong type is refused with the
//! property named (a number given for a `"str"` property is not stored as
//! `'5'`), an unknown property is refused, a required one must be there.
//! Rows are built as typed values, never as SQL text.

use serde_json::{Map, Value as Json};

use crate::store::{CheckDef, Column, ColumnType, LargeRows, NewTable, TableDef, Value};

/// What is wrong with a `schema_json` or a `value_json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}; nothing was written")]
pub struct DocumentError(pub String);

/// The property types a `schema_json` may name, and the column each is.
pub const TYPES: [(&str, ColumnType); 12] = [
    ("str", ColumnType::Text),
    ("string", ColumnType::Text),
    ("int", ColumnType::BigInt),
    ("integer", ColumnType::BigInt),
    ("float", ColumnType::Double),
    ("number", ColumnType::Double),
    ("bool", ColumnType::Boolean),
    ("boolean", ColumnType::Boolean),
    ("dict", ColumnType::Json),
    ("object", ColumnType::Json),
    ("list", ColumnType::Json),
    ("array", ColumnType::Json),
];

/// A `schema_json`: its properties in order, and which are required.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub properties: Vec<(String, ColumnType)>,
    pub required: Vec<String>,
}

impl Schema {
    /// Read a `schema_json`.
    pub fn parse(text: &str) -> Result<Schema, DocumentError> {
        let bad = |why: String| DocumentError(format!("schema_json: {why}"));
        let json: Json =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
        let Some(Json::Object(props)) = json.get("properties") else {
            return Err(bad(
                "expected {\"properties\": {\"field\": \"str\", ...}, \"required\": [...]}".into(),
            ));
        };
        let mut properties = Vec::new();
        for (name, ty) in props {
            let found = ty
                .as_str()
                .and_then(|t| TYPES.iter().find(|(n, _)| *n == t))
                .ok_or_else(|| {
                    let names: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
                    bad(format!(
                        "property {name} has type {ty}; the types: {}",
                        names.join(", ")
                    ))
                })?;
            properties.push((name.clone(), found.1));
        }
        let required = match json.get("required") {
            None => Vec::new(),
            Some(Json::Array(names)) => names
                .iter()
                .map(|n| match n.as_str() {
                    Some(n) if props.contains_key(n) => Ok(n.to_string()),
                    _ => Err(bad(format!("required names {n}, which is not a property"))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(bad(format!("required is a list, not {other}"))),
        };
        Ok(Schema {
            properties,
            required,
        })
    }

    /// The table these properties make, keyed by `pk` (a required text or
    /// integer property, or one the schema does not name: then a text key).
    pub fn table(&self, name: &str, pk: &str) -> Result<NewTable, DocumentError> {
        let mut columns: Vec<Column> = self
            .properties
            .iter()
            .map(|(n, ty)| Column::new(n.clone(), *ty, !self.required.contains(n) && n != pk))
            .collect();
        match columns.iter_mut().find(|c| c.name == pk) {
            Some(c)
                if matches!(
                    c.ty,
                    ColumnType::Json | ColumnType::Double | ColumnType::Boolean
                ) =>
            {
                return Err(DocumentError(format!(
                    "pk {pk} is {}; a key is text or an integer",
                    c.ty.sql_name()
                )));
            }
            Some(c) => c.nullable = false,
            None => columns.insert(0, Column::new(pk, ColumnType::Text, false)),
        }
        Ok(NewTable {
            name: name.to_string(),
            columns,
            primary_key: vec![pk.to_string()],
            checks: Vec::<CheckDef>::new(),
            large_rows: LargeRows::default(),
        })
    }
}

/// The row a `value_json` document is in `def`, with `key` (the seeds'
/// `key` option) as its primary key's value unless the document has it.
pub fn row(
    def: &TableDef,
    key: Option<&str>,
    value_json: &str,
) -> Result<Vec<Value>, DocumentError> {
    let bad = |why: String| DocumentError(format!("value_json: {why}"));
    let json: Json =
        serde_json::from_str(value_json).map_err(|e| bad(format!("not valid JSON ({e})")))?;
    let Json::Object(mut doc) = json else {
        return Err(bad(format!("expected an object of properties, not {json}")));
    };
    if let ([pk], Some(key)) = (def.primary_key.as_slice(), key) {
        match doc.get(pk) {
            Some(Json::String(v)) if v != key => {
                return Err(bad(format!("{pk} is {v:?} but the key is {key:?}")));
            }
            _ => {
                doc.entry(pk.clone())
                    .or_insert(Json::String(key.to_string()));
            }
        }
    }
    if let Some(unknown) = doc.keys().find(|k| def.column_index(k).is_none()) {
        let names: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
        return Err(bad(format!(
            "{} has no property {unknown} (its properties: {})",
            def.qualified_name(),
            names.join(", ")
        )));
    }
    def.columns
        .iter()
        .map(|c| value(c, &doc))
        .collect::<Result<_, _>>()
        .map_err(bad)
}

/// Column `c`'s value in `doc`, checked against its type.
fn value(c: &Column, doc: &Map<String, Json>) -> Result<Value, String> {
    let Some(v) = doc.get(&c.name).filter(|v| !v.is_null()) else {
        return if c.nullable {
            Ok(Value::Null)
        } else {
            Err(format!("{} is required", c.name))
        };
    };
    let wrong = || format!("{} is {}, and {v} is not one", c.name, c.ty.sql_name());
    Ok(match (c.ty, v) {
        (ColumnType::Text, Json::String(s)) => Value::Text(s.clone()),
        (ColumnType::BigInt | ColumnType::Int, Json::Number(n)) => {
            Value::Int(n.as_i64().ok_or_else(wrong)?)
        }
        (ColumnType::Double | ColumnType::Real, Json::Number(n)) => {
            Value::Float(n.as_f64().ok_or_else(wrong)?)
        }
        (ColumnType::Boolean, Json::Bool(b)) => Value::Bool(*b),
        (ColumnType::Json, v) => Value::Text(v.to_string()),
        _ => return Err(wrong()),
    })
}
