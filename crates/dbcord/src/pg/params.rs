//! A prepared statement's parameters: their types, told to the client, and
//! their values, bound into the statement as literals before it runs.
//!
//! DataFusion infers a placeholder's type from where it stands (a column it
//! is compared with, the column an INSERT puts it in); what it cannot infer
//! is TEXT, which every client can send. A value is read in the type the
//! client declared, or else the inferred one, in the text or binary format
//! the client chose, and becomes a SQL literal of that type: so the
//! statement runs exactly as if it had been written with the value.

use std::ops::ControlFlow;

use datafusion::arrow::datatypes::DataType;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, Expr, Value, ValueWithSpan, VisitMut, VisitorMut,
};
use pgwire::api::Type;
use pgwire::api::portal::Portal;
use pgwire::error::PgWireResult;

use super::results::user_error;

/// The highest `$n` in a statement: how many parameters it takes.
pub fn count(stmt: &Statement) -> usize {
    let mut n = 0;
    let mut find = |e: &mut Expr| {
        if let Some(i) = placeholder(e) {
            n = n.max(i);
        }
        ControlFlow::<()>::Continue(())
    };
    let mut stmt = stmt.clone();
    visit(&mut stmt, &mut find);
    n
}

/// The Postgres type a client is told a parameter has.
pub fn pg_type(ty: Option<&DataType>) -> Type {
    match ty {
        Some(DataType::Boolean) => Type::BOOL,
        Some(DataType::Int8 | DataType::Int16) => Type::INT2,
        Some(DataType::Int32) => Type::INT4,
        Some(DataType::Int64 | DataType::UInt32 | DataType::UInt64) => Type::INT8,
        Some(DataType::Float32) => Type::FLOAT4,
        Some(DataType::Float64) => Type::FLOAT8,
        Some(DataType::Decimal128(..) | DataType::Decimal256(..)) => Type::NUMERIC,
        Some(DataType::Timestamp(_, None)) => Type::TIMESTAMP,
        Some(DataType::Timestamp(_, Some(_))) => Type::TIMESTAMPTZ,
        Some(DataType::Date32 | DataType::Date64) => Type::DATE,
        _ => Type::TEXT,
    }
}

/// Each parameter of `portal` as a SQL literal, read as `types` say.
pub fn literals<S: Clone>(portal: &Portal<S>, types: &[Type]) -> PgWireResult<Vec<Expr>> {
    let declared = &portal.statement.parameter_types;
    (0..portal.parameter_len())
        .map(|i| {
            let ty = declared
                .get(i)
                .cloned()
                .flatten()
                .or_else(|| types.get(i).cloned())
                .unwrap_or(Type::TEXT);
            literal(portal, i, &ty)
        })
        .collect()
}

