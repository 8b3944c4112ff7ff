//! The messages of staged segments: a directory names a segment by its
//! message, but reading its files needs the message's attachments (their
//! URLs are signed and expire, so they are never stored). Staged messages
//! met while paging a table's log are kept; one that is not is fetched
//! with a page of the messages around it, which brings the segments staged
//! beside it (a compaction's, a statement's) at the same cost.

use std::sync::Arc;

use discord_api::limits::HISTORY_PAGE;
use discord_api::{HistoryAnchor, HistoryQuery, Message};

use super::batches::corrupt;
use super::stats::ReadStats;
use crate::error::Result;
use crate::store::codec::manifest::is_staged;
use crate::store::log::commit::SegmentRef;
use crate::store::schema::TableDef;
use crate::store::state::Store;

impl Store {
    /// The message holding `seg`'s files.
    pub(crate) async fn segment_message(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        stats: &mut ReadStats,
    ) -> Result<Arc<Message>> {
        if let Some(m) = &seg.message {
            return Ok(Arc::clone(m));
        }
        let now = self.clock.now_ms();
        if let Some(m) = self.parts.get(seg.id, now) {
            return Ok(m);
        }
        let query = HistoryQuery {
            anchor: HistoryAnchor::Around(seg.id),
            limit: HISTORY_PAGE,
        };
        let page = match self.discord.list_messages(seg.channel, &query).await {
            Ok(page) => page,
            // Its channel is gone (an index dropped while it was built).
            Err(discord_api::DiscordError::NotFound { .. }) => {
                return Err(corrupt(def, seg, "its channel is gone"));
            }
            Err(e) => return Err(e.into()),
        };
        stats.history_requests += 1;
        let bot = self.discord.bot_user_id();
        // The segment's own message (a staged one, or a first-format
        // checkpoint a manifest names), and the staged ones around it.
        let staged = page
            .into_iter()
            .filter(|m| m.author.id == bot && (m.id == seg.id || is_staged(&m.content)))
            .map(Arc::new);
        self.parts.keep(staged, now);
        self.parts
            .get(seg.id, now)
            .ok_or_else(|| corrupt(def, seg, "its message is gone"))
    }
}
