//! The Discord objects and request shapes dbcord exchanges, as Discord's JSON has them.
//!
//! These read and write the API v10 wire format directly (field names, string
//! snowflakes, ISO-8601 timestamps), so an HTTP backend can decode responses
//! into them and the emulator can serve them without translation.

use serde::{Deserialize, Serialize};

use crate::snowflake::Snowflake;

/// Discord counts text length as JavaScript does: in UTF-16 code units
/// (an emoji outside the BMP counts twice against the 2000).
pub fn discord_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A guild channel, category or thread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<Snowflake>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub parent_id: Option<Snowflake>,
    #[serde(default)]
    pub position: i64,
    /// The newest message posted in the channel (it may since have been
    /// deleted); `None` for a channel nobody has posted in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<Snowflake>,
    /// Threads only: whether it is archived, and after how long it archives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_metadata: Option<ThreadMetadata>,
}

impl Channel {
    /// The thread started on `message` in `channel`, as far as a client
    /// knows it without asking: a thread's ID is its starter message's.
    pub fn thread_of(channel: Snowflake, message: Snowflake, name: &str) -> Channel {
        Channel {
            id: message,
            kind: crate::limits::channel_type::PUBLIC_THREAD,
            guild_id: None,
            name: name.to_string(),
            topic: None,
            parent_id: Some(channel),
            position: 0,
            last_message_id: None,
            thread_metadata: None,
        }
    }
}

/// A thread's state: threads archive after `auto_archive_duration` minutes
/// without activity; posting into an archived, unlocked thread unarchives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadMetadata {
    pub archived: bool,
    /// Minutes: 60, 1440, 4320 or 10080.
    pub auto_archive_duration: u32,
    #[serde(default)]
    pub locked: bool,
    /// When it was last archived or unarchived (ISO-8601): archived
    /// threads are listed by it, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_timestamp: Option<String>,
}

/// A message author.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Snowflake,
    pub username: String,
    #[serde(default)]
    pub discriminator: String,
    #[serde(default)]
    pub bot: bool,
}

/// A file attached to a message. `url` is signed and expires on Discord:
/// keep the IDs and re-read the message for a fresh URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: Snowflake,
    pub filename: String,
    pub size: u64,
    pub url: String,
    #[serde(default)]
    pub proxy_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// Bytes `start..end` of an attachment (end exclusive), for an HTTP range request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `Range` header asking for these bytes (HTTP ranges end inclusive).
    pub fn header(&self) -> String {
        format!("bytes={}-{}", self.start, self.end.saturating_sub(1))
    }

    /// These bytes of `whole`, clipped to its length.
    pub fn slice<'a>(&self, whole: &'a [u8]) -> &'a [u8] {
        let end = (self.end as usize).min(whole.len());
        &whole[(self.start as usize).min(end)..end]
    }
}

/// A message. `hit` is set on the matching message of a search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: Snowflake,
    pub channel_id: Snowflake,
    pub author: User,
    pub content: String,
    /// ISO-8601 creation time.
    pub timestamp: String,
    #[serde(default)]
    pub edited_timestamp: Option<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default, rename = "type")]
    pub kind: u8,
    #[serde(default)]
    pub pinned: bool,
    /// Discord echoes a nonce as it was sent, string or integer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nonce_text"
    )]
    pub nonce: Option<String>,
    /// Message flags (SUPPRESS_EMBEDS is 1 << 2).
    #[serde(default)]
    pub flags: u64,
    /// The users named as `<@id>` in the content (whether or not anyone
    /// was pinged: `allowed_mentions` only decides notifications).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<User>,
    /// Link previews and rich embeds, as Discord's JSON has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<serde_json::Value>,
    /// The message this one replies to (or forwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_reference: Option<MessageReference>,
    /// Set on messages a webhook posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit: Option<bool>,
}

impl Message {
    /// Whether the content holds a URL (what search's `has=link` finds).
    pub fn has_link(&self) -> bool {
        self.content.contains("http://") || self.content.contains("https://")
    }
}

