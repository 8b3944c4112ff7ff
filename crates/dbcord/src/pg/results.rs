//! A statement's outcome as Postgres sends it: rows in the types a client
//! knows, command tags (`INSERT 0 n`, `UPDATE n`, `SELECT n`), errors with
//! their SQLSTATE.

use std::sync::Arc;

use arrow_pg::datatypes::{arrow_schema_to_pg_fields, encode_recordbatch};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::DataFusionError;
use futures::stream;
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldInfo, QueryResponse, Response, Tag};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};

use crate::sql::Outcome;
use crate::sql::errors::{sqlstate, user_message};

/// An ERROR with `code` and `message`.
pub fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message.into(),
    )))
}

/// A failed statement as the client is told it.
pub fn statement_error(e: &DataFusionError) -> ErrorInfo {
    ErrorInfo::new("ERROR".into(), sqlstate(e).into(), user_message(e))
}

/// The type a column is sent as: the one arrow-pg encodes right. A
/// timestamp's zone is given as an offset (arrow-pg reads no zone names),
/// a one-byte integer as two, and a type Postgres has no name for as text.
fn wire_type(ty: &DataType) -> DataType {
    match ty {
        DataType::Timestamp(unit, Some(_)) => DataType::Timestamp(*unit, Some("+00:00".into())),
        DataType::Int8 => DataType::Int16,
        DataType::UInt8 => DataType::Int16,
        DataType::Float16 => DataType::Float32,
        DataType::Null => DataType::Utf8,
        DataType::Dictionary(_, v) => wire_type(v),
        DataType::Decimal128(p, s) if *s > 28 || *p > 28 => DataType::Utf8,
        DataType::Decimal256(..) | DataType::Decimal32(..) | DataType::Decimal64(..) => {
            DataType::Utf8
        }
        t if arrow_pg::datatypes::into_pg_type(t).is_err() => DataType::Utf8,
        DataType::FixedSizeBinary(_) | DataType::Map(..) | DataType::Union(..) => DataType::Utf8,
        DataType::Interval(_) => DataType::Utf8,
        t => t.clone(),
    }
}

/// `schema` with every column in its wire type.
pub fn wire_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let f = f.as_ref().clone().with_data_type(wire_type(f.data_type()));
            f.with_nullable(true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// `batch` with every column cast to its wire type.
fn wire_batch(batch: &RecordBatch, schema: &SchemaRef) -> PgWireResult<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(Arc::clone(c))
            } else {
                cast(c, f.data_type())
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| user_error("XX000", e.to_string()))?;
    RecordBatch::try_new(Arc::clone(schema), columns)
        .map_err(|e| user_error("XX000", e.to_string()))
}

/// The row description of `schema` in `format`.
pub fn fields(schema: &Schema, format: &Format) -> PgWireResult<Vec<FieldInfo>> {
    arrow_schema_to_pg_fields(&wire_schema(schema), format, None)
}

/// Rows as a query response (its tag `SELECT n`).
pub fn rows(
    schema: &SchemaRef,
    batches: Vec<RecordBatch>,
    format: &Format,
) -> PgWireResult<QueryResponse> {
    let wire = wire_schema(schema);
    let fields = Arc::new(arrow_schema_to_pg_fields(&wire, format, None)?);
    let batches = batches
        .iter()
        .map(|b| wire_batch(b, &wire))
        .collect::<PgWireResult<Vec<_>>>()?;
    let encode = Arc::clone(&fields);
    let rows = batches
        .into_iter()
        .flat_map(move |b| encode_recordbatch(Arc::clone(&encode), b));
    Ok(QueryResponse::new(fields, stream::iter(rows)))
}

/// The Postgres command tag of a dbcord status line: `INSERT 2` is
/// `INSERT 0 2`, `CREATE TABLE main.t` is `CREATE TABLE`.
pub fn tag(status: &str) -> Tag {
    let words: Vec<&str> = status.split_whitespace().collect();
    let count = words.last().and_then(|w| w.parse::<usize>().ok());
    match (words.first().copied(), count) {
        (Some("INSERT"), Some(n)) => Tag::new("INSERT").with_oid(0).with_rows(n),
        (Some(cmd @ ("UPDATE" | "DELETE" | "COPY" | "SELECT")), Some(n)) => {
            Tag::new(cmd).with_rows(n)
        }
        _ => {
            let command: Vec<&str> = words
                .iter()
                .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
                .copied()
                .collect();
            Tag::new(&command.join(" "))
        }
    }
}

/// An outcome as a response.
pub fn response(
    outcome: Outcome,
    format: &Format,
    described: Option<&SchemaRef>,
) -> PgWireResult<Response> {
    match outcome {
        Outcome::Rows { schema, batches } => {
            let schema = match described {
                Some(d) if d.fields().len() == schema.fields().len() => d,
                _ => &schema,
            };
            Ok(Response::Query(rows(schema, batches, format)?))
        }
        Outcome::Status(status) => Ok(Response::Execution(tag(&status))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbcord_status_lines_become_postgres_tags() {
        let wire = |s: &str| {
            let t = tag(s);
            format!("{t:?}")
        };
        assert!(wire("INSERT 2").contains("\"INSERT\""));
        assert_eq!(
            format!("{:?}", tag("INSERT 2")),
            format!("{:?}", Tag::new("INSERT").with_oid(0).with_rows(2))
        );
        assert_eq!(
            format!("{:?}", tag("CREATE TABLE main.t")),
            format!("{:?}", Tag::new("CREATE TABLE"))
        );
        assert_eq!(
            format!("{:?}", tag("UPDATE 0")),
            format!("{:?}", Tag::new("UPDATE").with_rows(0))
        );
    }
}
