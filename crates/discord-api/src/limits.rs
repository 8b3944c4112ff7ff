//! Every Discord fact the client and the emulator both rely on: sizes,
//! pages, rates, permission bits, intent flags and error codes.
//!
//! Sources: Discord's API documentation and OpenAPI description (see
//! `shared/discord-api-notes.md`). Where a number is observed by others
//! rather than documented, its comment says so. Nothing else in the
//! workspace writes these numbers as literals.

use std::time::Duration;

/// Message content, in UTF-16 code units (bots get 2000; 4000 is Nitro's).
pub const MAX_CONTENT_LEN: usize = 2000;
/// Attachments on one message.
pub const MAX_FILES: usize = 10;
/// Bytes in one attachment (the default since 2025-01).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Bytes of all attachments in one request.
pub const MAX_REQUEST_BYTES: usize = 25 * 1024 * 1024;
/// Characters in a message nonce.
pub const MAX_NONCE_LEN: usize = 25;
/// How long Discord remembers a nonce for `enforce_nonce` ("a few minutes").
pub const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Messages in one history page (`limit` 1 to 100).
pub const HISTORY_PAGE: u32 = 100;
/// Messages in one bulk delete: at least 2, at most 100.
pub const BULK_DELETE_MIN: usize = 2;
pub const BULK_DELETE_MAX: usize = 100;
/// Bulk delete refuses messages older than this.
pub const BULK_DELETE_MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600);

/// Channels (categories included, threads not) in one guild.
pub const MAX_GUILD_CHANNELS: usize = 500;
/// Channels in one category.
pub const MAX_CATEGORY_CHANNELS: usize = 50;
/// Characters in a channel or thread name.
pub const MAX_CHANNEL_NAME_LEN: usize = 100;
/// Characters in a text channel's topic.
pub const MAX_TOPIC_LEN: usize = 1024;

/// Search: hits per page (`limit` 1 to 25).
pub const SEARCH_PAGE: u32 = 25;
/// Search: the largest `offset`; one query reaches at most 10,000 hits.
pub const MAX_SEARCH_OFFSET: u32 = 9975;
/// Search: characters in `content`.
pub const MAX_SEARCH_CONTENT: usize = 1024;
/// Search: `channel_id` values in one query.
pub const MAX_SEARCH_CHANNELS: usize = 500;
/// Search: the largest `slop`, and the default.
pub const MAX_SLOP: u32 = 100;
pub const DEFAULT_SLOP: u32 = 2;
/// Search: `author_id` and `mentions` values in one query.
pub const MAX_SEARCH_USERS: usize = 100;
/// Search: the values `author_type` accepts (each may be negated with `-`).
pub const SEARCH_AUTHOR_TYPES: [&str; 3] = ["user", "bot", "webhook"];
/// Members listed per request (`GET /guilds/{guild}/members?limit=`).
pub const MEMBERS_PAGE: u32 = 1000;
/// Archived threads listed per request.
pub const THREADS_PAGE: u32 = 100;
/// Search: the values `has` accepts (each may be negated with `-`).
pub const SEARCH_HAS_VALUES: [&str; 9] = [
    "link", "embed", "poll", "file", "video", "image", "sound", "sticker", "snapshot",
];

/// Requests per second per bot, across all routes.
pub const GLOBAL_PER_SECOND: u32 = 50;
/// Invalid requests (401, 403, 429) allowed per window before Cloudflare bans the IP.
pub const INVALID_REQUEST_LIMIT: u32 = 10_000;
pub const INVALID_REQUEST_WINDOW: Duration = Duration::from_secs(600);

/// `auto_archive_duration` values a thread accepts, in minutes.
pub const THREAD_ARCHIVE_MINUTES: [u32; 4] = [60, 1440, 4320, 10080];

/// Message flag: no link previews (embeds) for URLs in the content.
pub const FLAG_SUPPRESS_EMBEDS: u64 = 1 << 2;

