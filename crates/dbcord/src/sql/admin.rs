//! The admin operations as table functions: `history`, `verify`, `vacuum`,
//! `reindex`, `snapshot`, `restore`, `export`, `import`, `inspect`.
//!
//! Each returns a result set of what it found or did, so findings can be
//! filtered with SQL (`SELECT * FROM verify('users') WHERE NOT ok`). The
//! operation runs when the plan executes, not when it is planned, so
//! `EXPLAIN SELECT * FROM vacuum('t')` changes nothing. The store does the
//! work; this file only reads arguments and shapes results, and the
//! shell's dot-commands are these same functions.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray,
};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::SessionContext;
use discord_api::Snowflake;

use super::options::DbcordOptions;
use crate::store::codec::columns;
use crate::store::codec::row::{KeyNames, row_text};
use crate::store::{Key, Op, Store, TableDef, VACUUM_GRACE, Value, WriteOptions, row_key};

/// The operations, by SQL name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminOp {
    History,
    Verify,
    Vacuum,
    Reindex,
    Snapshot,
    Restore,
    Export,
    Import,
    Inspect,
    Object,
}

impl AdminOp {
    pub const ALL: [AdminOp; 10] = [
        AdminOp::History,
        AdminOp::Verify,
        AdminOp::Vacuum,
        AdminOp::Reindex,
        AdminOp::Snapshot,
        AdminOp::Restore,
        AdminOp::Export,
        AdminOp::Import,
        AdminOp::Inspect,
        AdminOp::Object,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AdminOp::History => "history",
            AdminOp::Verify => "verify",
            AdminOp::Vacuum => "vacuum",
            AdminOp::Reindex => "reindex",
            AdminOp::Snapshot => "snapshot",
            AdminOp::Restore => "restore",
            AdminOp::Export => "export",
            AdminOp::Import => "import",
            AdminOp::Inspect => "inspect",
            AdminOp::Object => "object",
        }
    }

    /// How it is called, for errors and help.
    pub fn usage(self) -> &'static str {
        match self {
            AdminOp::History => "history('table', key [, key part ...])",
            AdminOp::Verify => "verify('table')",
            AdminOp::Vacuum => "vacuum('table' [, 'foreign'])",
            AdminOp::Reindex => "reindex('index')",
            AdminOp::Snapshot => "snapshot('table')",
            AdminOp::Restore => "restore('table', snapshot_id)",
            AdminOp::Export => "export('table', 'file.csv' | 'file.jsonl')",
            AdminOp::Import => "import('table', 'file.csv' | 'file.jsonl')",
            AdminOp::Inspect => "inspect('table', key [, key part ...])",
            AdminOp::Object => "object('table', message_id)",
        }
    }

    /// What it does, for help.
    pub fn about(self) -> &'static str {
        match self {
            AdminOp::History => "every version of a row, oldest first",
            AdminOp::Verify => "check a table's messages, rows and index data",
            AdminOp::Vacuum => {
                "compact, archive history, delete replaced messages ('foreign': others' too)"
            }
            AdminOp::Reindex => "rebuild an index from its table's rows",
            AdminOp::Snapshot => "save a table in #dbc-snapshots",
            AdminOp::Restore => "make a table from a snapshot",
            AdminOp::Export => "write a table to a local file",
            AdminOp::Import => "insert a local file's rows, as one statement",
            AdminOp::Inspect => "where a row is in Discord",
            AdminOp::Object => "the rows now of what an old _message_id (ObjectID) wrote",
        }
    }

    fn schema(self) -> SchemaRef {
        let text = |n: &str| Field::new(n, DataType::Utf8, true);
        let int = |n: &str| Field::new(n, DataType::Int64, true);
        let fields = match self {
            AdminOp::History => vec![
                int("version"),
                Field::new("at", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
                text("op"),
                int("message_id"),
                text("row_json"),
            ],
            AdminOp::Verify => vec![
                text("kind"),
                Field::new("ok", DataType::Boolean, false),
                int("message_id"),
                text("detail"),
            ],
            AdminOp::Vacuum => vec![
                text("table_name"),
                int("checkpoint"),
                int("archived"),
                int("deleted"),
                int("foreign_messages"),
                text("note"),
            ],
            AdminOp::Reindex => vec![text("index"), text("table_name"), int("checkpoint")],
            AdminOp::Snapshot => vec![
                int("snapshot_id"),
                text("table_name"),
                int("row_count"),
                text("checksum"),
                int("bytes"),
            ],
            AdminOp::Restore => vec![text("table_name"), int("row_count"), text("indexes")],
            AdminOp::Export | AdminOp::Import => vec![
                text("table_name"),
                text("file"),
                text("format"),
                int("row_count"),
                int("bytes"),
            ],
            AdminOp::Inspect => vec![text("property"), text("value")],
            AdminOp::Object => vec![int("message_id"), text("row_json")],
        };
        Arc::new(Schema::new(fields))
    }
}

