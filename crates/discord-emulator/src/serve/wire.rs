//! Discord's JSON, field for field: what the served emulator sends.
//!
//! dbcord's own types carry what dbcord reads; Discord's responses carry
//! more, and the OpenAPI description marks much of it required. These
//! functions add the rest with the values a plain bot message, text channel
//! or thread has, so that any client (serenity included) can read them.

use serde_json::{Value, json};

use discord_api::limits::code;
use discord_api::{
    Channel, DiscordError, Member, Message, RateLimitScope, Role, User, channel_type,
};

use crate::EmulatorConfig;

/// A user object (`UserResponse`, and `UserPIIResponse` with `pii`).
pub fn user(u: &User, pii: bool) -> Value {
    let mut v = json!({
        "id": u.id, "username": u.username, "avatar": null, "discriminator": "0",
        "public_flags": 0, "flags": 0, "global_name": null, "primary_guild": null, "bot": u.bot,
    });
    if pii {
        v["mfa_enabled"] = json!(false);
        v["locale"] = json!("en-US");
    }
    v
}

/// A message (`MessageResponse`). Without the Message Content intent,
/// messages the bot did not write come with empty content, as on Discord.
pub fn message(m: &Message, config: &EmulatorConfig, bot: &User) -> Value {
    let hidden = !config.message_content_intent && m.author.id != bot.id;
    let attachments: Vec<Value> = m
        .attachments
        .iter()
        .map(|a| json!({"id": a.id, "filename": a.filename, "size": a.size, "url": a.url, "proxy_url": a.proxy_url}))
        .collect();
    let mut v = json!({
        "type": m.kind, "content": if hidden { "" } else { m.content.as_str() },
        "mentions": m.mentions.iter().map(|u| user(u, false)).collect::<Vec<_>>(),
        "mention_roles": [], "mention_everyone": false,
        "attachments": attachments, "embeds": m.embeds, "components": [],
        "timestamp": m.timestamp, "edited_timestamp": m.edited_timestamp,
        "flags": m.flags, "id": m.id, "channel_id": m.channel_id,
        "author": user(&m.author, false), "pinned": m.pinned, "tts": false,
    });
    if let Some(n) = &m.nonce {
        // Discord echoes a nonce as it came; one sent as a number comes back
        // as a number, which is what a client must be ready for.
        v["nonce"] = match n.parse::<u64>() {
            Ok(number) if !n.starts_with('0') => json!(number),
            _ => json!(n),
        };
    }
    if let Some(r) = &m.message_reference {
        v["message_reference"] =
            json!({"type": 0, "message_id": r.message_id, "channel_id": r.channel_id});
    }
    if let Some(w) = m.webhook_id {
        v["webhook_id"] = json!(w);
    }
    if let Some(hit) = m.hit {
        v["hit"] = json!(hit);
    }
    v
}

/// A member (`GuildMemberResponse`).
pub fn member(m: &Member) -> Value {
    json!({
        "user": user(&m.user, false), "nick": m.nick, "avatar": null, "banner": null,
        "roles": m.roles, "joined_at": m.joined_at, "premium_since": null, "deaf": false,
        "mute": false, "pending": false, "flags": 0, "communication_disabled_until": null,
    })
}

/// A role (`GuildRoleResponse`).
pub fn role(r: &Role) -> Value {
    json!({
        "id": r.id, "name": r.name, "permissions": r.permissions, "position": r.position,
        "color": r.color, "colors": {"primary_color": r.color, "secondary_color": null, "tertiary_color": null},
        "hoist": r.hoist, "managed": r.managed, "mentionable": r.mentionable, "icon": null,
        "unicode_emoji": null, "flags": 0,
    })
}

/// A channel (`GuildChannelResponse`) or thread (`ThreadResponse`).
pub fn channel(c: &Channel, bot: &User) -> Value {
    let mut v = json!({
        "id": c.id, "type": c.kind, "flags": 0, "guild_id": c.guild_id, "name": c.name,
        "position": c.position, "parent_id": c.parent_id, "last_message_id": c.last_message_id,
        "rate_limit_per_user": 0, "permission_overwrites": [], "nsfw": false,
    });
    if c.kind == channel_type::TEXT {
        v["topic"] = json!(c.topic);
    }
    if channel_type::is_thread(c.kind) {
        let map = v.as_object_mut().expect("an object");
        map.remove("permission_overwrites");
        map.remove("nsfw");
        map.remove("position");
        v["owner_id"] = json!(bot.id);
        let meta = c.thread_metadata.as_ref();
        v["thread_metadata"] = json!({
            "archived": meta.is_some_and(|m| m.archived),
            "auto_archive_duration": meta.map_or(10080, |m| m.auto_archive_duration),
            "archive_timestamp": meta.and_then(|m| m.archive_timestamp.clone()).unwrap_or_else(|| "2026-01-01T00:00:00.000000+00:00".into()),
            "locked": meta.is_some_and(|m| m.locked),
        });
        v["message_count"] = json!(0);
        v["member_count"] = json!(1);
        v["total_message_sent"] = json!(0);
    }
    v
}

/// An error body: `{code, message, errors?}` (or the 429 / 202 shapes).
pub fn error(e: &DiscordError, time_scale: f64) -> Value {
    match e {
        DiscordError::RateLimited {
            retry_after, scope, ..
        } => json!({
            "message": "You are being rate limited.",
            "code": 0,
            "retry_after": real_seconds(*retry_after, time_scale),
            "global": *scope == RateLimitScope::Global,
        }),
        DiscordError::IndexNotReady {
            retry_after,
            documents_indexed,
        } => json!({
            "message": "Index not yet available. Try again later",
            "code": code::INDEX_NOT_READY,
            "documents_indexed": documents_indexed,
            "retry_after": real_seconds(*retry_after, time_scale).ceil().max(1.0) as u64,
        }),
        DiscordError::Unauthorized => json!({"message": "401: Unauthorized", "code": 0}),
        DiscordError::Invalid {
            code: code::INVALID_FORM_BODY,
            message,
            ..
        } => json!({
            "message": "Invalid Form Body",
            "code": 50035,
            "errors": form_errors(message),
        }),
        other => json!({
            "message": match other {
                DiscordError::NotFound { message, .. }
                | DiscordError::Forbidden { message, .. }
                | DiscordError::Invalid { message, .. }
                | DiscordError::Server { message, .. } => message.clone(),
                e => e.to_string(),
            },
            "code": other.code().unwrap_or(0),
        }),
    }
}

/// `field: text` becomes Discord's nested `errors` object.
fn form_errors(message: &str) -> Value {
    match message.split_once(": ") {
        Some((field, text)) => {
            json!({ field: { "_errors": [{ "code": 50035, "message": text }] } })
        }
        None => json!({ "_errors": [{ "code": 50035, "message": message }] }),
    }
}

/// Emulator seconds as real seconds, for a time-scaled server.
pub fn real_seconds(secs: f64, time_scale: f64) -> f64 {
    ((secs / time_scale) * 1000.0).ceil() / 1000.0
}
