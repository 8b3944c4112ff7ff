//! The routes of Discord API v10 that dbcord uses, on the emulator.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use discord_api::limits::code;
use discord_api::{
    Attachment, ByteRange, Discord, DiscordError, HistoryAnchor, HistoryQuery, NewChannel, NewFile,
    NewMessage, SearchQuery, Snowflake,
};

use super::interaction_routes as ir;
use super::{AppState, Reply, wire};

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/users/@me", get(me))
        .route(
            "/applications/@me",
            get(application).patch(ir::edit_application),
        )
        .route(
            "/applications/{app}/guilds/{guild}/commands",
            get(ir::list_commands).put(ir::overwrite_commands),
        )
        .route("/gateway/bot", get(ir::gateway))
        .route("/oauth2/applications/@me", get(application))
        .route("/guilds/{guild}", get(guild))
        .route("/guilds/{guild}/roles", get(roles))
        .route("/guilds/{guild}/members", get(list_members))
        .route("/guilds/{guild}/members/{user}", get(member))
        .route("/guilds/{guild}/threads/active", get(active_threads))
        .route(
            "/channels/{channel}/threads/archived/public",
            get(archived_threads),
        )
        .route(
            "/guilds/{guild}/channels",
            get(list_channels).post(create_channel),
        )
        .route("/guilds/{guild}/messages/search", get(search))
        .route(
            "/channels/{channel}",
            get(get_channel).patch(edit_channel).delete(delete_channel),
        )
        .route(
            "/channels/{channel}/messages",
            get(list_messages).post(create_message),
        )
        .route(
            "/channels/{channel}/messages/bulk-delete",
            post(bulk_delete),
        )
        .route(
            "/channels/{channel}/messages/{message}",
            get(get_message).patch(edit_message).delete(delete_message),
        )
        .route(
            "/channels/{channel}/messages/{message}/threads",
            post(start_thread),
        );
    let hooks = Router::new()
        .route("/advance", post(advance))
        .route("/counters", get(counters));
    let authed = Router::new()
        .nest("/api/v10", api)
        .nest("/_emulator", hooks)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_bot_token,
        ));
    // Discord authenticates these by the interaction's token in the path
    // (and a person, not the bot, plays a member): no bot token needed.
    authed
        .route("/api/v10/gateway", get(ir::gateway))
        .route(
            "/api/v10/interactions/{id}/{token}/callback",
            post(ir::callback),
        )
        .route(
            "/api/v10/webhooks/{app}/{token}/messages/@original",
            axum::routing::patch(ir::edit_original),
        )
        .route("/api/v10/webhooks/{app}/{token}", post(ir::followup))
        .route("/_emulator/interact", post(ir::interact))
        .route(
            "/_emulator/interactions/{id}/files/{n}",
            get(ir::reply_file),
        )
        .route("/_emulator/gateway/reconnect", post(ir::gateway_reconnect))
        .route("/attachments/{channel}/{id}/{filename}", get(download))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::cloudflare::edge,
        ))
        .with_state(state)
}

/// 401 unless `Authorization: Bot <token>` (and the right token, if one is set).
async fn require_bot_token(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bot "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let ok = match (&s.options.token, given) {
        (_, None) => false,
        (Some(want), Some(got)) => want == got,
        (None, Some(_)) => true,
    };
    if ok {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(wire::error(&DiscordError::Unauthorized, 1.0)),
        )
            .into_response()
    }
}

fn id(raw: &str) -> Result<Snowflake, DiscordError> {
    raw.parse().map_err(|_| {
        DiscordError::invalid_body(format!("snowflake: Value \"{raw}\" is not snowflake."))
    })
}

pub(super) fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, DiscordError> {
    serde_json::from_slice(bytes).map_err(|e| {
        DiscordError::invalid(
            code::INVALID_JSON,
            format!("The request body contains invalid JSON. ({e})"),
        )
    })
}

fn ok(status: StatusCode, v: Value) -> Reply {
    Ok((status, Some(v)))
}

