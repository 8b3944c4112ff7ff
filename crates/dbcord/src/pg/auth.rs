//! Who may connect: SCRAM-SHA-256 with the server's one password, or, with
//! no password, only clients on this machine. Every refusal is FATAL, so a
//! refused client never reaches a statement.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{SCRAM_ITERATIONS, ScramAuth, gen_salted_password};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use pgwire::api::{ClientInfo, ConnectionManager, ErrorHandler, PgWireConnectionState};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

/// The server's password, kept salted: the text itself is dropped at start.
#[derive(Clone)]
pub struct Secret {
    salt: Vec<u8>,
    salted: Vec<u8>,
}

impl Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub fn new(password: &str) -> Secret {
        let salt: Vec<u8> = discord_api::nonce::new_nonce().into_bytes();
        let salted = gen_salted_password(password, &salt, SCRAM_ITERATIONS);
        Secret { salt, salted }
    }
}

#[derive(Debug)]
struct Source(Secret);

#[async_trait]
impl AuthSource for Source {
    async fn get_password(&self, _login: &LoginInfo) -> PgWireResult<Password> {
        Ok(Password::new(
            Some(self.0.salt.clone()),
            self.0.salted.clone(),
        ))
    }
}

/// The parameters a client is told at start: a PostgreSQL 15 (psql picks
/// its catalog queries by the major version), UTF-8, ISO dates.
fn parameters(database: &str) -> DefaultServerParameterProvider {
    let mut p = DefaultServerParameterProvider::default();
    p.server_version = "15.0 (dbcord)".into();
    p.search_path = database.to_string();
    p.time_zone = "UTC".into();
    p.date_style = "ISO, MDY".into();
    p
}

/// How a connection starts.
pub enum Startup {
    Scram(SASLAuthStartupHandler<DefaultServerParameterProvider>),
    Open(Open),
}

impl Startup {
    pub fn new(
        secret: Option<&Secret>,
        manager: Arc<ConnectionManager>,
        database: &str,
    ) -> Startup {
        match secret {
            Some(s) => Startup::Scram(
                SASLAuthStartupHandler::new(Arc::new(parameters(database)))
                    .with_scram(ScramAuth::new(Arc::new(Source(s.clone()))))
                    .with_connection_manager(manager),
            ),
            None => Startup::Open(Open {
                manager,
                database: database.to_string(),
            }),
        }
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self {
            Startup::Scram(h) => h.on_startup(client, message).await,
            Startup::Open(h) => h.on_startup(client, message).await,
        }
    }
}

/// No password: only a client on this machine is let in.
pub struct Open {
    manager: Arc<ConnectionManager>,
    #[allow(dead_code)]
    database: String,
}

#[async_trait]
impl pgwire::api::auth::noop::NoopStartupHandler for Open {
    fn connection_manager(&self) -> Option<Arc<ConnectionManager>> {
        Some(Arc::clone(&self.manager))
    }

    async fn post_startup<C>(
        &self,
        client: &mut C,
        _message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if client.socket_addr().ip().is_loopback() {
            return Ok(());
        }
        Err(fatal(
            "28000",
            "this server has no password (DBCORD_PG_PASSWORD), so it admits clients on its own \
             machine only",
        ))
    }
}

/// A FATAL error: the connection ends with it.
pub fn fatal(code: &str, message: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message.into(),
    )))
}

/// Any error before the connection is ready ends it: pgwire would let a
/// client whose start-up failed with a mere ERROR go on to send queries.
pub struct FatalBeforeReady;

impl ErrorHandler for FatalBeforeReady {
    fn on_error<C>(&self, client: &C, error: &mut PgWireError)
    where
        C: ClientInfo,
    {
        let starting = matches!(
            client.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        if starting {
            let taken = std::mem::replace(error, PgWireError::InvalidSASLState);
            let mut info = ErrorInfo::from(taken);
            info.severity = "FATAL".into();
            *error = PgWireError::UserError(Box::new(info));
        }
    }
}
