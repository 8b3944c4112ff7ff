//! Channel operations: list, create, edit topic, delete, start thread.

use discord_api::limits::{
    MAX_CATEGORY_CHANNELS, MAX_CHANNEL_NAME_LEN, MAX_GUILD_CHANNELS, MAX_TOPIC_LEN,
    THREAD_ARCHIVE_MINUTES, code,
};
use discord_api::{
    Channel, DiscordError, DiscordResult, NewChannel, Snowflake, ThreadMetadata, channel_type,
    discord_len,
};

use crate::Inner;
use crate::state::Event;

impl Inner {
    pub(crate) fn list_channels(&self, now: u64) -> Vec<Channel> {
        let mut v: Vec<Channel> = self
            .state
            .guild_channels()
            .map(|c| self.state.current(c, now))
            .collect();
        v.sort_by_key(|c| (c.position, c.id));
        v
    }

    pub(crate) fn create_channel(&mut self, req: &NewChannel, now: u64) -> DiscordResult<Channel> {
        check_name(&req.name)?;
        if req.kind != channel_type::TEXT && req.kind != channel_type::CATEGORY {
            return Err(DiscordError::invalid_body(format!(
                "type: Value \"{}\" is not a supported channel type.",
                req.kind
            )));
        }
        if let Some(topic) = &req.topic {
            check_topic(topic)?;
        }
        self.check_parent(req)?;
        if self.state.guild_channels().count() >= MAX_GUILD_CHANNELS {
            return Err(DiscordError::invalid(
                code::MAX_GUILD_CHANNELS,
                "Maximum number of guild channels reached (500)",
            ));
        }
        let channel = Channel {
            id: self.mint(now),
            kind: req.kind,
            guild_id: Some(self.state.guild_id),
            name: normalise_name(&req.name, req.kind),
            topic: req.topic.clone().filter(|_| req.kind == channel_type::TEXT),
            parent_id: req.parent_id,
            position: self.state.guild_channels().count() as i64,
            last_message_id: None,
            thread_metadata: None,
        };
        self.commit_or_500(
            now,
            Event::ChannelCreated {
                channel: channel.clone(),
            },
        )?;
        Ok(channel)
    }

    fn check_parent(&self, req: &NewChannel) -> DiscordResult<()> {
        let Some(parent) = req.parent_id else {
            return Ok(());
        };
        if req.kind == channel_type::CATEGORY {
            return Err(DiscordError::invalid_body(
                "parent_id: Categories cannot have subcategories",
            ));
        }
        match self.state.channels.get(&parent) {
            Some(c) if c.kind == channel_type::CATEGORY => {}
            _ => {
                return Err(DiscordError::invalid_body(
                    "parent_id: Category does not exist",
                ));
            }
        }
        let children = self
            .state
            .guild_channels()
            .filter(|c| c.parent_id == Some(parent))
            .count();
        if children >= MAX_CATEGORY_CHANNELS {
            return Err(DiscordError::invalid_body(
                "parent_id: Maximum number of channels in category reached (50)",
            ));
        }
        Ok(())
    }

    pub(crate) fn edit_topic(
        &mut self,
        id: Snowflake,
        topic: &str,
        now: u64,
    ) -> DiscordResult<Channel> {
        check_topic(topic)?;
        let mut channel = self.channel(id)?.clone();
        if channel.kind != channel_type::TEXT {
            return Err(DiscordError::invalid_body(
                "topic: only text channels have a topic",
            ));
        }
        channel.topic = Some(topic.to_string());
        self.commit_or_500(
            now,
            Event::ChannelUpdated {
                channel: channel.clone(),
            },
        )?;
        Ok(channel)
    }

    pub(crate) fn delete_channel(&mut self, id: Snowflake, now: u64) -> DiscordResult<Channel> {
        let channel = self.channel(id)?.clone();
        self.commit_or_500(now, Event::ChannelDeleted { id })?;
        Ok(channel)
    }

    pub(crate) fn start_thread(
        &mut self,
        channel: Snowflake,
        message: Snowflake,
        name: &str,
        auto_archive_minutes: u32,
        now: u64,
    ) -> DiscordResult<Channel> {
        check_name(name)?;
        if !THREAD_ARCHIVE_MINUTES.contains(&auto_archive_minutes) {
            return Err(DiscordError::invalid_body(format!(
                "auto_archive_duration: Value \"{auto_archive_minutes}\" is not a valid enum value."
            )));
        }
        let parent = self.channel(channel)?;
        if parent.kind != channel_type::TEXT {
            return Err(DiscordError::invalid(
                code::WRONG_CHANNEL_TYPE,
                "Cannot execute action on this channel type",
            ));
        }
        if self.state.message(channel, message).is_none() {
            return Err(DiscordError::NotFound {
                code: code::UNKNOWN_MESSAGE,
                message: "Unknown Message".into(),
            });
        }
        if self.state.channels.contains_key(&message) {
            return Err(DiscordError::invalid(
                code::THREAD_EXISTS,
                "A thread has already been created for this message",
            ));
        }
        self.check_thread_cap(now)?;
        let thread = Channel {
            id: message,
            kind: channel_type::PUBLIC_THREAD,
            guild_id: Some(self.state.guild_id),
            name: name.to_string(),
            topic: None,
            parent_id: Some(channel),
            position: 0,
            last_message_id: None,
            thread_metadata: Some(ThreadMetadata {
                archived: false,
                auto_archive_duration: auto_archive_minutes,
                locked: false,
                archive_timestamp: None,
            }),
        };
        self.commit_or_500(
            now,
            Event::ChannelCreated {
                channel: thread.clone(),
            },
        )?;
        Ok(thread)
    }

    pub(crate) fn get_channel(&self, id: Snowflake, now: u64) -> DiscordResult<Channel> {
        Ok(self.state.current(self.channel(id)?, now))
    }

    /// 160006 when the guild already has its cap of active threads.
    pub(crate) fn check_thread_cap(&self, now: u64) -> DiscordResult<()> {
        if self.state.active_threads(now) >= self.config.max_active_threads {
            return Err(DiscordError::invalid(
                code::MAX_ACTIVE_THREADS,
                "Maximum number of active threads reached",
            ));
        }
        Ok(())
    }

    /// A channel of this guild, or 404 Unknown Channel.
    pub(crate) fn channel(&self, id: Snowflake) -> DiscordResult<&Channel> {
        self.state
            .channels
            .get(&id)
            .ok_or_else(DiscordError::unknown_channel)
    }
}

fn check_name(name: &str) -> DiscordResult<()> {
    let len = discord_len(name);
    if !(1..=MAX_CHANNEL_NAME_LEN).contains(&len) {
        return Err(DiscordError::invalid_body(
            "name: Must be between 1 and 100 in length.",
        ));
    }
    Ok(())
}

fn check_topic(topic: &str) -> DiscordResult<()> {
    if discord_len(topic) > MAX_TOPIC_LEN {
        return Err(DiscordError::invalid_body(
            "topic: Must be 1024 or fewer in length.",
        ));
    }
    Ok(())
}

/// Discord lower-cases text channel names and turns spaces into dashes.
fn normalise_name(name: &str, kind: u8) -> String {
    if kind == channel_type::TEXT {
        name.to_lowercase().replace(' ', "-")
    } else {
        name.to_string()
    }
}
