//! One client connection: its own SQL session (an [`Engine`] over the
//! shared store, with its own transaction block), the simple and extended
//! query protocols, and COPY.
//!
//! Every statement is run by the engine exactly as the shell runs it; the
//! only differences are the statements a Postgres client sends about the
//! server itself (rewritten by `compat` to read `pg_catalog`), parameters
//! (bound as literals by `params`) and COPY (carried by `copy`).

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::sql::parser::Statement;
use futures::future::{Either, select};
use futures::{Sink, SinkExt};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{
    ExtendedQueryHandler, SimpleQueryHandler, send_execution_response, send_query_response,
    send_ready_for_query,
};
use pgwire::api::results::{FieldInfo, Response};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, ConnectionHandle, PgWireConnectionState, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::response::{EmptyQueryResponse, TransactionStatus};
use pgwire::messages::simplequery::Query;

use super::copy::{self, CopyCommand, CopyIn};
use super::results::{self, statement_error, user_error};
use super::{compat, params};
use crate::sql::Engine;
use crate::sql::txn::TxnStatus;

/// A statement prepared by a client: its parameters' types and its rows'
/// schema, as told on Describe.
#[derive(Clone, Debug)]
pub struct Prepared {
    stmt: Body,
    params: Vec<Type>,
    schema: Option<SchemaRef>,
}

/// What a prepared statement runs.
#[derive(Clone, Debug)]
enum Body {
    Sql(Statement),
    Copy(CopyCommand),
}

/// One connection's handler.
pub struct Connection {
    engine: Arc<Engine>,
    parser: Arc<Parser>,
    /// The COPY FROM STDIN under way, if any.
    copy_in: tokio::sync::Mutex<Option<CopyIn>>,
    /// The largest statement text accepted, in bytes.
    max_statement: usize,
    /// Whether the database the client named at start-up has been taken.
    adopted: std::sync::atomic::AtomicBool,
}

impl Connection {
    pub fn new(engine: Engine, max_statement: usize) -> Connection {
        let engine = Arc::new(engine);
        Connection {
            parser: Arc::new(Parser {
                engine: Arc::clone(&engine),
            }),
            engine,
            copy_in: Default::default(),
            max_statement,
            adopted: Default::default(),
        }
    }

    /// The database the client connected to is where its unqualified
    /// names are, if dbcord has one of that name (else `main`).
    fn adopt_database<C: ClientInfo>(&self, client: &C) {
        use std::sync::atomic::Ordering;
        if self.adopted.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(db) = client.metadata().get(pgwire::api::METADATA_DATABASE)
            && self.engine.store().has_database(db)
        {
            let _ = self.engine.use_database(db);
        }
    }

    fn status(&self) -> TransactionStatus {
        match self.engine.txn_status() {
            TxnStatus::Idle => TransactionStatus::Idle,
            TxnStatus::InBlock => TransactionStatus::Transaction,
            TxnStatus::Failed => TransactionStatus::Error,
        }
    }

    /// Run one statement; its response (a failure is a response too, so
    /// that a simple query's earlier results still reach the client).
    /// `described`: the rows' schema a client was told on Describe; the
    /// rows are sent in its types (a parameter's type may differ at run).
    async fn run(
        &self,
        stmt: Statement,
        format: &Format,
        described: Option<&SchemaRef>,
    ) -> PgWireResult<Response> {
        let before = self.engine.txn_status();
        let outcome = self.engine.run(stmt).await;
        let after = self.engine.txn_status();
        let response = match outcome {
            Ok(outcome) => results::response(outcome, format, described)?,
            Err(e) => return Ok(Response::Error(Box::new(statement_error(&e)))),
        };
        Ok(match (response, before, after) {
            (Response::Execution(tag), TxnStatus::Idle, TxnStatus::InBlock) => {
                Response::TransactionStart(tag)
            }
            (Response::Execution(tag), TxnStatus::InBlock | TxnStatus::Failed, TxnStatus::Idle) => {
                Response::TransactionEnd(tag)
            }
            (r, _, _) => r,
        })
    }