/// What a reply points at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Snowflake>,
}

/// A member of the guild (`GET /guilds/{guild}/members`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub user: User,
    #[serde(default)]
    pub nick: Option<String>,
    #[serde(default)]
    pub roles: Vec<Snowflake>,
    /// ISO-8601.
    pub joined_at: String,
}

/// A role of the guild (`GET /guilds/{guild}/roles`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub id: Snowflake,
    pub name: String,
    /// The permission bits, as the decimal string Discord sends.
    #[serde(default)]
    pub permissions: String,
    #[serde(default)]
    pub position: i64,
    #[serde(default)]
    pub color: u32,
    #[serde(default)]
    pub hoist: bool,
    #[serde(default)]
    pub managed: bool,
    #[serde(default)]
    pub mentionable: bool,
}

/// A page of archived threads (`GET /channels/{id}/threads/archived/public`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadPage {
    pub threads: Vec<Channel>,
    #[serde(default)]
    pub has_more: bool,
}

/// A nonce as text, whether Discord sent a string or an integer.
fn nonce_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// What to create: a category or text channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewChannel {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Snowflake>,
}

impl NewChannel {
    /// Whether `c` is what creating this made: same kind, parent, name
    /// (Discord lower-cases text channel names) and topic, if it has one
    /// (so that a person's channel of the same name is never taken for it).
    pub fn is_made_as(&self, c: &Channel) -> bool {
        let name = if self.kind == crate::limits::channel_type::TEXT {
            self.name.to_lowercase()
        } else {
            self.name.clone()
        };
        c.name == name
            && c.kind == self.kind
            && c.parent_id == self.parent_id
            && (self.topic.is_none() || c.topic == self.topic)
    }
}

/// A file to upload with a message.
#[derive(Clone, Debug, PartialEq)]
pub struct NewFile {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// A message to create. Every backend sends it with mentions disabled
/// (`allowed_mentions: {"parse": []}`) so that data never pings anyone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewMessage {
    pub content: String,
    pub files: Vec<NewFile>,
    /// Up to 25 characters; with `enforce_nonce` a repeat returns the first message.
    pub nonce: Option<String>,
    pub enforce_nonce: bool,
    /// Message flags; data messages set SUPPRESS_EMBEDS so URLs in values never unfurl.
    pub flags: u64,
}

impl NewMessage {
    pub fn text(content: impl Into<String>) -> Self {
        NewMessage {
            content: content.into(),
            ..Default::default()
        }
    }

    /// A create that a retry cannot duplicate: a fresh nonce, enforced.
    pub fn idempotent(content: impl Into<String>) -> Self {
        NewMessage {
            content: content.into(),
            files: Vec::new(),
            nonce: Some(crate::nonce::new_nonce()),
            enforce_nonce: true,
            flags: crate::limits::FLAG_SUPPRESS_EMBEDS,
        }
    }

    /// This message with `files` attached.
    pub fn with_files(self, files: Vec<NewFile>) -> Self {
        NewMessage { files, ..self }
    }
}

/// Where a history page starts. The three anchors are mutually exclusive on
/// Discord, which the enum makes impossible to get wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryAnchor {
    /// The newest messages.
    Latest,
    Before(Snowflake),
    After(Snowflake),
    Around(Snowflake),
}

/// `GET /channels/{id}/messages`: at most 100 messages a page, newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryQuery {
    pub anchor: HistoryAnchor,
    pub limit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    Timestamp,
    Relevance,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

