//! The `discord` schema's errors: a refused write, and Discord's refusals.

use datafusion::error::DataFusionError;

/// The error for any write to the `discord` schema.
pub fn read_only(what: &str, table: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{what} on discord.{table} is refused: the discord schema is read-only (the guild's own channels and messages; dbcord never writes them)"
    ))
}

/// A Discord error as a query's error.
pub fn discord_error(e: discord_api::DiscordError) -> DataFusionError {
    DataFusionError::External(Box::new(crate::Error::Discord(e)))
}
