//! Opening the session the arguments ask for: the embedded emulator (in a
//! data directory or in memory), or Discord over HTTP.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use discord_api::{AccountedClock, RealClock, SharedClock};
use discord_emulator::EmulatorConfig;
use discord_http::DiscordConfig;

use super::args::{Args, BackendKind};
use crate::session::Session;

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
    match args.backend {
        BackendKind::Embedded => open_embedded(args).await,
        BackendKind::Discord => {
            let mut config =
                DiscordConfig::from_env().context("configuring the Discord backend")?;
            config.rate_limit = args.rate_limit_policy().map_err(anyhow::Error::msg)?;
            Ok(Session::over_http(config, Arc::new(RealClock)).await?)
        }
    }
}

async fn open_embedded(args: &Args) -> Result<Session> {
    let search = args.search.config().map_err(anyhow::Error::msg)?;
    let data_dir = data_dir(args)?;
    let config = EmulatorConfig {
        data_dir: data_dir.clone(),
        search,
        latency: std::time::Duration::from_millis(args.latency),
        ..Default::default()
    };
    let clock: SharedClock = if args.real_time {
        Arc::new(RealClock)
    } else {
        Arc::new(AccountedClock::new())
    };
    let policy = args.rate_limit_policy().map_err(anyhow::Error::msg)?;
    let session = Session::embedded(config, clock, policy)
        .await
        .with_context(|| match &data_dir {
            Some(d) => format!("opening the guild in {}", d.display()),
            None => "opening the in-memory guild".to_string(),
        })?;
    Ok(session)
}
