//! The guild's people and what they posted: members, roles, threads as
//! the list routes return them, and the history a guild had before the
//! bot arrived (imported, not requested, so neither limited nor counted).
//!
//! dbcord's `discord` schema reads all of this; a bench or a test builds a
//! guild with [`Emulator::import_message`] and friends, on a clock it
//! advances as the guild's life goes on.

use discord_api::limits::{MEMBERS_PAGE, THREADS_PAGE, code};
use discord_api::{
    Channel, DiscordError, DiscordResult, Member, Message, MessageReference, NewFile, Role,
    Snowflake, ThreadPage, User, channel_type,
};
use serde_json::json;

use crate::state::Event;
use crate::{Emulator, Inner, iso8601};

/// A message a person (or another bot, or a webhook) posted.
#[derive(Clone, Debug, Default)]
pub struct PersonPost {
    pub channel: Snowflake,
    pub author: Option<User>,
    pub content: String,
    pub files: Vec<NewFile>,
    pub reply_to: Option<Snowflake>,
    pub webhook_id: Option<Snowflake>,
    pub flags: u64,
}

impl Emulator {
    /// A person joins the guild now (its user ID minted now).
    pub fn import_member(&self, username: &str, bot: bool, roles: Vec<Snowflake>) -> Member {
        let now = self.clock().now_us();
        let mut inner = self.lock();
        let user = User {
            id: inner.mint(now),
            username: username.to_string(),
            discriminator: "0".into(),
            bot,
        };
        let member = Member {
            user,
            nick: None,
            roles,
            joined_at: iso8601(now),
        };
        let event = Event::MemberJoined {
            member: member.clone(),
        };
        inner
            .commit_or_500(now, event)
            .expect("an imported member is stored");
        member
    }

    /// A role is created now.
    pub fn import_role(&self, name: &str, color: u32) -> Role {
        let now = self.clock().now_us();
        let mut inner = self.lock();
        let position = inner.state.roles.len() as i64 + 1;
        let role = Role {
            id: inner.mint(now),
            name: name.to_string(),
            permissions: "0".into(),
            position,
            color,
            hoist: false,
            managed: false,
            mentionable: true,
        };
        let event = Event::RoleCreated { role: role.clone() };
        inner
            .commit_or_500(now, event)
            .expect("an imported role is stored");
        role
    }

    /// `post` is posted now, as its author would post it: mentions parsed
    /// from `<@id>`, a link unfurled unless embeds are suppressed. Not a bot
    /// request, so it is not counted, and no nonce is involved.
    pub fn import_message(&self, post: PersonPost) -> DiscordResult<Message> {
        let now = self.clock().now_us();
        let mut inner = self.lock();
        inner.message_channel(post.channel)?;
        let author = match post.author {
            Some(a) => a,
            None => inner.bot(),
        };
        let id = inner.mint(now);
        let attachments = inner.store_files(&post.files, now)?;
        let mut message = inner.person_message(id, post.channel, author, &post.content, post.flags);
        message.attachments = attachments;
        message.webhook_id = post.webhook_id;
        message.message_reference = post.reply_to.map(|m| MessageReference {
            message_id: Some(m),
            channel_id: Some(post.channel),
        });
        if message.message_reference.is_some() {
            message.kind = 19; // REPLY
        }
        let event = Event::MessageCreated {
            message: message.clone(),
        };
        inner.commit_or_500(now, event)?;
        Ok(message)
    }

    /// A person starts a thread on `message` now, archiving after `minutes` idle.
    pub fn import_thread(
        &self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
        minutes: u32,
    ) -> DiscordResult<Channel> {
        let now = self.clock().now_us();
        let mut inner = self.lock();
        let max = inner.config.max_active_threads;
        inner.config.max_active_threads = usize::MAX; // people's threads are not the bot's to cap
        let made = inner.start_thread(channel, message, name, minutes, now);
        inner.config.max_active_threads = max;
        made
    }

    /// Search starts indexing the guild again now (as Discord does for a
    /// guild it has not indexed): it answers 202 for the configured
    /// `warmup`, then as before.
    pub fn restart_search_index(&self) {
        let now = self.clock().now_us();
        self.lock().started_us = now;
    }

    /// A person pins (or unpins) a message.
    pub fn import_pin(&self, channel: Snowflake, id: Snowflake, pinned: bool) -> DiscordResult<()> {
        let now = self.clock().now_us();
        let mut inner = self.lock();
        if inner.state.message(channel, id).is_none() {
            return Err(DiscordError::unknown_message());
        }
        let event = Event::MessagePinned {
            channel_id: channel,
            id,
            pinned,
        };
        inner.commit_or_500(now, event)
    }
}

impl Inner {
    /// A message as Discord makes it of `content`: `mentions` are the
    /// guild's members named as `<@id>` or `<@!id>`, and a URL gets a link
    /// embed unless SUPPRESS_EMBEDS is set.
    pub(crate) fn person_message(
        &self,
        id: Snowflake,
        channel: Snowflake,
        author: User,
        content: &str,
        flags: u64,
    ) -> Message {
        let content = self.config.strip.apply(content).into_owned();
        let mentions = mentioned_ids(&content)
            .into_iter()
            .filter_map(|u| self.state.members.get(&u).map(|m| m.user.clone()))
            .collect();
        let mut m = Message {
            id,
            channel_id: channel,
            author,
            content,
            timestamp: iso8601(id.unix_ms() * 1000),
            edited_timestamp: None,
            attachments: Vec::new(),
            kind: 0,
            pinned: false,
            nonce: None,
            flags,
            mentions,
            embeds: Vec::new(),
            message_reference: None,
            webhook_id: None,
            hit: None,
        };
        if flags & discord_api::limits::FLAG_SUPPRESS_EMBEDS == 0 {
            m.embeds = first_url(&m.content)
                .map(|url| vec![json!({"type": "link", "url": url})])
                .unwrap_or_default();
        }
        m
    }

