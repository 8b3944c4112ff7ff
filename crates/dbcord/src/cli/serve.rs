//! `dbcord emulator serve`: the emulator as Discord API v10 on an address.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use discord_api::{Discord, ScaledClock, Snowflake};
use discord_emulator::EmulatorConfig;
use discord_emulator::serve::{self, EdgeRules, ServeOptions};

use super::args::{Args, ServeArgs};
use super::backend::data_dir;

/// Serve until Ctrl-C; prints the API base and guild ID once ready.
pub async fn run(args: &Args, serve_args: &ServeArgs) -> Result<()> {
    let s = serve_args;
    if !(s.time_scale > 0.0 && s.time_scale <= 10_000.0) {
        bail!("--time-scale must be above 0 and at most 10000");
    }
    let faults = s.faults.plan(s.faults.seed().unwrap_or(0));
    let mut config = EmulatorConfig {
        data_dir: data_dir(args)?,
        search: s.search.config().map_err(anyhow::Error::msg)?,
        latency: Duration::from_millis(s.latency),
        message_content_intent: !s.no_message_content,
        ..Default::default()
    };
    if let Some(g) = s.guild_id {
        config.guild_id = Snowflake(g);
    }
    let options = ServeOptions {
        token: s.token.clone(),
        time_scale: s.time_scale,
        faults,
        edge: EdgeRules {
            require_user_agent: !s.allow_any_user_agent,
            ban_after: s.ban_after.max(1),
            ..EdgeRules::default()
        },
    };
    let clock = Arc::new(ScaledClock::new(s.time_scale));
    let served = serve::start(s.addr, config, clock, options).await?;
    let addr = served.addr;
    println!("dbcord emulator: Discord API v10 at http://{addr}/api/v10");
    println!("DISCORD_API_BASE=http://{addr}");
    println!("DBCORD_GUILD_ID={}", served.emulator.guild_id());
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    eprintln!("stopped");
    Ok(())
}
