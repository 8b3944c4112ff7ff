//! Running SQL: parse with DataFusion's parser, plan with DataFusion, carry
//! out DDL on the store, hand everything else to DataFusion's executor.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::TableReference;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{DdlStatement, LogicalPlan, WriteOp};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use datafusion::sql::sqlparser::dialect::GenericDialect;

use super::catalog::{CATALOG_NAME, GuildCatalog, HiddenColumns};
use super::options::DbcordOptions;
use super::txn::{self, Control, TxnStatus};
use super::types::names_hidden;
use super::{alter, ddl, dml, guild, insert, rules};
use crate::store::{DEFAULT_DATABASE, Store, WriteOptions};

/// What one statement produced.
#[derive(Debug)]
pub enum Outcome {
    /// A result set (queries, SHOW, EXPLAIN).
    Rows {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    /// A command tag such as `CREATE TABLE main.t` or `INSERT 2`.
    Status(String),
}

/// An ALTER's check of the rows runs as any query of this session.
#[async_trait::async_trait]
impl alter::RowQuery for Engine {
    async fn rows(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        match self.execute(sql).await?.pop() {
            Some(Outcome::Rows { batches, .. }) => Ok(batches),
            _ => Ok(Vec::new()),
        }
    }
}

/// What a statement takes and returns (see [`Engine::describe`]).
#[derive(Debug, Default)]
pub struct Described {
    /// Each placeholder (`$1`, ...) and its type, if the planner knows it.
    pub params: std::collections::HashMap<String, Option<datafusion::arrow::datatypes::DataType>>,
    pub schema: Option<SchemaRef>,
}

/// A SQL session over one guild.
pub struct Engine {
    ctx: SessionContext,
    store: Arc<Store>,
    hidden: HiddenColumns,
    /// The session's transaction block.
    block: txn::Session,
}

impl Engine {
    pub fn new(store: Arc<Store>) -> Self {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_create_default_catalog_and_schema(false)
            .with_default_catalog_and_schema(CATALOG_NAME, DEFAULT_DATABASE)
            // A scan's batches are Discord requests: a round-robin
            // repartition would read ahead of a LIMIT that has its rows.
            .with_round_robin_repartition(false)
            .with_option_extension(DbcordOptions::default());
        let mut ctx = SessionContext::new_with_config(config);
        datafusion_functions_json::register_all(&mut ctx)
            .expect("the JSON functions register on a fresh session");
        super::json_patch::register(&ctx);
        super::guild::words::register(&ctx);
        super::pg_catalog::register(&ctx, &store);
        let hidden = HiddenColumns::default();
        let catalog = GuildCatalog::new(Arc::clone(&store), Arc::clone(&hidden));
        ctx.register_catalog(CATALOG_NAME, Arc::new(catalog));
        super::admin::register(&ctx, &store);
        Engine {
            ctx,
            store,
            hidden,
            block: txn::Session::default(),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Add a table function to this session (the bench's row generator).
    pub fn register_table_function(
        &self,
        name: &str,
        f: Arc<dyn datafusion::catalog::TableFunctionImpl>,
    ) {
        self.ctx.register_udtf(name, f);
    }

    /// The rows of `db.table` for which `filter` holds, at most `limit`, as
    /// a plan built from expressions (a bot's `find`, never SQL text): the
    /// same planning, pushdown and re-checks as a SELECT. The catalog is
    /// read again first, as before any statement.
    pub async fn find(
        &self,
        db: &str,
        table: &str,
        filter: datafusion::prelude::Expr,
        limit: Option<usize>,
    ) -> Result<datafusion::prelude::DataFrame> {
        self.refresh().await?;
        let reference = TableReference::full(CATALOG_NAME, db, table);
        let df = self.ctx.table(reference).await?.filter(filter)?;
        match limit {
            Some(n) => df.limit(0, Some(n)),
            None => Ok(df),
        }
    }

    /// UPDATE `db.table` SET each `(column, value)` of `set` WHERE
    /// `filter`, as a plan built from expressions (the bot's update): the
    /// same plan DataFusion makes of the SQL, run by the same DML path.
    pub async fn update(
        &self,
        db: &str,
        table: &str,
        filter: datafusion::prelude::Expr,
        set: Vec<(String, datafusion::prelude::Expr)>,
    ) -> Result<String> {
        use datafusion::prelude::col;
        let (reference, df) = self.dml_input(db, table, filter).await?;
        let exprs: Vec<datafusion::prelude::Expr> = df
            .schema()
            .fields()
            .iter()
            .map(|f| match set.iter().find(|(c, _)| c == f.name()) {
                Some((c, e)) => e.clone().alias(c),
                None => col(datafusion::common::Column::from_name(f.name())),
            })
            .collect();
        let input = df.select(exprs)?.into_unoptimized_plan();
        self.run_dml(reference, WriteOp::Update, input).await
    }

    /// DELETE FROM `db.table` WHERE `filter`, as a plan (the bot's delete).
    pub async fn delete(
        &self,
        db: &str,
        table: &str,
        filter: datafusion::prelude::Expr,
    ) -> Result<String> {
        let (reference, df) = self.dml_input(db, table, filter).await?;
        let input = df.into_unoptimized_plan();
        self.run_dml(reference, WriteOp::Delete, input).await
    }

    async fn dml_input(
        &self,
        db: &str,
        table: &str,
        filter: datafusion::prelude::Expr,
    ) -> Result<(TableReference, datafusion::prelude::DataFrame)> {
        self.refresh().await?;
        let reference = TableReference::full(CATALOG_NAME, db, table);
        let df = self.ctx.table(reference.clone()).await?.filter(filter)?;
        Ok((reference, df))
    }

    async fn run_dml(
        &self,
        reference: TableReference,
        op: WriteOp,
        input: LogicalPlan,
    ) -> Result<String> {
        let provider = self.ctx.table_provider(reference.clone()).await?;
        let source = datafusion::datasource::provider_as_source(provider);
        let dml =
            datafusion::logical_expr::DmlStatement::new(reference, source, op, Arc::new(input));
        dml::run(&self.ctx, &self.store, dml, &self.database()).await
    }

    /// An admin function (`verify`, `snapshot`, ...) called with `args`,
    /// its rows collected: no SQL text involved.
    pub async fn admin(
        &self,
        op: super::admin::AdminOp,
        args: Vec<datafusion::common::ScalarValue>,
    ) -> Result<Outcome> {
        self.refresh().await?;
        let state = self.ctx.state();
        let options = DbcordOptions::of(state.config_options()).write_options();
        let provider = super::admin::call(&self.store, op, args, &self.database(), options)?;
        let df = self.ctx.read_table(provider)?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        Ok(Outcome::Rows { schema, batches })
    }

    /// The database unqualified table names are in.
    pub fn database(&self) -> String {
        self.ctx
            .state()
            .config_options()
            .catalog
            .default_schema
            .clone()
    }

    /// Make `db` the database of unqualified table names.
    pub fn use_database(&self, db: &str) -> Result<()> {
        if !self.store.has_database(db) {
            return Err(external(crate::Error::NoSuchDatabase(db.to_string())));
        }
        let state = self.ctx.state_ref();
        let mut state = state.write();
        state.config_mut().options_mut().catalog.default_schema = db.to_string();
        Ok(())
    }

    /// Split text into statements.
    pub fn parse(&self, sql: &str) -> Result<Vec<Statement>> {
        Ok(DFParser::parse_sql_with_dialect(sql, &GenericDialect {})?.into())
    }

    /// Run every statement in `sql`, stopping at the first error.
    pub async fn execute(&self, sql: &str) -> Result<Vec<Outcome>> {
        let mut out = Vec::new();
        for stmt in self.parse(sql)? {
            out.push(self.run(stmt).await?);
        }
        Ok(out)
    }

    /// Run one statement. Inside a transaction block, a statement that
    /// fails fails the block (see `txn`).
    pub async fn run(&self, stmt: Statement) -> Result<Outcome> {
        let outcome = self.run_in_block(stmt).await;
        if outcome.is_err() {
            self.block.fail();
        }
        outcome
    }

    /// The session's transaction status (for the Postgres server).
    pub fn txn_status(&self) -> TxnStatus {
        self.block.status()
    }

    /// Refuse work in a failed transaction block (the Postgres server's
    /// COPY, which does not run through [`Engine::run`]).
    pub fn txn_check(&self) -> Result<()> {
        self.block.check_not_failed()
    }

    /// What a statement takes (its `$n` placeholders' types, where the
    /// planner can tell them) and returns (its rows' schema; `None` for a
    /// statement that returns none), without running it. A statement that
    /// cannot be planned yet (it names a table another session is making)
    /// is described as taking untyped parameters and returning nothing.
    pub async fn describe(&self, stmt: &Statement) -> Described {
        let mut stmt = stmt.clone();
        super::json::fix_statement(&mut stmt);
        if Control::of(&stmt).is_some()
            || vacuum_target(&stmt).is_some()
            || alter::Alter::from_statement(&stmt).is_some()
            || ddl::DropIndex::from_statement(&stmt).is_some()
        {
            return Described::default();
        }
        let _ = create_table_rules(&mut stmt);
        if insert::is_upsert_or_returning(&stmt) {
            let schema = insert::returning_schema(&self.ctx, &stmt)
                .await
                .unwrap_or_default();
            return Described {
                schema,
                ..Described::default()
            };
        }
        let state = self.ctx.state();
        let plan = match state.statement_to_plan(stmt).await {
            Ok(plan) => plan,
            Err(_) => return Described::default(),
        };
        let params = plan.get_parameter_types().unwrap_or_default();
        let schema = match plan {
            LogicalPlan::Ddl(_) | LogicalPlan::Dml(_) | LogicalPlan::Statement(_) => None,
            plan => Some(Arc::new(plan.schema().as_arrow().clone())),
        };
        Described { params, schema }
    }

    /// See what other processes committed (one request), and read as the
    /// session's transaction block says.
    async fn refresh(&self) -> Result<()> {
        self.store.refresh().await.map_err(external)?;
        let view = Arc::new(self.block.view(&self.store));
        self.ctx
            .state_ref()
            .write()
            .config_mut()
            .set_extension(view);
        Ok(())
    }

    async fn run_in_block(&self, mut stmt: Statement) -> Result<Outcome> {
        super::json::fix_statement(&mut stmt);
        let control = Control::of(&stmt);
        if control.is_none() {
            self.block.check_not_failed()?;
        }
        if touches_the_guild(&stmt) {
            self.refresh().await?;
        }
        if let Some(control) = control {
            let state = self.ctx.state();
            let options = DbcordOptions::of(state.config_options()).write_options();
            return self
                .block
                .control(control, &self.store, &options)
                .await
                .map(Outcome::Status);
        }
        let state = self.ctx.state();
        let default_db = state.config_options().catalog.default_schema.clone();
        let options = DbcordOptions::of(state.config_options()).write_options();
        insert::fill_defaults(&mut stmt, &self.store, &default_db)?;
        if insert::is_upsert_or_returning(&stmt) {
            return Ok(
                match insert::run(&self.ctx, &self.store, stmt, &default_db).await? {
                    insert::Inserted::Count(n) => Outcome::Status(format!("INSERT {n}")),
                    insert::Inserted::Rows(schema, batches) => Outcome::Rows { schema, batches },
                },
            );
        }
        if let Some(delete) = truncate_as_delete(&stmt)? {
            stmt = delete;
        }
        if let Some(table) = vacuum_target(&stmt) {
            if guild::is_guild_table(&table, &default_db) {
                return Err(guild::read_only("VACUUM", table.table()));
            }
            return ddl::vacuum(&self.store, &table, &default_db, &options)
                .await
                .map(Outcome::Status);
        }
        if let Some(alter) = alter::Alter::from_statement(&stmt) {
            let table = alter.table();
            if guild::is_guild_table(&table, &default_db) {
                return Err(guild::read_only("ALTER TABLE", table.table()));
            }
            return alter
                .run(&self.store, self, &default_db)
                .await
                .map(Outcome::Status);
        }
        if let Some(drop) = ddl::DropIndex::from_statement(&stmt) {
            return drop
                .run(&self.store, &default_db)
                .await
                .map(Outcome::Status);
        }
        let rules = create_table_rules(&mut stmt);
        let hidden = names_hidden(&stmt);
        self.hidden
            .store(hidden, std::sync::atomic::Ordering::SeqCst);
        let plan = state.statement_to_plan(stmt).await?;
        guild::refuse_writes(&plan, &default_db)?;
        match plan {
            LogicalPlan::Ddl(ddl) => self
                .run_ddl(ddl, &default_db, rules, &options)
                .await
                .map(Outcome::Status),
            LogicalPlan::Statement(ref st) => {
                let tag = statement_tag(st);
                self.ctx.execute_logical_plan(plan).await?.collect().await?;
                Ok(Outcome::Status(tag))
            }
            LogicalPlan::Dml(dml) if matches!(dml.op, WriteOp::Update | WriteOp::Delete) => {
                dml::run(&self.ctx, &self.store, dml, &default_db)
                    .await
                    .map(Outcome::Status)
            }
            LogicalPlan::Dml(_) => {
                let batches = self.ctx.execute_logical_plan(plan).await?.collect().await?;
                Ok(Outcome::Status(format!(
                    "INSERT {}",
                    inserted_count(&batches)
                )))
            }
            plan => {
                let explain = matches!(plan, LogicalPlan::Explain(_) | LogicalPlan::Analyze(_));
                let df = self.ctx.execute_logical_plan(plan).await?;
                let schema = Arc::new(df.schema().as_arrow().clone());
                let mut batches = df.collect().await?;
                if explain {
                    batches = super::explain::readable(batches)?;
                }
                Ok(Outcome::Rows { schema, batches })
            }
        }
    }

    async fn run_ddl(
        &self,
        ddl: DdlStatement,
        default_db: &str,
        rules: rules::TableRules,
        options: &WriteOptions,
    ) -> Result<String> {
        let store = &self.store;
        match ddl {
            DdlStatement::CreateMemoryTable(cmd) => {
                ddl::create_table(store, &cmd, default_db, rules).await
            }
            DdlStatement::DropTable(cmd) => {
                ddl::drop_table(store, &cmd.name, cmd.if_exists, default_db).await
            }
            DdlStatement::CreateCatalogSchema(cmd) => {
                ddl::create_database(store, &cmd.schema_name, cmd.if_not_exists).await
            }
            DdlStatement::CreateCatalog(cmd) => {
                ddl::create_database(store, &cmd.catalog_name, cmd.if_not_exists).await
            }
            DdlStatement::CreateIndex(cmd) => {
                ddl::create_index(store, &cmd, default_db, options).await
            }
            DdlStatement::DropCatalogSchema(cmd) => {
                ddl::drop_database(store, cmd.name.schema_name(), cmd.if_exists, cmd.cascade).await
            }
            other => Err(DataFusionError::NotImplemented(format!(
                "{} is not supported by dbcord",
                other.name()
            ))),
        }
    }
}

fn external(e: crate::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Whether a statement may read or write the guild (SET and SHOW do not).
fn touches_the_guild(stmt: &Statement) -> bool {
    !matches!(
        stmt,
        Statement::Statement(s) if matches!(
            s.as_ref(),
            SqlStatement::Set(_) | SqlStatement::ShowVariable { .. }
        )
    )
}

/// `TRUNCATE t` is `DELETE FROM t`: one commit of tombstones, so it is
/// all or nothing, and transactional like any DELETE.
fn truncate_as_delete(stmt: &Statement) -> Result<Option<Statement>> {
    let Statement::Statement(s) = stmt else {
        return Ok(None);
    };
    let SqlStatement::Truncate(t) = s.as_ref() else {
        return Ok(None);
    };
    let [target] = t.table_names.as_slice() else {
        return Err(DataFusionError::NotImplemented(
            "TRUNCATE of several tables at once; truncate them one by one (in a transaction, \
             to do it at once)"
                .into(),
        ));
    };
    let sql = format!("DELETE FROM {}", target.name);
    let mut parsed = DFParser::parse_sql_with_dialect(&sql, &GenericDialect {})?;
    Ok(parsed.pop_front())
}

/// The table of `VACUUM table`.
fn vacuum_target(stmt: &Statement) -> Option<TableReference> {
    let Statement::Statement(s) = stmt else {
        return None;
    };
    let SqlStatement::Vacuum(v) = s.as_ref() else {
        return None;
    };
    let name = v.table_name.as_ref()?;
    let parts: Vec<String> = name.0.iter().map(|p| p.to_string()).collect();
    Some(match parts.as_slice() {
        [t] => TableReference::bare(t.clone()),
        [db, t] => TableReference::partial(db.clone(), t.clone()),
        _ => TableReference::bare(name.to_string()),
    })
}

/// The CHECKs and DEFAULTs of a CREATE TABLE, taken out of its syntax
/// (DataFusion plans no CHECK).
fn create_table_rules(stmt: &mut Statement) -> rules::TableRules {
    let name = match stmt {
        Statement::Statement(s) => match s.as_ref() {
            SqlStatement::CreateTable(c) => c.name.to_string(),
            _ => return rules::TableRules::default(),
        },
        _ => return rules::TableRules::default(),
    };
    let table = name.rsplit('.').next().unwrap_or(&name).to_string();
    rules::take_rules(stmt, &table)
}

/// The command tag of a SET or transaction statement.
fn statement_tag(st: &datafusion::logical_expr::Statement) -> String {
    match st {
        datafusion::logical_expr::Statement::SetVariable(s) => format!("SET {}", s.variable),
        other => other.name().to_uppercase(),
    }
}

/// The row count DataFusion's insert returns.
fn inserted_count(batches: &[RecordBatch]) -> u64 {
    use datafusion::arrow::array::{Array, UInt64Array};
    batches
        .iter()
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>())
        .map(|a| (0..a.len()).map(|i| a.value(i)).sum::<u64>())
        .sum()
}