pub(super) fn check_guild(s: &AppState, raw: &str) -> Result<(), DiscordError> {
    if id(raw)? == s.emulator.guild_id() {
        Ok(())
    } else {
        Err(DiscordError::NotFound {
            code: code::UNKNOWN_GUILD,
            message: "Unknown Guild".into(),
        })
    }
}

async fn me(State(s): State<AppState>) -> Response {
    s.answer(async { ok(StatusCode::OK, wire::user(&s.emulator.bot_user(), true)) })
        .await
}

async fn application(State(s): State<AppState>) -> Response {
    s.answer(async { ok(StatusCode::OK, s.application_json()) })
        .await
}

async fn guild(State(s): State<AppState>, Path(g): Path<String>) -> Response {
    s.answer(async {
        check_guild(&s, &g)?;
        ok(StatusCode::OK, json!({"id": s.emulator.guild_id(), "name": "dbcord emulator", "owner_id": s.emulator.guild_id(), "roles": []}))
    })
    .await
}

async fn roles(State(s): State<AppState>, Path(g): Path<String>) -> Response {
    s.answer(async {
        check_guild(&s, &g)?;
        let roles: Vec<Value> = s
            .emulator
            .list_roles()
            .await?
            .iter()
            .map(wire::role)
            .collect();
        ok(StatusCode::OK, json!(roles))
    })
    .await
}

async fn list_members(
    State(s): State<AppState>,
    Path(g): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    s.answer(async {
        check_guild(&s, &g)?;
        let (mut after, mut limit) = (Snowflake(0), 1);
        for (k, v) in pairs(&q) {
            match k.as_str() {
                "after" => after = id(&v)?,
                "limit" => limit = number(&k, &v)?,
                _ => {}
            }
        }
        let list: Vec<Value> = s
            .emulator
            .list_members(after, limit)
            .await?
            .iter()
            .map(wire::member)
            .collect();
        ok(StatusCode::OK, json!(list))
    })
    .await
}

async fn active_threads(State(s): State<AppState>, Path(g): Path<String>) -> Response {
    s.answer(async {
        check_guild(&s, &g)?;
        let bot = s.emulator.bot_user();
        let threads: Vec<Value> = s
            .emulator
            .list_active_threads()
            .await?
            .iter()
            .map(|c| wire::channel(c, &bot))
            .collect();
        ok(StatusCode::OK, json!({"threads": threads, "members": []}))
    })
    .await
}

async fn archived_threads(
    State(s): State<AppState>,
    Path(c): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    s.answer(async {
        let before = pairs(&q)
            .into_iter()
            .find(|(k, _)| k == "before")
            .map(|(_, v)| v);
        let page = s
            .emulator
            .list_archived_threads(id(&c)?, before.as_deref())
            .await?;
        let bot = s.emulator.bot_user();
        let threads: Vec<Value> = page
            .threads
            .iter()
            .map(|c| wire::channel(c, &bot))
            .collect();
        ok(
            StatusCode::OK,
            json!({"threads": threads, "members": [], "has_more": page.has_more}),
        )
    })
    .await
}

async fn member(State(s): State<AppState>, Path((g, u)): Path<(String, String)>) -> Response {
    s.answer(async {
        check_guild(&s, &g)?;
        let bot = s.emulator.bot_user();
        if id(&u)? != bot.id {
            return Err(DiscordError::NotFound { code: code::UNKNOWN_MEMBER, message: "Unknown Member".into() });
        }
        ok(StatusCode::OK, json!({"user": wire::user(&bot, false), "roles": [], "joined_at": "2026-01-01T00:00:00.000000+00:00"}))
    })
    .await
}

async fn list_channels(State(s): State<AppState>, Path(g): Path<String>) -> Response {
    s.answer(async {
        check_guild(&s, &g)?;
        let bot = s.emulator.bot_user();
        let list: Vec<Value> = s
            .emulator
            .list_channels()
            .await?
            .iter()
            .map(|c| wire::channel(c, &bot))
            .collect();
        ok(StatusCode::OK, json!(list))
    })
    .await
}

