//! SQL as Postgres clients write it, made into SQL DataFusion plans.
//!
//! Clients (psql's backslash commands above all) ask about the server in
//! PostgreSQL's own dialect: `OPERATOR(pg_catalog.~)`, `COLLATE
//! pg_catalog.default`, functions and types qualified with `pg_catalog.`,
//! casts to `regclass`, scalar subqueries that PostgreSQL knows return one
//! row. Each is rewritten into what it means, in the syntax tree (never
//! in the text): the operator into `~`, the collation dropped (every
//! comparison is by code point anyway), the qualifier dropped, a
//! `regclass` cast of a name into the table's OID and of an OID into its
//! name (`pg_catalog::oid_to_name`), a one-row subquery into `max` of its
//! one column. The answers come from `pg_catalog`, generated from dbcord's
//! catalog for each statement.

use std::ops::ControlFlow;

use datafusion::error::Result;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, SelectItem, SetExpr, Value,
    ValueWithSpan, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

use crate::sql::Engine;

/// Parse `sql` as PostgreSQL writes it, into statements the engine runs.
pub fn parse(_engine: &Engine, sql: &str) -> Result<Vec<Statement>> {
    let mut statements: Vec<Statement> =
        DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {})?.into();
    for stmt in &mut statements {
        if let Statement::Statement(s) = stmt {
            let _ = s.visit(&mut Rewrite);
        }
    }
    Ok(statements)
}

/// The rewrites, applied bottom-up to every expression.
struct Rewrite;

impl VisitorMut for Rewrite {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        rewrite(e);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = q.body.as_mut() {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                {
                    one_row_subquery(e);
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
        // `pg_type` unqualified (psycopg) is the catalog's.
        if name.0.len() == 1
            && let Some(n) = part(&name.0[0])
            && crate::sql::pg_catalog::TABLES.contains(&n.as_str())
        {
            name.0
                .insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
        }
        ControlFlow::Continue(())
    }
}

fn part(p: &ObjectNamePart) -> Option<String> {
    p.as_ident().map(|i| i.value.to_ascii_lowercase())
}

fn rewrite(e: &mut Expr) {
    match e {
        Expr::Collate { expr, .. } => *e = std::mem::replace(expr.as_mut(), null()),
        Expr::BinaryOp { op, .. } => {
            if let BinaryOperator::PGCustomBinaryOperator(parts) = op
                && let Some(last) = parts.last()
            {
                if let Some(plain) = custom_operator(last) {
                    *op = plain;
                }
            }
        }
        Expr::Function(f) => unqualify(&mut f.name),
        Expr::Cast {
            expr, data_type, ..
        } => {
            if let Some(new) = pg_cast(expr, data_type) {
                *e = new;
            }
        }
        _ => {}
    }
}

/// `OPERATOR(pg_catalog.~)` and its kin.
fn custom_operator(op: &str) -> Option<BinaryOperator> {
    Some(match op {
        "~" => BinaryOperator::PGRegexMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        "=" => BinaryOperator::Eq,
        "<>" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        ">" => BinaryOperator::Gt,
        "<=" => BinaryOperator::LtEq,
        ">=" => BinaryOperator::GtEq,
        "||" => BinaryOperator::StringConcat,
        _ => return None,
    })
}

/// `pg_catalog.f` is `f`.
fn unqualify(name: &mut ObjectName) {
    if name.0.len() == 2 && part(&name.0[0]).as_deref() == Some("pg_catalog") {
        name.0.remove(0);
    }
}

/// A cast to one of PostgreSQL's own types, as what it means here.
fn pg_cast(inner: &mut Box<Expr>, ty: &mut DataType) -> Option<Expr> {
    let DataType::Custom(name, _) = ty else {
        return None;
    };
    let type_name = name.0.last().and_then(part).unwrap_or_default();
    match type_name.as_str() {
        "regclass" | "regtype" | "regnamespace" | "regproc" => {
            let kind = string(&type_name);
            let arg = std::mem::replace(inner.as_mut(), null());
            let f = match &arg {
                Expr::Value(ValueWithSpan {
                    value: Value::SingleQuotedString(_),
                    ..
                }) => "pg_name_to_oid",
                _ => "pg_oid_to_name",
            };
            Some(call(f, vec![arg, kind]))
        }
        "oid" | "regoper" | "xid" => Some(cast(inner, DataType::BigInt(None))),
        "text" | "name" | "bpchar" => Some(cast(inner, DataType::Text)),
        "int2" => Some(cast(inner, DataType::SmallInt(None))),
        "int4" => Some(cast(inner, DataType::Int(None))),
        "int8" => Some(cast(inner, DataType::BigInt(None))),
        "bool" => Some(cast(inner, DataType::Boolean)),
        _ => None,
    }
}

/// A scalar subquery in a select list, of one column and no aggregate,
/// as `max` of that column: PostgreSQL runs it as "the row, if any";
/// DataFusion wants it aggregated to know it is one row.
fn one_row_subquery(e: &mut Expr) {
    let Expr::Subquery(q) = e else {
        return;
    };
    let SetExpr::Select(select) = q.body.as_mut() else {
        return;
    };
    if select.projection.len() != 1 || !select.group_by_is_empty() {
        return;
    }
    let item = &mut select.projection[0];
    let (SelectItem::UnnamedExpr(inner) | SelectItem::ExprWithAlias { expr: inner, .. }) = item
    else {
        return;
    };
    if matches!(inner, Expr::Function(f) if is_aggregate(f)) {
        return;
    }
    let taken = std::mem::replace(inner, null());
    *inner = call("max", vec![taken]);
}

fn is_aggregate(f: &Function) -> bool {
    let name = f.name.to_string().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "max"
            | "min"
            | "count"
            | "sum"
            | "avg"
            | "string_agg"
            | "array_agg"
            | "bool_and"
            | "bool_or"
    )
}

trait GroupByEmpty {
    fn group_by_is_empty(&self) -> bool;
}

impl GroupByEmpty for ast::Select {
    fn group_by_is_empty(&self) -> bool {
        matches!(&self.group_by, ast::GroupByExpr::Expressions(v, _) if v.is_empty())
    }
}

fn null() -> Expr {
    Expr::Value(ValueWithSpan {
        value: Value::Null,
        span: datafusion::sql::sqlparser::tokenizer::Span::empty(),
    })
}

fn string(s: &str) -> Expr {
    Expr::Value(ValueWithSpan {
        value: Value::SingleQuotedString(s.to_string()),
        span: datafusion::sql::sqlparser::tokenizer::Span::empty(),
    })
}

fn cast(inner: &mut Box<Expr>, ty: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(std::mem::replace(inner.as_mut(), null())),
        data_type: ty,
        array: false,
        format: None,
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}
