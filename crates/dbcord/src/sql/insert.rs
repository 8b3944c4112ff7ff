//! INSERT beyond what DataFusion plans: `DEFAULT` in VALUES, `ON CONFLICT
//! DO NOTHING | DO UPDATE` (an upsert, natural in a log of upserts) and
//! `RETURNING`.
//!
//! An upsert is one statement and one commit: DataFusion plans the rows
//! (column list, DEFAULTs, casts) as for any INSERT; the rows already
//! holding their keys (or the conflict target's UNIQUE values) are read
//! from the statement's snapshot; each such row is left alone (DO
//! NOTHING) or replaced by its DO UPDATE values, computed with the row as
//! `table.col` and the proposed one as `excluded.col`; every other row is
//! inserted. The commit's base is the snapshot the rows were read from, so
//! a concurrent change to one of them voids it (first committer wins).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, AssignmentTarget, ConflictTarget, Expr, Ident, OnConflictAction, OnInsert, SelectItem,
    SetExpr, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::convert::batch_to_rows;
use super::ddl::resolve;
use super::options::DbcordOptions;
use super::rules::enforce_checks;
use crate::store::codec::columns::{arrow_type, column};
use crate::store::{Change, Key, Op, Store, TableDef, Value, row_key};

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

fn insert_of(stmt: &mut Statement) -> Option<&mut ast::Insert> {
    match stmt {
        Statement::Statement(s) => match s.as_mut() {
            ast::Statement::Insert(i) => Some(i),
            _ => None,
        },
        _ => None,
    }
}

/// Put each column's DEFAULT (or NULL, if it has none) where `DEFAULT`
/// stands in an INSERT's VALUES.
pub fn fill_defaults(stmt: &mut Statement, store: &Store, default_db: &str) -> Result<()> {
    let Some(insert) = insert_of(stmt) else {
        return Ok(());
    };
    let Some(source) = insert.source.as_mut() else {
        return Ok(());
    };
    let SetExpr::Values(values) = source.body.as_mut() else {
        return Ok(());
    };
    let is_default = |e: &Expr| matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"));
    if !values
        .rows
        .iter()
        .flat_map(|r| r.content.iter())
        .any(is_default)
    {
        return Ok(());
    }
    let def = table_def(store, &insert.table.to_string(), default_db)?;
    let columns: Vec<usize> = if insert.columns.is_empty() {
        (0..def.columns.len()).collect()
    } else {
        insert
            .columns
            .iter()
            .map(|c| column_index(&def, &c.to_string()))
            .collect::<Result<_>>()?
    };
    for row in &mut values.rows {
        for (i, cell) in row.content.iter_mut().enumerate() {
            if !is_default(cell) {
                continue;
            }
            let Some(&col) = columns.get(i) else {
                continue; // the arity error is DataFusion's to give
            };
            *cell = match &def.columns[col].default {
                Some(sql) => Parser::new(&GenericDialect {})
                    .try_with_sql(sql)
                    .and_then(|mut p| p.parse_expr())
                    .map_err(|e| {
                        DataFusionError::Plan(format!("DEFAULT of {}: {e}", def.columns[col].name))
                    })?,
                None => Expr::value(ast::Value::Null),
            };
        }
    }
    Ok(())
}

fn table_def(store: &Store, name: &str, default_db: &str) -> Result<Arc<TableDef>> {
    let reference = datafusion::common::TableReference::from(name);
    let (db, table) = resolve(&reference, default_db)?;
    store
        .table(&db, &table)
        .ok_or_else(|| external(crate::Error::NoSuchTable(format!("{db}.{table}"))))
}

fn column_index(def: &TableDef, name: &str) -> Result<usize> {
    let name = name.trim_matches('"');
    def.column_index(name).ok_or_else(|| {
        external(crate::Error::NoSuchColumn {
            table: def.qualified_name(),
            column: name.to_string(),
        })
    })
}

/// Whether an INSERT needs this module: ON CONFLICT or RETURNING.
pub fn is_upsert_or_returning(stmt: &Statement) -> bool {
    match stmt {
        Statement::Statement(s) => matches!(
            s.as_ref(),
            ast::Statement::Insert(i) if i.on.is_some() || i.returning.is_some()
        ),
        _ => false,
    }
}

