//! The emulated guild's state, changed only by applying [`Event`]s.
//!
//! Every mutation is first validated, then written to the journal as an
//! event, then applied; loading replays the same events. So what survives a
//! restart is exactly what was acknowledged.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use discord_api::{Channel, Member, Message, Role, Snowflake, ThreadMetadata, User, channel_type};
use serde::{Deserialize, Serialize};

use crate::draw;
use crate::search_config::SearchConfig;
use crate::search_index::SearchIndex;
use crate::text::words;

/// One acknowledged change, with the emulator time at which it happened.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub at_us: u64,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Genesis {
        guild_id: Snowflake,
        bot: User,
    },
    ChannelCreated {
        channel: Channel,
    },
    ChannelUpdated {
        channel: Channel,
    },
    ChannelDeleted {
        id: Snowflake,
    },
    MessageCreated {
        message: Message,
    },
    MessageEdited {
        channel_id: Snowflake,
        id: Snowflake,
        content: String,
        edited_timestamp: String,
    },
    MessagesDeleted {
        channel_id: Snowflake,
        ids: Vec<Snowflake>,
    },
    MemberJoined {
        member: Member,
    },
    RoleCreated {
        role: Role,
    },
    MessagePinned {
        channel_id: Snowflake,
        id: Snowflake,
        pinned: bool,
    },
}

/// The whole guild.
#[derive(Debug, Default)]
pub struct GuildState {
    pub guild_id: Snowflake,
    pub bot: Option<User>,
    /// Channels, categories and threads.
    pub channels: BTreeMap<Snowflake, Channel>,
    /// Live messages per channel (or thread), ordered by ID.
    pub messages: HashMap<Snowflake, BTreeMap<Snowflake, Arc<Message>>>,
    /// The search index, lagging behind `messages`.
    pub index: SearchIndex,
    /// (author, nonce) -> (channel, message, when), for `enforce_nonce`:
    /// Discord dedupes per author, not per channel.
    pub nonces: HashMap<(Snowflake, String), (Snowflake, Snowflake, u64)>,
    /// The largest snowflake minted so far.
    pub last_id: u64,
    /// When each thread was last active (created or posted in), µs.
    pub thread_activity: HashMap<Snowflake, u64>,
    /// The guild's members (the bot aside) by user ID.
    pub members: BTreeMap<Snowflake, Member>,
    /// The guild's roles (`@everyone` aside) by ID.
    pub roles: BTreeMap<Snowflake, Role>,
}

impl GuildState {
    /// Apply one acknowledged change; `search` says when search sees it.
    pub fn apply(&mut self, rec: &Record, search: &SearchConfig) {
        let at = rec.at_us;
        match &rec.event {
            Event::Genesis { guild_id, bot } => {
                self.guild_id = *guild_id;
                self.bot = Some(bot.clone());
            }
            Event::ChannelCreated { channel } | Event::ChannelUpdated { channel } => {
                self.note_id(channel.id);
                if channel.kind == channel_type::PUBLIC_THREAD {
                    self.thread_activity.entry(channel.id).or_insert(at);
                }
                self.channels.insert(channel.id, channel.clone());
            }
            Event::ChannelDeleted { id } => self.delete_channel(*id, at, search),
            Event::MessageCreated { message } => self.add_message(message, at, search),
            Event::MessageEdited {
                channel_id,
                id,
                content,
                edited_timestamp,
            } => self.edit_message(*channel_id, *id, content, edited_timestamp, at, search),
            Event::MessagesDeleted { channel_id, ids } => {
                for id in ids {
                    self.remove_message(*channel_id, *id, at, search);
                }
            }
            Event::MemberJoined { member } => {
                self.note_id(member.user.id);
                self.members.insert(member.user.id, member.clone());
            }
            Event::RoleCreated { role } => {
                self.note_id(role.id);
                self.roles.insert(role.id, role.clone());
            }
            Event::MessagePinned {
                channel_id,
                id,
                pinned,
            } => {
                if let Some(m) = self
                    .messages
                    .get_mut(channel_id)
                    .and_then(|m| m.get_mut(id))
                {
                    Arc::make_mut(m).pinned = *pinned;
                }
            }
        }
    }

    fn note_id(&mut self, id: Snowflake) {
        self.last_id = self.last_id.max(id.0);
    }

    fn add_message(&mut self, message: &Message, at_us: u64, search: &SearchConfig) {
        self.note_id(message.id);
        for a in &message.attachments {
            self.note_id(a.id);
        }
        let msg = Arc::new(Message {
            nonce: None,
            ..message.clone()
        });
        if let Some(nonce) = &message.nonce {
            let key = (message.author.id, nonce.clone());
            self.nonces
                .insert(key, (message.channel_id, message.id, at_us));
        }
        self.index_version(&msg, at_us, search);
        if let Some(c) = self.channels.get_mut(&message.channel_id) {
            c.last_message_id = Some(message.id);
        }
        if let Some(active) = self.thread_activity.get_mut(&message.channel_id) {
            *active = at_us; // posting unarchives the thread
        }
        self.messages
            .entry(message.channel_id)
            .or_default()
            .insert(message.id, msg);
    }