/// Register every operation on a session.
pub fn register(ctx: &SessionContext, store: &Arc<Store>) {
    for op in AdminOp::ALL {
        let f = AdminFunction {
            store: Arc::clone(store),
            op,
        };
        ctx.register_udtf(op.name(), Arc::new(f));
    }
}

#[derive(Debug)]
struct AdminFunction {
    store: Arc<Store>,
    op: AdminOp,
}

impl TableFunctionImpl for AdminFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let default_db = args
            .session()
            .config_options()
            .catalog
            .default_schema
            .clone();
        let values = args
            .exprs()
            .iter()
            .map(|e| literal(self.op, e))
            .collect::<Result<Vec<_>>>()?;
        let options = DbcordOptions::of(args.session().config_options()).write_options();
        call(&self.store, self.op, values, &default_db, options)
    }
}

/// A call of `op` with `args` as a table, built without SQL text (the
/// bot's admin commands).
pub fn call(
    store: &Arc<Store>,
    op: AdminOp,
    args: Vec<ScalarValue>,
    default_db: &str,
    options: WriteOptions,
) -> Result<Arc<dyn TableProvider>> {
    let job = Job {
        store: Arc::clone(store),
        op,
        args,
        default_db: default_db.to_string(),
        schema: op.schema(),
        options,
    };
    Ok(Arc::new(StreamingTable::try_new(
        op.schema(),
        vec![Arc::new(job)],
    )?))
}

/// An argument's value: literals only.
fn literal(op: AdminOp, e: &Expr) -> Result<ScalarValue> {
    match e {
        Expr::Literal(v, _) => Ok(v.clone()),
        Expr::Negative(inner) => match inner.as_ref() {
            Expr::Literal(v, _) => Ok(v.arithmetic_negate()?),
            _ => Err(usage(op, &format!("{e} is not a literal"))),
        },
        _ => Err(usage(op, &format!("{e} is not a literal"))),
    }
}

fn usage(op: AdminOp, why: &str) -> DataFusionError {
    DataFusionError::Plan(format!("{}: {why}; call it as {}", op.name(), op.usage()))
}

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// One call, run when the plan executes.
#[derive(Debug, Clone)]
struct Job {
    store: Arc<Store>,
    op: AdminOp,
    args: Vec<ScalarValue>,
    default_db: String,
    schema: SchemaRef,
    /// The session's settings for what the call writes.
    options: WriteOptions,
}

impl PartitionStream for Job {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let job = self.clone();
        let stream = futures::stream::once(async move { job.run().await });
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream,
        ))
    }
}

impl Job {
    async fn run(&self) -> Result<RecordBatch> {
        let columns = match self.op {
            AdminOp::History => self.history().await?,
            AdminOp::Verify => self.verify().await?,
            AdminOp::Vacuum => self.vacuum().await?,
            AdminOp::Reindex => self.reindex().await?,
            AdminOp::Snapshot => self.snapshot().await?,
            AdminOp::Restore => self.restore().await?,
            AdminOp::Export => self.transfer(true).await?,
            AdminOp::Import => self.transfer(false).await?,
            AdminOp::Inspect => self.inspect().await?,
            AdminOp::Object => self.object().await?,
        };
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }

