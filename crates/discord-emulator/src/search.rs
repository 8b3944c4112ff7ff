//! Guild message search as Discord answers it: words matched as a phrase,
//! a lagging and sometimes incomplete index, hits looked up in the message
//! store when returned, inexact totals, short and empty pages, and 202s
//! while the index warms up. How unkind each of these is comes from
//! [`SearchConfig`](crate::SearchConfig); every draw is seeded.

use discord_api::limits::{
    DEFAULT_SLOP, MAX_SEARCH_CHANNELS, MAX_SEARCH_CONTENT, MAX_SEARCH_OFFSET, MAX_SEARCH_USERS,
    MAX_SLOP, SEARCH_AUTHOR_TYPES, SEARCH_HAS_VALUES, SEARCH_PAGE, code,
};
use discord_api::{
    DiscordError, DiscordResult, Message, SearchQuery, SearchResults, Snowflake, SortOrder,
    discord_len,
};

use crate::search_config::Matching;
use crate::text::ContentQuery;
use crate::{Inner, draw};

impl Inner {
    pub(crate) fn search(&mut self, q: &SearchQuery, now: u64) -> DiscordResult<SearchResults> {
        check_query(q)?;
        if self.config.search.forbidden {
            return Err(DiscordError::Forbidden {
                code: code::MISSING_ACCESS,
                message: "Missing Access".into(),
            });
        }
        self.check_ready(now)?;
        self.search_requests += 1;
        let deep = self.config.search.deep_index.filter(|d| d.active(now));
        let hidden_before = deep.map(|d| {
            let ms = now.saturating_sub(d.hides_older_than.as_micros() as u64) / 1000;
            Snowflake::from_unix_ms(ms)
        });
        let mut matched = self.matching(q, hidden_before, now);
        if q.sort_order == Some(SortOrder::Asc) {
            matched.reverse();
        }
        let (total, page) = self.page(q, &matched);
        let messages = page
            .into_iter()
            .filter_map(|id| self.hydrate(id, now))
            .map(|m| vec![m])
            .collect();
        Ok(SearchResults {
            total_results: total,
            messages,
            doing_deep_historical_index: deep.is_some(),
        })
    }

    /// 202 while warming up, and on the guild's first search (a 202 of the
    /// warm-up is that first one).
    fn check_ready(&mut self, now: u64) -> DiscordResult<()> {
        let ready_at = self.started_us + self.config.search.warmup.as_micros() as u64;
        if now < ready_at {
            self.searched = true;
            return Err(DiscordError::IndexNotReady {
                retry_after: ((ready_at - now) as f64 / 1e6).ceil().max(1.0),
                documents_indexed: 0,
            });
        }
        if self.config.search.first_search_202 && !self.searched {
            self.searched = true;
            // Discord documents a `retry_after` of 0 ("retry after a short delay").
            let retry_after = draw::below(self.config.search.seed, &[now, 7], 3) as f64;
            return Err(DiscordError::IndexNotReady {
                retry_after,
                documents_indexed: 0,
            });
        }
        self.searched = true;
        Ok(())
    }

    /// The IDs search matches, newest first: candidates from the posting
    /// list of the query's rarest word, each checked against the version
    /// of the message that search sees now.
    fn matching(
        &self,
        q: &SearchQuery,
        hidden_before: Option<Snowflake>,
        now: u64,
    ) -> Vec<Snowflake> {
        let index = &self.state.index;
        let content = q
            .content
            .as_deref()
            .map(|c| match self.config.search.matching {
                Matching::Phrase => ContentQuery::phrase(c),
                Matching::AllWords => ContentQuery::all_words(c),
            });
        let query = match content.map(|c| c.intern(|w| index.word_id(w))) {
            Some(None) => return Vec::new(), // a word search has never seen
            Some(Some(q)) => Some(q),
            None => None,
        };
        let driver = query
            .iter()
            .flat_map(|c| c.terms.iter().flatten())
            .min_by_key(|w| index.posting_len(**w))
            .copied();
        let min = q
            .min_id
            .unwrap_or_default()
            .max(hidden_before.unwrap_or_default());
        let max = q.max_id.unwrap_or(Snowflake(u64::MAX));
        let slop = q.slop.unwrap_or(DEFAULT_SLOP) as usize;
        index
            .candidates(driver, min, max)
            .filter(|m| {
                let Some(words) = m.visible_words(now) else {
                    return false;
                };
                (q.channel_ids.is_empty() || q.channel_ids.contains(&m.channel))
                    && (q.author_ids.is_empty() || q.author_ids.contains(&m.author))
                    && query.as_ref().is_none_or(|c| c.matches(words, slop))
                    && (!needs_message(q) || self.message_matches(q, m.channel, m.id))
            })
            .map(|m| m.id)
            .collect()
    }

    /// The filters answered from the message itself: `has`, `pinned`,
    /// `mentions`, `author_type`.
    fn message_matches(&self, q: &SearchQuery, channel: Snowflake, id: Snowflake) -> bool {
        let Some(m) = self.state.message(channel, id) else {
            return false;
        };
        q.has.iter().all(|h| has_matches(h, m))
            && q.pinned.is_none_or(|p| p == m.pinned)
            && (q.mentions.is_empty() || m.mentions.iter().any(|u| q.mentions.contains(&u.id)))
            && author_type_matches(&q.author_types, m)
    }