    fn edit_message(
        &mut self,
        channel: Snowflake,
        id: Snowflake,
        content: &str,
        edited: &str,
        at_us: u64,
        search: &SearchConfig,
    ) {
        let Some(old) = self.messages.get_mut(&channel).and_then(|m| m.get_mut(&id)) else {
            return;
        };
        let mut new = (**old).clone();
        new.content = content.to_string();
        new.edited_timestamp = Some(edited.to_string());
        let new = Arc::new(new);
        *old = Arc::clone(&new);
        self.index_version(&new, at_us, search);
    }

    /// A new version of a message for the search index, visible after a
    /// lag drawn for it (or, for a message drawn as not indexed until
    /// edited, never until an edit).
    fn index_version(&mut self, msg: &Message, at_us: u64, search: &SearchConfig) {
        let version = self
            .index
            .message(msg.id)
            .map_or(0, |m| m.version_count() as u64);
        let lag = search.lag.draw(search.seed, msg.id.0, version);
        let skipped =
            version == 0 && draw::unit(search.seed, &[msg.id.0, 3]) < search.unindexed_until_edit;
        let visible_from = if skipped {
            u64::MAX
        } else {
            at_us + lag.as_micros() as u64
        };
        let words = words(&msg.content);
        self.index
            .add_version(msg.id, msg.channel_id, msg.author.id, &words, visible_from);
    }

    /// Search stops seeing a deleted message after a lag, as it took to see it.
    fn remove_message(
        &mut self,
        channel: Snowflake,
        id: Snowflake,
        at_us: u64,
        search: &SearchConfig,
    ) {
        if let Some(m) = self.messages.get_mut(&channel) {
            m.remove(&id);
        }
        let lag = search.lag.draw(search.seed, id.0, u64::MAX);
        self.index.remove(id, at_us + lag.as_micros() as u64);
    }

    fn delete_channel(&mut self, id: Snowflake, at_us: u64, search: &SearchConfig) {
        let Some(channel) = self.channels.remove(&id) else {
            return;
        };
        if channel.kind == channel_type::CATEGORY {
            for c in self.channels.values_mut() {
                if c.parent_id == Some(id) {
                    c.parent_id = None;
                }
            }
            return;
        }
        let threads: Vec<Snowflake> = self
            .channels
            .values()
            .filter(|c| channel_type::is_thread(c.kind) && c.parent_id == Some(id))
            .map(|c| c.id)
            .collect();
        for t in threads {
            self.delete_channel(t, at_us, search);
        }
        for mid in self.messages.remove(&id).unwrap_or_default().into_keys() {
            let lag = search.lag.draw(search.seed, mid.0, u64::MAX);
            self.index.remove(mid, at_us + lag.as_micros() as u64);
        }
    }

    /// Guild channels (not threads), as `GET /guilds/{id}/channels` lists them.
    pub fn guild_channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels
            .values()
            .filter(|c| !channel_type::is_thread(c.kind))
    }

    /// A channel as it is at `now_us`: a thread idle for longer than its
    /// auto-archive duration is archived.
    pub fn current(&self, channel: &Channel, now_us: u64) -> Channel {
        let mut c = channel.clone();
        if let Some(meta) = &mut c.thread_metadata {
            meta.archived = self.thread_archived(c.id, meta.auto_archive_duration, now_us);
        }
        c
    }

    /// When a thread archives (or archived) if nobody posts in it again, µs.
    pub fn thread_archived_at(&self, id: Snowflake, meta: &ThreadMetadata) -> u64 {
        let active = self.thread_activity.get(&id).copied().unwrap_or(0);
        active + u64::from(meta.auto_archive_duration) * 60_000_000
    }

    fn thread_archived(&self, id: Snowflake, minutes: u32, now_us: u64) -> bool {
        let idle = now_us.saturating_sub(self.thread_activity.get(&id).copied().unwrap_or(0));
        idle > u64::from(minutes) * 60_000_000
    }

    /// Whether channel `id` is a thread archived at `now_us`.
    pub fn is_archived_thread(&self, id: Snowflake, now_us: u64) -> bool {
        self.channels
            .get(&id)
            .and_then(|c| c.thread_metadata.as_ref())
            .is_some_and(|m| self.thread_archived(id, m.auto_archive_duration, now_us))
    }

    /// Threads not archived at `now_us`.
    pub fn active_threads(&self, now_us: u64) -> usize {
        self.channels
            .values()
            .filter_map(|c| Some((c.id, c.thread_metadata.as_ref()?)))
            .filter(|(id, m)| !self.thread_archived(*id, m.auto_archive_duration, now_us))
            .count()
    }

    pub fn message(&self, channel: Snowflake, id: Snowflake) -> Option<&Arc<Message>> {
        self.messages.get(&channel).and_then(|m| m.get(&id))
    }
}