    /// Argument `i` as text.
    fn text(&self, i: usize, what: &str) -> Result<String> {
        match self.args.get(i) {
            Some(v) if !v.is_null() => Ok(match v {
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)) => s.clone(),
                other => other.to_string(),
            }),
            _ => Err(usage(self.op, &format!("{what} is missing"))),
        }
    }

    fn arity(&self, n: std::ops::RangeInclusive<usize>) -> Result<()> {
        if n.contains(&self.args.len()) {
            Ok(())
        } else {
            Err(usage(
                self.op,
                &format!("{} arguments given", self.args.len()),
            ))
        }
    }

    /// (database, name) of argument `i`: `name` or `db.name`.
    fn name(&self, i: usize, what: &str) -> Result<(String, String)> {
        let text = self.text(i, what)?;
        Ok(match text.split_once('.') {
            Some((db, name)) => (db.to_string(), name.to_string()),
            None => (self.default_db.clone(), text),
        })
    }

    /// The table named by argument 0.
    fn table(&self) -> Result<Arc<TableDef>> {
        let (db, name) = self.name(0, "the table")?;
        self.store
            .table(&db, &name)
            .ok_or_else(|| external(crate::Error::NoSuchTable(format!("{db}.{name}"))))
    }

    /// The primary key given by the arguments after the table, each read
    /// as its key column's type.
    fn key(&self, def: &TableDef) -> Result<(Key, Vec<Value>)> {
        let parts = &self.args[1..];
        if parts.len() != def.primary_key.len() {
            return Err(usage(
                self.op,
                &format!(
                    "{} has a key of {} column(s) ({}), {} given",
                    def.qualified_name(),
                    def.primary_key.len(),
                    def.primary_key.join(", "),
                    parts.len()
                ),
            ));
        }
        let mut values = vec![Value::Null; def.columns.len()];
        for (k, v) in def.primary_key.iter().zip(parts) {
            let i = def.column_index(k).expect("key columns exist");
            let ty = def.columns[i].ty;
            let strict = CastOptions {
                safe: false,
                ..Default::default()
            };
            let array = cast_with_options(&v.to_array()?, &columns::arrow_type(ty), &strict)
                .map_err(|e| {
                    usage(
                        self.op,
                        &format!("'{v}' is not a {} for {k}: {e}", ty.sql_name()),
                    )
                })?;
            values[i] = columns::values(ty, &array)?.remove(0);
        }
        let key = row_key(def, &values).ok_or_else(|| usage(self.op, "a key part is NULL"))?;
        Ok((key, values))
    }

    /// `object('table', message_id)`: an old ObjectID resolved to the
    /// documents it named, as they are now.
    async fn object(&self) -> Result<Vec<ArrayRef>> {
        self.arity(2..=2)?;
        let def = self.table()?;
        let id: Snowflake = self
            .text(1, "the message ID")?
            .parse()
            .map_err(|_| usage(self.op, "the ObjectID is not a message ID"))?;
        let rows = self
            .store
            .resolve_object(&def, id)
            .await
            .map_err(external)?;
        let shown: Vec<String> = rows
            .iter()
            .map(|r| row_text(&def, &r.values, KeyNames::Sql))
            .collect();
        Ok(vec![
            ints(rows.iter().map(|r| Some(r.message_id.0 as i64))),
            texts(shown.iter().map(|t| Some(t.as_str()))),
        ])
    }

    async fn history(&self) -> Result<Vec<ArrayRef>> {
        let def = self.table()?;
        let (key, _) = self.key(&def)?;
        let versions = self.store.row_history(&def, &key).await.map_err(external)?;
        let mut ops = Vec::new();
        let mut rows = Vec::new();
        let mut last: Option<&[Value]> = None;
        for v in &versions {
            let op = match v.op {
                Op::Delete => "delete",
                _ if last.is_some() => "update",
                _ => "insert",
            };
            // A delete shows the row it removed.
            let shown = match (v.op, last) {
                (Op::Delete, Some(prev)) => prev,
                _ => v.values.as_slice(),
            };
            ops.push(op);
            rows.push(row_text(&def, shown, KeyNames::Sql));
            last = (v.op != Op::Delete).then_some(v.values.as_slice());
        }
        Ok(vec![
            ints((1..=versions.len() as i64).map(Some)),
            Arc::new(TimestampNanosecondArray::from_iter(
                versions
                    .iter()
                    .map(|v| Some(v.commit.unix_ms() as i64 * 1_000_000)),
            )),
            texts(ops.into_iter().map(Some)),
            ints(versions.iter().map(|v| Some(v.commit.0 as i64))),
            texts(rows.iter().map(|r| Some(r.as_str()))),
        ])
    }

    async fn verify(&self) -> Result<Vec<ArrayRef>> {
        self.arity(1..=1)?;
        let def = self.table()?;
        let findings = self.store.verify(&def).await.map_err(external)?;
        Ok(vec![
            texts(findings.iter().map(|f| Some(f.check))),
            Arc::new(BooleanArray::from_iter(findings.iter().map(|f| Some(f.ok)))),
            ints(findings.iter().map(|f| f.message.map(|m| m.0 as i64))),
            texts(findings.iter().map(|f| Some(f.detail.as_str()))),
        ])
    }

    async fn vacuum(&self) -> Result<Vec<ArrayRef>> {
        self.arity(1..=2)?;
        let def = self.table()?;
        let foreign = match self.args.get(1) {
            None => false,
            Some(_) if self.text(1, "the option")? == "foreign" => true,
            Some(v) => {
                return Err(usage(
                    self.op,
                    &format!("unknown option {v}; the one option is 'foreign'"),
                ));
            }
        };
        let r = self
            .store
            .vacuum(&def, foreign, &self.options)
            .await
            .map_err(external)?;
        let note = match (&r.history_kept_back, r.foreign, foreign) {
            (Some(why), ..) => {
                format!("history could not be archived, so nothing was deleted: {why}")
            }
            (None, n, false) if n > 0 => format!(
                "{n} messages in the channel are not dbcord's; vacuum('{}', 'foreign') deletes them",
                def.name
            ),
            _ if r.kept_young > 0 => format!(
                "{} replaced messages are younger than {} minutes and stay for writers still \
                 confirming them; a later vacuum deletes them",
                r.kept_young,
                VACUUM_GRACE.as_secs() / 60
            ),
            _ => String::new(),
        };
        Ok(vec![
            texts([Some(def.qualified_name().as_str())]),
            ints([r.checkpoint.map(|c| c.0 as i64)]),
            ints([Some(r.archived as i64)]),
            ints([Some(r.deleted as i64)]),
            ints([Some(r.foreign as i64)]),
            texts([Some(note.as_str())]),
        ])
    }

    async fn reindex(&self) -> Result<Vec<ArrayRef>> {
        self.arity(1..=1)?;
        let (db, index) = self.name(0, "the index")?;
        let (table, checkpoint) = self
            .store
            .reindex(&db, &index, &self.options)
            .await
            .map_err(external)?;
        Ok(vec![
            texts([Some(format!("{db}.{index}").as_str())]),
            texts([Some(table.as_str())]),
            ints([checkpoint.map(|c| c.0 as i64)]),
        ])
    }

    async fn snapshot(&self) -> Result<Vec<ArrayRef>> {
        self.arity(1..=1)?;
        let def = self.table()?;
        let s = self.store.snapshot_table(&def).await.map_err(external)?;
        Ok(vec![
            ints([Some(s.id.0 as i64)]),
            texts([Some(s.table.as_str())]),
            ints([Some(s.rows as i64)]),
            texts([Some(s.sum.as_str())]),
            ints([Some(s.bytes as i64)]),
        ])
    }

    async fn restore(&self) -> Result<Vec<ArrayRef>> {
        self.arity(2..=2)?;
        let (db, name) = self.name(0, "the table")?;
        let id: Snowflake = self
            .text(1, "the snapshot ID")?
            .parse()
            .map_err(|_| usage(self.op, "the snapshot ID is not a message ID"))?;
        let r = self.store.restore(&db, &name, id).await.map_err(external)?;
        Ok(vec![
            texts([Some(r.table.as_str())]),
            ints([Some(r.rows as i64)]),
            texts([Some(r.indexes.join(", ").as_str())]),
        ])
    }

    async fn transfer(&self, export: bool) -> Result<Vec<ArrayRef>> {
        self.arity(2..=2)?;
        let def = self.table()?;
        let file = self.text(1, "the file")?;
        let t = if export {
            self.store.export(&def, &file).await
        } else {
            // A column the file leaves out takes its DEFAULT, as in an INSERT.
            let defaults = def
                .columns
                .iter()
                .map(|c| match &c.default {
                    Some(sql) => super::rules::evaluate_default(&def, sql, c.ty),
                    None => Ok(crate::store::Value::Null),
                })
                .collect::<Result<Vec<_>>>()?;
            self.store.import(&def, &file, &defaults).await
        }
        .map_err(external)?;
        Ok(vec![
            texts([Some(def.qualified_name().as_str())]),
            texts([Some(t.file.as_str())]),
            texts([Some(t.format.name())]),
            ints([Some(t.rows as i64)]),
            ints([Some(t.bytes as i64)]),
        ])
    }

    async fn inspect(&self) -> Result<Vec<ArrayRef>> {
        let def = self.table()?;
        let (key, _) = self.key(&def)?;
        let facts = self.store.inspect(&def, &key).await.map_err(external)?;
        Ok(vec![
            texts(facts.iter().map(|(p, _)| Some(*p))),
            texts(facts.iter().map(|(_, v)| Some(v.as_str()))),
        ])
    }
}

fn texts<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

fn ints(values: impl IntoIterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(Int64Array::from_iter(values))
}
