//! Every write command is logged with the member who ran it, in the
//! guild's `#dbc-audit` channel (made by the bot, outside every database's
//! category), one message a command, written after it ran: a row's
//! `history()` names the commits, and the audit line just after a commit
//! names who made it.

use std::sync::Arc;

use discord_api::{Discord, DiscordResult, NewMessage, Snowflake};

use super::invocation::Invocation;
use super::reply::fit;
use crate::store::{AUDIT_CHANNEL, audit_topic, find_or_make_guild_channel};

/// The audit channel.
pub struct Audit {
    discord: Arc<dyn Discord>,
    channel: Snowflake,
}

impl Audit {
    /// Find the audit channel (by name and dbcord's topic), or make it.
    pub async fn open(discord: Arc<dyn Discord>) -> DiscordResult<Audit> {
        let channel = find_or_make_guild_channel(&*discord, AUDIT_CHANNEL, &audit_topic()).await?;
        Ok(Audit { discord, channel })
    }

    pub fn channel(&self) -> Snowflake {
        self.channel
    }

    /// Log that `inv`'s member ran it, and what came of it. Mentions are
    /// off for every message dbcord posts, so a user ID never pings.
    pub async fn record(&self, inv: &Invocation, outcome: &str) {
        let line = fit(&format!(
            "member {} ran {} → {outcome}",
            inv.user_id,
            typed(inv)
        ));
        let mut msg = NewMessage::idempotent(line);
        msg.flags = discord_api::limits::FLAG_SUPPRESS_EMBEDS;
        if let Err(e) = self.discord.create_message(self.channel, &msg).await {
            tracing::warn!("the audit line for /{} was not written: {e}", inv.name);
        }
    }
}

/// The command as the member typed it.
fn typed(inv: &Invocation) -> String {
    let mut out = format!("/{}", inv.name);
    for (name, value) in &inv.options {
        let v = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push_str(&format!(" {name}:{v}"));
    }
    out
}
