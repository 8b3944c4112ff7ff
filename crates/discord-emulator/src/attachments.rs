//! Attachment bytes and their signed, expiring URLs.
//!
//! Discord's attachment URLs carry `ex` (expiry) and `is` (issue time), hex
//! Unix seconds, and `hm`, a signature over both: a URL stops working when
//! it expires or when any part is changed. The emulator signs every URL it
//! hands out the same way, so that dbcord must keep IDs, never URLs, and
//! re-read a message for a fresh one.

use std::collections::HashMap;
use std::sync::Arc;

use discord_api::limits::code;
use discord_api::{Attachment, ByteRange, DiscordError, DiscordResult, Message, Snowflake};

use crate::{Inner, draw};

/// In-memory attachment bytes (when there is no data directory).
#[derive(Debug, Default)]
pub struct AttachmentStore {
    bytes: HashMap<Snowflake, Arc<Vec<u8>>>,
}

impl AttachmentStore {
    /// Drop the bytes of these attachments (their messages are gone).
    pub(crate) fn forget(&mut self, ids: &[Snowflake]) {
        for id in ids {
            self.bytes.remove(id);
        }
    }
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
        let issued = now_us / 1_000_000;
        let expires = issued + self.config.attachment_url_ttl.as_secs();
        for a in &mut out.attachments {
            let path = format!("attachments/{}/{}/{}", m.channel_id, a.id, a.filename);
            let hm = self.signature(&path, expires, issued);
            a.url = format!(
                "{}/{path}?ex={expires:x}&is={issued:x}&hm={hm}&",
                self.config.attachment_url_base
            );
            a.proxy_url = a.url.clone();
        }
        out
    }

    /// The bytes behind a signed URL; a URL whose signature is wrong or
    /// whose `ex` has passed gets Discord's "no longer available".
    pub(crate) fn download(
        &mut self,
        a: &Attachment,
        range: Option<ByteRange>,
        now_us: u64,
    ) -> DiscordResult<Vec<u8>> {
        let gone = || DiscordError::NotFound {
            code: code::UNKNOWN_ATTACHMENT,
            message: "This content is no longer available.".into(),
        };
        let url = SignedUrl::parse(&a.url).ok_or_else(gone)?;
        let valid = url.hm == self.signature(&url.path, url.ex, url.is)
            && url.path.split('/').nth(2) == Some(a.id.to_string().as_str());
        if !valid || now_us / 1_000_000 >= url.ex {
            return Err(gone());
        }
        // Only what is sent is read or copied, not the whole file.
        let bytes = match &self.journal {
            Some(j) => j.get_attachment(a.id, range).map_err(|_| gone())?,
            None => {
                let whole = self.files.bytes.get(&a.id).ok_or_else(gone)?;
                match range {
                    Some(r) => r.slice(whole).to_vec(),
                    None => whole.to_vec(),
                }
            }
        };
        self.counters.cdn_bytes += bytes.len() as u64;
        Ok(bytes)
    }

    /// `hm`: 64 hex digits keyed by the guild, over the path, `ex` and `is`
    /// (Discord's is an undocumented HMAC; this one only has to catch tampering).
    fn signature(&self, path: &str, ex: u64, is: u64) -> String {
        let key = self.state.guild_id.0 ^ 0x6174_7461_6368_6d6e;
        let about = [draw::text_hash(path), ex, is];
        (0..4u64)
            .map(|lane| format!("{:016x}", draw::hash(key ^ lane, &about)))
            .collect()
    }
}

/// The parts of an attachment URL the CDN checks.
struct SignedUrl {
    path: String,
    ex: u64,
    is: u64,
    hm: String,
}

impl SignedUrl {
    fn parse(url: &str) -> Option<SignedUrl> {
        let (base, query) = url.split_once('?')?;
        let path = base[base.find("attachments/")?..].to_string();
        let mut ex = None;
        let mut is = None;
        let mut hm = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=')? {
                ("ex", v) => ex = u64::from_str_radix(v, 16).ok(),
                ("is", v) => is = u64::from_str_radix(v, 16).ok(),
                ("hm", v) => hm = Some(v.to_string()),
                _ => {}
            }
        }
        Some(SignedUrl {
            path,
            ex: ex?,
            is: is?,
            hm: hm?,
        })
    }
}
