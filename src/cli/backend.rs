//! Opening a guild: the embedded emulator behind the rate-limit waiter, the
//! store on top, the SQL engine on that.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::args::Args;
use crate::discord::emulator::{Emulator, EmulatorConfig};
use crate::discord::limiter::Patient;
use crate::discord::{AccountedClock, Discord, SharedClock};
use crate::sql::Engine;
use crate::store::Store;

/// An open session: the engine, and the emulator for its counters.
pub struct Session {
    pub engine: Engine,
    pub emulator: Arc<Emulator>,
    pub discord: Arc<Patient<Arc<Emulator>>>,
}

/// The default data directory: `$XDG_DATA_HOME/dbcord` or `~/.local/share/dbcord`.
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("dbcord"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/dbcord"))
}

pub async fn open(args: &Args) -> Result<Session> {
    if !(0.0..=86_400.0).contains(&args.search_lag) {
        bail!("--search-lag must be between 0 and 86400 seconds");
    }
    let data_dir = if args.in_memory {
        None
    } else {
        let dir = args.data_dir.clone().or_else(default_data_dir);
        Some(dir.context(
            "no data directory: pass --data-dir, set DBCORD_DATA_DIR, or use --in-memory",
        )?)
    };
    let config = EmulatorConfig {
        data_dir: data_dir.clone(),
        search_lag: Duration::from_secs_f64(args.search_lag),
        ..Default::default()
    };
    let clock: SharedClock = Arc::new(AccountedClock::new());
    let emulator = Emulator::open(config, Arc::clone(&clock)).with_context(|| match &data_dir {
        Some(d) => format!("opening the emulated guild in {}", d.display()),
        None => "opening the in-memory guild".to_string(),
    })?;
    let emulator = Arc::new(emulator);
    let discord = Arc::new(Patient::new(Arc::clone(&emulator), Arc::clone(&clock)));
    let store = Store::open(Arc::clone(&discord) as Arc<dyn Discord>, clock)
        .await
        .context("loading the catalog from the guild")?;
    Ok(Session {
        engine: Engine::new(Arc::new(store)),
        emulator,
        discord,
    })
}

impl Session {
    /// What the session has cost on Discord so far, in a few lines.
    pub fn cost_report(&self) -> String {
        let c = self.emulator.counters();
        let waits = self.discord.wait_stats();
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
}
