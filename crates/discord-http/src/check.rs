//! The start-up check: one clear message for each way a bot can be unready.

use serde_json::Value;
use serenity::http::{LightMethod, Route};
use serenity::model::id::UserId;

use discord_api::limits::{MESSAGE_CONTENT_INTENT_FLAGS, permission};
use discord_api::{DiscordError, Route as ApiRoute, User};

use crate::HttpDiscord;
use crate::send::parse;

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

/// The names of the needed permissions that `perms` lacks.
pub fn missing_permissions(perms: u64) -> Vec<&'static str> {
    if perms & permission::ADMINISTRATOR != 0 {
        return Vec::new();
    }
    permission::NEEDED_BY_DBCORD
        .iter()
        .filter(|(bit, _)| perms & bit == 0)
        .map(|(_, name)| *name)
        .collect()
}

impl HttpDiscord {
    /// Token, guild membership, permissions, Message Content intent.
    pub(crate) async fn startup_check(&self) -> Result<User, StartupError> {
        let bot: User = self
            .get(Route::UserMe, ApiRoute::UserMe)
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
                ApiRoute::GuildRoles,
            )
            .await
            .map_err(not_in)?;
        let member_route = Route::GuildMember {
            guild_id: self.gid(),
            user_id: UserId::new(bot.id.0.max(1)),
        };
        let member: Value = self
            .get(member_route, ApiRoute::GuildMember)
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
            .get(Route::Oauth2ApplicationCurrent, ApiRoute::Application)
            .await?;
        if app["flags"].as_u64().unwrap_or(0) & MESSAGE_CONTENT_INTENT_FLAGS == 0 {
            return Err(StartupError::NoMessageContent);
        }
        Ok(bot)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        route: Route<'_>,
        name: ApiRoute,
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
        assert!(missing_permissions(permission::ADMINISTRATOR).is_empty());
        let all: u64 = permission::NEEDED_BY_DBCORD.iter().map(|(b, _)| b).sum();
        assert!(missing_permissions(all).is_empty());
        assert_eq!(
            missing_permissions(all & !permission::MANAGE_MESSAGES),
            vec!["MANAGE_MESSAGES"]
        );
    }
}
