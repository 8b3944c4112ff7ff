//! Message operations: create, get, history pages, edit, delete, bulk delete.

use std::sync::Arc;

use discord_api::limits::{
    BULK_DELETE_MAX, BULK_DELETE_MAX_AGE, BULK_DELETE_MIN, HISTORY_PAGE, MAX_CONTENT_LEN,
    MAX_FILE_BYTES, MAX_FILES, MAX_NONCE_LEN, MAX_REQUEST_BYTES, NONCE_WINDOW, code,
};
use discord_api::{
    Attachment, DiscordError, DiscordResult, HistoryAnchor, HistoryQuery, Message, NewFile,
    NewMessage, Snowflake, User, channel_type, discord_len,
};

use crate::state::Event;
use crate::{Inner, iso8601};

impl Inner {
    pub(crate) fn create_message_as(
        &mut self,
        channel: Snowflake,
        msg: &NewMessage,
        author: User,
        now: u64,
    ) -> DiscordResult<Message> {
        self.message_channel(channel)?;
        check_new_message(msg)?;
        if let Some(existing) = self.nonce_repeat(author.id, msg, now)? {
            return Ok(self.render(&existing, now));
        }
        if self.state.is_archived_thread(channel, now) {
            // Posting unarchives the thread, which must then fit under the cap.
            self.check_thread_cap(now)?;
        }
        let id = self.mint(now);
        let attachments = self.store_files(&msg.files, now)?;
        let mut message = self.person_message(id, channel, author, &msg.content, msg.flags);
        message.attachments = attachments;
        message.nonce = msg.nonce.clone();
        self.commit_or_500(
            now,
            Event::MessageCreated {
                message: message.clone(),
            },
        )?;
        Ok(self.render(&message, now))
    }

    /// With `enforce_nonce`, a nonce the same author used recently (in any
    /// channel) returns that message; if it was deleted since, Discord
    /// answers 404 Unknown Message and creates nothing.
    fn nonce_repeat(
        &self,
        author: Snowflake,
        msg: &NewMessage,
        now: u64,
    ) -> DiscordResult<Option<Message>> {
        let Some(nonce) = msg.nonce.as_ref().filter(|_| msg.enforce_nonce) else {
            return Ok(None);
        };
        let Some((channel, id, at)) = self.state.nonces.get(&(author, nonce.clone())) else {
            return Ok(None);
        };
        if now.saturating_sub(*at) > NONCE_WINDOW.as_micros() as u64 {
            return Ok(None);
        }
        match self.state.message(*channel, *id) {
            Some(m) => Ok(Some((**m).clone())),
            None => Err(DiscordError::unknown_message()),
        }
    }

    /// Each file stored under a new attachment ID, as its message lists it.
    pub(crate) fn store_files(
        &mut self,
        files: &[NewFile],
        now: u64,
    ) -> DiscordResult<Vec<Attachment>> {
        let mut attachments = Vec::with_capacity(files.len());
        for f in files {
            let id = self.mint(now);
            self.store_file(id, &f.bytes)?;
            attachments.push(Attachment {
                id,
                filename: f.filename.clone(),
                size: f.bytes.len() as u64,
                url: String::new(),
                proxy_url: String::new(),
                content_type: None,
            });
        }
        Ok(attachments)
    }

    pub(crate) fn get_message(
        &self,
        channel: Snowflake,
        id: Snowflake,
        now: u64,
    ) -> DiscordResult<Message> {
        self.message_channel(channel)?;
        let m = self
            .state
            .message(channel, id)
            .ok_or_else(DiscordError::unknown_message)?;
        Ok(self.render(m, now))
    }

    /// One history page, newest first, as Discord pages it.
    pub(crate) fn list_messages(
        &self,
        channel: Snowflake,
        q: &HistoryQuery,
        now: u64,
    ) -> DiscordResult<Vec<Message>> {
        self.message_channel(channel)?;
        if !(1..=HISTORY_PAGE).contains(&q.limit) {
            return Err(DiscordError::invalid_body(
                "limit: int value should be less than or equal to 100 and greater than or equal to 1.",
            ));
        }
        let Some(all) = self.state.messages.get(&channel) else {
            return Ok(Vec::new());
        };
        let limit = q.limit as usize;
        let mut page: Vec<&Arc<Message>> = match q.anchor {
            HistoryAnchor::Latest => all.values().rev().take(limit).collect(),
            HistoryAnchor::Before(id) => {
                all.range(..id).rev().map(|(_, m)| m).take(limit).collect()
            }
            // `after` takes the oldest messages after the anchor, still returned newest first.
            HistoryAnchor::After(id) => {
                let mut v: Vec<_> = all
                    .range(Snowflake(id.0 + 1)..)
                    .map(|(_, m)| m)
                    .take(limit)
                    .collect();
                v.reverse();
                v
            }
            HistoryAnchor::Around(id) => {
                let newer: Vec<_> = all
                    .range(id..)
                    .map(|(_, m)| m)
                    .take(limit.div_ceil(2))
                    .collect();
                let older = all
                    .range(..id)
                    .rev()
                    .map(|(_, m)| m)
                    .take(limit - newer.len());
                let mut v: Vec<_> = newer.into_iter().rev().collect();
                v.extend(older);
                v
            }
        };
        page.truncate(limit);
        Ok(page.into_iter().map(|m| self.render(m, now)).collect())
    }

