//! `dbcord bot --endpoint ADDR`: interactions POSTed by Discord, for
//! hosting without a long-lived connection. Each POST's Ed25519 signature
//! (of the timestamp and the raw body) is checked against the
//! application's public key; a bad one gets 401, as Discord requires (it
//! sends some on purpose). The first answer is the HTTP response; a
//! deferred command goes on in the background and edits the reply.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use discord_api::interactions::{SIGNATURE_HEADER, TIMESTAMP_HEADER};

use super::invocation::Invocation;
use super::server::{Bot, BotError, First};

/// The path Discord POSTs to.
pub const PATH: &str = "/interactions";

/// Listen on `addr`; returns the bound address and the serving task,
/// which ends when `shutdown` resolves.
pub async fn listen(
    bot: Arc<Bot>,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), BotError> {
    if bot.public_key.is_empty() {
        return Err(BotError::Endpoint(
            "the application has no public key (verify_key) to check signatures with".into(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| BotError::Endpoint(format!("listening on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| BotError::Endpoint(e.to_string()))?;
    let app = Router::new()
        .route(PATH, post(interaction))
        .route("/", post(interaction))
        .with_state(bot);
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown);
        if let Err(e) = served.await {
            tracing::error!("the interactions endpoint stopped: {e}");
        }
    });
    Ok((bound, task))
}

async fn interaction(State(bot): State<Arc<Bot>>, headers: HeaderMap, raw: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (signature, timestamp) = (header(SIGNATURE_HEADER), header(TIMESTAMP_HEADER));
    if !discord_http::signature_valid(&bot.public_key, &signature, &timestamp, &raw) {
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    let Some(inv) = serde_json::from_slice(&raw)
        .ok()
        .and_then(|v| Invocation::read(&v))
    else {
        return (StatusCode::BAD_REQUEST, "not an interaction").into_response();
    };
    let first = bot.first(&inv);
    if matches!(first, First::Defer) {
        let b = Arc::clone(&bot);
        bot.spawn(async move { b.finish(&inv).await });
    }
    axum::Json(first.body().json).into_response()
}
