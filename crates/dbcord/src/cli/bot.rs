//! `dbcord bot` and `dbcord emulator interact`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use discord_api::{RealClock, Snowflake};
use discord_http::DiscordConfig;
use serde_json::{Value, json};

use super::args::{BotArgs, InteractArgs};
use crate::bot::run::Policy;
use crate::bot::{Bot, endpoint, server};
use crate::session::{Backend, Session};

/// Resolves on Ctrl-C or SIGTERM.
pub(super) async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Register the commands and answer them until stopped.
pub async fn run(args: &BotArgs) -> Result<ExitCode> {
    let config = DiscordConfig::from_env().context("configuring the bot's Discord connection")?;
    let session = Session::over_http(config.clone(), Arc::new(RealClock)).await?;
    let Backend::Http(http) = session.backend else {
        unreachable!("over_http opens an HTTP backend");
    };
    let policy = Policy {
        read_roles: args.read_role.iter().map(|r| Snowflake(*r)).collect(),
    };
    let bot = Bot::start(Arc::new(session.engine), Arc::clone(&http), policy).await?;
    eprintln!(
        "dbcord bot: {} commands registered in guild {}",
        crate::bot::commands::COMMANDS.len(),
        config.guild_id
    );
    let cut = match args.endpoint {
        Some(addr) => {
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let (bound, task) = endpoint::listen(Arc::clone(&bot), addr, async {
                let _ = stop_rx.await;
            })
            .await?;
            eprintln!(
                "dbcord bot: interactions endpoint at http://{bound}{}",
                endpoint::PATH
            );
            if let Some(url) = &args.public_url {
                http.set_interactions_endpoint(url)
                    .await
                    .context("setting the application's interactions endpoint URL")?;
                eprintln!("dbcord bot: the application's interactions endpoint is now {url}");
            }
            println!("ready");
            let _ = std::io::Write::flush(&mut std::io::stdout());
            stop_signal().await;
            let _ = stop_tx.send(());
            let _ = task.await;
            bot.drain(server::SHUTDOWN_GRACE).await
        }
        None => {
            eprintln!("dbcord bot: connecting to the Gateway");
            let ready = || {
                println!("ready");
                let _ = std::io::Write::flush(&mut std::io::stdout());
            };
            server::run_gateway(Arc::clone(&bot), &config, ready, stop_signal()).await?
        }
    };
    if cut > 0 {
        eprintln!("dbcord bot: stopped with {cut} command(s) cut short (each all or nothing)");
    } else {
        eprintln!("dbcord bot: stopped; every command it took was answered");
    }
    Ok(ExitCode::SUCCESS)
}

/// Type a command as a guild member and print what Discord would show.
pub async fn interact(args: &InteractArgs) -> Result<ExitCode> {
    let url = format!("{}/_emulator/interact", args.api_base.trim_end_matches('/'));
    let resp = reqwest_post(
        &url,
        &json!({
            "command": args.command,
            "user_id": args.user.to_string(),
            "permissions": args.permissions,
            "wait_seconds": args.wait,
        }),
    )
    .await?;
    if let Some(e) = resp.get("error").and_then(Value::as_str) {
        eprintln!("Discord would not send this command: {e}");
        return Ok(ExitCode::from(2));
    }
    print!("{}", shown(&resp));
    let answered = resp["finished"] == true && resp["failure"].is_null();
    Ok(if answered {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The reply as a member sees it.
fn shown(r: &Value) -> String {
    let mut out = String::new();
    if let Some(f) = r["failure"].as_str() {
        out.push_str(&format!("✖ {f}\n"));
        if let Some(d) = r["delivery"].as_str() {
            out.push_str(&format!("  ({d})\n"));
        }
        return out;
    }
    if r["ephemeral"] == true {
        out.push_str("(only you can see this)\n");
    }
    out.push_str(r["content"].as_str().unwrap_or_default());
    out.push('\n');
    for f in r["files"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "📎 {} ({} bytes)\n",
            f["filename"].as_str().unwrap_or_default(),
            f["size"]
        ));
    }
    for f in r["followups"].as_array().into_iter().flatten() {
        out.push_str(&format!("{}\n", f.as_str().unwrap_or_default()));
    }
    out
}

async fn reqwest_post(url: &str, body: &Value) -> Result<Value> {
    let client = discord_http::plain_client();
    let resp = client
        .post(url)
        .json(body)
        .send()
        .await
        .with_context(|| format!("reaching the served emulator at {url}"))?;
    resp.json()
        .await
        .with_context(|| format!("reading the answer of {url}"))
}