/// What to do with a row whose key (or UNIQUE value) is taken.
enum OnTaken {
    /// Plain INSERT: the duplicate is an error, as always.
    Refuse,
    Nothing,
    Update(Box<ast::DoUpdate>),
}

/// What an INSERT with ON CONFLICT or RETURNING produced.
pub enum Inserted {
    /// Rows changed (inserted or updated).
    Count(usize),
    /// The RETURNING rows.
    Rows(datafusion::arrow::datatypes::SchemaRef, Vec<RecordBatch>),
}

/// Run an INSERT with ON CONFLICT or RETURNING.
pub async fn run(
    ctx: &SessionContext,
    store: &Arc<Store>,
    mut stmt: Statement,
    default_db: &str,
) -> Result<Inserted> {
    let insert = insert_of(&mut stmt).expect("an INSERT");
    let def = table_def(store, &insert.table.to_string(), default_db)?;
    let alias = insert
        .table_alias
        .as_ref()
        .map(|a| a.alias.value.clone())
        .unwrap_or_else(|| def.name.clone());
    let returning = insert.returning.take();
    let (target, on_taken) = match insert.on.take() {
        None => (None, OnTaken::Refuse),
        Some(OnInsert::OnConflict(c)) => {
            let target = conflict_target(&def, store, c.conflict_target)?;
            match c.action {
                OnConflictAction::DoNothing => (target, OnTaken::Nothing),
                OnConflictAction::DoUpdate(u) => (target, OnTaken::Update(Box::new(u))),
            }
        }
        Some(_) => {
            return Err(DataFusionError::NotImplemented(
                "this ON ... clause is not supported; write ON CONFLICT (key) DO NOTHING or DO \
                 UPDATE"
                    .into(),
            ));
        }
    };
    if matches!(on_taken, OnTaken::Update(_)) && target.is_none() {
        return Err(DataFusionError::Plan(
            "ON CONFLICT DO UPDATE requires a conflict target, e.g. ON CONFLICT (id)".into(),
        ));
    }
    insert.table_alias = None;
    let proposed = planned_rows(ctx, &def, stmt).await?;
    let view = super::txn::view_of(ctx.state().config());
    let base = match &view.txn {
        Some(_) => None,
        None => Some(store.pin(&def, &view).await.map_err(external)?),
    };
    let taken = taken_rows(store, &def, &view, target.as_ref(), &proposed).await?;
    let (changes, written) =
        resolve_conflicts(&def, &alias, proposed, taken, on_taken, target.as_ref()).await?;
    enforce_checks(
        &def,
        changes
            .iter()
            .filter(|c| c.op != Op::Delete)
            .map(|c| c.values.as_slice()),
    )?;
    let n = changes.len();
    if n > 0 {
        let options = DbcordOptions::of(ctx.state().config_options()).write_options();
        match &view.txn {
            Some(txn) => store.write_in(txn, &def, changes).await,
            None => store.commit_from(&def, changes, &options, base).await,
        }
        .map_err(external)?;
    }
    match returning {
        Some(items) => returning_rows(&def, &alias, &written, items).await,
        None => Ok(Inserted::Count(n)),
    }
}

/// Which rows conflict: by primary key (`None` target: the key) or by a
/// UNIQUE index's column.
#[derive(Clone)]
enum Target {
    Key,
    Unique(Arc<crate::store::IndexDef>, usize),
}

fn conflict_target(
    def: &TableDef,
    store: &Store,
    target: Option<ConflictTarget>,
) -> Result<Option<Target>> {
    let columns = match target {
        None => return Ok(Some(Target::Key)),
        Some(ConflictTarget::Columns(c)) => c,
        Some(ConflictTarget::OnConstraint(name)) => {
            let name = name.to_string();
            if name == format!("{}_pkey", def.name) {
                return Ok(Some(Target::Key));
            }
            return unique_target(def, store, |i| i.name == name)
                .ok_or_else(|| no_constraint(def, &name));
        }
    };
    let names: Vec<String> = columns.iter().map(|c| c.value.clone()).collect();
    let mut key = def.primary_key.clone();
    let mut sorted = names.clone();
    key.sort();
    sorted.sort();
    if sorted == key {
        return Ok(Some(Target::Key));
    }
    if let [one] = names.as_slice()
        && let Some(col) = def.column_index(one)
        && let Some(t) = unique_target(def, store, |i| def.index_column(i) == Some(col))
    {
        return Ok(t);
    }
    Err(no_constraint(def, &names.join(", ")))
}