async fn create_channel(State(s): State<AppState>, Path(g): Path<String>, raw: Bytes) -> Response {
    s.answer(async {
        check_guild(&s, &g)?;
        let req: NewChannel = body(&raw)?;
        let c = s.emulator.create_channel(&req).await?;
        ok(
            StatusCode::CREATED,
            wire::channel(&c, &s.emulator.bot_user()),
        )
    })
    .await
}

async fn get_channel(State(s): State<AppState>, Path(c): Path<String>) -> Response {
    s.answer(async {
        let c = s.emulator.get_channel(id(&c)?).await?;
        ok(StatusCode::OK, wire::channel(&c, &s.emulator.bot_user()))
    })
    .await
}

#[derive(Deserialize)]
struct TopicEdit {
    topic: String,
}

async fn edit_channel(State(s): State<AppState>, Path(c): Path<String>, raw: Bytes) -> Response {
    s.answer(async {
        let edit: TopicEdit = body(&raw)?;
        let c = s.emulator.edit_channel_topic(id(&c)?, &edit.topic).await?;
        ok(StatusCode::OK, wire::channel(&c, &s.emulator.bot_user()))
    })
    .await
}

async fn delete_channel(State(s): State<AppState>, Path(c): Path<String>) -> Response {
    s.answer(async {
        let c = s.emulator.delete_channel(id(&c)?).await?;
        ok(StatusCode::OK, wire::channel(&c, &s.emulator.bot_user()))
    })
    .await
}

/// Query pairs, arrays repeated (`channel_id=1&channel_id=2`).
fn pairs(q: &Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_deref().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn number<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, DiscordError> {
    v.parse()
        .map_err(|_| DiscordError::invalid_body(format!("{key}: Value \"{v}\" is not int.")))
}

async fn list_messages(
    State(s): State<AppState>,
    Path(c): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    s.answer(async {
        let mut query = HistoryQuery {
            anchor: HistoryAnchor::Latest,
            limit: 50,
        };
        let mut anchors = 0;
        for (k, v) in pairs(&q) {
            match k.as_str() {
                "limit" => query.limit = number(&k, &v)?,
                "before" => (query.anchor, anchors) = (HistoryAnchor::Before(id(&v)?), anchors + 1),
                "after" => (query.anchor, anchors) = (HistoryAnchor::After(id(&v)?), anchors + 1),
                "around" => (query.anchor, anchors) = (HistoryAnchor::Around(id(&v)?), anchors + 1),
                _ => {}
            }
        }
        if anchors > 1 {
            return Err(DiscordError::invalid_body(
                "around: Only one of before, after and around may be given.",
            ));
        }
        let page = s.emulator.list_messages(id(&c)?, &query).await?;
        let (config, bot) = (s.emulator.config(), s.emulator.bot_user());
        ok(
            StatusCode::OK,
            json!(
                page.iter()
                    .map(|m| wire::message(m, &config, &bot))
                    .collect::<Vec<_>>()
            ),
        )
    })
    .await
}

#[derive(Deserialize, Default)]
struct MessagePayload {
    #[serde(default)]
    content: String,
    #[serde(default)]
    nonce: Option<Value>,
    #[serde(default)]
    enforce_nonce: bool,
    #[serde(default)]
    flags: u64,
}

/// A create-message body: JSON, or multipart with `payload_json` and `files[n]`.
async fn new_message(s: &AppState, req: Request) -> Result<NewMessage, DiscordError> {
    let (payload, files) = message_form(s, req).await?;
    let payload = match payload {
        Some(raw) => body(&raw)?,
        None => MessagePayload::default(),
    };
    payload_message(payload, files)
}

/// A message request's parts: its JSON (the body, or the multipart
/// `payload_json`) and its files (`files[n]`).
pub(super) async fn message_form(
    s: &AppState,
    req: Request,
) -> Result<(Option<Bytes>, Vec<NewFile>), DiscordError> {
    let bad = |e: String| DiscordError::invalid(code::INVALID_JSON, e);
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let raw = Bytes::from_request(req, s)
            .await
            .map_err(|e| bad(e.to_string()))?;
        return Ok((Some(raw), Vec::new()));
    }
    let mut form = Multipart::from_request(req, s)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let (mut payload, mut files) = (None, Vec::new());
    while let Some(field) = form.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(|e| bad(e.to_string()))?;
        if name == "payload_json" {
            payload = Some(bytes);
        } else if name.starts_with("files[") {
            files.push(NewFile {
                filename: filename.unwrap_or(name),
                bytes: bytes.to_vec(),
            });
        }
    }
    Ok((payload, files))
}