/// Channel types by Discord's `type` number.
pub mod channel_type {
    pub const TEXT: u8 = 0;
    pub const VOICE: u8 = 2;
    pub const CATEGORY: u8 = 4;
    pub const ANNOUNCEMENT: u8 = 5;
    pub const ANNOUNCEMENT_THREAD: u8 = 10;
    pub const PUBLIC_THREAD: u8 = 11;
    pub const PRIVATE_THREAD: u8 = 12;
    pub const STAGE: u8 = 13;
    pub const FORUM: u8 = 15;

    /// Whether messages are posted in channels of this type (and read with history).
    pub fn holds_messages(kind: u8) -> bool {
        matches!(kind, TEXT | VOICE | ANNOUNCEMENT | STAGE) || is_thread(kind)
    }

    pub fn is_thread(kind: u8) -> bool {
        matches!(kind, ANNOUNCEMENT_THREAD | PUBLIC_THREAD | PRIVATE_THREAD)
    }

    /// The name a person knows the type by.
    pub fn name(kind: u8) -> &'static str {
        match kind {
            TEXT => "text",
            VOICE => "voice",
            CATEGORY => "category",
            ANNOUNCEMENT => "announcement",
            ANNOUNCEMENT_THREAD => "announcement_thread",
            PUBLIC_THREAD => "public_thread",
            PRIVATE_THREAD => "private_thread",
            STAGE => "stage",
            FORUM => "forum",
            _ => "other",
        }
    }
}

/// Permission bits, by Discord's numbering.
pub mod permission {
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_CHANNELS: u64 = 1 << 4;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;

    /// What a bot needs to keep a database in a guild, with the names people see.
    pub const NEEDED_BY_DBCORD: [(u64, &str); 8] = [
        (MANAGE_CHANNELS, "MANAGE_CHANNELS"),
        (VIEW_CHANNEL, "VIEW_CHANNEL"),
        (SEND_MESSAGES, "SEND_MESSAGES"),
        (MANAGE_MESSAGES, "MANAGE_MESSAGES"),
        (ATTACH_FILES, "ATTACH_FILES"),
        (READ_MESSAGE_HISTORY, "READ_MESSAGE_HISTORY"),
        (CREATE_PUBLIC_THREADS, "CREATE_PUBLIC_THREADS"),
        (SEND_MESSAGES_IN_THREADS, "SEND_MESSAGES_IN_THREADS"),
    ];
}

/// Application flags that say the Message Content intent is on
/// (GATEWAY_MESSAGE_CONTENT and GATEWAY_MESSAGE_CONTENT_LIMITED).
pub const MESSAGE_CONTENT_INTENT_FLAGS: u64 = (1 << 18) | (1 << 19);

/// Discord's JSON error codes, as far as dbcord meets them.
pub mod code {
    pub const UNKNOWN_CHANNEL: u32 = 10003;
    pub const UNKNOWN_GUILD: u32 = 10004;
    pub const UNKNOWN_MEMBER: u32 = 10007;
    pub const UNKNOWN_MESSAGE: u32 = 10008;
    pub const UNKNOWN_ATTACHMENT: u32 = 10046;
    pub const MAX_GUILD_CHANNELS: u32 = 30013;
    pub const MAX_ATTACHMENTS: u32 = 30015;
    pub const ENTITY_TOO_LARGE: u32 = 40005;
    pub const MISSING_ACCESS: u32 = 50001;
    pub const CANNOT_EDIT_OTHERS: u32 = 50005;
    pub const EMPTY_MESSAGE: u32 = 50006;
    pub const MISSING_PERMISSIONS: u32 = 50013;
    pub const BULK_DELETE_COUNT: u32 = 50016;
    pub const WRONG_CHANNEL_TYPE: u32 = 50024;
    pub const BULK_DELETE_TOO_OLD: u32 = 50034;
    pub const INVALID_FORM_BODY: u32 = 50035;
    pub const INVALID_JSON: u32 = 50109;
    pub const INDEX_NOT_READY: u32 = 110000;
    pub const THREAD_EXISTS: u32 = 160004;
    pub const MAX_ACTIVE_THREADS: u32 = 160006;
}
