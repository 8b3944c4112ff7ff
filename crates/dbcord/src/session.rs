//! One way to wire the stack: a Discord backend, the store on it, the SQL
//! engine on that. The shell, the benchmark and the tests all open their
//! sessions here.

use std::sync::Arc;

use discord_api::{Discord, RateLimitPolicy, SharedClock, WaitStats, Waiting};
use discord_emulator::{Emulator, EmulatorConfig, JournalError};
use discord_http::{DiscordConfig, HttpDiscord, StartupError};

use crate::sql::Engine;
use crate::store::Store;

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("opening the emulated guild: {0}")]
    Emulator(#[from] JournalError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("loading the catalog from the guild: {0}")]
    Catalog(#[from] crate::Error),
}

/// Which Discord a session talks to, kept for its cost report.
pub enum Backend {
    /// The in-process emulator, behind the client's rate-limit policy.
    Embedded {
        emulator: Arc<Emulator>,
        discord: Arc<Waiting<Arc<Emulator>>>,
    },
    /// Discord, or a served emulator, over HTTP.
    Http(Arc<HttpDiscord>),
}

/// An open session: the engine and the backend under it.
pub struct Session {
    pub engine: Engine,
    pub backend: Backend,
}

impl Session {
    /// A session on an embedded emulator opened with `config` on `clock`,
    /// its 429s waited out under `policy`.
    pub async fn embedded(
        config: EmulatorConfig,
        clock: SharedClock,
        policy: RateLimitPolicy,
    ) -> Result<Session, OpenError> {
        let emulator = Arc::new(Emulator::open(config, Arc::clone(&clock))?);
        Self::attach(emulator, clock, policy).await
    }

    /// Another session on an emulator already open: what a second dbcord
    /// process on the same guild sees (its own caches, its own client).
    pub async fn attach(
        emulator: Arc<Emulator>,
        clock: SharedClock,
        policy: RateLimitPolicy,
    ) -> Result<Session, OpenError> {
        let discord = Arc::new(Waiting::new(
            Arc::clone(&emulator),
            Arc::clone(&clock),
            policy,
        ));
        let store = Store::open(Arc::clone(&discord) as Arc<dyn Discord>, clock).await?;
        Ok(Session {
            engine: Engine::new(Arc::new(store)),
            backend: Backend::Embedded { emulator, discord },
        })
    }

    /// A session on Discord's HTTP API (or a served emulator), after the start-up check.
    pub async fn over_http(
        config: DiscordConfig,
        clock: SharedClock,
    ) -> Result<Session, OpenError> {
        let http = Arc::new(HttpDiscord::connect(config, Arc::clone(&clock)).await?);
        let store = Store::open(Arc::clone(&http) as Arc<dyn Discord>, clock).await?;
        Ok(Session {
            engine: Engine::new(Arc::new(store)),
            backend: Backend::Http(http),
        })
    }

    /// The embedded emulator, if the session runs on one.
    pub fn emulator(&self) -> Option<&Arc<Emulator>> {
        match &self.backend {
            Backend::Embedded { emulator, .. } => Some(emulator),
            Backend::Http(_) => None,
        }
    }

    /// Rate-limit waiting done by the client so far.
    pub fn wait_stats(&self) -> WaitStats {
        match &self.backend {
            Backend::Embedded { discord, .. } => discord.wait_stats(),
            Backend::Http(h) => WaitStats {
                waits: h.rate_limited(),
                waited: h.rate_limit_waited(),
            },
        }
    }

    /// What the session has cost on Discord so far, in a few lines.
    pub fn cost_report(&self) -> String {
        let waits = self.wait_stats();
        let waited = format!(
            "rate limited: {} times, {:.1} s of waiting",
            waits.waits,
            waits.waited.as_secs_f64()
        );
        let Some(emulator) = self.emulator() else {
            return waited;
        };
        let c = emulator.counters();
        let mut routes: Vec<String> = c
            .by_route
            .iter()
            .map(|(r, n)| format!("{r} {}", n.requests))
            .collect();
        if routes.is_empty() {
            routes.push("none".into());
        }
        format!(
            "Discord requests: {} ({})\nCDN: {} bytes down; {} bytes uploaded (messages and \
             attachments)\n{waited} accounted",
            c.total_requests(),
            routes.join(", "),
            c.cdn_bytes,
            c.uploaded_bytes + c.content_bytes
        )
    }
}
