//! The search index: which messages hold which words, as search sees them.
//!
//! Discord's index lags the message store and holds IDs, not messages:
//! a hit is looked up in the store when it is returned. So the index keeps,
//! per message, the versions search will see (each visible from its own
//! moment, drawn by the lag model) as interned word IDs, and per word the
//! messages that ever held it. A search walks the posting list of its
//! rarest word and checks each candidate's visible version, so it costs
//! about its candidates, not the guild's size.

use std::collections::HashMap;

use discord_api::Snowflake;

/// One version of a message as the index holds it.
#[derive(Debug)]
struct Version {
    /// Emulator time (µs) from which search sees this version.
    visible_from: u64,
    /// The words in order, or `None` for a deletion.
    words: Option<Box<[u32]>>,
}

/// A message in the index.
#[derive(Debug)]
pub struct IndexedMessage {
    pub id: Snowflake,
    pub channel: Snowflake,
    pub author: Snowflake,
    versions: Vec<Version>,
}

impl IndexedMessage {
    pub fn version_count(&self) -> usize {
        self.versions.len()
    }

    /// The words search sees of this message at `now_us` (`None`: not
    /// indexed yet, or deleted).
    pub fn visible_words(&self, now_us: u64) -> Option<&[u32]> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.visible_from <= now_us)
            .and_then(|v| v.words.as_deref())
    }
}

/// Words, their posting lists, and the indexed messages.
///
/// Messages sit in a vector in the order they were made, which is their ID
/// order (snowflakes only grow), so a posting list of positions is sorted
/// by ID too, and a candidate costs one vector lookup.
#[derive(Debug, Default)]
pub struct SearchIndex {
    ids: HashMap<Box<str>, u32>,
    postings: Vec<Vec<u32>>,
    slots: HashMap<Snowflake, u32>,
    messages: Vec<IndexedMessage>,
}

impl SearchIndex {
    /// The ID of a word the index has seen, if any.
    pub fn word_id(&self, word: &str) -> Option<u32> {
        self.ids.get(word).copied()
    }

    fn intern(&mut self, word: &str) -> u32 {
        if let Some(id) = self.ids.get(word) {
            return *id;
        }
        let id = self.postings.len() as u32;
        self.ids.insert(word.into(), id);
        self.postings.push(Vec::new());
        id
    }

    /// The position of message `id`, made on first sight.
    fn slot(&mut self, id: Snowflake, channel: Snowflake, author: Snowflake) -> u32 {
        if let Some(slot) = self.slots.get(&id) {
            return *slot;
        }
        debug_assert!(self.messages.last().is_none_or(|m| m.id < id), "IDs grow");
        let slot = self.messages.len() as u32;
        self.slots.insert(id, slot);
        self.messages.push(IndexedMessage {
            id,
            channel,
            author,
            versions: Vec::new(),
        });
        slot
    }

    /// A new version of message `id` with `words`, visible from `visible_from`.
    pub fn add_version(
        &mut self,
        id: Snowflake,
        channel: Snowflake,
        author: Snowflake,
        words: &[String],
        visible_from: u64,
    ) {
        let slot = self.slot(id, channel, author);
        let word_ids: Box<[u32]> = words.iter().map(|w| self.intern(w)).collect();
        for w in word_ids.iter() {
            post(&mut self.postings[*w as usize], slot);
        }
        self.messages[slot as usize].versions.push(Version {
            visible_from,
            words: Some(word_ids),
        });
    }

    /// Message `id` is deleted; search stops seeing it from `visible_from`.
    pub fn remove(&mut self, id: Snowflake, visible_from: u64) {
        if let Some(slot) = self.slots.get(&id) {
            self.messages[*slot as usize].versions.push(Version {
                visible_from,
                words: None,
            });
        }
    }

    pub fn message(&self, id: Snowflake) -> Option<&IndexedMessage> {
        self.slots.get(&id).map(|s| &self.messages[*s as usize])
    }

