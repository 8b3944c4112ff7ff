//! `ALTER TABLE ... ADD COLUMN / DROP COLUMN / RENAME COLUMN`, `ALTER
//! COLUMN ... SET / DROP NOT NULL` and `ADD CONSTRAINT ... CHECK / DROP
//! CONSTRAINT`, which DataFusion does not plan. A rule added to a table
//! with rows is checked against them first: a row that breaks it is named,
//! and nothing is changed.
//!
//! No row is rewritten: an ALTER is one catalog message, a new definition
//! of the table. Rows stay stored under their columns' stored names (see
//! [`crate::store::schema::Column::stored`]): a renamed column keeps its
//! stored name, a dropped one stays known (older segments hold it) but is
//! no longer read, and an added one reads as its fill in rows written
//! before it. A DEFAULT given with ADD COLUMN is evaluated once and is
//! that fill, so existing rows read it, as PostgreSQL has it.

use std::ops::ControlFlow;

use datafusion::arrow::array::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, DataType as SqlType,
    Expr as SqlExpr, Ident, ObjectName, Statement as SqlStatement, TableConstraint,
    visit_expressions, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::rules::{check_rules_plan, evaluate_default};
use crate::error::NameKind;
use crate::store::{CheckDef, Column, ColumnType, Store, TableDef, check_name};

fn plan_err(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Plan(msg.into())
}

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// What runs the query an ALTER checks the rows with: the engine that
/// runs the ALTER (a trait, so that this file does not reach back into it).
#[async_trait::async_trait]
pub trait RowQuery: Send + Sync {
    /// The rows `sql` returns.
    async fn rows(&self, sql: &str) -> Result<Vec<RecordBatch>>;
}

/// An ALTER TABLE statement.
pub struct Alter {
    name: ObjectName,
    if_exists: bool,
    operations: Vec<AlterTableOperation>,
}

impl Alter {
    pub fn from_statement(stmt: &Statement) -> Option<Alter> {
        let Statement::Statement(s) = stmt else {
            return None;
        };
        let SqlStatement::AlterTable(a) = s.as_ref() else {
            return None;
        };
        Some(Alter {
            name: a.name.clone(),
            if_exists: a.if_exists,
            operations: a.operations.clone(),
        })
    }

    /// The table altered, as a reference (its database may be unnamed).
    pub fn table(&self) -> datafusion::common::TableReference {
        let parts: Vec<String> = self.name.0.iter().map(|p| p.to_string()).collect();
        match parts.as_slice() {
            [db, t] => datafusion::common::TableReference::partial(db.clone(), t.clone()),
            _ => {
                datafusion::common::TableReference::bare(parts.last().cloned().unwrap_or_default())
            }
        }
    }

