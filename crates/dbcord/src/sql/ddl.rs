//! DDL that DataFusion plans but dbcord carries out: tables and databases
//! are channels and catalog messages, not in-memory objects.

use datafusion::common::{Constraint, TableReference};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{CreateIndex, CreateMemoryTable, Expr, LogicalPlan};
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{ObjectType, Statement as SqlStatement};

use super::catalog::CATALOG_NAME;
use super::rules::{TableRules, check_rules_plan};
use super::types::{SUPPORTED_TYPES, column_type};
use crate::store::{Column, ColumnType, LargeRows, NewIndex, NewTable, Store, WriteOptions};

fn unsupported(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::NotImplemented(msg.into())
}

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// (database, table) of a reference, with the session's default database.
pub fn resolve(name: &TableReference, default_db: &str) -> Result<(String, String)> {
    if let Some(c) = name.catalog()
        && c != CATALOG_NAME
    {
        return Err(DataFusionError::Plan(format!(
            "catalog \"{c}\" does not exist; the guild's catalog is \"{CATALOG_NAME}\""
        )));
    }
    let db = name.schema().unwrap_or(default_db).to_string();
    Ok((db, name.table().to_string()))
}

/// `CREATE TABLE name (...)`: a channel plus its catalog entry.
pub async fn create_table(
    store: &Store,
    cmd: &CreateMemoryTable,
    default_db: &str,
    rules: TableRules,
) -> Result<String> {
    let (db, table) = resolve(&cmd.name, default_db)?;
    if cmd.or_replace {
        return Err(unsupported(
            "CREATE OR REPLACE TABLE is not supported; DROP TABLE first",
        ));
    }
    if cmd.temporary {
        return Err(unsupported(
            "temporary tables are not supported: every dbcord table lives in Discord",
        ));
    }
    if !matches!(cmd.input.as_ref(), LogicalPlan::EmptyRelation(_)) {
        return Err(unsupported(
            "CREATE TABLE ... AS SELECT is not supported yet; CREATE TABLE, then INSERT INTO ... SELECT",
        ));
    }
    let large_rows = match rules.large_rows.as_deref() {
        None | Some("attachment") => LargeRows::Attachment,
        Some("shards") => LargeRows::Shards,
        Some(other) => {
            return Err(DataFusionError::Plan(format!(
                "large_rows = '{other}' is not a large-row mode; use 'attachment' or 'shards'"
            )));
        }
    };
    let mut new = new_table(cmd, &table, rules)?;
    new.large_rows = large_rows;
    // The rules must plan against the new table's columns before it exists.
    let probe = new.clone().into_def(&db, Default::default());
    check_rules_plan(&probe)?;
    let created = store
        .create_table(&db, new, cmd.if_not_exists)
        .await
        .map_err(external)?;
    Ok(status(
        created,
        format!("CREATE TABLE {db}.{table}"),
        format!("table {db}.{table}"),
        Skipped::Existed,
    ))
}

