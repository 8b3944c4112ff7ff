//! Schema rules as SQL: DEFAULT and CHECK, kept in the catalog as SQL text
//! and planned by DataFusion when they are used.
//!
//! The catalog stores each rule's text, not a plan, so a definition stays
//! readable in Discord and independent of DataFusion's plan format. The
//! text is planned against the table's columns with a session of
//! DataFusion's built-in functions and the JSON functions; a rule that
//! named a table function or another table would not plan.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::common::DFSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    ColumnOption, CreateTableOptions, DataType as SqlType, ExprWithAlias, SqlOption,
    Statement as SqlStatement, TableConstraint,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::types::table_schema;
use crate::store::codec::columns;
use crate::store::{CheckDef, ColumnType, TableDef, Value};

/// A session that plans rule expressions: functions only, no tables.
static PLANNER: LazyLock<SessionState> = LazyLock::new(|| {
    let mut state = SessionStateBuilder::new().with_default_features().build();
    datafusion_functions_json::register_all(&mut state)
        .expect("the JSON functions register on a fresh session");
    state
});

/// Plan a rule's SQL text over the table's columns.
pub fn plan_rule(def: &TableDef, sql: &str) -> Result<Expr> {
    let schema = DFSchema::try_from(table_schema(def, false))?;
    let mut expr = Parser::new(&GenericDialect {})
        .try_with_sql(sql)?
        .parse_expr()?;
    super::json::fix_expr(&mut expr);
    PLANNER.create_logical_expr_from_sql_expr(ExprWithAlias { expr, alias: None }, &schema)
}

/// What a CREATE TABLE says beyond what DataFusion plans.
#[derive(Debug, Default)]
pub struct TableRules {
    pub checks: Vec<CheckDef>,
    /// (column, SQL text)
    pub defaults: Vec<(String, String)>,
    /// Columns declared `JSON` (DataFusion has no such type; it plans them as TEXT).
    pub json: Vec<String>,
    /// `WITH (large_rows = '...')`, as given.
    pub large_rows: Option<String>,
}

/// The rules of a CREATE TABLE, taken from its syntax: the CHECKs are
/// removed (DataFusion refuses them) and returned, with the DEFAULTs as
/// text by column; JSON columns become TEXT for DataFusion and are named.
/// Unnamed checks are named `<table>_check<n>`.
pub fn take_rules(stmt: &mut Statement, table: &str) -> TableRules {
    let mut rules = TableRules::default();
    let Statement::Statement(s) = stmt else {
        return rules;
    };
    let SqlStatement::CreateTable(create) = s.as_mut() else {
        return rules;
    };
    let mut checks = Vec::new();
    let mut defaults = Vec::new();
    let mut found = Vec::new();
    if let CreateTableOptions::With(options) = &mut create.table_options {
        options.retain(|o| match o {
            SqlOption::KeyValue { key, value } if key.value.eq_ignore_ascii_case("large_rows") => {
                rules.large_rows = Some(value.to_string().trim_matches('\'').to_string());
                false
            }
            _ => true,
        });
        if options.is_empty() {
            create.table_options = CreateTableOptions::None;
        }
    }
    for column in &mut create.columns {
        if matches!(column.data_type, SqlType::JSON | SqlType::JSONB) {
            column.data_type = SqlType::Text;
            rules.json.push(column.name.value.clone());
        }
        column.options.retain(|o| match &o.option {
            ColumnOption::Check(c) => {
                found.push((c.name.as_ref().map(|n| n.value.clone()), c.expr.to_string()));
                false
            }
            ColumnOption::Default(e) => {
                defaults.push((column.name.value.clone(), e.to_string()));
                true
            }
            _ => true,
        });
    }
    create.constraints.retain(|c| match c {
        TableConstraint::Check(c) => {
            found.push((c.name.as_ref().map(|n| n.value.clone()), c.expr.to_string()));
            false
        }
        _ => true,
    });
    for (i, (name, expr)) in found.into_iter().enumerate() {
        let name = name.unwrap_or_else(|| format!("{table}_check{}", i + 1));
        checks.push(CheckDef { name, expr });
    }
    rules.checks = checks;
    rules.defaults = defaults;
    rules
}