fn unique_target(
    def: &TableDef,
    store: &Store,
    pick: impl Fn(&crate::store::IndexDef) -> bool,
) -> Option<Option<Target>> {
    let index = store
        .indexes_of(&def.database, &def.name)
        .into_iter()
        .find(|i| i.unique && pick(i))?;
    let col = def.index_column(&index)?;
    Some(Some(Target::Unique(index, col)))
}

fn no_constraint(def: &TableDef, what: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "there is no primary key or UNIQUE index of {} matching the ON CONFLICT specification ({what})",
        def.qualified_name()
    ))
}

/// The rows an INSERT proposes, in the table's column order (DataFusion's
/// planning: column list, DEFAULTs, casts).
async fn planned_rows(
    ctx: &SessionContext,
    def: &TableDef,
    stmt: Statement,
) -> Result<Vec<Vec<Value>>> {
    let plan = ctx.state().statement_to_plan(stmt).await?;
    let LogicalPlan::Dml(dml) = plan else {
        return Err(DataFusionError::Internal("an INSERT plans as DML".into()));
    };
    let batches = ctx
        .execute_logical_plan(dml.input.as_ref().clone())
        .await?
        .collect()
        .await?;
    let mut rows = Vec::new();
    for b in &batches {
        rows.extend(batch_to_rows(def, b)?);
    }
    Ok(rows)
}

/// The live rows that hold a proposed row's key or target value, by it.
async fn taken_rows(
    store: &Store,
    def: &Arc<TableDef>,
    view: &crate::store::ReadView,
    target: Option<&Target>,
    proposed: &[Vec<Value>],
) -> Result<HashMap<Key, Vec<Value>>> {
    let rows = match target {
        None => return Ok(HashMap::new()),
        Some(Target::Key) => {
            let keys: Vec<Key> = proposed.iter().filter_map(|r| row_key(def, r)).collect();
            store.rows_by_key(def, view, &keys).await
        }
        Some(Target::Unique(index, col)) => {
            let values: Vec<Value> = proposed
                .iter()
                .map(|r| r[*col].clone())
                .filter(|v| *v != Value::Null)
                .collect();
            store.rows_by_value(def, view, index, &values).await
        }
    }
    .map_err(external)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((target_key(def, target?, &r)?, r)))
        .collect())
}

/// What a row is matched by under `target`.
fn target_key(def: &TableDef, target: &Target, row: &[Value]) -> Option<Key> {
    match target {
        Target::Key => row_key(def, row),
        Target::Unique(_, col) => Key::of([&row[*col]]),
    }
}