    /// Apply every operation to the definition, check the rules it adds
    /// against the rows, then commit it as one catalog message.
    pub async fn run(
        &self,
        store: &Store,
        query: &dyn RowQuery,
        default_db: &str,
    ) -> Result<String> {
        let parts: Vec<String> = self.name.0.iter().map(|p| p.to_string()).collect();
        let (db, table) = match parts.as_slice() {
            [t] => (default_db.to_string(), t.clone()),
            [db, t] => (db.clone(), t.clone()),
            _ => return Err(plan_err("ALTER TABLE takes [database.]table")),
        };
        let Some(old) = store.table(&db, &table) else {
            if self.if_exists {
                return Ok(format!("table {db}.{table} does not exist, skipped"));
            }
            return Err(external(crate::Error::NoSuchTable(format!("{db}.{table}"))));
        };
        let mut def = (*old).clone();
        def.initial_columns
            .get_or_insert_with(|| old.columns.iter().map(|c| c.stored().to_string()).collect());
        let indexes = store.indexes_of(&db, &table);
        let mut done = Vec::new();
        let mut new_rules = Vec::new();
        for op in &self.operations {
            done.push(match op {
                AlterTableOperation::AlterColumn { column_name, op } => {
                    alter_column(&mut def, &column_name.value, op, &mut new_rules)?
                }
                AlterTableOperation::AddConstraint {
                    constraint: TableConstraint::Check(c),
                    ..
                } => {
                    let name = c.name.as_ref().map_or_else(
                        || format!("{}_check{}", def.name, def.checks.len() + 1),
                        |n| n.value.clone(),
                    );
                    if def.checks.iter().any(|k| k.name == name) {
                        return Err(plan_err(format!(
                            "{table} already has a CHECK named {name}"
                        )));
                    }
                    let expr = c.expr.to_string();
                    new_rules.push((format!("CHECK {name}"), format!("({expr}) IS FALSE")));
                    def.checks.push(CheckDef {
                        name: name.clone(),
                        expr,
                    });
                    format!("ADD CONSTRAINT {name}")
                }
                AlterTableOperation::DropConstraint {
                    if_exists, name, ..
                } => {
                    let before = def.checks.len();
                    def.checks.retain(|k| k.name != name.value);
                    if def.checks.len() == before && !*if_exists {
                        return Err(plan_err(format!(
                            "{table} has no CHECK named {name} (its checks: {})",
                            def.checks
                                .iter()
                                .map(|k| k.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    format!("DROP CONSTRAINT {name}")
                }
                AlterTableOperation::AddColumn {
                    if_not_exists,
                    column_def,
                    ..
                } => add_column(store, &old, &mut def, column_def, *if_not_exists).await?,
                AlterTableOperation::DropColumn {
                    column_names,
                    if_exists,
                    ..
                } => {
                    let mut out = Vec::new();
                    for c in column_names {
                        out.push(drop_column(&mut def, &indexes, &c.value, *if_exists)?);
                    }
                    out.join(", ")
                }
                AlterTableOperation::RenameColumn {
                    old_column_name,
                    new_column_name,
                } => rename_column(&mut def, &old_column_name.value, &new_column_name.value)?,
                other => {
                    return Err(DataFusionError::NotImplemented(format!(
                        "ALTER TABLE ... {other} is not supported; dbcord alters tables with \
                         ADD / DROP / RENAME COLUMN, ALTER COLUMN ... SET / DROP NOT NULL and \
                         ADD CONSTRAINT ... CHECK / DROP CONSTRAINT"
                    )));
                }
            });
        }
        check_rules_plan(&def)?;
        for (rule, broken) in &new_rules {
            refuse_breaking_rows(query, &old, rule, broken).await?;
        }
        store.alter_table(&old, def).await.map_err(external)?;
        Ok(format!("ALTER TABLE {db}.{table}: {}", done.join(", ")))
    }
}

/// `ALTER COLUMN c SET / DROP NOT NULL`; a NOT NULL set is a rule the rows
/// are checked against (`rules`: its name, and the SQL of a breaking row).
fn alter_column(
    def: &mut TableDef,
    name: &str,
    op: &AlterColumnOperation,
    rules: &mut Vec<(String, String)>,
) -> Result<String> {
    let key = def.primary_key.iter().any(|k| k == name);
    let table = def.qualified_name();
    let column = def
        .columns
        .iter_mut()
        .find(|c| c.name == name)
        .ok_or_else(|| plan_err(format!("{table} has no column {name}")))?;
    match op {
        AlterColumnOperation::SetNotNull => {
            column.nullable = false;
            rules.push((
                format!("NOT NULL on {name}"),
                format!("{} IS NULL", quote(name)),
            ));
            Ok(format!("ALTER COLUMN {name} SET NOT NULL"))
        }
        AlterColumnOperation::DropNotNull if key => Err(plan_err(format!(
            "{name} is part of {table}'s primary key, which is never NULL"
        ))),
        AlterColumnOperation::DropNotNull => {
            column.nullable = true;
            Ok(format!("ALTER COLUMN {name} DROP NOT NULL"))
        }
        other => Err(DataFusionError::NotImplemented(format!(
            "ALTER COLUMN ... {other} is not supported; SET NOT NULL and DROP NOT NULL are"
        ))),
    }
}

/// Fail, naming the row, if a row of `table` matches `broken` (SQL): the
/// rule being added would not hold.
async fn refuse_breaking_rows(
    query: &dyn RowQuery,
    table: &TableDef,
    rule: &str,
    broken: &str,
) -> Result<()> {
    let key: Vec<String> = table.primary_key.iter().map(|k| quote(k)).collect();
    let sql = format!(
        "SELECT {} FROM {}.{} WHERE {broken} LIMIT 1",
        key.join(", "),
        quote(&table.database),
        quote(&table.name)
    );
    let batches = query.rows(&sql).await?;
    let rows = super::convert::text_cells(&batches)?;
    let Some(row) = rows.first() else {
        return Ok(());
    };
    let named: Vec<String> = table
        .primary_key
        .iter()
        .zip(row)
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    Err(plan_err(format!(
        "cannot add {rule} to {}: the row with {} breaks it; nothing was changed",
        table.qualified_name(),
        named.join(", ")
    )))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn add_column(
    store: &Store,
    old: &std::sync::Arc<TableDef>,
    def: &mut TableDef,
    column: &ColumnDef,
    if_not_exists: bool,
) -> Result<String> {
    let name = column.name.value.clone();
    check_name(NameKind::Column, &name).map_err(external)?;
    if def.column_index(&name).is_some() {
        if if_not_exists {
            return Ok(format!("column {name} exists, skipped"));
        }
        return Err(external(crate::Error::DuplicateColumn {
            table: def.qualified_name(),
            column: name,
        }));
    }
    let ty = column_type(&column.data_type).ok_or_else(|| {
        plan_err(format!(
            "column \"{name}\": type {} is not supported; use one of {}",
            column.data_type,
            super::types::SUPPORTED_TYPES
        ))
    })?;
    let mut new = Column::new(name.clone(), ty, true);
    new.stored = unused_stored_name(def, &name);
    for option in &column.options {
        match &option.option {
            ColumnOption::NotNull => new.nullable = false,
            ColumnOption::Null => new.nullable = true,
            ColumnOption::Default(e) => new.default = Some(e.to_string()),
            ColumnOption::Check(c) => def.checks.push(CheckDef {
                name: c
                    .name
                    .as_ref()
                    .map(|n| n.value.clone())
                    .unwrap_or_else(|| format!("{}_check{}", def.name, def.checks.len() + 1)),
                expr: c.expr.to_string(),
            }),
            other => {
                return Err(DataFusionError::NotImplemented(format!(
                    "ADD COLUMN ... {other} is not supported; add a column, then CREATE INDEX"
                )));
            }
        }
    }
    let fill = match &new.default {
        Some(d) => Some(evaluate_default(def, d, ty)?),
        None => None,
    };
    if let Some(v) = fill.as_ref().filter(|v| **v != crate::store::Value::Null) {
        new.fill = v.to_json(ty);
    }
    if !new.nullable
        && new.fill.is_none()
        && !store.all_rows(old).await.map_err(external)?.is_empty()
    {
        return Err(plan_err(format!(
            "column \"{name}\" is NOT NULL but {} has rows, which would read NULL there; \
             give it a DEFAULT",
            def.qualified_name()
        )));
    }
    def.columns.push(new);
    Ok(format!("ADD COLUMN {name}"))
}

/// A stored name no column of the table, live or dropped, has used.
fn unused_stored_name(def: &TableDef, name: &str) -> Option<String> {
    let taken = |s: &str| {
        def.columns
            .iter()
            .chain(&def.dropped)
            .any(|c| c.stored() == s)
    };
    if !taken(name) {
        return None;
    }
    (2..).map(|n| format!("{name}~{n}")).find(|s| !taken(s))
}

fn drop_column(
    def: &mut TableDef,
    indexes: &[std::sync::Arc<crate::store::IndexDef>],
    name: &str,
    if_exists: bool,
) -> Result<String> {
    let Some(i) = def.column_index(name) else {
        if if_exists {
            return Ok(format!("column {name} does not exist, skipped"));
        }
        return Err(external(crate::Error::NoSuchColumn {
            table: def.qualified_name(),
            column: name.to_string(),
        }));
    };
    if def.primary_key.iter().any(|k| k == name) {
        return Err(plan_err(format!(
            "column \"{name}\" is part of the primary key of {}; it cannot be dropped",
            def.qualified_name()
        )));
    }
    let stored = def.columns[i].stored().to_string();
    if let Some(index) = indexes.iter().find(|x| x.column == stored) {
        return Err(plan_err(format!(
            "column \"{name}\" has index {}; DROP INDEX {} first",
            index.name, index.name
        )));
    }
    if let Some(check) = def.checks.iter().find(|c| mentions(&c.expr, name)) {
        return Err(plan_err(format!(
            "column \"{name}\" is used by CHECK {} ({}); it cannot be dropped",
            check.name, check.expr
        )));
    }
    if let Some(other) = def
        .columns
        .iter()
        .find(|c| c.default.as_deref().is_some_and(|d| mentions(d, name)))
    {
        return Err(plan_err(format!(
            "column \"{name}\" is used by the DEFAULT of {}; it cannot be dropped",
            other.name
        )));
    }
    if def.columns.len() == 1 {
        return Err(external(crate::Error::NoColumns(def.qualified_name())));
    }
    let column = def.columns.remove(i);
    def.dropped.push(column);
    Ok(format!("DROP COLUMN {name}"))
}

fn rename_column(def: &mut TableDef, old: &str, new: &str) -> Result<String> {
    check_name(NameKind::Column, new).map_err(external)?;
    let i = def.column_index(old).ok_or_else(|| {
        external(crate::Error::NoSuchColumn {
            table: def.qualified_name(),
            column: old.to_string(),
        })
    })?;
    if def.column_index(new).is_some() {
        return Err(external(crate::Error::DuplicateColumn {
            table: def.qualified_name(),
            column: new.to_string(),
        }));
    }
    let stored = def.columns[i].stored().to_string();
    def.columns[i].stored = Some(stored).filter(|s| s != new);
    def.columns[i].name = new.to_string();
    for k in def.primary_key.iter_mut().filter(|k| *k == old) {
        *k = new.to_string();
    }
    for check in &mut def.checks {
        check.expr = renamed(&check.expr, old, new)?;
    }
    for c in &mut def.columns {
        if let Some(d) = &c.default {
            c.default = Some(renamed(d, old, new)?);
        }
    }
    Ok(format!("RENAME COLUMN {old} TO {new}"))
}

fn parse_expr(sql: &str) -> Result<SqlExpr> {
    Ok(Parser::new(&GenericDialect {})
        .try_with_sql(sql)?
        .parse_expr()?)
}

/// Whether a rule's SQL names `column`.
fn mentions(sql: &str, column: &str) -> bool {
    let Ok(expr) = parse_expr(sql) else {
        return true; // unreadable: assume it does
    };
    visit_expressions(&expr, |e| match e {
        SqlExpr::Identifier(i) if i.value == column => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// A rule's SQL with `old` renamed to `new`.
fn renamed(sql: &str, old: &str, new: &str) -> Result<String> {
    let mut expr = parse_expr(sql)?;
    let _ = visit_expressions_mut(&mut expr, |e| {
        if let SqlExpr::Identifier(i) = e
            && i.value == old
        {
            *i = Ident::new(new);
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(expr.to_string())
}

/// The store type of a SQL type, as CREATE TABLE maps it.
fn column_type(t: &SqlType) -> Option<ColumnType> {
    Some(match t {
        SqlType::Text
        | SqlType::Varchar(_)
        | SqlType::CharacterVarying(_)
        | SqlType::String(_)
        | SqlType::Char(_) => ColumnType::Text,
        SqlType::BigInt(_) | SqlType::Int8(_) | SqlType::Int64 => ColumnType::BigInt,
        SqlType::Int(_) | SqlType::Integer(_) | SqlType::Int4(_) | SqlType::Int32 => {
            ColumnType::Int
        }
        SqlType::Double(_) | SqlType::DoublePrecision | SqlType::Float8 | SqlType::Float64 => {
            ColumnType::Double
        }
        SqlType::Real | SqlType::Float4 | SqlType::Float32 => ColumnType::Real,
        SqlType::Boolean | SqlType::Bool => ColumnType::Boolean,
        SqlType::Timestamp(None, _) => ColumnType::Timestamp,
        SqlType::JSON | SqlType::JSONB => ColumnType::Json,
        _ => return None,
    })
}