    /// Start a COPY: FROM STDIN waits for the client's data, TO STDOUT
    /// runs its query and sends the rows.
    async fn start_copy(&self, command: CopyCommand) -> PgWireResult<Response> {
        if let Err(e) = self.engine.txn_check() {
            return Ok(Response::Error(Box::new(statement_error(&e))));
        }
        match command.to_stdout {
            true => copy::copy_out(&self.engine, &command).await,
            false => {
                let columns = copy::columns_in(&self.engine, &command)?;
                *self.copy_in.lock().await = Some(CopyIn::new(command));
                Ok(copy::copy_in_response(columns))
            }
        }
    }

    /// Each statement of a simple query, in order, up to the first error.
    async fn simple(&self, query: &str) -> PgWireResult<Vec<Response>> {
        if query.len() > self.max_statement {
            return Err(too_large(query.len(), self.max_statement));
        }
        if let Some(command) = CopyCommand::parse(query) {
            return Ok(vec![self.start_copy(command?).await?]);
        }
        let statements = match compat::parse(&self.engine, query) {
            Ok(s) => s,
            Err(e) => return Ok(vec![Response::Error(Box::new(statement_error(&e)))]),
        };
        let mut out = Vec::new();
        for stmt in statements {
            if let Some(tag) = session_only(&stmt) {
                out.push(Response::Execution(pgwire::api::results::Tag::new(tag)));
                continue;
            }
            let r = self.run(stmt, &Format::UnifiedText, None).await?;
            let failed = matches!(r, Response::Error(_));
            out.push(r);
            if failed {
                break;
            }
        }
        if out.is_empty() {
            out.push(Response::EmptyQuery);
        }
        Ok(out)
    }
}

/// Statements about the connection's own server-side state, which a
/// client sends to reset it (psycopg's `DEALLOCATE ALL` after a rollback,
/// a pool's `DISCARD ALL`): the prepared statements are the protocol's
/// (pgwire keeps and drops them), so there is nothing more to do.
fn session_only(stmt: &Statement) -> Option<&'static str> {
    use datafusion::sql::sqlparser::ast::Statement as Sql;
    match stmt {
        Statement::Statement(s) => match s.as_ref() {
            Sql::Deallocate { .. } => Some("DEALLOCATE"),
            Sql::Discard { .. } => Some("DISCARD ALL"),
            _ => None,
        },
        _ => None,
    }
}

fn too_large(len: usize, max: usize) -> PgWireError {
    user_error(
        "54000",
        format!(
            "the statement is {len} bytes; this server accepts at most {max} (--pg-max-statement)"
        ),
    )
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    /// As pgwire's own, except that the transaction status a client is
    /// told is the session's (a failed COMMIT ends the block; a rollback to
    /// a savepoint revives a failed one), and a cancel stops the statement.
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        self.adopt_database(client);
        let cancel = match client.session_extensions().get::<Arc<ConnectionHandle>>() {
            Some(handle) => Some(handle.start_query().await),
            None => None,
        };
        let work = SimpleQueryHandler::do_query(self, client, &query.query);
        let responses = match cancel {
            Some(rx) => match select(Box::pin(work), rx).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => Err(PgWireError::QueryCanceled),
            },
            None => work.await,
        };
        let responses = match responses {
            Ok(r) => r,
            Err(e) => {
                client.set_state(PgWireConnectionState::ReadyForQuery);
                return Err(e);
            }
        };
        let mut copying = false;
        for r in responses {
            match r {
                Response::EmptyQuery => {
                    client
                        .feed(PgWireBackendMessage::EmptyQueryResponse(
                            EmptyQueryResponse::new(),
                        ))
                        .await?;
                }
                Response::Query(rows) => send_query_response(client, rows, true).await?,
                Response::Execution(tag)
                | Response::TransactionStart(tag)
                | Response::TransactionEnd(tag) => send_execution_response(client, tag).await?,
                Response::Error(e) => {
                    client
                        .feed(PgWireBackendMessage::ErrorResponse((*e).into()))
                        .await?;
                }
                Response::CopyIn(c) => {
                    pgwire::api::copy::send_copy_in_response(client, c).await?;
                    copying = true;
                }
                Response::CopyOut(c) => {
                    pgwire::api::copy::send_copy_out_response(client, c).await?;
                }
                Response::CopyBoth(_) => {
                    return Err(user_error("0A000", "COPY BOTH is not supported"));
                }
            }
        }
        if copying {
            client.set_state(PgWireConnectionState::CopyInProgress(false));
        } else {
            let status = self.status();
            client.set_state(PgWireConnectionState::ReadyForQuery);
            client.set_transaction_status(status);
            send_ready_for_query(client, status).await?;
        }
        Ok(())
    }

    async fn do_query<C>(&self, _client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.simple(query).await
    }
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        Arc::clone(&self.parser)
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.adopt_database(client);
        let prepared = &portal.statement.statement;
        let mut stmt = match &prepared.stmt {
            Body::Copy(c) => return self.start_copy(c.clone()).await,
            Body::Sql(s) => s.clone(),
        };
        let values = params::literals(portal, &prepared.params)?;
        params::bind(&mut stmt, &values)?;
        self.run(stmt, &portal.result_column_format, prepared.schema.as_ref())
            .await
    }
}

