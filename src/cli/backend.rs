//! Opening a guild: the embedded emulator behind the rate-limit waiter, or
//! Discord over HTTP; the store on top, the SQL engine on that.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::args::{Args, BackendKind};
use crate::discord::emulator::{Emulator, EmulatorConfig};
use crate::discord::http::{DiscordConfig, HttpDiscord};
use crate::discord::limiter::Patient;
use crate::discord::{AccountedClock, Discord, RealClock, SharedClock};
use crate::sql::Engine;
use crate::store::Store;

/// Which Discord a session talks to, kept for its cost report.
pub enum Backend {
    Embedded {
        emulator: Arc<Emulator>,
        patient: Arc<Patient<Arc<Emulator>>>,
    },
    Http(Arc<HttpDiscord>),
}

/// An open session: the engine and its backend.
pub struct Session {
    pub engine: Engine,
    pub backend: Backend,
}

/// The default data directory: `$XDG_DATA_HOME/dbcord` or `~/.local/share/dbcord`.
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("dbcord"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/dbcord"))
}

/// The emulator's data directory as the arguments say (`None`: in memory).
pub fn data_dir(args: &Args) -> Result<Option<PathBuf>> {
    if args.in_memory {
        return Ok(None);
    }
    let dir = args.data_dir.clone().or_else(default_data_dir);
    Ok(Some(dir.context(
        "no data directory: pass --data-dir, set DBCORD_DATA_DIR, or use --in-memory",
    )?))
}

pub async fn open(args: &Args) -> Result<Session> {
    let (discord, clock, backend): (Arc<dyn Discord>, SharedClock, Backend) = match args.backend {
        BackendKind::Embedded => open_embedded(args)?,
        BackendKind::Discord => open_http().await?,
    };
    let store = Store::open(discord, clock)
        .await
        .context("loading the catalog from the guild")?;
    Ok(Session {
        engine: Engine::new(Arc::new(store)),
        backend,
    })
}

fn open_embedded(args: &Args) -> Result<(Arc<dyn Discord>, SharedClock, Backend)> {
    if !(0.0..=86_400.0).contains(&args.search_lag) {
        bail!("--search-lag must be between 0 and 86400 seconds");
    }
    let data_dir = data_dir(args)?;
    let config = EmulatorConfig {
        data_dir: data_dir.clone(),
        search_lag: Duration::from_secs_f64(args.search_lag),
        ..Default::default()
    };
    let clock: SharedClock = if args.real_time {
        Arc::new(RealClock)
    } else {
        Arc::new(AccountedClock::new())
    };
    let emulator = Emulator::open(config, Arc::clone(&clock)).with_context(|| match &data_dir {
        Some(d) => format!("opening the emulated guild in {}", d.display()),
        None => "opening the in-memory guild".to_string(),
    })?;
    let emulator = Arc::new(emulator);
    let patient = Arc::new(Patient::new(Arc::clone(&emulator), Arc::clone(&clock)));
    let discord = Arc::clone(&patient) as Arc<dyn Discord>;
    Ok((discord, clock, Backend::Embedded { emulator, patient }))
}

async fn open_http() -> Result<(Arc<dyn Discord>, SharedClock, Backend)> {
    let config = DiscordConfig::from_env().context("configuring the Discord backend")?;
    let clock: SharedClock = Arc::new(RealClock);
    let http = Arc::new(HttpDiscord::connect(config, Arc::clone(&clock)).await?);
    Ok((
        Arc::clone(&http) as Arc<dyn Discord>,
        clock,
        Backend::Http(http),
    ))
}

impl Session {
    /// What the session has cost on Discord so far, in a few lines.
    pub fn cost_report(&self) -> String {
        match &self.backend {
            Backend::Embedded { emulator, patient } => {
                let c = emulator.counters();
                let waits = patient.wait_stats();
                let mut routes: Vec<String> = c
                    .by_route
                    .iter()
                    .map(|(r, n)| format!("{r} {}", n.requests))
                    .collect();
                if routes.is_empty() {
                    routes.push("none".into());
                }
                format!(
                    "Discord requests: {} ({})\nrate limited: {} times, {:.1} s of waiting accounted",
                    c.total_requests(),
                    routes.join(", "),
                    waits.waits,
                    waits.waited.as_secs_f64()
                )
            }
            Backend::Http(h) => format!(
                "rate limited: {} times (429 answers); {:.1} s spent waiting for rate limits",
                h.rate_limited(),
                h.rate_limit_waited().as_secs_f64()
            ),
        }
    }
}
