//! The running bot: registers the commands, answers each interaction
//! within Discord's 3 s (at once for what needs no storage: refusals, bad
//! JSON, autocomplete; otherwise "thinking..." first and the answer as an
//! edit of the reply), and on shutdown lets the running statements finish
//! before it goes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinSet;

use discord_api::Snowflake;
use discord_api::interactions::{callback, command_limits::MAX_CHOICES};
use discord_http::{HttpDiscord, ReplyBody};

use super::audit::Audit;
use super::commands::{Access, access, definitions};
use super::invocation::{Invocation, Kind};
use super::reply::{self, Answer};
use super::run::{self, Policy};
use crate::sql::Engine;

/// How long a shutdown waits for running commands.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

/// Why the bot could not start.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("reading the application: {0}")]
    Application(discord_api::DiscordError),
    #[error("registering the commands: {0}")]
    Register(discord_api::DiscordError),
    #[error("{0}")]
    Gateway(String),
    #[error("the interactions endpoint: {0}")]
    Endpoint(String),
}

/// The first answer to an interaction.
#[derive(Debug)]
pub enum First {
    Pong,
    /// A message now; nothing follows.
    Now(ReplyBody),
    /// "Thinking..."; the command runs, then edits the reply.
    Defer,
    /// Autocomplete choices.
    Choices(Value),
}

impl First {
    /// The interaction response's body.
    pub fn body(&self) -> ReplyBody {
        match self {
            First::Pong => ReplyBody {
                json: json!({"type": callback::PONG}),
                files: Vec::new(),
            },
            First::Now(b) => b.clone(),
            First::Defer => ReplyBody {
                json: reply::deferred(false),
                files: Vec::new(),
            },
            First::Choices(c) => ReplyBody {
                json: json!({"type": callback::AUTOCOMPLETE_RESULT, "data": {"choices": c}}),
                files: Vec::new(),
            },
        }
    }
}

/// The bot: its engine, its Discord, its application and who may read.
pub struct Bot {
    pub engine: Arc<Engine>,
    pub http: Arc<HttpDiscord>,
    pub application: Snowflake,
    /// The application's public key (hex), for the endpoint.
    pub public_key: String,
    policy: Policy,
    /// Where writes are logged with their member (none if it could not be made).
    pub audit: Option<Audit>,
    tasks: Mutex<JoinSet<()>>,
}

impl Bot {
    /// Read the application and register the commands (a bulk overwrite:
    /// the same list again changes nothing, so every start may do it).
    pub async fn start(
        engine: Arc<Engine>,
        http: Arc<HttpDiscord>,
        policy: Policy,
    ) -> Result<Arc<Bot>, BotError> {
        let app = http.application().await.map_err(BotError::Application)?;
        let application = app["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| discord_api::Discord::bot_user_id(http.as_ref()));
        let public_key = app["verify_key"].as_str().unwrap_or_default().to_string();
        http.overwrite_guild_commands(application, &definitions())
            .await
            .map_err(BotError::Register)?;
        let audit = match Audit::open(Arc::clone(&http) as Arc<dyn discord_api::Discord>).await {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!("no #dbc-audit channel, so writes are not logged there: {e}");
                None
            }
        };
        Ok(Arc::new(Bot {
            engine,
            http,
            application,
            public_key,
            policy,
            audit,
            tasks: Mutex::new(JoinSet::new()),
        }))
    }

    /// The first answer, decided without touching storage.
    pub fn first(&self, inv: &Invocation) -> First {
        match &inv.kind {
            Kind::Ping => First::Pong,
            Kind::Autocomplete { focused } => First::Choices(self.choices(inv, focused)),
            Kind::Other(t) => First::Now(reply::immediate(&Answer::Error(format!(
                "interactions of type {t} are not handled"
            )))),
            Kind::Command => {
                let refused = run::allowed(inv, &self.policy).and_then(|()| run::precheck(inv));
                match refused {
                    Err(e) => First::Now(reply::immediate(&Answer::Error(e))),
                    Ok(()) => First::Defer,
                }
            }
        }
    }

