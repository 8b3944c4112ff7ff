//! `dbcord emulator serve`: the emulator as Discord API v10 over HTTP, so the
//! very code path dbcord uses against Discord runs in tests.
//!
//! Real status codes, Discord's JSON bodies (see `wire`), rate-limit headers
//! (integer Limit and Remaining, decimal Reset and Reset-After, Bucket; on a
//! 429 also Retry-After, Global and Scope), 202 while search warms up,
//! multipart uploads, attachment URLs that point back at the server and
//! expire, and 401 without `Authorization: Bot <token>`. With a time scale
//! the emulator's clock runs faster than real time and every duration the
//! server sends is given in real seconds. Two routes that Discord does not
//! have serve tests: `POST /_emulator/advance` and `GET /_emulator/counters`.

pub mod bots;
mod cloudflare;
pub mod gateway;
mod handlers;
mod interaction_routes;
pub mod wire;

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub use crate::faults::{Fault, FaultPlan, FaultSpec};
pub use cloudflare::{Edge, EdgeRules};

use discord_api::{Discord, DiscordError, RateLimitScope, SharedClock};

use crate::interactions::Interactions;
use crate::{BucketInfo, Emulator, EmulatorConfig, JournalError, LAST_BUCKET};

/// How the server behaves beyond the emulator itself.
#[derive(Debug)]
pub struct ServeOptions {
    /// The only token accepted; `None` accepts any `Bot <token>`.
    pub token: Option<String>,
    /// Emulator seconds per real second (1 = real time).
    pub time_scale: f64,
    pub faults: FaultPlan,
    /// What Cloudflare, in front of the API, refuses and bans.
    pub edge: EdgeRules,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            token: None,
            time_scale: 1.0,
            faults: FaultPlan::default(),
            edge: EdgeRules::default(),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) emulator: Arc<Emulator>,
    pub(crate) options: Arc<ServeOptions>,
    pub(crate) edge: Arc<cloudflare::Edge>,
    pub(crate) interactions: Arc<Interactions>,
    pub(crate) bots: Arc<bots::Bots>,
}

/// A successful answer: status and JSON body (none for 204).
pub type Reply = Result<(StatusCode, Option<Value>), DiscordError>;

/// Serve on `listener` until the process ends.
async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, handlers::router(state)).await
}

/// Why a served emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Storage(#[from] JournalError),
}

/// A served emulator: the guild and where it listens.
pub struct Served {
    pub emulator: Arc<Emulator>,
    pub addr: SocketAddr,
    /// What reached the server's edge (Cloudflare's place).
    pub edge: Arc<cloudflare::Edge>,
    /// The application's commands and the interactions in flight.
    pub interactions: Arc<Interactions>,
    /// The Gateway, the endpoint URL and the application's key.
    pub bots: Arc<bots::Bots>,
    options: Arc<ServeOptions>,
    /// The task that accepts connections.
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Stop accepting connections: the server's task ends (a run that
    /// starts many servers, one per seed, keeps none of them alive).
    pub fn stop(&self) {
        self.task.abort();
    }

    /// The server's faults: what it has drawn so far, and for how many requests.
    pub fn faults(&self) -> &FaultPlan {
        &self.options.faults
    }
}

/// Bind `addr`, open the guild with attachment URLs pointing at the bound
/// address, and serve it in a background task.
pub async fn start(
    addr: SocketAddr,
    config: EmulatorConfig,
    clock: SharedClock,
    options: ServeOptions,
) -> Result<Served, StartError> {
    let bind_error = |source| StartError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let config = EmulatorConfig {
        attachment_url_base: format!("http://{addr}"),
        ..config
    };
    let emulator = Arc::new(Emulator::open(config, clock)?);
    let edge: Arc<cloudflare::Edge> = Arc::default();
    let gateway = gateway::Gateway::start(addr.ip(), gateway_config(&emulator, &options))
        .await
        .map_err(bind_error)?;
    let bots = Arc::new(bots::Bots::new(emulator.guild_id(), gateway));
    let interactions: Arc<Interactions> = Arc::default();
    let options = Arc::new(options);
    let state = AppState {
        emulator: Arc::clone(&emulator),
        options: Arc::clone(&options),
        edge: Arc::clone(&edge),
        interactions: Arc::clone(&interactions),
        bots: Arc::clone(&bots),
    };
    let task = tokio::spawn(async move {
        if let Err(e) = serve(listener, state).await {
            tracing::error!("emulator server stopped: {e}");
        }
    });
    Ok(Served {
        emulator,
        addr,
        edge,
        interactions,
        bots,
        options,
        task,
    })
}

/// What the Gateway checks an IDENTIFY against.
fn gateway_config(emulator: &Emulator, options: &ServeOptions) -> gateway::GatewayConfig {
    let content = emulator.config().message_content_intent;
    gateway::GatewayConfig {
        token: options.token.clone(),
        bot: emulator.bot_user(),
        guild_id: emulator.guild_id(),
        allowed_privileged: if content {
            discord_api::interactions::gateway::INTENT_MESSAGE_CONTENT
        } else {
            0
        },
        app_flags: app_flags(emulator),
    }
}

