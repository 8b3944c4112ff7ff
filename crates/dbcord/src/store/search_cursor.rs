//! Paging through one search as Discord's search must be paged: by `max_id`
//! keyset, never trusting a short page, an empty page or `total_results`.
//!
//! Each request asks for the hits older than the oldest one seen so far.
//! Hits advance the cursor. An empty page ends the search only when the
//! next one is empty too ("exhausted by more than one empty page"), since
//! Discord may send an empty page while hits remain; while `total_results`
//! still claims hits, empty pages are retried a few times and then the
//! search is given up as unreliable, so the caller reads the history
//! instead. `total_results` itself never ends a search: it may undercount.

use discord_api::{Message, Snowflake};

/// Empty pages in a row that, with `total_results` saying hits remain, make
/// the search untrustworthy.
const EMPTY_WHILE_HITS_REMAIN: u32 = 3;

/// Where a search stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchCursor {
    /// Ask only for hits older than this (`None`: from the newest).
    pub max_id: Option<Snowflake>,
    /// Empty pages received in a row.
    empty_in_a_row: u32,
}

/// What to do after a page.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Ask again from the cursor.
    Continue,
    /// Every hit has been read.
    Done,
    /// Search cannot be trusted for this query; read the history instead.
    GiveUp(String),
}

impl SearchCursor {
    /// Take in a page of `hits` whose answer said `total` hits remain.
    pub fn advance(&mut self, hits: &[Message], total: u64) -> Next {
        if let Some(oldest) = hits.iter().map(|m| m.id).min() {
            self.max_id = Some(self.max_id.map_or(oldest, |m| m.min(oldest)));
            self.empty_in_a_row = 0;
            return Next::Continue;
        }
        self.empty_in_a_row += 1;
        if total == 0 {
            return if self.empty_in_a_row >= 2 {
                Next::Done
            } else {
                Next::Continue
            };
        }
        if self.empty_in_a_row >= EMPTY_WHILE_HITS_REMAIN {
            return Next::GiveUp(format!(
                "search sent {} empty pages while reporting {total} more hits",
                self.empty_in_a_row
            ));
        }
        Next::Continue
    }
}

#[cfg(test)]
mod tests {
    use discord_api::User;

    use super::*;

    fn msg(id: u64) -> Message {
        Message {
            id: Snowflake(id),
            channel_id: Snowflake(1),
            author: User {
                id: Snowflake(2),
                username: "b".into(),
                discriminator: "0".into(),
                bot: true,
            },
            content: String::new(),
            timestamp: String::new(),
            edited_timestamp: None,
            attachments: vec![],
            kind: 0,
            pinned: false,
            nonce: None,
            flags: 0,
            hit: Some(true),
        }
    }

    #[test]
    fn pages_by_keyset_and_stops_only_after_two_empty_pages() {
        let mut c = SearchCursor::default();
        assert_eq!(c.advance(&[msg(9), msg(7)], 1), Next::Continue);
        assert_eq!(
            c.max_id,
            Some(Snowflake(7)),
            "an undercounted total does not stop it"
        );
        assert_eq!(
            c.advance(&[], 0),
            Next::Continue,
            "one empty page is not the end"
        );
        assert_eq!(c.advance(&[msg(5)], 0), Next::Continue);
        assert_eq!(c.max_id, Some(Snowflake(5)));
        assert_eq!(c.advance(&[], 0), Next::Continue);
        assert_eq!(c.advance(&[], 0), Next::Done);
    }

    #[test]
    fn empty_pages_while_hits_remain_are_retried_then_given_up() {
        let mut c = SearchCursor::default();
        assert_eq!(c.advance(&[], 40), Next::Continue);
        assert_eq!(c.advance(&[], 40), Next::Continue);
        assert!(matches!(c.advance(&[], 40), Next::GiveUp(_)));
    }
}
