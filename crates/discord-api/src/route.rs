//! The REST routes dbcord uses: the key of rate-limit buckets and request
//! counters on both sides (the client's limiter and the emulator).

use std::fmt;

use serde::Serialize;

/// One REST route. Discord keys a bucket by route and top-level resource
/// (channel or guild); the resource travels beside the route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `GET /users/@me`
    UserMe,
    /// `GET /oauth2/applications/@me`
    Application,
    /// `GET /guilds/{guild}/roles`
    GuildRoles,
    /// `GET /guilds/{guild}/members/{user}`
    GuildMember,
    /// `GET /guilds/{guild}/members`
    ListMembers,
    /// `GET /guilds/{guild}/threads/active`
    ActiveThreads,
    /// `GET /channels/{channel}/threads/archived/public`
    ArchivedThreads,
    /// `GET /guilds/{guild}/channels`
    ListChannels,
    /// `POST /guilds/{guild}/channels`
    CreateChannel,
    /// `GET /channels/{channel}`
    GetChannel,
    /// `PATCH /channels/{channel}`
    EditChannel,
    /// `DELETE /channels/{channel}`
    DeleteChannel,
    /// `POST /channels/{channel}/messages`
    CreateMessage,
    /// `GET /channels/{channel}/messages/{message}`
    GetMessage,
    /// `GET /channels/{channel}/messages`
    ListMessages,
    /// `PATCH /channels/{channel}/messages/{message}`
    EditMessage,
    /// `DELETE /channels/{channel}/messages/{message}`
    DeleteMessage,
    /// `POST /channels/{channel}/messages/bulk-delete`
    BulkDelete,
    /// `GET /guilds/{guild}/messages/search`
    Search,
    /// `POST /channels/{channel}/messages/{message}/threads`
    StartThread,
    /// A file from the CDN: not an API request, not API rate limited.
    DownloadAttachment,
    /// `PUT /applications/{app}/guilds/{guild}/commands`
    Commands,
    /// `POST /interactions/{id}/{token}/callback`
    InteractionCallback,
    /// `PATCH /webhooks/{app}/{token}/messages/@original`, `POST /webhooks/{app}/{token}`
    InteractionWebhook,
}

impl Route {
    /// Every route, for reports that list them all.
    pub const ALL: [Route; 24] = [
        Route::UserMe,
        Route::Application,
        Route::GuildRoles,
        Route::GuildMember,
        Route::ListMembers,
        Route::ActiveThreads,
        Route::ArchivedThreads,
        Route::ListChannels,
        Route::CreateChannel,
        Route::GetChannel,
        Route::EditChannel,
        Route::DeleteChannel,
        Route::CreateMessage,
        Route::GetMessage,
        Route::ListMessages,
        Route::EditMessage,
        Route::DeleteMessage,
        Route::BulkDelete,
        Route::Search,
        Route::StartThread,
        Route::DownloadAttachment,
        Route::Commands,
        Route::InteractionCallback,
        Route::InteractionWebhook,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::UserMe => "user_me",
            Route::Application => "application",
            Route::GuildRoles => "guild_roles",
            Route::GuildMember => "guild_member",
            Route::ListMembers => "list_members",
            Route::ActiveThreads => "active_threads",
            Route::ArchivedThreads => "archived_threads",
            Route::ListChannels => "list_channels",
            Route::CreateChannel => "create_channel",
            Route::GetChannel => "get_channel",
            Route::EditChannel => "edit_channel",
            Route::DeleteChannel => "delete_channel",
            Route::CreateMessage => "create_message",
            Route::GetMessage => "get_message",
            Route::ListMessages => "list_messages",
            Route::EditMessage => "edit_message",
            Route::DeleteMessage => "delete_message",
            Route::BulkDelete => "bulk_delete",
            Route::Search => "search",
            Route::StartThread => "start_thread",
            Route::DownloadAttachment => "download_attachment",
            Route::Commands => "commands",
            Route::InteractionCallback => "interaction_callback",
            Route::InteractionWebhook => "interaction_webhook",
        }
    }

    /// Whether a request on the route changes the guild (or answers an
    /// interaction): what a read-only reader must never send.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Route::CreateChannel
                | Route::EditChannel
                | Route::DeleteChannel
                | Route::CreateMessage
                | Route::EditMessage
                | Route::DeleteMessage
                | Route::BulkDelete
                | Route::StartThread
                | Route::Commands
                | Route::InteractionCallback
                | Route::InteractionWebhook
        )
    }

    /// Whether the route goes to the CDN rather than the API.
    pub fn is_cdn(self) -> bool {
        self == Route::DownloadAttachment
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