/// The application's flags: the Message Content intent's, when it is on.
pub(crate) fn app_flags(emulator: &Emulator) -> u64 {
    if emulator.config().message_content_intent {
        discord_api::limits::MESSAGE_CONTENT_INTENT_FLAGS
    } else {
        0
    }
}

impl AppState {
    /// The application object (`GET /applications/@me`), its public key included.
    pub(crate) fn application_json(&self) -> Value {
        let bot = self.emulator.bot_user();
        serde_json::json!({
            "id": bot.id,
            "name": bot.username,
            "flags": app_flags(&self.emulator),
            "bot": wire::user(&bot, false),
            "verify_key": self.bots.public_key(),
            "interactions_endpoint_url": self.bots.endpoint(),
        })
    }

    fn scale(&self) -> f64 {
        if self.options.time_scale > 0.0 {
            self.options.time_scale
        } else {
            1.0
        }
    }

    /// Run one request with faults, bucket headers and Discord's error shapes.
    pub async fn answer(&self, work: impl Future<Output = Reply>) -> Response {
        match self.options.faults.draw() {
            Fault::None => {}
            Fault::RateLimit { scope, retry_after } => {
                let e = DiscordError::RateLimited {
                    retry_after,
                    scope,
                    bucket: None,
                };
                return self.error_response(&e, None);
            }
            Fault::ServerError { status, applied } => {
                if applied {
                    let _ = LAST_BUCKET.scope(RefCell::new(None), work).await;
                }
                let e = DiscordError::Server {
                    status,
                    message: format!("{status}: emulated server error"),
                };
                return self.error_response(&e, None);
            }
            Fault::Stall { hold, applied } => {
                tokio::time::sleep(hold).await;
                if !applied {
                    return StatusCode::GATEWAY_TIMEOUT.into_response();
                }
            }
            // The client hears nothing and times out; a lost request was
            // done, a dropped one never arrived.
            fault @ (Fault::Drop | Fault::Lose) => {
                if fault == Fault::Lose {
                    let _ = LAST_BUCKET.scope(RefCell::new(None), work).await;
                }
                tokio::time::sleep(Duration::from_secs(600)).await;
                return StatusCode::GATEWAY_TIMEOUT.into_response();
            }
        }
        let (reply, bucket) = LAST_BUCKET
            .scope(RefCell::new(None), async {
                let reply = work.await;
                (reply, LAST_BUCKET.with(|b| b.borrow().clone()))
            })
            .await;
        match reply {
            Ok((status, body)) => {
                let mut resp = match body {
                    Some(json) => (status, axum::Json(json)).into_response(),
                    None => status.into_response(),
                };
                if let Some(b) = &bucket {
                    self.bucket_headers(resp.headers_mut(), b);
                }
                resp
            }
            Err(e) => self.error_response(&e, bucket.as_ref()),
        }
    }

    fn error_response(&self, e: &DiscordError, bucket: Option<&BucketInfo>) -> Response {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(wire::error(e, self.scale()))).into_response();
        let headers = resp.headers_mut();
        if let Some(b) = bucket {
            self.bucket_headers(headers, b);
        }
        if let DiscordError::RateLimited {
            retry_after,
            scope,
            bucket,
        } = e
        {
            let global = *scope == RateLimitScope::Global;
            let real = wire::real_seconds(*retry_after, self.scale());
            set(
                headers,
                "retry-after",
                format!("{}", real.ceil().max(1.0) as u64),
            );
            set(headers, "x-ratelimit-scope", scope.name().to_string());
            if global {
                set(headers, "x-ratelimit-global", "true".into());
            } else {
                set(headers, "x-ratelimit-remaining", "0".into());
                set(headers, "x-ratelimit-reset-after", format!("{real:.3}"));
                set(
                    headers,
                    "x-ratelimit-reset",
                    format!("{:.3}", wall_secs() + real),
                );
                if let Some(name) = bucket {
                    set(headers, "x-ratelimit-bucket", name.clone());
                }
            }
        }
        resp
    }

    fn bucket_headers(&self, headers: &mut HeaderMap, b: &BucketInfo) {
        let reset_after = wire::real_seconds(b.reset_after, self.scale());
        set(headers, "x-ratelimit-limit", b.limit.to_string());
        set(headers, "x-ratelimit-remaining", b.remaining.to_string());
        set(
            headers,
            "x-ratelimit-reset-after",
            format!("{reset_after:.3}"),
        );
        set(
            headers,
            "x-ratelimit-reset",
            format!("{:.3}", wall_secs() + reset_after),
        );
        set(headers, "x-ratelimit-bucket", b.bucket.clone());
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(name, v);
    }
}

fn wall_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