    /// Candidate messages, newest first, with IDs strictly between `min`
    /// and `max`: those that ever held `word`, or every message without a word.
    pub fn candidates(
        &self,
        word: Option<u32>,
        min: Snowflake,
        max: Snowflake,
    ) -> Box<dyn Iterator<Item = &IndexedMessage> + '_> {
        if min >= max {
            return Box::new(std::iter::empty());
        }
        let id_of = |slot: &u32| self.messages[*slot as usize].id;
        match word {
            None => {
                let start = self.messages.partition_point(|m| m.id <= min);
                let end = self.messages.partition_point(|m| m.id < max);
                Box::new(self.messages[start..end].iter().rev())
            }
            Some(w) => {
                let list = &self.postings[w as usize];
                let start = list.partition_point(|s| id_of(s) <= min);
                let end = list.partition_point(|s| id_of(s) < max);
                Box::new(
                    list[start..end]
                        .iter()
                        .rev()
                        .map(|s| &self.messages[*s as usize]),
                )
            }
        }
    }

    /// How many messages ever held `word` (for picking the rarest).
    pub fn posting_len(&self, word: u32) -> usize {
        self.postings[word as usize].len()
    }
}

/// Add `id` to a posting list kept sorted and without repeats. Messages
/// are made in ID order, so this is almost always a push.
fn post(list: &mut Vec<u32>, id: u32) {
    match list.last() {
        Some(last) if *last == id => {}
        Some(last) if *last > id => {
            if let Err(at) = list.binary_search(&id) {
                list.insert(at, id);
            }
        }
        _ => list.push(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn candidates_come_from_the_posting_list_newest_first() {
        let mut ix = SearchIndex::default();
        let (c, a) = (Snowflake(1), Snowflake(2));
        for i in 10..20 {
            let text = if i % 2 == 0 { "even word" } else { "odd word" };
            ix.add_version(Snowflake(i), c, a, &words(text), 0);
        }
        let even = ix.word_id("even").unwrap();
        let found: Vec<u64> = ix
            .candidates(Some(even), Snowflake(0), Snowflake(u64::MAX))
            .map(|m| m.id.0)
            .collect();
        assert_eq!(found, vec![18, 16, 14, 12, 10]);
        let window: Vec<u64> = ix
            .candidates(Some(even), Snowflake(12), Snowflake(18))
            .map(|m| m.id.0)
            .collect();
        assert_eq!(window, vec![16, 14]);
        assert_eq!(ix.word_id("missing"), None);
    }

    #[test]
    fn versions_become_visible_in_turn_and_deletion_hides() {
        let mut ix = SearchIndex::default();
        let id = Snowflake(5);
        ix.add_version(id, Snowflake(1), Snowflake(2), &words("old"), 100);
        ix.add_version(id, Snowflake(1), Snowflake(2), &words("new"), 200);
        ix.remove(id, 300);
        let m = ix.message(id).unwrap();
        assert_eq!(m.visible_words(50), None);
        assert_eq!(
            m.visible_words(150),
            Some(&[ix.word_id("old").unwrap()][..])
        );
        assert_eq!(
            m.visible_words(250),
            Some(&[ix.word_id("new").unwrap()][..])
        );
        assert_eq!(m.visible_words(300), None);
        // An edit of an older message goes into the middle of a posting list.
        let old = Snowflake(9);
        ix.add_version(old, Snowflake(1), Snowflake(2), &words("first"), 0);
        ix.add_version(Snowflake(12), Snowflake(1), Snowflake(2), &words("new"), 0);
        ix.add_version(old, Snowflake(1), Snowflake(2), &words("new"), 0);
        let new = ix.word_id("new").unwrap();
        let all: Vec<u64> = ix
            .candidates(Some(new), Snowflake(0), Snowflake(99))
            .map(|m| m.id.0)
            .collect();
        assert_eq!(all, vec![12, 9, 5]);
    }
}