    /// The reported total and the IDs of the page asked for: sometimes
    /// empty, or cut short, although more hits follow.
    fn page(&self, q: &SearchQuery, matched: &[Snowflake]) -> (u64, Vec<Snowflake>) {
        let cfg = &self.config.search;
        let about = query_hash(q);
        let total = cfg.reported_total(matched.len() as u64, about);
        let offset = q.offset.unwrap_or(0) as usize;
        let limit = q.limit.unwrap_or(SEARCH_PAGE) as usize;
        let mut page: Vec<Snowflake> = matched.iter().skip(offset).take(limit).copied().collect();
        let more_follow = offset + page.len() < matched.len();
        let request = self.search_requests;
        if !page.is_empty() && draw::unit(cfg.seed, &[about, request, 4]) < cfg.empty_pages {
            page.clear();
        } else if more_follow
            && page.len() > 1
            && draw::unit(cfg.seed, &[about, request, 5]) < cfg.short_pages
        {
            let keep = 1 + draw::below(cfg.seed, &[about, request, 6], page.len() as u64 - 1);
            page.truncate(keep as usize);
        }
        (total, page)
    }

    /// A hit as the message store has it now: a message deleted since it was
    /// indexed is no hit, an edited one carries its new content.
    fn hydrate(&self, id: Snowflake, now: u64) -> Option<Message> {
        let channel = self.state.index.message(id)?.channel;
        let mut m = self.render(self.state.message(channel, id)?, now);
        m.hit = Some(true);
        Some(m)
    }
}

/// What the seeded draws of one query are about: its words and channels,
/// not its page, so that every page of a query sees the same total.
fn query_hash(q: &SearchQuery) -> u64 {
    let channels: Vec<String> = q.channel_ids.iter().map(|c| c.to_string()).collect();
    draw::text_hash(&format!(
        "{}|{}",
        q.content.as_deref().unwrap_or_default(),
        channels.join(",")
    ))
}

fn check_query(q: &SearchQuery) -> DiscordResult<()> {
    let bad = |m: &str| Err(DiscordError::invalid_body(m.to_string()));
    if q.content
        .as_deref()
        .is_some_and(|c| discord_len(c) > MAX_SEARCH_CONTENT)
    {
        return bad("content: Must be 1024 or fewer in length.");
    }
    if q.channel_ids.len() > MAX_SEARCH_CHANNELS {
        return bad("channel_id: Must be 500 or fewer in length.");
    }
    if q.author_ids.len() > MAX_SEARCH_USERS {
        return bad("author_id: Must be 100 or fewer in length.");
    }
    if q.mentions.len() > MAX_SEARCH_USERS {
        return bad("mentions: Must be 100 or fewer in length.");
    }
    if let Some(t) = q
        .author_types
        .iter()
        .find(|t| !SEARCH_AUTHOR_TYPES.contains(&t.trim_start_matches('-')))
    {
        return bad(&format!(
            "author_type: Value \"{t}\" is not a valid enum value."
        ));
    }
    if q.limit.is_some_and(|l| !(1..=SEARCH_PAGE).contains(&l)) {
        return bad(
            "limit: int value should be less than or equal to 25 and greater than or equal to 1.",
        );
    }
    if q.offset.is_some_and(|o| o > MAX_SEARCH_OFFSET) {
        return bad("offset: int value should be less than or equal to 9975.");
    }
    if q.slop.is_some_and(|s| s > MAX_SLOP) {
        return bad("slop: int value should be less than or equal to 100.");
    }
    if let Some(h) = q
        .has
        .iter()
        .find(|h| !SEARCH_HAS_VALUES.contains(&h.trim_start_matches('-')))
    {
        return bad(&format!("has: Value \"{h}\" is not a valid enum value."));
    }
    Ok(())
}

fn needs_message(q: &SearchQuery) -> bool {
    !q.has.is_empty() || q.pinned.is_some() || !q.mentions.is_empty() || !q.author_types.is_empty()
}

/// `has=kind` (or `-kind`): stickers, polls and forwarded snapshots are
/// not modelled, so no message has them.
fn has_matches(has: &str, m: &Message) -> bool {
    let (negate, kind) = match has.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, has),
    };
    let file_like = |exts: &[&str]| {
        m.attachments.iter().any(|a| {
            let name = a.filename.to_ascii_lowercase();
            exts.iter().any(|e| name.ends_with(e))
        })
    };
    let present = match kind {
        "file" => !m.attachments.is_empty(),
        "link" => m.has_link(),
        "embed" => !m.embeds.is_empty(),
        "image" => file_like(&[".png", ".jpg", ".jpeg", ".gif", ".webp"]),
        "video" => file_like(&[".mp4", ".webm", ".mov"]),
        "sound" => file_like(&[".mp3", ".ogg", ".wav", ".flac"]),
        _ => false,
    };
    present != negate
}

/// `author_type`: any of the types asked for, none of the negated ones.
fn author_type_matches(types: &[String], m: &Message) -> bool {
    let kind = if m.webhook_id.is_some() {
        "webhook"
    } else if m.author.bot {
        "bot"
    } else {
        "user"
    };
    let (negated, wanted): (Vec<&String>, Vec<&String>) =
        types.iter().partition(|t| t.starts_with('-'));
    (wanted.is_empty() || wanted.iter().any(|t| t.as_str() == kind))
        && !negated.iter().any(|t| &t[1..] == kind)
}
