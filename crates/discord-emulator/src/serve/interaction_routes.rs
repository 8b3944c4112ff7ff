//! The HTTP routes of application commands and interactions: the bulk
//! overwrite, the Gateway's URL, the application's endpoint URL, the
//! callback, `@original` edits and followups (authenticated by the
//! interaction's token, not the bot's, as on Discord), and the hook a
//! person uses to play a guild member: `POST /_emulator/interact`.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use discord_api::limits::code;
use discord_api::{Discord, DiscordError, Snowflake};

use super::AppState;
use super::bots::Delivery;
use crate::interactions::{Invoker, ShownFile};

fn now(s: &AppState) -> u64 {
    s.emulator.clock().now_us()
}

fn check_app(s: &AppState, raw: &str) -> Result<Snowflake, DiscordError> {
    let app = s.emulator.bot_user().id;
    if raw == "@me" || raw.parse::<Snowflake>().ok() == Some(app) {
        Ok(app)
    } else {
        Err(DiscordError::NotFound {
            code: 10002,
            message: "Unknown Application".into(),
        })
    }
}

/// `PUT /applications/{app}/guilds/{guild}/commands`
pub async fn overwrite_commands(
    State(s): State<AppState>,
    Path((app, guild)): Path<(String, String)>,
    raw: Bytes,
) -> Response {
    s.answer(async {
        let app = check_app(&s, &app)?;
        super::handlers::check_guild(&s, &guild)?;
        let body: Value = super::handlers::body(&raw)?;
        let stored = s.interactions.overwrite(now(&s), app, &body)?;
        Ok((StatusCode::OK, Some(stored)))
    })
    .await
}

/// `GET /applications/{app}/guilds/{guild}/commands`
pub async fn list_commands(
    State(s): State<AppState>,
    Path((app, guild)): Path<(String, String)>,
) -> Response {
    s.answer(async {
        check_app(&s, &app)?;
        super::handlers::check_guild(&s, &guild)?;
        Ok((
            StatusCode::OK,
            Some(Value::Array(s.interactions.commands())),
        ))
    })
    .await
}

/// `GET /gateway` and `GET /gateway/bot`
pub async fn gateway(State(s): State<AppState>) -> Response {
    s.answer(async {
        let url = s.bots.gateway.url();
        Ok((
            StatusCode::OK,
            Some(json!({
                "url": url,
                "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86_400_000u64, "max_concurrency": 1},
            })),
        ))
    })
    .await
}

#[derive(Deserialize)]
struct EditApplication {
    interactions_endpoint_url: Option<String>,
}

/// `PATCH /applications/@me`: only `interactions_endpoint_url`, checked
/// by a signed PING and a badly signed one first.
pub async fn edit_application(State(s): State<AppState>, raw: Bytes) -> Response {
    s.answer(async {
        let edit: EditApplication = super::handlers::body(&raw)?;
        let app = s.emulator.bot_user().id;
        if let Some(url) = edit.interactions_endpoint_url {
            s.bots.set_endpoint(&url, app).await?;
        }
        Ok((StatusCode::OK, Some(s.application_json())))
    })
    .await
}

/// A message body (JSON, or multipart with `payload_json` and files).
async fn message_parts(
    s: &AppState,
    req: Request,
) -> Result<(Value, Vec<ShownFile>), DiscordError> {
    let (payload, files) = super::handlers::message_form(s, req).await?;
    let json = match payload {
        Some(raw) => super::handlers::body(&raw)?,
        None => Value::Null,
    };
    let mut shown = Vec::new();
    for f in files {
        if f.bytes.len() > discord_api::limits::MAX_FILE_BYTES {
            return Err(DiscordError::invalid(
                code::ENTITY_TOO_LARGE,
                "Request entity too large",
            ));
        }
        shown.push(ShownFile {
            filename: f.filename,
            size: f.bytes.len(),
            bytes: f.bytes,
        });
    }
    Ok((json, shown))
}

/// `POST /interactions/{id}/{token}/callback`
pub async fn callback(
    State(s): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    req: Request,
) -> Response {
    let state = s.clone();
    s.answer(async move {
        let (body, files) = message_parts(&state, req).await?;
        let id = id
            .parse()
            .map_err(|_| DiscordError::invalid_body("interaction_id: not a snowflake"))?;
        state
            .interactions
            .respond(now(&state), id, &token, &body, files)?;
        Ok((StatusCode::NO_CONTENT, None))
    })
    .await
}