    /// Run a deferred command and put its answer in the reply.
    pub async fn finish(&self, inv: &Invocation) {
        let answer = run::run(&self.engine, inv).await;
        if let Answer::Error(e) = &answer {
            tracing::info!(user = %inv.user_id, command = %inv.name, "refused: {e}");
        } else {
            tracing::info!(user = %inv.user_id, command = %inv.name, "answered");
        }
        if let (Some(audit), Some(Access::Write)) = (&self.audit, access(&inv.name)) {
            let outcome = match &answer {
                Answer::Error(e) => format!("refused: {e}"),
                Answer::Text(t) => t.clone(),
                Answer::Rows { batches, .. } => {
                    format!(
                        "{} rows",
                        batches.iter().map(|b| b.num_rows()).sum::<usize>()
                    )
                }
                Answer::File { line, .. } => line.clone(),
            };
            audit.record(inv, &outcome).await;
        }
        let body = reply::message(&answer);
        // Over the endpoint, the "thinking..." answer travels back in the
        // HTTP response: an edit may arrive before Discord has it (10008).
        for _ in 0..30 {
            match self
                .http
                .edit_original(self.application, &inv.token, &body)
                .await
            {
                Err(discord_api::DiscordError::NotFound { code, .. })
                    if code == discord_api::limits::code::UNKNOWN_MESSAGE =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => {
                    tracing::warn!("editing the reply to /{}: {e}", inv.name);
                    return;
                }
                Ok(_) => return,
            }
        }
    }

    /// Answer an interaction that came over the Gateway.
    pub async fn answer(self: Arc<Self>, v: Value) {
        let Some(inv) = Invocation::read(&v) else {
            return;
        };
        let first = self.first(&inv);
        if let Err(e) = self
            .http
            .interaction_callback(inv.id, &inv.token, &first.body())
            .await
        {
            // Late (10062) or answered twice (40060): the member sees
            // Discord's own failure, and nothing runs.
            tracing::warn!("answering /{} from {}: {e}", inv.name, inv.user_id);
            return;
        }
        if matches!(first, First::Defer) {
            self.finish(&inv).await;
        }
    }

    /// Run `work` as one of the bot's tasks (waited for at shutdown).
    pub fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .spawn(work);
    }

    /// Wait for the running commands (at most `grace`); say how many were
    /// cut short. A command cut short is all or nothing, as any statement.
    pub async fn drain(&self, grace: Duration) -> usize {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        let waited =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if waited.is_ok() {
            return 0;
        }
        let left = tasks.len();
        tasks.shutdown().await;
        left
    }

    /// Autocomplete: database, table and field names that start with what
    /// was typed.
    fn choices(&self, inv: &Invocation, focused: &str) -> Value {
        let typed = inv.text(focused).unwrap_or_default().to_lowercase();
        let store = self.engine.store();
        let names = match focused {
            "database" => store.database_names(),
            "table" => inv
                .text("database")
                .map(|db| store.table_names(db))
                .unwrap_or_default(),
            "field" => match (inv.text("database"), inv.text("table")) {
                (Some(db), Some(t)) => store
                    .table(db, t)
                    .map(|d| d.columns.iter().map(|c| c.name.clone()).collect())
                    .unwrap_or_default(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let list: Vec<Value> = names
            .into_iter()
            .filter(|n| n.to_lowercase().starts_with(&typed))
            .take(MAX_CHOICES)
            .map(|n| json!({"name": n, "value": n}))
            .collect();
        Value::Array(list)
    }
}

/// How long the Gateway may take to say READY.
const READY_WAIT: Duration = Duration::from_secs(30);

/// Answer interactions from the Gateway until `shutdown` resolves, then
/// let the running commands finish (within [`SHUTDOWN_GRACE`]);
/// `on_ready` runs once the session is READY.
pub async fn run_gateway(
    bot: Arc<Bot>,
    config: &discord_http::DiscordConfig,
    on_ready: impl FnOnce(),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<usize, BotError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let intents = discord_api::interactions::gateway::INTENT_GUILDS;
    let mut conn = discord_http::gateway::connect(config, intents, tx)
        .await
        .map_err(BotError::Gateway)?;
    let session = tokio::time::timeout(READY_WAIT, conn.ready.recv()).await;
    match session {
        Ok(Some(id)) => tracing::info!("connected to the Gateway, session {id}"),
        _ => {
            conn.shutdown().await;
            return Err(BotError::Gateway(format!(
                "no READY from the Gateway within {} s",
                READY_WAIT.as_secs()
            )));
        }
    }
    on_ready();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            v = rx.recv() => match v {
                Some(v) => {
                    let b = Arc::clone(&bot);
                    bot.spawn(async move { b.answer(v).await });
                }
                None => break,
            },
        }
    }
    let cut = bot.drain(SHUTDOWN_GRACE).await;
    conn.shutdown().await;
    Ok(cut)
}