/// `GET /guilds/{guild}/messages/search`. Unset fields take Discord's defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchQuery {
    pub content: Option<String>,
    /// Any of these channels (threads are channels of their own).
    pub channel_ids: Vec<Snowflake>,
    /// Any of these authors (up to 100).
    pub author_ids: Vec<Snowflake>,
    /// `user`, `bot`, `webhook`, each may be negated with `-`.
    pub author_types: Vec<String>,
    /// Messages mentioning any of these users (up to 100).
    pub mentions: Vec<Snowflake>,
    pub pinned: Option<bool>,
    /// Every one of these (`link`, `file`, ...; `-link`: none).
    pub has: Vec<String>,
    pub min_id: Option<Snowflake>,
    pub max_id: Option<Snowflake>,
    /// 1 to 25; default 25.
    pub limit: Option<u32>,
    /// 0 to 9975; default 0.
    pub offset: Option<u32>,
    pub sort_by: Option<SortBy>,
    pub sort_order: Option<SortOrder>,
    /// 0 to 100; default 2.
    pub slop: Option<u32>,
}

impl SearchQuery {
    /// The query as URL query pairs, arrays repeated per value (`channel_id=1&channel_id=2`).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut push = |k: &'static str, v: Option<String>| {
            if let Some(v) = v {
                pairs.push((k, v));
            }
        };
        push("content", self.content.clone());
        push("pinned", self.pinned.map(|v| v.to_string()));
        push("min_id", self.min_id.map(|v| v.to_string()));
        push("max_id", self.max_id.map(|v| v.to_string()));
        push("limit", self.limit.map(|v| v.to_string()));
        push("offset", self.offset.map(|v| v.to_string()));
        push("slop", self.slop.map(|v| v.to_string()));
        push("sort_by", self.sort_by.map(|v| enum_word(&v)));
        push("sort_order", self.sort_order.map(|v| enum_word(&v)));
        for c in &self.channel_ids {
            pairs.push(("channel_id", c.to_string()));
        }
        for a in &self.author_ids {
            pairs.push(("author_id", a.to_string()));
        }
        for t in &self.author_types {
            pairs.push(("author_type", t.clone()));
        }
        for m in &self.mentions {
            pairs.push(("mentions", m.to_string()));
        }
        for h in &self.has {
            pairs.push(("has", h.clone()));
        }
        pairs
    }
}

fn enum_word<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A search answer: each inner array holds one hit (Discord used to send context messages too).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub total_results: u64,
    pub messages: Vec<Vec<Message>>,
    #[serde(default)]
    pub doing_deep_historical_index: bool,
}

impl SearchResults {
    /// The hit of each result group.
    pub fn hits(&self) -> impl Iterator<Item = &Message> {
        self.messages
            .iter()
            .filter_map(|group| group.iter().find(|m| m.hit == Some(true)).or(group.first()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_length() {
        assert_eq!(discord_len("é"), 1);
        assert_eq!(discord_len("😀"), 2);
    }

    #[test]
    fn search_pairs_repeat_arrays() {
        let q = SearchQuery {
            content: Some("a&b".into()),
            channel_ids: vec![Snowflake(1), Snowflake(2)],
            sort_order: Some(SortOrder::Asc),
            ..Default::default()
        };
        let pairs = q.to_pairs();
        assert!(pairs.contains(&("sort_order", "asc".to_string())));
        assert_eq!(pairs.iter().filter(|(k, _)| *k == "channel_id").count(), 2);
    }

    #[test]
    fn a_channel_made_is_known_by_name_parent_and_topic() {
        let want = NewChannel {
            name: "Table-Users".into(),
            kind: crate::limits::channel_type::TEXT,
            topic: Some("dbcord table main.users".into()),
            parent_id: Some(Snowflake(7)),
        };
        let made = Channel {
            name: "table-users".into(),
            topic: want.topic.clone(),
            ..Channel::thread_of(Snowflake(7), Snowflake(9), "x")
        };
        let made = Channel {
            kind: crate::limits::channel_type::TEXT,
            ..made
        };
        assert!(want.is_made_as(&made));
        let persons = Channel {
            topic: Some("ours".into()),
            ..made.clone()
        };
        assert!(
            !want.is_made_as(&persons),
            "a person's channel of the same name"
        );
        let elsewhere = Channel {
            parent_id: None,
            ..made
        };
        assert!(!want.is_made_as(&elsewhere));
    }
}
