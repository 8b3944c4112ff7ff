//! The start-up check: one clear message for each way a bot can be unready.

use serde_json::Value;
use serenity::http::{LightMethod, Route};
use serenity::model::id::UserId;

use super::HttpDiscord;
use super::send::parse;
use crate::discord::{DiscordError, User};

/// Why dbcord cannot work with this bot and guild.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("Discord refused the bot token (401): check DISCORD_BOT_TOKEN")]
    InvalidToken,
    #[error(
        "the bot is not in guild {0} (or DBCORD_GUILD_ID is wrong): invite the bot to the guild"
    )]
    NotInGuild(String),
    #[error("the bot lacks permissions in guild {guild}: {missing}; grant them to its role")]
    MissingPermissions { guild: String, missing: String },
    #[error(
        "the Message Content intent is off for this bot, so Discord hides message content and \
         search cannot match it: enable it under Bot > Privileged Gateway Intents in the Developer Portal"
    )]
    NoMessageContent,
    #[error("cannot reach Discord: {0}")]
    Unreachable(String),
    #[error("start-up check failed: {0}")]
    Discord(#[from] DiscordError),
}

/// The permissions dbcord uses, by Discord's bit numbers.
const NEEDED: [(u32, &str); 8] = [
    (4, "MANAGE_CHANNELS"),
    (10, "VIEW_CHANNEL"),
    (11, "SEND_MESSAGES"),
    (13, "MANAGE_MESSAGES"),
    (15, "ATTACH_FILES"),
    (16, "READ_MESSAGE_HISTORY"),
    (35, "CREATE_PUBLIC_THREADS"),
    (38, "SEND_MESSAGES_IN_THREADS"),
];
const ADMINISTRATOR: u64 = 1 << 3;
/// GATEWAY_MESSAGE_CONTENT and GATEWAY_MESSAGE_CONTENT_LIMITED application flags.
const CONTENT_INTENT: u64 = (1 << 18) | (1 << 19);

/// The names of the needed permissions that `perms` lacks.
pub fn missing_permissions(perms: u64) -> Vec<&'static str> {
    if perms & ADMINISTRATOR != 0 {
        return Vec::new();
    }
    NEEDED
        .iter()
        .filter(|(bit, _)| perms & (1 << bit) == 0)
        .map(|(_, name)| *name)
        .collect()
}

impl HttpDiscord {
    /// Token, guild membership, permissions, Message Content intent.
    pub(super) async fn startup_check(&self) -> Result<User, StartupError> {
        let bot: User = self
            .get(Route::UserMe, "user_me")
            .await
            .map_err(|e| match e {
                DiscordError::Unauthorized => StartupError::InvalidToken,
                DiscordError::Transport(t) => StartupError::Unreachable(t),
                other => StartupError::Discord(other),
            })?;
        let guild = self.config.guild_id.to_string();
        let not_in = |e: DiscordError| match e.status() {
            403 | 404 => StartupError::NotInGuild(guild.clone()),
            _ => StartupError::Discord(e),
        };
        let roles: Vec<Value> = self
            .get(
                Route::GuildRoles {
                    guild_id: self.gid(),
                },
                "guild_roles",
            )
            .await
            .map_err(not_in)?;
        let member_route = Route::GuildMember {
            guild_id: self.gid(),
            user_id: UserId::new(bot.id.0.max(1)),
        };
        let member: Value = self
            .get(member_route, "guild_member")
            .await
            .map_err(not_in)?;
        let missing = missing_permissions(permissions(&roles, &member, &guild));
        if !missing.is_empty() {
            return Err(StartupError::MissingPermissions {
                guild,
                missing: missing.join(", "),
            });
        }
        let app: Value = self
            .get(Route::Oauth2ApplicationCurrent, "application")
            .await?;
        if app["flags"].as_u64().unwrap_or(0) & CONTENT_INTENT == 0 {
            return Err(StartupError::NoMessageContent);
        }
        Ok(bot)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        route: Route<'_>,
        name: &'static str,
    ) -> Result<T, DiscordError> {
        let key = self.key(name, self.config.guild_id);
        parse(
            &self
                .call(key, || self.build(route, LightMethod::Get, None, vec![]))
                .await?,
        )
    }
}

/// The bot's permissions: @everyone's (the role whose ID is the guild's) and its roles'.
fn permissions(roles: &[Value], member: &Value, guild: &str) -> u64 {
    let mine: Vec<&str> = member["roles"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    roles
        .iter()
        .filter(|r| {
            r["id"]
                .as_str()
                .is_some_and(|id| id == guild || mine.contains(&id))
        })
        .filter_map(|r| r["permissions"].as_str()?.parse::<u64>().ok())
        .fold(0, |acc, p| acc | p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_missing_permissions() {
        assert!(missing_permissions(ADMINISTRATOR).is_empty());
        let all: u64 = NEEDED.iter().map(|(b, _)| 1u64 << b).sum();
        assert!(missing_permissions(all).is_empty());
        assert_eq!(
            missing_permissions(all & !(1 << 13)),
            vec!["MANAGE_MESSAGES"]
        );
    }
}
