//! Downloading an attachment as a client must: attachment URLs are signed
//! and expire, so a refused URL means "re-read the message for a fresh one".

use crate::limits::code;
use crate::{Attachment, ByteRange, Discord, DiscordError, DiscordResult, Snowflake};

/// The bytes of `attachment` of `message` in `channel` (or `range` of
/// them); if its URL has expired, once more with a fresh URL.
pub async fn download(
    discord: &dyn Discord,
    channel: Snowflake,
    message: Snowflake,
    attachment: &Attachment,
    range: Option<ByteRange>,
) -> DiscordResult<Vec<u8>> {
    match discord
        .download_attachment(channel, message, attachment, range)
        .await
    {
        Err(e) if expired(&e) => {
            let fresh = discord.get_message(channel, message).await?;
            let a = fresh
                .attachments
                .iter()
                .find(|a| a.id == attachment.id)
                .ok_or_else(|| DiscordError::NotFound {
                    code: code::UNKNOWN_ATTACHMENT,
                    message: "the message no longer has this attachment".into(),
                })?;
            discord
                .download_attachment(channel, message, a, range)
                .await
        }
        other => other,
    }
}

/// Whether a refused download means an expired (or otherwise stale) URL.
fn expired(e: &DiscordError) -> bool {
    matches!(e.status(), 403 | 404 | 410)
}
