//! The listener: who may connect (loopback unless a password is set), how
//! many at once, TLS when a certificate is given, one [`Connection`] (its
//! own SQL session and transaction) per client, all on one store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use pgwire::api::auth::StartupHandler;
use pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use pgwire::api::copy::CopyHandler;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::{ConnectionManager, ErrorHandler, PgWireServerHandlers};
use pgwire::tokio::TlsAcceptor;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::auth::{FatalBeforeReady, Secret, Startup};
use super::handler::Connection;
use crate::sql::Engine;
use crate::store::Store;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct PgOptions {
    pub addr: SocketAddr,
    /// Clients must give it (SCRAM-SHA-256); without one only loopback
    /// addresses may be listened on.
    pub password: Option<String>,
    /// A PEM certificate chain and its key: TLS is offered.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Connections at once; more are refused (53300).
    pub max_connections: usize,
    /// The largest statement (and COPY data) accepted, in bytes.
    pub max_statement: usize,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 5433)),
            password: None,
            tls: None,
            max_connections: 64,
            max_statement: 64 << 20,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0} without a password: set DBCORD_PG_PASSWORD, or listen on \
         127.0.0.1"
    )]
    NoPassword(SocketAddr),
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(String),
}

/// A server bound and accepting.
pub struct PgServer {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Bind and serve in the background.
pub async fn start(store: Arc<Store>, options: PgOptions) -> Result<PgServer, ServeError> {
    if options.password.is_none() && !options.addr.ip().is_loopback() {
        return Err(ServeError::NoPassword(options.addr));
    }
    let tls = match &options.tls {
        Some((cert, key)) => Some(acceptor(cert, key)?),
        None => None,
    };
    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: options.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: options.addr,
        source,
    })?;
    let shared = Arc::new(Shared {
        store,
        secret: options.password.as_deref().map(Secret::new),
        manager: Arc::new(ConnectionManager::new()),
        slots: Arc::new(Semaphore::new(options.max_connections)),
        options,
    });
    let task = tokio::spawn(accept(listener, tls, shared));
    Ok(PgServer { addr, task })
}

struct Shared {
    store: Arc<Store>,
    secret: Option<Secret>,
    manager: Arc<ConnectionManager>,
    slots: Arc<Semaphore>,
    options: PgOptions,
}

async fn accept(listener: TcpListener, tls: Option<TlsAcceptor>, shared: Arc<Shared>) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("accepting a Postgres connection: {e}");
                continue;
            }
        };
        let tls = tls.clone();
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let slot = Arc::clone(&shared.slots).try_acquire_owned().ok();
            let handlers = Handlers::new(&shared, slot.is_some());
            if let Err(e) = pgwire::tokio::process_socket(socket, tls, handlers).await {
                tracing::debug!("Postgres connection from {peer}: {e}");
            }
            drop(slot);
        });
    }
}

/// One connection's handlers.
struct Handlers {
    conn: Arc<Connection>,
    startup: Arc<Refusing>,
    manager: Arc<ConnectionManager>,
}

impl Handlers {
    fn new(shared: &Shared, admitted: bool) -> Handlers {
        let engine = Engine::new(Arc::clone(&shared.store));
        let database = engine.database();
        let startup = Startup::new(
            shared.secret.as_ref(),
            Arc::clone(&shared.manager),
            &database,
        );
        Handlers {
            conn: Arc::new(Connection::new(engine, shared.options.max_statement)),
            startup: Arc::new(Refusing {
                inner: startup,
                full: !admitted,
                max: shared.options.max_connections,
            }),
            manager: Arc::clone(&shared.manager),
        }
    }
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::clone(&self.conn)
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::clone(&self.conn)
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::clone(&self.startup)
    }

    fn copy_handler(&self) -> Arc<impl CopyHandler> {
        Arc::clone(&self.conn)
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(FatalBeforeReady)
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::new(DefaultCancelHandler::new(Arc::clone(&self.manager)))
    }
}

/// Start-up, refused when the server is full.
struct Refusing {
    inner: Startup,
    full: bool,
    max: usize,
}

#[async_trait::async_trait]
impl StartupHandler for Refusing {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::PgWireFrontendMessage,
    ) -> pgwire::error::PgWireResult<()>
    where
        C: pgwire::api::ClientInfo
            + futures::Sink<pgwire::messages::PgWireBackendMessage>
            + Unpin
            + Send
            + Sync,
        C::Error: std::fmt::Debug,
        pgwire::error::PgWireError:
            From<<C as futures::Sink<pgwire::messages::PgWireBackendMessage>>::Error>,
    {
        if self.full {
            return Err(super::auth::fatal(
                "53300",
                &format!("sorry, too many clients already (at most {})", self.max),
            ));
        }
        self.inner.on_startup(client, message).await
    }
}

/// TLS from a PEM certificate chain and key.
fn acceptor(cert: &PathBuf, key: &PathBuf) -> Result<TlsAcceptor, ServeError> {
    use pgwire::tokio::tokio_rustls::rustls::pki_types::pem::PemObject;
    use pgwire::tokio::tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use pgwire::tokio::tokio_rustls::rustls::{self, ServerConfig};
    let tls = |what: &str, e: &dyn std::fmt::Display| ServeError::Tls(format!("{what}: {e}"));
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| tls(&cert.display().to_string(), &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls(&cert.display().to_string(), &e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| tls(&key.display().to_string(), &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls("protocol versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls("certificate", &e))?;
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
