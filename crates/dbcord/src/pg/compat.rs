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
pub fn parse(engine: &Engine, sql: &str) -> Result<Vec<Statement>> {
    let mut statements: Vec<Statement> =
        DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {})?.into();
    for stmt in &mut statements {
        if let Some(answer) = show(engine, stmt) {
            *stmt = answer?;
            continue;
        }
        if let Statement::Statement(s) = stmt {
            let _ = s.visit(&mut Rewrite);
            if let ast::Statement::Query(q) = s.as_mut() {
                empty_query(q);
            }
        }
    }
    Ok(statements)
}

/// `SHOW` of a server parameter clients ask about (drivers, ORMs, psql's
/// `\conninfo`) as the query that answers it; other settings are
/// DataFusion's and dbcord's own (`SHOW dbcord.pushdown`).
fn show(engine: &Engine, stmt: &Statement) -> Option<Result<Statement>> {
    let Statement::Statement(s) = stmt else {
        return None;
    };
    let ast::Statement::ShowVariable { variable } = s.as_ref() else {
        return None;
    };
    let name: Vec<String> = variable
        .iter()
        .map(|i| i.value.to_ascii_lowercase())
        .collect();
    let name = name.join(" ");
    let value = match name.as_str() {
        "server_version" => "15.0".to_string(),
        "server_version_num" => "150000".to_string(),
        "transaction isolation level" | "transaction_isolation" => "repeatable read".to_string(),
        "search_path" => engine.database(),
        "client_encoding" | "server_encoding" => "UTF8".to_string(),
        "standard_conforming_strings" | "integer_datetimes" => "on".to_string(),
        "datestyle" => "ISO, MDY".to_string(),
        "timezone" => "UTC".to_string(),
        "max_identifier_length" => "63".to_string(),
        "default_transaction_isolation" => "repeatable read".to_string(),
        _ => return None,
    };
    let column = name.replace(' ', "_");
    let sql = format!("SELECT '{value}' AS \"{column}\"");
    Some(
        DFParser::parse_sql_with_dialect(&sql, &PostgreSqlDialect {})
            .map(|mut v| v.pop_front().expect("one statement")),
    )
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
            && crate::sql::pg_catalog::is_table(&n)
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
        Expr::Subquery(q) if always_empty(&q.body) => *e = null(),
        Expr::Collate { expr, .. } => *e = std::mem::replace(expr.as_mut(), null()),
        Expr::BinaryOp { op, .. } => {
            if let BinaryOperator::PGCustomBinaryOperator(parts) = op
                && let Some(plain) = parts.last().and_then(|last| custom_operator(last))
            {
                *op = plain;
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
    let outer = take_outer_conjuncts(select);
    if let Some(condition) = outer {
        let subquery = std::mem::replace(e, null());
        *e = Expr::Case {
            case_token: ast::helpers::attached_token::AttachedToken::empty(),
            end_token: ast::helpers::attached_token::AttachedToken::empty(),
            operand: None,
            conditions: vec![ast::CaseWhen {
                condition,
                result: subquery,
            }],
            else_result: None,
        };
    }
}

/// The names a select's FROM gives its relations (aliases, else names).
fn from_names(select: &ast::Select) -> Vec<String> {
    let mut names = Vec::new();
    let mut add = |t: &ast::TableFactor| {
        if let ast::TableFactor::Table { name, alias, .. } = t {
            match alias {
                Some(a) => names.push(a.name.value.to_ascii_lowercase()),
                None => names.extend(name.0.last().and_then(part)),
            }
        }
    };
    for f in &select.from {
        add(&f.relation);
        f.joins.iter().for_each(|j| add(&j.relation));
    }
    names
}

/// Whether `e` reads only columns of an enclosing query (every column
/// qualified by a name the subquery's FROM does not give).
fn only_outer(e: &Expr, inner: &[String]) -> bool {
    let mut outer = true;
    let mut seen = false;
    let _ = ast::visit_expressions(e, |x| {
        match x {
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                seen = true;
                if inner.contains(&parts[parts.len() - 2].value.to_ascii_lowercase()) {
                    outer = false;
                }
            }
            Expr::Identifier(_) | Expr::Subquery(_) | Expr::Exists { .. } => outer = false,
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    outer && seen
}

/// Take the conjuncts of a subquery's WHERE that read only the enclosing
/// query's columns (DataFusion cannot decorrelate those): they hold or not
/// for the whole subquery, so they become a CASE around it.
fn take_outer_conjuncts(select: &mut ast::Select) -> Option<Expr> {
    let inner = from_names(select);
    let mut conjuncts = Vec::new();
    split_and(select.selection.take()?, &mut conjuncts);
    let (outer, kept): (Vec<Expr>, Vec<Expr>) =
        conjuncts.into_iter().partition(|c| only_outer(c, &inner));
    select.selection = join_and(kept);
    join_and(outer)
}

fn split_and(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split_and(*left, out);
            split_and(*right, out);
        }
        Expr::Nested(inner)
            if matches!(
                inner.as_ref(),
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            split_and(*inner, out)
        }
        e => out.push(e),
    }
}

fn join_and(v: Vec<Expr>) -> Option<Expr> {
    v.into_iter().reduce(|a, b| Expr::BinaryOp {
        left: Box::new(a),
        op: BinaryOperator::And,
        right: Box::new(b),
    })
}

/// The `pg_catalog` relations dbcord never has a row in.
fn is_empty_relation(t: &ast::TableFactor) -> bool {
    let ast::TableFactor::Table { name, .. } = t else {
        return false;
    };
    let n = name.0.last().and_then(part).unwrap_or_default();
    let in_catalog =
        name.0.len() == 1 || name.0.first().and_then(part).as_deref() == Some("pg_catalog");
    in_catalog && crate::sql::pg_catalog::EMPTY.contains(&n.as_str())
}

/// Whether a select reads an always-empty relation through an inner join
/// (a comma, JOIN or INNER JOIN): then it has no rows, whatever else.
fn select_is_empty(select: &ast::Select) -> bool {
    select.from.iter().any(|f| {
        is_empty_relation(&f.relation)
            || f.joins.iter().any(|j| {
                matches!(
                    j.join_operator,
                    ast::JoinOperator::Join(_)
                        | ast::JoinOperator::Inner(_)
                        | ast::JoinOperator::CrossJoin(_)
                ) && is_empty_relation(&j.relation)
            })
    })
}

/// Whether every branch of a query body is an empty select.
fn always_empty(body: &SetExpr) -> bool {
    match body {
        SetExpr::Select(s) => select_is_empty(s),
        SetExpr::SetOperation {
            left, right, op, ..
        } => match op {
            ast::SetOperator::Intersect => always_empty(left) || always_empty(right),
            ast::SetOperator::Except | ast::SetOperator::Minus => always_empty(left),
            _ => always_empty(left) && always_empty(right),
        },
        SetExpr::Query(q) => always_empty(&q.body),
        _ => false,
    }
}

/// A query that can have no rows, as one that plainly has none, with its
/// columns named as its first branch names them (PostgreSQL-only syntax
/// in its other clauses never reaches the planner).
fn empty_query(q: &mut ast::Query) {
    if !always_empty(&q.body) {
        return;
    }
    let Some(first) = first_select(&q.body) else {
        return;
    };
    let mut names: Vec<String> = Vec::new();
    for (i, item) in first.projection.iter().enumerate() {
        let name = item_name(item, i);
        let taken = names.iter().filter(|n| **n == name).count();
        names.push(if taken == 0 {
            name
        } else {
            format!("{name}_{taken}")
        });
    }
    let projection = names
        .into_iter()
        .map(|name| SelectItem::ExprWithAlias {
            expr: null(),
            alias: Ident::new(name),
        })
        .collect();
    let mut empty = first.clone();
    empty.projection = projection;
    empty.from = Vec::new();
    empty.selection = Some(Expr::Value(ValueWithSpan {
        value: Value::Boolean(false),
        span: datafusion::sql::sqlparser::tokenizer::Span::empty(),
    }));
    empty.group_by = ast::GroupByExpr::Expressions(Vec::new(), Vec::new());
    empty.having = None;
    *q.body = SetExpr::Select(Box::new(empty));
    // No rows: an order (perhaps by a column no longer there) is moot.
    q.order_by = None;
}

fn first_select(body: &SetExpr) -> Option<&ast::Select> {
    match body {
        SetExpr::Select(s) => Some(s),
        SetExpr::SetOperation { left, .. } => first_select(left),
        SetExpr::Query(q) => first_select(&q.body),
        _ => None,
    }
}

/// The name PostgreSQL gives a select item.
fn item_name(item: &SelectItem, i: usize) -> String {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
        SelectItem::UnnamedExpr(Expr::Identifier(id)) => id.value.clone(),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => {
            parts.last().map(|p| p.value.clone()).unwrap_or_default()
        }
        SelectItem::UnnamedExpr(Expr::Function(f)) => {
            f.name.0.last().and_then(part).unwrap_or_default()
        }
        _ => format!("column{}", i + 1),
    }
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