    pub(crate) fn edit_message(
        &mut self,
        channel: Snowflake,
        id: Snowflake,
        content: &str,
        now: u64,
    ) -> DiscordResult<Message> {
        self.message_channel(channel)?;
        check_content(content)?;
        let bot = self.bot().id;
        let m = self
            .state
            .message(channel, id)
            .ok_or_else(DiscordError::unknown_message)?;
        if m.author.id != bot {
            return Err(DiscordError::Forbidden {
                code: code::CANNOT_EDIT_OTHERS,
                message: "Cannot edit a message authored by another user".into(),
            });
        }
        let edited_timestamp = iso8601(now);
        self.commit_or_500(
            now,
            Event::MessageEdited {
                channel_id: channel,
                id,
                content: self.config.strip.apply(content).into_owned(),
                edited_timestamp,
            },
        )?;
        self.get_message(channel, id, now)
    }

    pub(crate) fn delete_message(
        &mut self,
        channel: Snowflake,
        id: Snowflake,
        now: u64,
    ) -> DiscordResult<()> {
        self.message_channel(channel)?;
        self.state
            .message(channel, id)
            .ok_or_else(DiscordError::unknown_message)?;
        self.commit_or_500(
            now,
            Event::MessagesDeleted {
                channel_id: channel,
                ids: vec![id],
            },
        )
    }

    pub(crate) fn bulk_delete(
        &mut self,
        channel: Snowflake,
        ids: &[Snowflake],
        now: u64,
    ) -> DiscordResult<()> {
        self.message_channel(channel)?;
        if !(BULK_DELETE_MIN..=BULK_DELETE_MAX).contains(&ids.len()) {
            return Err(DiscordError::invalid(
                code::BULK_DELETE_COUNT,
                "You can only bulk delete messages that are between 2 and 100 in number",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if !ids.iter().all(|id| seen.insert(*id)) {
            return Err(DiscordError::invalid_body(
                "messages: Duplicate message IDs are not allowed",
            ));
        }
        let oldest_allowed = (now / 1000).saturating_sub(BULK_DELETE_MAX_AGE.as_millis() as u64);
        if ids.iter().any(|id| id.unix_ms() < oldest_allowed) {
            return Err(DiscordError::invalid(
                code::BULK_DELETE_TOO_OLD,
                "You can only bulk delete messages that are under 14 days old.",
            ));
        }
        // Unknown IDs count towards the limits but are otherwise ignored, as documented.
        let live: Vec<Snowflake> = ids
            .iter()
            .copied()
            .filter(|id| self.state.message(channel, *id).is_some())
            .collect();
        self.commit_or_500(
            now,
            Event::MessagesDeleted {
                channel_id: channel,
                ids: live,
            },
        )
    }

    /// A channel that holds messages: text or thread, else 404 / 400.
    pub(crate) fn message_channel(&self, id: Snowflake) -> DiscordResult<()> {
        let c = self.channel(id)?;
        if c.kind == channel_type::TEXT || c.kind == channel_type::PUBLIC_THREAD {
            Ok(())
        } else {
            Err(DiscordError::invalid(
                code::WRONG_CHANNEL_TYPE,
                "Cannot execute action on this channel type",
            ))
        }
    }
}

pub(crate) fn check_content(content: &str) -> DiscordResult<()> {
    if discord_len(content) > MAX_CONTENT_LEN {
        return Err(DiscordError::invalid_body(
            "content: Must be 2000 or fewer in length.",
        ));
    }
    Ok(())
}

fn check_new_message(msg: &NewMessage) -> DiscordResult<()> {
    check_content(&msg.content)?;
    if msg.content.is_empty() && msg.files.is_empty() {
        return Err(DiscordError::invalid(
            code::EMPTY_MESSAGE,
            "Cannot send an empty message",
        ));
    }
    if msg.files.len() > MAX_FILES {
        return Err(DiscordError::invalid(
            code::MAX_ATTACHMENTS,
            "Maximum number of attachments in a message reached (10)",
        ));
    }
    let total: usize = msg.files.iter().map(|f| f.bytes.len()).sum();
    if msg.files.iter().any(|f| f.bytes.len() > MAX_FILE_BYTES) || total > MAX_REQUEST_BYTES {
        return Err(DiscordError::Invalid {
            status: 413,
            code: code::ENTITY_TOO_LARGE,
            message: "Request entity too large".into(),
        });
    }
    if let Some(n) = &msg.nonce
        && discord_len(n) > MAX_NONCE_LEN
    {
        return Err(DiscordError::invalid_body(
            "nonce: Must be 25 or fewer in length.",
        ));
    }
    Ok(())
}