fn payload_message(p: MessagePayload, files: Vec<NewFile>) -> Result<NewMessage, DiscordError> {
    let nonce = match p.nonce {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            return Err(DiscordError::invalid_body(
                "nonce: Must be a string or an integer.",
            ));
        }
    };
    Ok(NewMessage {
        content: p.content,
        files,
        nonce,
        enforce_nonce: p.enforce_nonce,
        flags: p.flags,
    })
}

async fn create_message(
    State(s): State<AppState>,
    Path(c): Path<String>,
    req: Request,
) -> Response {
    let state = s.clone();
    s.answer(async move {
        let msg = new_message(&state, req).await?;
        let m = state.emulator.create_message(id(&c)?, &msg).await?;
        ok(
            StatusCode::OK,
            wire::message(&m, &state.emulator.config(), &state.emulator.bot_user()),
        )
    })
    .await
}

async fn get_message(State(s): State<AppState>, Path((c, m)): Path<(String, String)>) -> Response {
    s.answer(async {
        let m = s.emulator.get_message(id(&c)?, id(&m)?).await?;
        ok(
            StatusCode::OK,
            wire::message(&m, &s.emulator.config(), &s.emulator.bot_user()),
        )
    })
    .await
}

async fn edit_message(
    State(s): State<AppState>,
    Path((c, m)): Path<(String, String)>,
    raw: Bytes,
) -> Response {
    s.answer(async {
        let p: MessagePayload = body(&raw)?;
        let m = s
            .emulator
            .edit_message(id(&c)?, id(&m)?, &p.content)
            .await?;
        ok(
            StatusCode::OK,
            wire::message(&m, &s.emulator.config(), &s.emulator.bot_user()),
        )
    })
    .await
}

async fn delete_message(
    State(s): State<AppState>,
    Path((c, m)): Path<(String, String)>,
) -> Response {
    s.answer(async {
        s.emulator.delete_message(id(&c)?, id(&m)?).await?;
        Ok((StatusCode::NO_CONTENT, None))
    })
    .await
}

#[derive(Deserialize)]
struct BulkDelete {
    messages: Vec<Snowflake>,
}

async fn bulk_delete(State(s): State<AppState>, Path(c): Path<String>, raw: Bytes) -> Response {
    s.answer(async {
        let req: BulkDelete = body(&raw)?;
        s.emulator.bulk_delete(id(&c)?, &req.messages).await?;
        Ok((StatusCode::NO_CONTENT, None))
    })
    .await
}

#[derive(Deserialize)]
struct ThreadStart {
    name: String,
    #[serde(default = "a_week")]
    auto_archive_duration: u32,
}

fn a_week() -> u32 {
    10080
}

async fn start_thread(
    State(s): State<AppState>,
    Path((c, m)): Path<(String, String)>,
    raw: Bytes,
) -> Response {
    s.answer(async {
        let req: ThreadStart = body(&raw)?;
        let t = s
            .emulator
            .start_thread_archiving_after(id(&c)?, id(&m)?, &req.name, req.auto_archive_duration)
            .await?;
        ok(
            StatusCode::CREATED,
            wire::channel(&t, &s.emulator.bot_user()),
        )
    })
    .await
}

async fn search(
    State(s): State<AppState>,
    Path(g): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    s.answer(async {
        check_guild(&s, &g)?;
        let query = search_query(&pairs(&q))?;
        let r = s.emulator.search(&query).await?;
        let (config, bot) = (s.emulator.config(), s.emulator.bot_user());
        let groups: Vec<Vec<Value>> = r.messages.iter().map(|g| g.iter().map(|m| wire::message(m, &config, &bot)).collect()).collect();
        ok(StatusCode::OK, json!({"total_results": r.total_results, "messages": groups, "doing_deep_historical_index": r.doing_deep_historical_index}))
    })
    .await
}