/// The changes to commit, and the rows as written (for RETURNING).
async fn resolve_conflicts(
    def: &TableDef,
    alias: &str,
    proposed: Vec<Vec<Value>>,
    taken: HashMap<Key, Vec<Value>>,
    on_taken: OnTaken,
    target: Option<&Target>,
) -> Result<(Vec<Change>, Vec<Vec<Value>>)> {
    let mut changes = Vec::new();
    let mut updates: Vec<(Vec<Value>, Vec<Value>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for row in proposed {
        let matched = target.and_then(|t| target_key(def, t, &row)).map(|k| {
            let fresh = seen.insert(k.clone());
            (taken.get(&k).cloned(), fresh)
        });
        match (matched, &on_taken) {
            (Some((_, false)), OnTaken::Update(_)) => {
                return Err(DataFusionError::Execution(
                    "ON CONFLICT DO UPDATE cannot change a row twice in one statement; nothing was written".into(),
                ));
            }
            (Some((Some(_), _)), OnTaken::Nothing) | (Some((_, false)), OnTaken::Nothing) => {}
            (Some((Some(existing), _)), OnTaken::Update(_)) => updates.push((existing, row)),
            _ => changes.push(Change {
                op: Op::Insert,
                values: row,
            }),
        }
    }
    let mut written: Vec<Vec<Value>> = changes.iter().map(|c| c.values.clone()).collect();
    if let OnTaken::Update(u) = on_taken
        && !updates.is_empty()
    {
        for new in updated_rows(def, alias, &updates, *u).await? {
            written.push(new.clone());
            changes.push(Change {
                op: Op::Upsert,
                values: new,
            });
        }
    }
    Ok((changes, written))
}

/// DO UPDATE's new rows: its SET over each (existing, proposed) pair,
/// where its WHERE holds; a SET may not change the key.
async fn updated_rows(
    def: &TableDef,
    alias: &str,
    pairs: &[(Vec<Value>, Vec<Value>)],
    update: ast::DoUpdate,
) -> Result<Vec<Vec<Value>>> {
    let mut set: HashMap<usize, Expr> = HashMap::new();
    for a in update.assignments {
        let AssignmentTarget::ColumnName(name) = a.target else {
            return Err(DataFusionError::NotImplemented(
                "SET (a, b) = ... in ON CONFLICT".into(),
            ));
        };
        let column = name.0.last().map(|p| p.to_string()).unwrap_or_default();
        let i = column_index(def, &column)?;
        if def.primary_key.contains(&def.columns[i].name) {
            return Err(DataFusionError::Plan(format!(
                "ON CONFLICT DO UPDATE cannot change the primary key column \"{}\"",
                def.columns[i].name
            )));
        }
        set.insert(i, a.value);
    }
    let mut items: Vec<Expr> = def
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            set.remove(&i)
                .unwrap_or_else(|| Expr::Identifier(Ident::new(&c.name)))
        })
        .collect();
    items.push(
        update
            .selection
            .unwrap_or(Expr::value(ast::Value::Boolean(true))),
    );
    let existing: Vec<Vec<Value>> = pairs.iter().map(|p| p.0.clone()).collect();
    let proposed: Vec<Vec<Value>> = pairs.iter().map(|p| p.1.clone()).collect();
    let batch = evaluate(def, alias, &existing, &proposed, items).await?;
    let keep = batch
        .column(def.columns.len())
        .as_any()
        .downcast_ref::<BooleanArray>()
        .cloned()
        .ok_or_else(|| DataFusionError::Plan("ON CONFLICT ... WHERE must be a condition".into()))?;
    let rows = batch_to_rows(def, &typed(def, &batch)?)?;
    Ok(rows
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.is_valid(*i) && keep.value(*i))
        .map(|(_, r)| r)
        .collect())
}

/// The first `def.columns.len()` columns of `batch`, cast to the columns' types.
fn typed(def: &TableDef, batch: &RecordBatch) -> Result<RecordBatch> {
    let fields: Vec<Field> = def
        .columns
        .iter()
        .map(|c| Field::new(&c.name, arrow_type(c.ty), true))
        .collect();
    let columns = def
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| cast(batch.column(i), &arrow_type(c.ty)))
        .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// RETURNING over the rows written.
async fn returning_rows(
    def: &TableDef,
    alias: &str,
    written: &[Vec<Value>],
    items: Vec<SelectItem>,
) -> Result<Inserted> {
    let (schema, batches) = select_over(def, alias, written, None, items).await?;
    Ok(Inserted::Rows(schema, batches))
}

/// Evaluate `items` over the existing rows (as the table's columns) and
/// the proposed ones (as `excluded.<column>`), one row a pair.
async fn evaluate(
    def: &TableDef,
    alias: &str,
    existing: &[Vec<Value>],
    proposed: &[Vec<Value>],
    items: Vec<Expr>,
) -> Result<RecordBatch> {
    let items = items
        .into_iter()
        .enumerate()
        .map(|(i, e)| SelectItem::ExprWithAlias {
            expr: e,
            alias: Ident::new(format!("__c{i}")),
        })
        .collect();
    let (schema, batches) = select_over(def, alias, existing, Some(proposed), items).await?;
    Ok(datafusion::arrow::compute::concat_batches(
        &schema, &batches,
    )?)
}

