//! Configuration of the real backend: from the environment or a `.env` file.

use std::time::Duration;

use discord_api::{RateLimitPolicy, Snowflake};

use crate::secret::Secret;

/// Where and as whom to reach Discord. `Debug` never shows the token.
#[derive(Clone, Debug)]
pub struct DiscordConfig {
    pub token: Secret,
    pub guild_id: Snowflake,
    /// `https://discord.com` for Discord; `http://127.0.0.1:PORT` for a served emulator.
    pub api_base: String,
    /// How long one request may take before it counts as lost.
    pub request_timeout: Duration,
    /// Retries of a 5xx, a timeout or a broken connection, with backoff.
    pub max_retries: u32,
    /// How 429s are waited out, and the longest single wait.
    pub rate_limit: RateLimitPolicy,
    /// Invalid answers (401, 403, 429) in 10 minutes after which dbcord
    /// stops sending, below Discord's ban threshold of 10,000.
    pub invalid_request_budget: u32,
}

/// What is missing or wrong in the configuration.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("DISCORD_BOT_TOKEN is not set (in the environment or .env)")]
    NoToken,
    #[error("DBCORD_GUILD_ID is not set (in the environment or .env)")]
    NoGuild,
    #[error("DBCORD_GUILD_ID \"{0}\" is not a Discord ID (a number)")]
    BadGuild(String),
    #[error("DISCORD_API_BASE \"{0}\" must start with http:// or https://")]
    BadBase(String),
}

pub const DEFAULT_API_BASE: &str = "https://discord.com";

/// Why a file is not private to its owner, if it is not (Unix modes).
pub fn readable_by_others(path: &std::path::Path) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o004 != 0 {
            return Some("every user of this machine can read it");
        }
        if mode & 0o040 != 0 {
            return Some("its group can read it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// A tenth below Discord's ban threshold.
pub const DEFAULT_INVALID_REQUEST_BUDGET: u32 = 9_000;

impl DiscordConfig {
    /// Read `DISCORD_BOT_TOKEN`, `DBCORD_GUILD_ID` and `DISCORD_API_BASE`,
    /// after loading `.env` if there is one (the environment wins).
    pub fn from_env() -> Result<Self, ConfigError> {
        if let Ok(path) = dotenvy::dotenv()
            && let Some(why) = readable_by_others(&path)
        {
            tracing::warn!(
                "{} holds the bot token and {why}; make it private: chmod 600 {}",
                path.display(),
                path.display()
            );
        }
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let token = Secret::new(get("DISCORD_BOT_TOKEN").unwrap_or_default());
        if token.is_empty() {
            return Err(ConfigError::NoToken);
        }
        let guild = get("DBCORD_GUILD_ID")
            .filter(|g| !g.trim().is_empty())
            .ok_or(ConfigError::NoGuild)?;
        let guild_id = guild
            .trim()
            .parse()
            .map_err(|_| ConfigError::BadGuild(guild.clone()))?;
        let base = get("DISCORD_API_BASE").filter(|b| !b.trim().is_empty());
        let api_base = normalise_base(base.as_deref().unwrap_or(DEFAULT_API_BASE))?;
        Ok(DiscordConfig {
            token,
            guild_id,
            api_base,
            request_timeout: Duration::from_secs(15),
            max_retries: 5,
            rate_limit: RateLimitPolicy::default(),
            invalid_request_budget: DEFAULT_INVALID_REQUEST_BUDGET,
        })
    }
}

/// `http://host:port`, without a trailing `/` or `/api/v10`.
pub fn normalise_base(base: &str) -> Result<String, ConfigError> {
    let b = base.trim().trim_end_matches('/');
    let b = b
        .strip_suffix("/api/v10")
        .unwrap_or(b)
        .trim_end_matches('/');
    if b.starts_with("http://") || b.starts_with("https://") {
        Ok(b.to_string())
    } else {
        Err(ConfigError::BadBase(base.to_string()))
    }
}

#[cfg(test)]
mod permission_tests {
    #[cfg(unix)]
    #[test]
    fn a_dotenv_others_can_read_is_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "DISCORD_BOT_TOKEN=x\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            super::readable_by_others(&path),
            Some("every user of this machine can read it")
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(
            super::readable_by_others(&path),
            Some("its group can read it")
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(super::readable_by_others(&path), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn reads_and_checks_the_environment() {
        let c = DiscordConfig::from_lookup(env(&[
            ("DISCORD_BOT_TOKEN", "sekrit"),
            ("DBCORD_GUILD_ID", "123"),
            ("DISCORD_API_BASE", "http://127.0.0.1:9/api/v10/"),
        ]))
        .unwrap();
        assert_eq!(c.api_base, "http://127.0.0.1:9");
        assert_eq!(c.guild_id, Snowflake(123));
        assert!(!format!("{c:?}").contains("sekrit"));
        assert_eq!(
            DiscordConfig::from_lookup(env(&[])).unwrap_err(),
            ConfigError::NoToken
        );
        let bad = DiscordConfig::from_lookup(env(&[
            ("DISCORD_BOT_TOKEN", "t"),
            ("DBCORD_GUILD_ID", "x1"),
        ]));
        assert_eq!(bad.unwrap_err(), ConfigError::BadGuild("x1".into()));
    }
}
