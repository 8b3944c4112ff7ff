//! The emulated guild's state, changed only by applying [`Event`]s.
//!
//! Every mutation is first validated, then written to the journal as an
//! event, then applied; loading replays the same events. So what survives a
//! restart is exactly what was acknowledged.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use discord_api::{Channel, Message, Snowflake, User, channel_type};

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
}

/// A message as search sees it at some moment: the message and its words.
#[derive(Debug)]
pub struct Doc {
    pub message: Arc<Message>,
    pub words: Vec<String>,
}

/// The versions of one message in the search index: each becomes visible
/// `search_lag` after the write that made it (`None` = deleted).
#[derive(Debug, Default)]
pub struct IndexEntry {
    pub versions: Vec<(u64, Option<Arc<Doc>>)>,
}

impl IndexEntry {
    /// What search sees of this message at `now_us`.
    pub fn visible(&self, now_us: u64) -> Option<&Arc<Doc>> {
        self.versions
            .iter()
            .rev()
            .find(|(from, _)| *from <= now_us)
            .and_then(|(_, doc)| doc.as_ref())
    }
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
    pub index: BTreeMap<Snowflake, IndexEntry>,
    /// (channel, nonce) -> (message, when), for `enforce_nonce`.
    pub nonces: HashMap<(Snowflake, String), (Snowflake, u64)>,
    /// The largest snowflake minted so far.
    pub last_id: u64,
}

impl GuildState {
    /// Apply one acknowledged change. `lag_us` is how long search takes to see it.
    pub fn apply(&mut self, rec: &Record, lag_us: u64) {
        let visible_from = rec.at_us + lag_us;
        match &rec.event {
            Event::Genesis { guild_id, bot } => {
                self.guild_id = *guild_id;
                self.bot = Some(bot.clone());
            }
            Event::ChannelCreated { channel } | Event::ChannelUpdated { channel } => {
                self.note_id(channel.id);
                self.channels.insert(channel.id, channel.clone());
            }
            Event::ChannelDeleted { id } => self.delete_channel(*id, visible_from),
            Event::MessageCreated { message } => self.add_message(message, rec.at_us, visible_from),
            Event::MessageEdited {
                channel_id,
                id,
                content,
                edited_timestamp,
            } => self.edit_message(*channel_id, *id, content, edited_timestamp, visible_from),
            Event::MessagesDeleted { channel_id, ids } => {
                for id in ids {
                    self.remove_message(*channel_id, *id, visible_from);
                }
            }
        }
    }

    fn note_id(&mut self, id: Snowflake) {
        self.last_id = self.last_id.max(id.0);
    }

    fn add_message(&mut self, message: &Message, at_us: u64, visible_from: u64) {
        self.note_id(message.id);
        for a in &message.attachments {
            self.note_id(a.id);
        }
        let msg = Arc::new(Message {
            nonce: None,
            ..message.clone()
        });
        if let Some(nonce) = &message.nonce {
            self.nonces
                .insert((message.channel_id, nonce.clone()), (message.id, at_us));
        }
        self.index_version(&msg, visible_from);
        if let Some(c) = self.channels.get_mut(&message.channel_id) {
            c.last_message_id = Some(message.id);
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
        visible_from: u64,
    ) {
        let Some(old) = self.messages.get_mut(&channel).and_then(|m| m.get_mut(&id)) else {
            return;
        };
        let mut new = (**old).clone();
        new.content = content.to_string();
        new.edited_timestamp = Some(edited.to_string());
        let new = Arc::new(new);
        *old = Arc::clone(&new);
        self.index_version(&new, visible_from);
    }

    fn index_version(&mut self, msg: &Arc<Message>, visible_from: u64) {
        let doc = Doc {
            message: Arc::clone(msg),
            words: words(&msg.content),
        };
        self.index
            .entry(msg.id)
            .or_default()
            .versions
            .push((visible_from, Some(Arc::new(doc))));
    }

    fn remove_message(&mut self, channel: Snowflake, id: Snowflake, visible_from: u64) {
        if let Some(m) = self.messages.get_mut(&channel) {
            m.remove(&id);
        }
        if let Some(entry) = self.index.get_mut(&id) {
            entry.versions.push((visible_from, None));
        }
    }

    fn delete_channel(&mut self, id: Snowflake, visible_from: u64) {
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
            .filter(|c| c.kind == channel_type::PUBLIC_THREAD && c.parent_id == Some(id))
            .map(|c| c.id)
            .collect();
        for t in threads {
            self.delete_channel(t, visible_from);
        }
        for mid in self.messages.remove(&id).unwrap_or_default().into_keys() {
            if let Some(entry) = self.index.get_mut(&mid) {
                entry.versions.push((visible_from, None));
            }
        }
    }

    /// Guild channels (not threads), as `GET /guilds/{id}/channels` lists them.
    pub fn guild_channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels
            .values()
            .filter(|c| c.kind != channel_type::PUBLIC_THREAD)
    }

    pub fn message(&self, channel: Snowflake, id: Snowflake) -> Option<&Arc<Message>> {
        self.messages.get(&channel).and_then(|m| m.get(&id))
    }
}
