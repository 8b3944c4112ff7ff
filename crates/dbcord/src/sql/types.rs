//! Column types between the store and Arrow.

use std::ops::ControlFlow;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, Statement as SqlStatement, visit_expressions,
};

use crate::store::{ColumnType, TableDef};

pub use crate::store::codec::columns::arrow_type;

/// The store type for a type `CREATE TABLE` produced, if dbcord supports it.
pub fn column_type(dt: &DataType) -> Option<ColumnType> {
    Some(match dt {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => ColumnType::Text,
        DataType::Int64 => ColumnType::BigInt,
        DataType::Int32 => ColumnType::Int,
        DataType::Float64 => ColumnType::Double,
        DataType::Float32 => ColumnType::Real,
        DataType::Boolean => ColumnType::Boolean,
        DataType::Timestamp(_, None) => ColumnType::Timestamp,
        _ => return None,
    })
}

/// Storcord's ObjectID of a row: the message and the channel that hold it.
/// They are hidden: a statement sees them only when it names one of them.
pub const MESSAGE_ID: &str = "_message_id";
pub const CHANNEL_ID: &str = "_channel_id";

/// Whether a statement names a hidden column as a column (and so should
/// see them): in an expression, or in an INSERT's column list. Decided from
/// the parsed statement, so a string literal or a column named
/// `last_message_id` does not count.
pub fn names_hidden(stmt: &DFStatement) -> bool {
    match stmt {
        DFStatement::Statement(s) => sql_names_hidden(s),
        DFStatement::Explain(e) => names_hidden(&e.statement),
        _ => false,
    }
}

fn sql_names_hidden(stmt: &SqlStatement) -> bool {
    let in_expressions = visit_expressions(stmt, |e| match e {
        SqlExpr::Identifier(i) if is_hidden(&i.value) => ControlFlow::Break(()),
        SqlExpr::CompoundIdentifier(parts) if parts.last().is_some_and(|i| is_hidden(&i.value)) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break();
    let in_insert_columns = match stmt {
        SqlStatement::Insert(insert) => insert.columns.iter().any(|c| {
            c.0.last()
                .and_then(|p| p.as_ident())
                .is_some_and(|i| is_hidden(&i.value))
        }),
        _ => false,
    };
    in_expressions || in_insert_columns
}

fn is_hidden(name: &str) -> bool {
    name.eq_ignore_ascii_case(MESSAGE_ID) || name.eq_ignore_ascii_case(CHANNEL_ID)
}

/// The Arrow schema of a table as SQL sees it, with the hidden columns last if asked.
///
/// Every table column is nullable here, NOT NULL ones too: the store checks
/// NOT NULL itself and names the column, where DataFusion would refuse an
/// INSERT's batch with the name of its own intermediate column.
pub fn table_schema(def: &TableDef, hidden: bool) -> Schema {
    let mut fields: Vec<Field> = def
        .columns
        .iter()
        .map(|c| Field::new(&c.name, arrow_type(c.ty), true))
        .collect();
    if hidden {
        fields.push(Field::new(MESSAGE_ID, DataType::Int64, false));
        fields.push(Field::new(CHANNEL_ID, DataType::Int64, false));
    }
    Schema::new(fields)
}

pub const SUPPORTED_TYPES: &str =
    "TEXT, VARCHAR, BIGINT, INT, DOUBLE, REAL, BOOLEAN, TIMESTAMP, JSON";
