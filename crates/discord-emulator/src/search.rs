//! Guild message search: word matching with Discord's fuzziness, lag and limits.

use std::sync::Arc;

use discord_api::limits::{
    DEFAULT_SLOP, MAX_SEARCH_CHANNELS, MAX_SEARCH_CONTENT, MAX_SEARCH_OFFSET, MAX_SLOP,
    SEARCH_HAS_VALUES, SEARCH_PAGE,
};
use discord_api::{
    DiscordError, DiscordResult, Message, SearchQuery, SearchResults, SortOrder, discord_len,
};

use crate::Inner;
use crate::state::Doc;
use crate::text::ContentQuery;

impl Inner {
    pub(crate) fn search(&self, q: &SearchQuery, now: u64) -> DiscordResult<SearchResults> {
        check_query(q)?;
        let ready_at = self.started_us + self.config.search_warmup.as_micros() as u64;
        if now < ready_at {
            return Err(DiscordError::IndexNotReady {
                retry_after: ((ready_at - now) as f64 / 1e6).ceil().max(1.0),
                documents_indexed: 0,
            });
        }
        let content = q.content.as_deref().map(ContentQuery::parse);
        let slop = q.slop.unwrap_or(DEFAULT_SLOP) as usize;
        let mut hits: Vec<&Arc<Doc>> = self
            .state
            .index
            .values()
            .filter_map(|entry| entry.visible(now))
            .filter(|doc| filters_match(q, &doc.message))
            .filter(|doc| content.as_ref().is_none_or(|c| c.matches(&doc.words, slop)))
            .collect();
        // The index is keyed by ID, so `hits` is oldest first.
        if q.sort_order != Some(SortOrder::Asc) {
            hits.reverse();
        }
        let offset = q.offset.unwrap_or(0) as usize;
        let mut limit = q.limit.unwrap_or(SEARCH_PAGE) as usize;
        if self.config.search_short_pages && offset + limit < hits.len() && limit > 1 {
            limit -= 1; // a short page although more hits follow
        }
        let messages = hits
            .iter()
            .skip(offset)
            .take(limit)
            .map(|doc| {
                let mut m = self.render(&doc.message, now);
                m.hit = Some(true);
                vec![m]
            })
            .collect();
        Ok(SearchResults {
            total_results: hits.len() as u64,
            messages,
            doing_deep_historical_index: false,
        })
    }
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

/// Everything but the content: channels, author, ID window, `has`.
fn filters_match(q: &SearchQuery, m: &Message) -> bool {
    (q.channel_ids.is_empty() || q.channel_ids.contains(&m.channel_id))
        && q.author_id.is_none_or(|a| a == m.author.id)
        && q.min_id.is_none_or(|min| m.id > min)
        && q.max_id.is_none_or(|max| m.id < max)
        && q.has.iter().all(|h| has_matches(h, m))
}

fn has_matches(has: &str, m: &Message) -> bool {
    let (negate, kind) = match has.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, has),
    };
    let present = match kind {
        "file" => !m.attachments.is_empty(),
        "link" => m.content.contains("http://") || m.content.contains("https://"),
        _ => false,
    };
    present != negate
}
