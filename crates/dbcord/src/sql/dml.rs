//! UPDATE and DELETE, carried out by dbcord rather than DataFusion's
//! `TableProvider::update` / `delete_from` hooks.
//!
//! DataFusion plans an UPDATE as a projection of the new values over the
//! filtered table scan, and a DELETE as the filtered scan. dbcord runs that
//! plan itself, so the WHERE is pushed down exactly as in a query (the scan
//! is a DiscordScanExec) and subqueries in it work; the hooks would receive
//! only the filters, and DataFusion 55 drops a WHERE with a subquery before
//! it reaches them (apache/datafusion#24654), which would change every row.
//! The rows the plan yields become one commit: a new version per updated
//! row, a tombstone per deleted one. An UPDATE that changes a primary key
//! deletes the row under its old key and inserts it under the new one.

use std::sync::Arc;

use datafusion::common::Column;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{DmlStatement, Expr, LogicalPlan, Projection, WriteOp};
use datafusion::prelude::SessionContext;

use super::convert::batch_values;
use super::ddl::resolve;
use super::options::DbcordOptions;
use super::rules::enforce_checks;
use crate::store::{Change, Op, Store, TableDef, Value, row_key};

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Run an UPDATE or DELETE plan; returns its command tag.
pub async fn run(
    ctx: &SessionContext,
    store: &Arc<Store>,
    dml: DmlStatement,
    default_db: &str,
) -> Result<String> {
    let (db, name) = resolve(&dml.table_name, default_db)?;
    let table = store
        .table(&db, &name)
        .ok_or_else(|| external(crate::Error::NoSuchTable(format!("{db}.{name}"))))?;
    let state = ctx.state();
    let options = DbcordOptions::of(state.config_options()).write_options();
    let view = super::txn::view_of(state.config());
    let txn = view.txn.clone();
    let base = match &txn {
        Some(_) => None,
        None => Some(store.pin(&table, &view).await.map_err(external)?),
    };
    let (tag, changes) = match dml.op {
        WriteOp::Update => ("UPDATE", updates(ctx, &table, &dml.input).await?),
        WriteOp::Delete => ("DELETE", deletes(ctx, &table, &dml.input).await?),
        other => {
            return Err(DataFusionError::Internal(format!(
                "{other} is not UPDATE or DELETE"
            )));
        }
    };
    let written = changes.iter().filter(|c| c.op != Op::Delete);
    enforce_checks(&table, written.map(|c| c.values.as_slice()))?;
    let rows = changes
        .iter()
        .filter(|c| c.op != Op::Delete || tag == "DELETE")
        .count();
    match &txn {
        Some(txn) => store.write_in(txn, &table, changes).await,
        None => store.commit_from(&table, changes, &options, base).await,
    }
    .map_err(external)?;
    Ok(format!("{tag} {rows}"))
}

/// A tombstone for each row the DELETE's plan yields.
async fn deletes(
    ctx: &SessionContext,
    table: &TableDef,
    input: &LogicalPlan,
) -> Result<Vec<Change>> {
    let rows = rows_of(ctx, table, input.clone(), table.columns.len()).await?;
    Ok(rows
        .into_iter()
        .map(|r| Change {
            op: Op::Delete,
            values: key_only(table, &r),
        })
        .collect())
}

/// A new version for each row the UPDATE's plan yields; a changed key is a
/// tombstone under the old key and an insert under the new one.
async fn updates(
    ctx: &SessionContext,
    table: &TableDef,
    input: &LogicalPlan,
) -> Result<Vec<Change>> {
    let n = table.columns.len();
    let plan = with_old_keys(table, input)?;
    let rows = rows_of(ctx, table, plan, n + table.primary_key.len()).await?;
    let mut changes = Vec::with_capacity(rows.len());
    for r in rows {
        let new: Vec<Value> = r[..n].to_vec();
        let mut old = vec![Value::Null; n];
        for (j, k) in table.primary_key.iter().enumerate() {
            if let Some(i) = table.column_index(k) {
                old[i] = r[n + j].clone();
            }
        }
        if row_key(table, &old) == row_key(table, &new) {
            changes.push(Change {
                op: Op::Upsert,
                values: new,
            });
        } else {
            changes.push(Change {
                op: Op::Delete,
                values: old,
            });
            changes.push(Change {
                op: Op::Insert,
                values: new,
            });
        }
    }
    Ok(changes)
}

/// The UPDATE's projection with the old key columns appended, so that a
/// row whose key changes can be found under its old key.
fn with_old_keys(table: &TableDef, input: &LogicalPlan) -> Result<LogicalPlan> {
    let LogicalPlan::Projection(p) = input else {
        return Err(DataFusionError::NotImplemented(
            "this form of UPDATE is not supported by dbcord".into(),
        ));
    };
    let mut exprs: Vec<Expr> = p.expr.iter().take(table.columns.len()).cloned().collect();
    let schema = p.input.schema();
    for (j, k) in table.primary_key.iter().enumerate() {
        let (qualifier, field) = schema.qualified_field_with_unqualified_name(k)?;
        let col = Column::new(qualifier.cloned(), field.name());
        exprs.push(Expr::Column(col).alias(format!("__dbcord_old_key_{j}")));
    }
    Ok(LogicalPlan::Projection(Projection::try_new(
        exprs,
        Arc::clone(&p.input),
    )?))
}

/// The rows a plan yields, the first `width` columns of each.
async fn rows_of(
    ctx: &SessionContext,
    table: &TableDef,
    plan: LogicalPlan,
    width: usize,
) -> Result<Vec<Vec<Value>>> {
    let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
    let mut rows = Vec::new();
    for b in &batches {
        rows.extend(batch_values(table, b, width)?);
    }
    Ok(rows)
}

/// A row with only its key columns set: a tombstone's values.
fn key_only(table: &TableDef, row: &[Value]) -> Vec<Value> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if table.primary_key.contains(&c.name) {
                row[i].clone()
            } else {
                Value::Null
            }
        })
        .collect()
}
