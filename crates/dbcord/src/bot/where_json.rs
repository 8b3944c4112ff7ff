//! `where_json`, the seeds' filter documents, as DataFusion expressions:
//! `{"role": "student", "age": {"$gte": 18}}` is
//! `role = 'student' AND age >= 18`. The expression is built on the
//! table's columns, never pasted into SQL text, so an equality is pushed
//! down exactly as the same SQL would be (a key or index lookup) and every
//! other operator is a filter the scan re-checks on every row.
//!
//! The operators, as the seeds had them: a bare value and `$eq` (equal;
//! `null` is IS NULL), `$ne` (IS DISTINCT FROM: a row without the field
//! matches, as in the seeds' Python), `$gt` `$gte` `$lt` `$lte`, `$in` (a
//! list), `$contains` and `$prefix` (text), `$exists` (true: not NULL).
//! Several fields, or several operators on one field, must all hold.

use datafusion::functions::expr_fn::{contains, starts_with};
use datafusion::logical_expr::{Expr, Operator, binary_expr, col, lit};
use datafusion::scalar::ScalarValue;
use serde_json::Value as Json;

use crate::store::{ColumnType, TableDef};

/// What is wrong with a `where_json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("where_json: {0}; nothing was read")]
pub struct WhereError(pub String);

/// The operators a field's object may use.
pub const OPERATORS: [&str; 10] = [
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$contains",
    "$prefix",
    "$exists",
];

/// The filter `doc` (JSON text) says, on `def`'s columns.
pub fn filter(def: &TableDef, doc: &str) -> Result<Expr, WhereError> {
    let json: Json =
        serde_json::from_str(doc).map_err(|e| WhereError(format!("not valid JSON ({e})")))?;
    let Json::Object(fields) = json else {
        return Err(WhereError(format!(
            "expected an object of fields, such as {{\"role\": \"student\"}}, not {json}"
        )));
    };
    let mut all = Vec::new();
    for (field, condition) in &fields {
        let ty = column_type(def, field)?;
        match condition {
            Json::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => {
                for (op, value) in ops {
                    all.push(operator(field, ty, op, value)?);
                }
            }
            value => all.push(equal(field, ty, value)?),
        }
    }
    Ok(all.into_iter().reduce(Expr::and).unwrap_or(lit(true)))
}

/// The type of `field`, a column of `def`.
fn column_type(def: &TableDef, field: &str) -> Result<ColumnType, WhereError> {
    if field.starts_with('$') {
        return Err(WhereError(format!(
            "{field} at the top level: name a field, then its operators, such as \
             {{\"age\": {{\"$gte\": 18}}}}"
        )));
    }
    let c = def.column_index(field).ok_or_else(|| {
        let names: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
        WhereError(format!(
            "{} has no field {field} (its fields: {})",
            def.qualified_name(),
            names.join(", ")
        ))
    })?;
    Ok(def.columns[c].ty)
}

fn operator(field: &str, ty: ColumnType, op: &str, value: &Json) -> Result<Expr, WhereError> {
    let c = || col(quoted(field));
    let v = |value: &Json| literal(field, ty, value);
    Ok(match op {
        "$eq" => equal(field, ty, value)?,
        "$ne" if value.is_null() => c().is_not_null(),
        "$ne" => binary_expr(c(), Operator::IsDistinctFrom, v(value)?),
        "$gt" => c().gt(ordered(field, ty, value)?),
        "$gte" => c().gt_eq(ordered(field, ty, value)?),
        "$lt" => c().lt(ordered(field, ty, value)?),
        "$lte" => c().lt_eq(ordered(field, ty, value)?),
        "$in" => {
            let Json::Array(items) = value else {
                return Err(WhereError(format!(
                    "{field}: $in takes a list, not {value}"
                )));
            };
            if items.iter().any(Json::is_null) {
                return Err(WhereError(format!(
                    "{field}: $in cannot hold null; use {{\"$exists\": false}}"
                )));
            }
            let list = items.iter().map(v).collect::<Result<Vec<_>, _>>()?;
            c().in_list(list, false)
        }
        "$contains" => contains(c(), text(field, ty, op, value)?),
        "$prefix" => starts_with(c(), text(field, ty, op, value)?),
        "$exists" => match value {
            Json::Bool(true) => c().is_not_null(),
            Json::Bool(false) => c().is_null(),
            _ => {
                return Err(WhereError(format!(
                    "{field}: $exists takes true or false, not {value}"
                )));
            }
        },
        _ => {
            return Err(WhereError(format!(
                "{field}: unknown operator {op} (the operators: {})",
                OPERATORS.join(" ")
            )));
        }
    })
}

/// `field` equal to `value` (`null`: IS NULL).
fn equal(field: &str, ty: ColumnType, value: &Json) -> Result<Expr, WhereError> {
    if value.is_null() {
        return Ok(col(quoted(field)).is_null());
    }
    Ok(col(quoted(field)).eq(literal(field, ty, value)?))
}

/// A value to order by: not null.
fn ordered(field: &str, ty: ColumnType, value: &Json) -> Result<Expr, WhereError> {
    if value.is_null() {
        return Err(WhereError(format!(
            "{field}: null has no order; use {{\"$exists\": false}}"
        )));
    }
    literal(field, ty, value)
}

/// The text `$contains` and `$prefix` look for, in a text field.
fn text(field: &str, ty: ColumnType, op: &str, value: &Json) -> Result<Expr, WhereError> {
    match (ty, value) {
        (ColumnType::Text | ColumnType::Json, Json::String(s)) => Ok(lit(s.clone())),
        (ColumnType::Text | ColumnType::Json, _) => Err(WhereError(format!(
            "{field}: {op} takes a string, not {value}"
        ))),
        _ => Err(WhereError(format!(
            "{field} is {}: {op} applies to text fields",
            ty.sql_name()
        ))),
    }
}

/// `value` as a literal of `field`'s type, or the error naming the field,
/// its type and the value.
pub fn literal(field: &str, ty: ColumnType, value: &Json) -> Result<Expr, WhereError> {
    let wrong = || {
        WhereError(format!(
            "{field} is {}, and {value} is not one",
            ty.sql_name()
        ))
    };
    let scalar = match (ty, value) {
        (ColumnType::Text | ColumnType::Json | ColumnType::Timestamp, Json::String(s)) => {
            ScalarValue::Utf8(Some(s.clone()))
        }
        (ColumnType::BigInt | ColumnType::Int | ColumnType::Timestamp, Json::Number(n)) => {
            ScalarValue::Int64(Some(n.as_i64().ok_or_else(wrong)?))
        }
        (ColumnType::Double | ColumnType::Real, Json::Number(n)) => {
            ScalarValue::Float64(Some(n.as_f64().ok_or_else(wrong)?))
        }
        (ColumnType::Boolean, Json::Bool(b)) => ScalarValue::Boolean(Some(*b)),
        _ => return Err(wrong()),
    };
    Ok(lit(scalar))
}

/// A column name as DataFusion's `col` takes it: quoted, so that case and
/// dots are the column's own.
pub(crate) fn quoted(field: &str) -> String {
    format!("\"{}\"", field.replace('"', "\"\""))
}