/// `PATCH /webhooks/{app}/{token}/messages/@original`
pub async fn edit_original(
    State(s): State<AppState>,
    Path((app, token)): Path<(String, String)>,
    req: Request,
) -> Response {
    let state = s.clone();
    s.answer(async move {
        check_app(&state, &app)?;
        let (body, files) = message_parts(&state, req).await?;
        let m = state
            .interactions
            .edit_original(now(&state), &token, &body, files)?;
        Ok((StatusCode::OK, Some(m)))
    })
    .await
}

/// `POST /webhooks/{app}/{token}`: a followup.
pub async fn followup(
    State(s): State<AppState>,
    Path((app, token)): Path<(String, String)>,
    raw: Bytes,
) -> Response {
    s.answer(async {
        check_app(&s, &app)?;
        let body: Value = super::handlers::body(&raw)?;
        let m = s.interactions.followup(now(&s), &token, &body)?;
        Ok((StatusCode::OK, Some(m)))
    })
    .await
}

/// What a person asks of `POST /_emulator/interact`.
#[derive(Deserialize)]
pub struct Interact {
    /// The command as typed: `/dbc_find database:prod table:users ...`.
    pub command: String,
    #[serde(default = "default_user")]
    pub user_id: Snowflake,
    #[serde(default = "default_username")]
    pub username: String,
    /// The member's permissions in the channel (default: Manage Guild).
    #[serde(default = "default_permissions")]
    pub permissions: u64,
    /// The channel typed in (default: the guild's first text channel, or the guild ID).
    pub channel_id: Option<Snowflake>,
    /// Real seconds to wait for the reply at most.
    #[serde(default = "default_wait")]
    pub wait_seconds: f64,
}

fn default_user() -> Snowflake {
    Snowflake(4_242_424_242)
}
fn default_username() -> String {
    "guild-member".into()
}
fn default_permissions() -> u64 {
    discord_api::interactions::permission::MANAGE_GUILD
}
fn default_wait() -> f64 {
    900.0
}

/// `POST /_emulator/interact`: a member types a command; the answer is
/// what they see (200), or why Discord's client would not send it (400).
pub async fn interact(State(s): State<AppState>, raw: Bytes) -> Response {
    let ask: Interact = match serde_json::from_slice(&raw) {
        Ok(a) => a,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": e.to_string()})),
            )
                .into_response();
        }
    };
    let app = s.emulator.bot_user().id;
    let guild = s.emulator.guild_id();
    let channel = ask.channel_id.unwrap_or(guild);
    let who = Invoker {
        user_id: ask.user_id,
        username: ask.username.clone(),
        permissions: ask.permissions,
    };
    let interaction =
        match s
            .interactions
            .invoke(now(&s), (app, guild, channel), &who, &ask.command)
        {
            Ok(i) => i,
            Err(e) => {
                return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": e}))).into_response();
            }
        };
    let id: Snowflake = interaction["id"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    let token = interaction["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut delivery_note = None;
    match s.bots.deliver(&interaction).await {
        Delivery::Answered(v) => {
            if let Err(e) = s.interactions.respond(now(&s), id, &token, &v, Vec::new()) {
                delivery_note = Some(format!("the endpoint's answer was refused: {e}"));
            }
        }
        Delivery::EndpointFailed(e) => delivery_note = Some(format!("the endpoint failed: {e}")),
        Delivery::Dispatched => {}
        Delivery::Nobody => {
            delivery_note = Some(
                "no bot is connected to the Gateway and no interactions endpoint is set".into(),
            )
        }
    }
    let clock = s.emulator.clock().clone();
    let wait = std::time::Duration::from_secs_f64(ask.wait_seconds.clamp(0.1, 3600.0));
    let shown = s
        .interactions
        .wait_shown(id, move || clock.now_us(), wait)
        .await;
    let mut body = serde_json::to_value(&shown).unwrap_or_default();
    body["interaction_id"] = json!(id);
    if let Some(n) = delivery_note {
        body["delivery"] = json!(n);
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// `GET /_emulator/interactions/{id}/files/{n}`: a reply's attachment.
pub async fn reply_file(
    State(s): State<AppState>,
    Path((id, n)): Path<(String, usize)>,
) -> Response {
    let Ok(id) = id.parse::<Snowflake>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match s.interactions.file(id, n) {
        Some(f) => f.bytes.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `POST /_emulator/gateway/reconnect`: every session is told to reconnect.
pub async fn gateway_reconnect(State(s): State<AppState>) -> Response {
    let n = s.bots.gateway.reconnect_all();
    axum::Json(json!({"reconnected": n})).into_response()
}