fn new_table(cmd: &CreateMemoryTable, table: &str, rules: TableRules) -> Result<NewTable> {
    let schema = cmd.input.schema();
    let mut primary_key = Vec::new();
    for c in cmd.constraints.iter() {
        match c {
            Constraint::PrimaryKey(idx) => {
                primary_key.extend(idx.iter().map(|&i| schema.field(i).name().clone()));
            }
            Constraint::Unique(_) => {
                return Err(unsupported(
                    "UNIQUE constraints are not supported yet; only PRIMARY KEY",
                ));
            }
        }
    }
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let json = rules.json.contains(f.name());
            let ty = column_type(f.data_type()).map(|t| if json { ColumnType::Json } else { t }).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "column \"{}\" of {table}: type {} is not supported; use one of {SUPPORTED_TYPES}",
                    f.name(),
                    f.data_type()
                ))
            })?;
            let nullable = f.is_nullable() && !primary_key.contains(f.name());
            let default = rules
                .defaults
                .iter()
                .find(|(c, _)| c == f.name())
                .map(|(_, d)| d.clone());
            Ok(Column {
                default,
                ..Column::new(f.name().clone(), ty, nullable)
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(NewTable {
        name: table.to_string(),
        columns,
        primary_key,
        checks: rules.checks,
        large_rows: LargeRows::Attachment,
    })
}

pub async fn drop_table(
    store: &Store,
    name: &TableReference,
    if_exists: bool,
    default_db: &str,
) -> Result<String> {
    let (db, table) = resolve(name, default_db)?;
    let dropped = store
        .drop_table(&db, &table, if_exists)
        .await
        .map_err(external)?;
    Ok(status(
        dropped,
        format!("DROP TABLE {db}.{table}"),
        format!("table {db}.{table}"),
        Skipped::Missing,
    ))
}

/// `CREATE DATABASE x` and `CREATE SCHEMA x` both make a dbcord database.
pub async fn create_database(store: &Store, name: &str, if_not_exists: bool) -> Result<String> {
    let name = name.rsplit('.').next().unwrap_or(name);
    let created = store
        .create_database(name, if_not_exists)
        .await
        .map_err(external)?;
    Ok(status(
        created,
        format!("CREATE DATABASE {name}"),
        format!("database {name}"),
        Skipped::Existed,
    ))
}

pub async fn drop_database(
    store: &Store,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<String> {
    if cascade {
        return Err(unsupported(
            "DROP SCHEMA ... CASCADE is not supported; drop the tables first",
        ));
    }
    let dropped = store
        .drop_database(name, if_exists)
        .await
        .map_err(external)?;
    Ok(status(
        dropped,
        format!("DROP DATABASE {name}"),
        format!("database {name}"),
        Skipped::Missing,
    ))
}

/// `CREATE [UNIQUE] INDEX name ON [db.]table (column)`: one column, dbcord's own kind.
pub async fn create_index(
    store: &Store,
    cmd: &CreateIndex,
    default_db: &str,
    options: &WriteOptions,
) -> Result<String> {
    let (db, table) = resolve(&cmd.table, default_db)?;
    if let Some(using) = &cmd.using {
        return Err(unsupported(format!(
            "index method USING {using} is not supported; dbcord indexes are channels"
        )));
    }
    let column = match cmd.columns.as_slice() {
        [sort] => match &sort.expr {
            Expr::Column(c) => c.name.clone(),
            other => {
                return Err(unsupported(format!(
                    "an index must name a column, not {other}"
                )));
            }
        },
        _ => return Err(unsupported("an index covers exactly one column")),
    };
    let name = cmd
        .name
        .clone()
        .unwrap_or_else(|| format!("{table}_{column}_idx"));
    let new = NewIndex {
        name: name.clone(),
        table: table.clone(),
        column: column.clone(),
        unique: cmd.unique,
    };
    let created = store
        .create_index(&db, new, cmd.if_not_exists, options)
        .await
        .map_err(external)?;
    let kind = if cmd.unique { "UNIQUE INDEX" } else { "INDEX" };
    Ok(status(
        created,
        format!("CREATE {kind} {name} ON {db}.{table} ({column})"),
        format!("index {name}"),
        Skipped::Existed,
    ))
}

/// `DROP INDEX [IF EXISTS] [db.]name`, which DataFusion does not plan.
pub struct DropIndex {
    name: Vec<String>,
    if_exists: bool,
}

impl DropIndex {
    pub fn from_statement(stmt: &Statement) -> Option<DropIndex> {
        let Statement::Statement(s) = stmt else {
            return None;
        };
        let SqlStatement::Drop {
            object_type: ObjectType::Index,
            if_exists,
            names,
            ..
        } = s.as_ref()
        else {
            return None;
        };
        let name = names.first()?.0.iter().map(|p| p.to_string()).collect();
        Some(DropIndex {
            name,
            if_exists: *if_exists,
        })
    }

    pub async fn run(&self, store: &Store, default_db: &str) -> Result<String> {
        let (db, name) = match self.name.as_slice() {
            [name] => (default_db.to_string(), name.clone()),
            [db, name] => (db.clone(), name.clone()),
            _ => {
                return Err(DataFusionError::Plan(
                    "DROP INDEX takes [database.]index".into(),
                ));
            }
        };
        let dropped = store
            .drop_index(&db, &name, self.if_exists)
            .await
            .map_err(external)?;
        Ok(status(
            dropped,
            format!("DROP INDEX {db}.{name}"),
            format!("index {db}.{name}"),
            Skipped::Missing,
        ))
    }
}

/// `VACUUM [db.]table`: compact, then delete what the checkpoint replaced.
pub async fn vacuum(
    store: &Store,
    name: &TableReference,
    default_db: &str,
    options: &WriteOptions,
) -> Result<String> {
    let (db, table) = resolve(name, default_db)?;
    let def = store
        .table(&db, &table)
        .ok_or_else(|| external(crate::Error::NoSuchTable(format!("{db}.{table}"))))?;
    let report = store.vacuum(&def, false, options).await.map_err(external)?;
    Ok(match report.checkpoint {
        Some(c) => format!(
            "VACUUM {db}.{table}: checkpoint {c}, {} messages deleted",
            report.deleted
        ),
        None => format!("VACUUM {db}.{table}: nothing to do"),
    })
}

/// Why a DDL statement with IF [NOT] EXISTS did nothing.
enum Skipped {
    Existed,
    Missing,
}

/// A DDL statement's status: its tag if it was `done`, else what was
/// skipped and why.
fn status(done: bool, tag: String, object: String, skipped: Skipped) -> String {
    match (done, skipped) {
        (true, _) => tag,
        (false, Skipped::Existed) => format!("{object} already exists, skipped"),
        (false, Skipped::Missing) => format!("{object} does not exist, skipped"),
    }
}