/// `SELECT items` over `rows` (and, given, the proposed rows beside
/// them), with the table's name or alias and `excluded` as qualifiers.
async fn select_over(
    def: &TableDef,
    alias: &str,
    rows: &[Vec<Value>],
    excluded: Option<&[Vec<Value>]>,
    items: Vec<SelectItem>,
) -> Result<(datafusion::arrow::datatypes::SchemaRef, Vec<RecordBatch>)> {
    let mut ctx = SessionContext::new();
    datafusion_functions_json::register_all(&mut ctx)?;
    ctx.register_table("__rows", Arc::new(rows_table(def, rows, excluded)?))?;
    let mut select = Parser::new(&GenericDialect {})
        .try_with_sql("SELECT 1 FROM __rows")
        .and_then(|mut p| p.parse_query())
        .map_err(|e| DataFusionError::Plan(e.to_string()))?;
    if let SetExpr::Select(s) = select.body.as_mut() {
        s.projection = items;
    }
    let _ = select.visit(&mut Unqualify {
        alias,
        excluded: excluded.is_some(),
    });
    let stmt = Statement::Statement(Box::new(ast::Statement::Query(select)));
    let plan = ctx.state().statement_to_plan(stmt).await?;
    let df = ctx.execute_logical_plan(plan).await?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    Ok((schema, df.collect().await?))
}

/// A MemTable of rows: the table's columns, then (if given) the proposed
/// rows' as `__excluded_<column>`.
fn rows_table(
    def: &TableDef,
    rows: &[Vec<Value>],
    excluded: Option<&[Vec<Value>]>,
) -> Result<MemTable> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, c) in def.columns.iter().enumerate() {
        fields.push(Field::new(&c.name, arrow_type(c.ty), true));
        columns.push(column(c.ty, rows.iter().map(|r| &r[i])));
    }
    if let Some(ex) = excluded {
        for (i, c) in def.columns.iter().enumerate() {
            fields.push(Field::new(
                format!("__excluded_{}", c.name),
                arrow_type(c.ty),
                true,
            ));
            columns.push(column(c.ty, ex.iter().map(|r| &r[i])));
        }
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
    MemTable::try_new(schema, vec![vec![batch]])
}

/// `table.col` (or `alias.col`) is `col`; `excluded.col` is `__excluded_col`.
struct Unqualify<'a> {
    alias: &'a str,
    excluded: bool,
}

impl VisitorMut for Unqualify<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(parts) = e
            && parts.len() == 2
        {
            let (q, c) = (parts[0].value.to_ascii_lowercase(), parts[1].value.clone());
            if self.excluded && q == "excluded" {
                *e = Expr::Identifier(Ident::new(format!("__excluded_{c}")));
            } else if q == self.alias.to_ascii_lowercase() {
                *e = Expr::Identifier(Ident::new(c));
            }
        }
        ControlFlow::Continue(())
    }
}

/// The schema of an INSERT's RETURNING rows, for a client's Describe: its
/// items planned over the table itself (`None` without RETURNING).
pub async fn returning_schema(
    ctx: &SessionContext,
    stmt: &Statement,
) -> Result<Option<datafusion::arrow::datatypes::SchemaRef>> {
    let mut stmt = stmt.clone();
    let Some(insert) = insert_of(&mut stmt) else {
        return Ok(None);
    };
    let Some(items) = insert.returning.take() else {
        return Ok(None);
    };
    let alias = insert
        .table_alias
        .as_ref()
        .map(|a| format!(" AS {}", a.alias))
        .unwrap_or_default();
    let mut select = Parser::new(&GenericDialect {})
        .try_with_sql(&format!("SELECT 1 FROM {}{alias} LIMIT 0", insert.table))
        .and_then(|mut p| p.parse_query())
        .map_err(|e| DataFusionError::Plan(e.to_string()))?;
    if let SetExpr::Select(s) = select.body.as_mut() {
        s.projection = items;
    }
    let stmt = Statement::Statement(Box::new(ast::Statement::Query(select)));
    let plan = ctx.state().statement_to_plan(stmt).await?;
    Ok(Some(Arc::new(plan.schema().as_arrow().clone())))
}
