//! The bot's Gateway connection: serenity's client (IDENTIFY with the
//! intents asked for, heartbeats, RESUME, reconnects), pointed at the API
//! base, handing every interaction on as Discord's JSON so that the bot
//! answers it the same way whether it came over the Gateway or was POSTed
//! to its endpoint.

use std::sync::Arc;

use serde_json::Value;
use serenity::all::{Context, EventHandler, GatewayIntents, Interaction, Ready};
use serenity::gateway::ShardManager;
use serenity::http::HttpBuilder;
use tokio::sync::mpsc;

use crate::config::{DEFAULT_API_BASE, DiscordConfig};

/// Hands interactions on, and says when the session is ready.
struct Forward {
    interactions: mpsc::UnboundedSender<Value>,
    ready: mpsc::UnboundedSender<String>,
}

#[serenity::async_trait]
impl EventHandler for Forward {
    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        // serenity writes a variant's fields back without its `type`.
        let kind = match &interaction {
            Interaction::Ping(_) => 1,
            Interaction::Command(_) => 2,
            Interaction::Component(_) => 3,
            Interaction::Autocomplete(_) => 4,
            Interaction::Modal(_) => 5,
            _ => 0,
        };
        match serde_json::to_value(&interaction) {
            Ok(mut v) => {
                v["type"] = serde_json::json!(kind);
                let _ = self.interactions.send(v);
            }
            Err(e) => tracing::warn!("an interaction could not be read back as JSON: {e}"),
        }
    }

    async fn ready(&self, _ctx: Context, ready: Ready) {
        let _ = self.ready.send(ready.session_id.clone());
    }
}

/// A running Gateway connection.
pub struct GatewayConnection {
    manager: Arc<ShardManager>,
    task: tokio::task::JoinHandle<()>,
    /// Session IDs, one per READY (a new IDENTIFY; a RESUME sends none).
    pub ready: mpsc::UnboundedReceiver<String>,
}

impl GatewayConnection {
    /// Close the connection.
    pub async fn shutdown(self) {
        self.manager.shutdown_all().await;
        let _ = self.task.await;
    }
}

/// Connect to the Gateway as `config`'s bot with `intents`; interactions
/// arrive on `interactions`. serenity's own REST rate limiter is off:
/// dbcord's limiter answers for REST.
pub async fn connect(
    config: &DiscordConfig,
    intents: u64,
    interactions: mpsc::UnboundedSender<Value>,
) -> Result<GatewayConnection, String> {
    let mut http = HttpBuilder::new(config.token.expose()).ratelimiter_disabled(true);
    if config.api_base != DEFAULT_API_BASE {
        http = http.proxy(config.api_base.clone());
    }
    let (ready_tx, ready) = mpsc::unbounded_channel();
    let handler = Forward {
        interactions,
        ready: ready_tx,
    };
    let intents = GatewayIntents::from_bits_truncate(intents);
    let mut client = serenity::client::ClientBuilder::new_with_http(http.build(), intents)
        .event_handler(handler)
        .await
        .map_err(|e| {
            config
                .token
                .scrub(&format!("starting the Gateway client: {e}"))
        })?;
    let manager = Arc::clone(&client.shard_manager);
    let scrub = config.token.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = client.start().await {
            tracing::error!(
                "{}",
                scrub.scrub(&format!("the Gateway connection ended: {e}"))
            );
        }
    });
    Ok(GatewayConnection {
        manager,
        task,
        ready,
    })
}
