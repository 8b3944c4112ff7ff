//! Attachment bytes and their signed, expiring URLs.
//!
//! Discord's attachment URLs carry an expiry (`ex=`, hex Unix seconds) and
//! stop working after it; the emulator signs every URL it hands out the same
//! way, so that dbcord must re-read a message to get a fresh one.

use std::collections::HashMap;
use std::sync::Arc;

use discord_api::limits::code;
use discord_api::{Attachment, DiscordError, DiscordResult, Message, Snowflake};

use crate::Inner;

/// In-memory attachment bytes (when there is no data directory).
#[derive(Debug, Default)]
pub struct AttachmentStore {
    bytes: HashMap<Snowflake, Arc<Vec<u8>>>,
}

impl Inner {
    pub(crate) fn store_file(&mut self, id: Snowflake, bytes: &[u8]) -> DiscordResult<()> {
        match &self.journal {
            Some(j) => j.put_attachment(id, bytes).map_err(|e| {
                tracing::error!("emulator could not store an attachment: {e}");
                DiscordError::Server {
                    status: 500,
                    message: "emulator storage failure".into(),
                }
            }),
            None => {
                self.files.bytes.insert(id, Arc::new(bytes.to_vec()));
                Ok(())
            }
        }
    }

    /// A message as the API returns it: attachment URLs freshly signed.
    pub(crate) fn render(&self, m: &Message, now_us: u64) -> Message {
        let mut out = m.clone();
        let expires = now_us / 1_000_000 + self.config.attachment_url_ttl.as_secs();
        for a in &mut out.attachments {
            a.url = format!(
                "{}/attachments/{}/{}/{}?ex={:x}",
                self.config.attachment_url_base, m.channel_id, a.id, a.filename, expires
            );
            a.proxy_url = a.url.clone();
        }
        out
    }

    pub(crate) fn download(&self, a: &Attachment, now_us: u64) -> DiscordResult<Vec<u8>> {
        let gone = || DiscordError::NotFound {
            code: code::UNKNOWN_ATTACHMENT,
            message: "This content is no longer available.".into(),
        };
        let expires = a
            .url
            .rsplit_once("?ex=")
            .and_then(|(_, hex)| u64::from_str_radix(hex, 16).ok())
            .ok_or_else(gone)?;
        if now_us / 1_000_000 >= expires {
            return Err(gone());
        }
        match &self.journal {
            Some(j) => j.get_attachment(a.id).map_err(|_| gone()),
            None => self
                .files
                .bytes
                .get(&a.id)
                .map(|b| b.to_vec())
                .ok_or_else(gone),
        }
    }
}