    /// `GET /guilds/{guild}/members`: by user ID after `after`, the bot included.
    pub(crate) fn list_members(&self, after: Snowflake, limit: u32) -> DiscordResult<Vec<Member>> {
        if !(1..=MEMBERS_PAGE).contains(&limit) {
            return Err(DiscordError::invalid_body(
                "limit: int value should be less than or equal to 1000 and greater than or equal to 1.",
            ));
        }
        if !self.config.server_members_intent {
            return Err(DiscordError::Forbidden {
                code: code::MISSING_ACCESS,
                message: "Missing Access".into(),
            });
        }
        let bot = self.bot();
        let bot_member = Member {
            user: bot.clone(),
            nick: None,
            roles: Vec::new(),
            joined_at: iso8601(bot.id.unix_ms() * 1000),
        };
        let mut all: Vec<Member> = self.state.members.values().cloned().collect();
        all.push(bot_member);
        all.sort_by_key(|m| m.user.id);
        Ok(all
            .into_iter()
            .filter(|m| m.user.id > after)
            .take(limit as usize)
            .collect())
    }

    /// `GET /guilds/{guild}/roles`: `@everyone` (the guild's ID) and the rest.
    pub(crate) fn list_roles(&self) -> Vec<Role> {
        let everyone = Role {
            id: self.state.guild_id,
            name: "@everyone".into(),
            permissions: self.config.bot_permissions.to_string(),
            position: 0,
            color: 0,
            hoist: false,
            managed: false,
            mentionable: false,
        };
        std::iter::once(everyone)
            .chain(self.state.roles.values().cloned())
            .collect()
    }

    /// `GET /guilds/{guild}/threads/active`.
    pub(crate) fn list_active_threads(&self, now: u64) -> Vec<Channel> {
        self.threads(now)
            .filter(|t| !t.thread_metadata.as_ref().is_some_and(|m| m.archived))
            .collect()
    }

    /// `GET /channels/{id}/threads/archived/public`: archived threads of
    /// `channel`, most recently archived first, archived before `before`.
    pub(crate) fn list_archived_threads(
        &self,
        channel: Snowflake,
        before: Option<&str>,
        now: u64,
    ) -> DiscordResult<ThreadPage> {
        let parent = self.channel(channel)?;
        if parent.kind != channel_type::TEXT {
            return Err(DiscordError::invalid(
                code::WRONG_CHANNEL_TYPE,
                "Cannot execute action on this channel type",
            ));
        }
        let archived_at = |t: &Channel| -> String {
            t.thread_metadata
                .as_ref()
                .and_then(|m| m.archive_timestamp.clone())
                .unwrap_or_default()
        };
        let mut list: Vec<Channel> = self
            .threads(now)
            .filter(|t| t.parent_id == Some(channel))
            .filter(|t| t.thread_metadata.as_ref().is_some_and(|m| m.archived))
            .filter(|t| before.is_none_or(|b| archived_at(t).as_str() < b))
            .collect();
        list.sort_by_key(|t| std::cmp::Reverse((archived_at(t), t.id)));
        let has_more = list.len() > THREADS_PAGE as usize;
        list.truncate(THREADS_PAGE as usize);
        Ok(ThreadPage {
            threads: list,
            has_more,
        })
    }

    /// Every thread as it is at `now`, with its archive time.
    fn threads(&self, now: u64) -> impl Iterator<Item = Channel> + '_ {
        self.state
            .channels
            .values()
            .filter(|c| channel_type::is_thread(c.kind))
            .map(move |c| {
                let mut t = self.state.current(c, now);
                if let Some(meta) = &mut t.thread_metadata {
                    let at = self.state.thread_archived_at(c.id, meta);
                    meta.archive_timestamp = Some(iso8601(at.min(now)));
                }
                t
            })
    }
}

/// The user IDs named in `<@id>` and `<@!id>` mentions, each once.
fn mentioned_ids(content: &str) -> Vec<Snowflake> {
    let mut out = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let body = rest.strip_prefix('!').unwrap_or(rest);
        let Some(end) = body.find('>') else { break };
        if let Ok(id) = body[..end].parse::<u64>()
            && !out.contains(&Snowflake(id))
        {
            out.push(Snowflake(id));
        }
    }
    out
}

/// The first `http://` or `https://` URL of a text.
fn first_url(content: &str) -> Option<&str> {
    let start = content
        .find("https://")
        .or_else(|| content.find("http://"))?;
    let url = &content[start..];
    let end = url.find(char::is_whitespace).unwrap_or(url.len());
    Some(&url[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_read_from_the_content() {
        assert_eq!(
            mentioned_ids("hi <@12> and <@!34>, <@12> again, <@x>"),
            vec![Snowflake(12), Snowflake(34)]
        );
        assert_eq!(first_url("see https://a.b/c d"), Some("https://a.b/c"));
        assert_eq!(first_url("no link"), None);
    }
}