fn literal<S: Clone>(portal: &Portal<S>, i: usize, ty: &Type) -> PgWireResult<Expr> {
    let text = |v: Option<String>| v.map(string);
    let value = match *ty {
        Type::BOOL => portal
            .parameter::<bool>(i, ty)?
            .map(|b| raw_value(Value::Boolean(b))),
        Type::INT2 => portal.parameter::<i16>(i, ty)?.map(number),
        Type::INT4 => portal.parameter::<i32>(i, ty)?.map(number),
        Type::INT8 => portal.parameter::<i64>(i, ty)?.map(number),
        Type::OID => portal.parameter::<u32>(i, ty)?.map(number),
        Type::FLOAT4 => portal.parameter::<f32>(i, ty)?.map(|f| float(f as f64)),
        Type::FLOAT8 => portal.parameter::<f64>(i, ty)?.map(float),
        // A number literal: dbcord's columns hold DOUBLE and BIGINT, and
        // DataFusion casts the literal to the column it meets.
        Type::NUMERIC => portal
            .parameter::<rust_decimal::Decimal>(i, ty)?
            .map(|d| raw(d.normalize().to_string())),
        Type::TIMESTAMP => portal.parameter::<chrono::NaiveDateTime>(i, ty)?.map(|t| {
            cast(
                string(t.to_string()),
                SqlType::Timestamp(None, datafusion::sql::sqlparser::ast::TimezoneInfo::None),
            )
        }),
        Type::TIMESTAMPTZ => portal
            .parameter::<chrono::DateTime<chrono::FixedOffset>>(i, ty)?
            .map(|t| {
                cast(
                    string(t.to_rfc3339()),
                    SqlType::Timestamp(
                        None,
                        datafusion::sql::sqlparser::ast::TimezoneInfo::WithTimeZone,
                    ),
                )
            }),
        Type::DATE => portal
            .parameter::<chrono::NaiveDate>(i, ty)?
            .map(|d| cast(string(d.to_string()), SqlType::Date)),
        Type::BYTEA => portal
            .parameter::<Vec<u8>>(i, ty)?
            .map(|b| string(String::from_utf8_lossy(&b).into_owned())),
        Type::JSON | Type::JSONB if portal.parameter_format.is_binary(i) => portal
            .parameter::<serde_json::Value>(i, ty)?
            .map(|j| string(j.to_string())),
        // Text-like types are their UTF-8 bytes in either format.
        _ if portal.parameter_format.is_binary(i) => {
            match portal.parameters.get(i).cloned().flatten() {
                None => None,
                Some(bytes) => Some(string(String::from_utf8(bytes.to_vec()).map_err(|_| {
                    user_error(
                        "0A000",
                        format!(
                            "parameter ${}: binary values of type {ty} are not supported; \
                             send it as text",
                            i + 1
                        ),
                    )
                })?)),
            }
        }
        _ => text(portal.parameter::<String>(i, &Type::UNKNOWN)?),
    };
    Ok(value.unwrap_or_else(|| raw_value(Value::Null)))
}

/// Put each literal in place of its `$n`.
pub fn bind(stmt: &mut Statement, values: &[Expr]) -> PgWireResult<()> {
    let mut missing = None;
    let mut put = |e: &mut Expr| {
        if let Some(i) = placeholder(e) {
            match values.get(i - 1) {
                Some(v) => *e = v.clone(),
                None => missing = Some(i),
            }
        }
        ControlFlow::<()>::Continue(())
    };
    visit(stmt, &mut put);
    match missing {
        Some(i) => Err(user_error(
            "08P01",
            format!(
                "the statement uses ${i} but {} parameters were bound",
                values.len()
            ),
        )),
        None => Ok(()),
    }
}

/// `n` of a `$n` placeholder.
fn placeholder(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(ValueWithSpan {
            value: Value::Placeholder(p),
            ..
        }) => p.strip_prefix('$')?.parse().ok().filter(|&n| n > 0),
        _ => None,
    }
}

struct Exprs<'a, F>(&'a mut F);

impl<F: FnMut(&mut Expr) -> ControlFlow<()>> VisitorMut for Exprs<'_, F> {
    type Break = ();
    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        (self.0)(e)
    }
}

fn visit<F: FnMut(&mut Expr) -> ControlFlow<()>>(stmt: &mut Statement, f: &mut F) {
    if let Statement::Statement(s) = stmt {
        let _ = s.visit(&mut Exprs(f));
    }
}

fn raw_value(v: Value) -> Expr {
    Expr::Value(ValueWithSpan {
        value: v,
        span: datafusion::sql::sqlparser::tokenizer::Span::empty(),
    })
}

fn raw(s: String) -> Expr {
    raw_value(Value::Number(s, false))
}

fn number(n: impl ToString) -> Expr {
    raw(n.to_string())
}

fn float(f: f64) -> Expr {
    if f.is_finite() {
        cast(raw(format!("{f:?}")), SqlType::DoublePrecision)
    } else {
        cast(string(f.to_string()), SqlType::DoublePrecision)
    }
}

fn string(s: String) -> Expr {
    raw_value(Value::SingleQuotedString(s))
}

fn cast(e: Expr, ty: SqlType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(e),
        data_type: ty,
        array: false,
        format: None,
    }
}
