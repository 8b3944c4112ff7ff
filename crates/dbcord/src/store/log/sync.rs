//! Reading a table's log from its channel's history: back from the newest
//! message to the newest checkpoint that counts on a first read, forward
//! from the newest message already read after that (see [`super::table_log`]).

use std::sync::Arc;

use discord_api::limits::HISTORY_PAGE;
use discord_api::{Discord, HistoryAnchor, HistoryQuery, Message, Snowflake};

use super::table_log::TableLog;
use super::{directories, shards};
use crate::error::{Error, Result};
use crate::store::codec::{commit, manifest};
use crate::store::schema::TableDef;

/// Read the log of `def`'s channel: all of it back to the newest
/// checkpoint if `known` is empty, else what came after it.
pub async fn sync(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    known: &TableLog,
) -> Result<TableLog> {
    let bot = discord.bot_user_id();
    let mut log = known.clone();
    log.requests = 0;
    log.cdn = (0, 0);
    match known.synced {
        Some(after) => forward(discord, def, bot, after, None, &mut log).await?,
        None => backward(discord, def, bot, &mut log).await?,
    }
    resolve(discord, def, &mut log).await?;
    Ok(log)
}

/// `known` brought forward to message `until` and no further: the log as
/// every reader had it when `until` was posted, which is what decides
/// whether the commit `until` counts (messages after it never change that).
pub async fn sync_until(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    known: &TableLog,
    until: Snowflake,
) -> Result<TableLog> {
    let bot = discord.bot_user_id();
    let mut log = known.clone();
    let after = known.synced.unwrap_or_default();
    forward(discord, def, bot, after, Some(until), &mut log).await?;
    resolve(discord, def, &mut log).await?;
    Ok(log)
}

/// Read what the log's commits name: their shards, their directories.
async fn resolve(discord: &Arc<dyn Discord>, def: &TableDef, log: &mut TableLog) -> Result<()> {
    shards::resolve(discord, def, &mut log.commits).await?;
    directories::resolve(discord, def, log).await
}

/// Pages after `after`, oldest first, until a short page (or `until`).
async fn forward(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    bot: Snowflake,
    mut after: Snowflake,
    until: Option<Snowflake>,
    log: &mut TableLog,
) -> Result<()> {
    loop {
        let page = page(discord, def.channel_id, HistoryAnchor::After(after), log).await?;
        let full = page.len() == HISTORY_PAGE as usize;
        let mut page = page;
        page.sort_by_key(|m| m.id);
        after = match page.last() {
            Some(m) => m.id,
            None => return Ok(()),
        };
        let past = until.is_some_and(|u| after >= u);
        page.retain(|m| until.is_none_or(|u| m.id <= u));
        log.extend(def, bot, page);
        if !full || past {
            return Ok(());
        }
    }
}

/// Pages from the newest back until the newest checkpoint that counts,
/// and everything after its cover, has been read (or the channel ends).
async fn backward(
    discord: &Arc<dyn Discord>,
    def: &TableDef,
    bot: Snowflake,
    log: &mut TableLog,
) -> Result<()> {
    let start = log.clone();
    let mut newest_first: Vec<Message> = Vec::new();
    let mut anchor = HistoryAnchor::Latest;
    let mut seen_checkpoint = false;
    loop {
        let mut page = page(discord, def.channel_id, anchor, log).await?;
        let full = page.len() == HISTORY_PAGE as usize;
        page.sort_by_key(|m| std::cmp::Reverse(m.id));
        let Some(oldest) = page.last().map(|m| m.id) else {
            break;
        };
        seen_checkpoint |= page.iter().any(|m| {
            m.author.id == bot
                && (m.content.starts_with(commit::SEGMENT_MARKER)
                    || m.content.starts_with(manifest::MANIFEST_MARKER))
        });
        newest_first.extend(page);
        if !full {
            break;
        }
        if seen_checkpoint {
            let mut trial = start.clone();
            trial.extend(def, bot, newest_first.iter().rev().cloned().collect());
            if trial.complete_from(oldest) {
                break;
            }
        }
        anchor = HistoryAnchor::Before(oldest);
    }
    newest_first.reverse();
    let requests = log.requests;
    *log = start;
    log.requests = requests;
    log.extend(def, bot, newest_first);
    Ok(())
}

async fn page(
    discord: &Arc<dyn Discord>,
    channel: Snowflake,
    anchor: HistoryAnchor,
    log: &mut TableLog,
) -> Result<Vec<Message>> {
    let query = HistoryQuery {
        anchor,
        limit: HISTORY_PAGE,
    };
    log.requests += 1;
    discord
        .list_messages(channel, &query)
        .await
        .map_err(Error::from)
}