fn search_query(pairs: &[(String, String)]) -> Result<SearchQuery, DiscordError> {
    let mut q = SearchQuery::default();
    for (k, v) in pairs {
        match k.as_str() {
            "content" => q.content = Some(v.clone()),
            "channel_id" => q.channel_ids.push(id(v)?),
            "author_id" => q.author_ids.push(id(v)?),
            "mentions" => q.mentions.push(id(v)?),
            "author_type" => q.author_types.push(v.clone()),
            "pinned" => q.pinned = Some(boolean(k, v)?),
            "has" => q.has.push(v.clone()),
            "min_id" => q.min_id = Some(id(v)?),
            "max_id" => q.max_id = Some(id(v)?),
            "limit" => q.limit = Some(number(k, v)?),
            "offset" => q.offset = Some(number(k, v)?),
            "slop" => q.slop = Some(number(k, v)?),
            "sort_by" => q.sort_by = Some(enum_value(k, v)?),
            "sort_order" => q.sort_order = Some(enum_value(k, v)?),
            _ => {}
        }
    }
    Ok(q)
}

fn boolean(key: &str, v: &str) -> Result<bool, DiscordError> {
    match v {
        "true" | "True" | "1" => Ok(true),
        "false" | "False" | "0" => Ok(false),
        _ => Err(DiscordError::invalid_body(format!(
            "{key}: Value \"{v}\" is not a valid boolean."
        ))),
    }
}

fn enum_value<T: for<'de> Deserialize<'de>>(key: &str, v: &str) -> Result<T, DiscordError> {
    serde_json::from_value(json!(v)).map_err(|_| {
        DiscordError::invalid_body(format!("{key}: Value \"{v}\" is not a valid enum value."))
    })
}

/// The CDN: no token, but the URL's signature and expiry are checked; an
/// HTTP `Range` (`bytes=a-b`, `bytes=a-`) gets `206 Partial Content`.
async fn download(
    State(s): State<AppState>,
    Path((c, a, f)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    let base = s.emulator.config().attachment_url_base;
    let url = format!("{base}/attachments/{c}/{a}/{f}?{}", q.unwrap_or_default());
    let Ok(aid) = a.parse() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_range);
    let attachment = Attachment {
        id: aid,
        filename: f,
        size: 0,
        url,
        proxy_url: String::new(),
        content_type: None,
    };
    match s
        .emulator
        .download_attachment(Snowflake(0), Snowflake(0), &attachment, range)
        .await
    {
        Ok(bytes) if range.is_some() => (StatusCode::PARTIAL_CONTENT, bytes).into_response(),
        Ok(bytes) => (StatusCode::OK, bytes).into_response(),
        Err(e) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    }
}

/// `bytes=a-b` (b inclusive) or `bytes=a-` as a byte range.
fn parse_range(header: &str) -> Option<ByteRange> {
    let (start, end) = header.strip_prefix("bytes=")?.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => u64::MAX,
        e => e.parse::<u64>().ok()?.checked_add(1)?,
    };
    (start < end).then_some(ByteRange { start, end })
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

/// Test hook: move the emulator's clock forward.
async fn advance(State(s): State<AppState>, raw: Bytes) -> Response {
    match serde_json::from_slice::<Advance>(&raw) {
        Ok(a) if a.seconds >= 0.0 => {
            let clock = s.emulator.clock();
            clock.advance_to(clock.now_us() + (a.seconds * 1e6) as u64);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => (
            StatusCode::BAD_REQUEST,
            "body must be {\"seconds\": <non-negative number>}",
        )
            .into_response(),
    }
}

/// Test hook: the request counters, as JSON.
async fn counters(State(s): State<AppState>) -> Response {
    axum::Json(s.emulator.counters()).into_response()
}