/// Refuse a rule that does not plan against the table, naming it.
pub fn check_rules_plan(def: &TableDef) -> Result<()> {
    for c in &def.checks {
        plan_rule(def, &c.expr)
            .map_err(|e| DataFusionError::Plan(format!("CHECK {} ({}): {e}", c.name, c.expr)))?;
    }
    for col in &def.columns {
        if let Some(d) = &col.default {
            evaluate_default(def, d, col.ty).map_err(|e| {
                DataFusionError::Plan(format!(
                    "DEFAULT of column \"{}\" ({d}) is not a {}: {e}",
                    col.name,
                    col.ty.sql_name()
                ))
            })?;
        }
    }
    Ok(())
}

/// Every row against every CHECK of the table: the first row that fails
/// stops the statement, named with the rule and the columns it reads.
pub fn enforce_checks<'a>(
    def: &TableDef,
    rows: impl IntoIterator<Item = &'a [Value]>,
) -> Result<()> {
    if def.checks.is_empty() {
        return Ok(());
    }
    let rows: Vec<&[Value]> = rows.into_iter().collect();
    let batch = batch_of(def, &rows)?;
    let schema = DFSchema::try_from(batch.schema().as_ref().clone())?;
    for check in &def.checks {
        let expr = plan_rule(def, &check.expr)?;
        let physical = PLANNER.create_physical_expr(expr.clone(), &schema)?;
        let result = physical.evaluate(&batch)?.into_array(batch.num_rows())?;
        let passed = result
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "CHECK {} ({}) is not a boolean expression",
                    check.name, check.expr
                ))
            })?;
        if let Some(i) = (0..passed.len()).find(|&i| passed.is_valid(i) && !passed.value(i)) {
            return Err(external(violation(def, check, &expr, rows[i], i + 1)));
        }
    }
    Ok(())
}

fn violation(
    def: &TableDef,
    check: &CheckDef,
    expr: &Expr,
    row: &[Value],
    n: usize,
) -> crate::Error {
    let mut columns: Vec<String> = expr
        .column_refs()
        .into_iter()
        .map(|c| c.name.clone())
        .collect();
    columns.sort();
    columns.dedup();
    let cells = columns
        .iter()
        .filter_map(|c| Some(format!("{c} = {}", row[def.column_index(c)?].show())))
        .collect::<Vec<_>>()
        .join(", ");
    crate::Error::CheckViolated {
        table: def.qualified_name(),
        row: n,
        check: check.name.clone(),
        expr: check.expr.clone(),
        cells,
    }
}

/// The value of a DEFAULT for `ty`, evaluated once (for the rows a table
/// already has when ALTER TABLE ADD COLUMN gives it a DEFAULT).
pub fn evaluate_default(def: &TableDef, sql: &str, ty: ColumnType) -> Result<Value> {
    let expr = plan_rule(def, sql)?;
    let nulls: Vec<Value> = vec![Value::Null; def.columns.len()];
    let batch = batch_of(def, &[nulls.as_slice()])?;
    let schema = DFSchema::try_from(batch.schema().as_ref().clone())?;
    let physical = PLANNER.create_physical_expr(expr, &schema)?;
    let array = physical.evaluate(&batch)?.into_array(1)?;
    let strict = datafusion::arrow::compute::CastOptions {
        safe: false,
        ..Default::default()
    };
    let typed =
        datafusion::arrow::compute::cast_with_options(&array, &columns::arrow_type(ty), &strict)?;
    Ok(columns::values(ty, &typed)?.remove(0))
}

/// The rows as a batch of the table's columns.
fn batch_of(def: &TableDef, rows: &[&[Value]]) -> Result<RecordBatch> {
    let arrays = def
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| columns::column(c.ty, rows.iter().map(|r| &r[i])))
        .collect();
    let options =
        datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows.len()));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(table_schema(def, false)),
        arrays,
        &options,
    )?)
}

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