#[async_trait]
impl pgwire::api::copy::CopyHandler for Connection {
    async fn on_copy_data<C>(
        &self,
        _client: &mut C,
        data: pgwire::messages::copy::CopyData,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut copy = self.copy_in.lock().await;
        let Some(copy) = copy.as_mut() else {
            return Err(user_error(
                "08P01",
                "COPY data arrived with no COPY under way",
            ));
        };
        copy.take(&data.data, self.max_statement)
    }

    async fn on_copy_done<C>(
        &self,
        client: &mut C,
        _done: pgwire::messages::copy::CopyDone,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(copy) = self.copy_in.lock().await.take() else {
            return Err(user_error("08P01", "COPY done with no COPY under way"));
        };
        let n = copy.finish(&self.engine).await?;
        client
            .send(PgWireBackendMessage::CommandComplete(
                results::tag(&format!("COPY {n}")).into(),
            ))
            .await?;
        client.set_transaction_status(self.status());
        Ok(())
    }

    async fn on_copy_fail<C>(
        &self,
        _client: &mut C,
        fail: pgwire::messages::copy::CopyFail,
    ) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.copy_in.lock().await.take();
        user_error(
            "57014",
            format!(
                "COPY from stdin failed: {}; nothing was written",
                fail.message
            ),
        )
    }
}

/// Parses a client's statement and tells what it takes and returns.
pub struct Parser {
    engine: Arc<Engine>,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        if let Some(command) = CopyCommand::parse(sql) {
            return Ok(Some(Prepared {
                stmt: Body::Copy(command?),
                params: Vec::new(),
                schema: None,
            }));
        }
        let mut statements = compat::parse(&self.engine, sql)
            .map_err(|e| PgWireError::UserError(Box::new(statement_error(&e))))?;
        let stmt = match statements.len() {
            0 => return Ok(None),
            1 => statements.pop().expect("one statement"),
            _ => {
                return Err(user_error(
                    "42601",
                    "cannot insert multiple commands into a prepared statement",
                ));
            }
        };
        let described = self.engine.describe(&stmt).await;
        let count = params::count(&stmt);
        let params = (1..=count)
            .map(|i| {
                params::pg_type(
                    described
                        .params
                        .get(&format!("${i}"))
                        .and_then(Option::as_ref),
                )
            })
            .collect();
        Ok(Some(Prepared {
            stmt: Body::Sql(stmt),
            params,
            schema: described.schema,
        }))
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(stmt.params.clone())
    }

    fn get_result_schema(
        &self,
        stmt: &Prepared,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        match &stmt.schema {
            Some(schema) => results::fields(schema, format.unwrap_or(&Format::UnifiedText)),
            None => Ok(Vec::new()),
        }
    }
}
