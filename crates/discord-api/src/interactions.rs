//! Discord's facts about application commands, interactions and the
//! Gateway, in one place for the bot and the emulator.
//!
//! Sources: Discord's developer documentation ("Application Commands",
//! "Receiving and Responding", "Gateway", "Interactions: Overview"), its
//! OpenAPI description, and `shared/discord-api-notes.md`.

use std::time::Duration;

/// The first response to an interaction must arrive within this, or the
/// interaction is gone (10062 Unknown interaction) and the user sees
/// "The application did not respond".
pub const RESPONSE_DEADLINE: Duration = Duration::from_secs(3);
/// An interaction's token edits the reply and sends followups this long.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Interaction types (`type` of an interaction).
pub mod kind {
    pub const PING: u8 = 1;
    pub const APPLICATION_COMMAND: u8 = 2;
    pub const AUTOCOMPLETE: u8 = 4;
}

/// Interaction callback types (`type` of a response).
pub mod callback {
    pub const PONG: u8 = 1;
    /// A message, now.
    pub const CHANNEL_MESSAGE: u8 = 4;
    /// "Thinking...": the message comes later, as an edit of `@original`.
    pub const DEFERRED_CHANNEL_MESSAGE: u8 = 5;
    pub const AUTOCOMPLETE_RESULT: u8 = 8;
}

/// Application command option types.
pub mod option_type {
    pub const STRING: u8 = 3;
    pub const INTEGER: u8 = 4;
    pub const BOOLEAN: u8 = 5;
    pub const NUMBER: u8 = 10;
    /// The option types a chat command's options may be (1 and 2 are
    /// subcommands and groups, which dbcord does not use).
    pub const VALUES: [u8; 9] = [3, 4, 5, 6, 7, 8, 9, 10, 11];
}

/// Message flags on a reply.
pub mod flag {
    /// No link previews for URLs in the content.
    pub const SUPPRESS_EMBEDS: u64 = 1 << 2;
    /// Only the member who invoked the command sees the reply.
    pub const EPHEMERAL: u64 = 1 << 6;
}

/// Permission bits a command may require.
pub mod permission {
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_GUILD: u64 = 1 << 5;
}

/// Discord's JSON error codes for interactions.
pub mod code {
    /// The interaction is unknown: not acknowledged within 3 s, or never was.
    pub const UNKNOWN_INTERACTION: u32 = 10062;
    /// A second initial response to the same interaction.
    pub const ALREADY_ACKNOWLEDGED: u32 = 40060;
    /// The interaction token has expired (15 minutes) or is wrong.
    pub const INVALID_WEBHOOK_TOKEN: u32 = 50027;
    /// Bulk overwrite: more commands than a day's 200 creates allow.
    pub const MAX_DAILY_COMMAND_CREATES: u32 = 30034;
}

/// Limits on registered commands, enforced as Discord enforces them.
pub mod command_limits {
    /// Chat commands per application per guild.
    pub const MAX_COMMANDS: usize = 100;
    /// Options per command.
    pub const MAX_OPTIONS: usize = 25;
    /// Characters in a name (1 to 32, `^[-_'\p{L}\p{N}]{1,32}$`, lower case).
    pub const MAX_NAME: usize = 32;
    /// Characters in a description (1 to 100).
    pub const MAX_DESCRIPTION: usize = 100;
    /// Characters of names, descriptions and choices of one command, all told.
    pub const MAX_TOTAL_CHARS: usize = 8000;
    /// New commands a day per guild.
    pub const CREATES_PER_DAY: usize = 200;
    /// Choices an autocomplete answer holds at most.
    pub const MAX_CHOICES: usize = 25;
}

/// The headers Discord signs an interaction POST with: Ed25519 over the
/// timestamp followed by the raw body, hex-encoded.
pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";

/// The Gateway: API version, opcodes, intents, close codes.
pub mod gateway {
    pub const VERSION: u8 = 10;
    pub mod op {
        pub const DISPATCH: u8 = 0;
        pub const HEARTBEAT: u8 = 1;
        pub const IDENTIFY: u8 = 2;
        pub const PRESENCE_UPDATE: u8 = 3;
        pub const VOICE_STATE_UPDATE: u8 = 4;
        pub const RESUME: u8 = 6;
        pub const RECONNECT: u8 = 7;
        pub const REQUEST_GUILD_MEMBERS: u8 = 8;
        pub const INVALID_SESSION: u8 = 9;
        pub const HELLO: u8 = 10;
        pub const HEARTBEAT_ACK: u8 = 11;
    }
    /// GUILDS: what an interactions bot needs (interactions come without any intent).
    pub const INTENT_GUILDS: u64 = 1;
    /// MESSAGE_CONTENT: privileged, on when the application's flags say so.
    pub const INTENT_MESSAGE_CONTENT: u64 = 1 << 15;
    /// Privileged intents: GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT.
    pub const PRIVILEGED_INTENTS: u64 = (1 << 1) | (1 << 8) | INTENT_MESSAGE_CONTENT;
    /// Every intent Discord defines (bits 0 to 25, less the retired ones).
    pub const ALL_INTENTS: u64 = (1 << 26) - 1;
    /// The heartbeat interval HELLO announces (Discord: 41.25 s).
    pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;
    pub mod close {
        pub const UNKNOWN_OPCODE: u16 = 4001;
        pub const DECODE_ERROR: u16 = 4002;
        pub const NOT_AUTHENTICATED: u16 = 4003;
        pub const AUTHENTICATION_FAILED: u16 = 4004;
        pub const ALREADY_AUTHENTICATED: u16 = 4005;
        pub const INVALID_SEQ: u16 = 4007;
        pub const SESSION_TIMED_OUT: u16 = 4009;
        pub const INVALID_INTENTS: u16 = 4013;
        pub const DISALLOWED_INTENTS: u16 = 4014;
    }
}

/// Whether `name` is a valid chat command or option name: 1 to 32
/// characters, letters, digits, `-`, `_` or `'`, and no upper case.
pub fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=command_limits::MAX_NAME).contains(&n)
        && name
            .chars()
            .all(|c| (c.is_alphanumeric() || matches!(c, '-' | '_' | '\'')) && !c.is_uppercase())
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_discords_pattern() {
        assert!(valid_name("dbc_find"));
        assert!(valid_name("where_json"));
        assert!(!valid_name("Find"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"a".repeat(33)));
    }
}
