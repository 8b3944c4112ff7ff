//! The commit message of a statement: a row message if its changes fit in
//! one message's text, else a segment in attachments whose header fits, if
//! its files fit in one message (else the statement is staged: see
//! [`super::stage`]).

use std::collections::HashMap;
use std::sync::Arc;

use discord_api::limits::MAX_CONTENT_LEN;
use discord_api::{NewMessage, discord_len};

use crate::error::{Error, Result};
use crate::store::codec::ascii_json;
use crate::store::codec::commit;
use crate::store::codec::meta::CommitMeta;
use crate::store::codec::op::Change;
use crate::store::codec::segment::{self, EncodedSegment, Layout};
use crate::store::codec::shard::ShardRef;
use crate::store::compact::writer::fits;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::write::options::WriteOptions;

/// Rows a segment's data file puts in one batch at the least.
const MIN_BATCH_ROWS: usize = 1024;
/// Batches a segment's data file is cut into at the most.
const MAX_BATCHES: usize = 16;

/// The commit message: a row message if it fits, else a segment in one
/// message; `None` if the statement's files are too large for one
/// message (it is then staged).
pub(crate) fn build(
    def: &TableDef,
    indexes: &[Arc<IndexDef>],
    changes: &[Change],
    meta: &CommitMeta,
    sharded: &HashMap<usize, ShardRef>,
    options: &WriteOptions,
) -> Result<Option<NewMessage>> {
    if let Some(content) = commit::encode_rows_sharded(def, changes, meta, sharded)? {
        return Ok(Some(NewMessage::idempotent(content)));
    }
    // Rows far larger than a message's files hold are staged without
    // encoding them once for nothing.
    let estimate: usize = changes
        .iter()
        .map(|c| super::stage::change_bytes(def, c))
        .sum();
    if estimate / 4 > options.segment_bytes {
        return Ok(None);
    }
    let (content, segment) = fit_segment(def, indexes, changes, meta, options)?;
    if !fits(&segment, options) {
        return Ok(None);
    }
    Ok(Some(
        NewMessage::idempotent(content).with_files(segment.files),
    ))
}

/// A segment whose header fits in the message: fewer, larger batches until
/// the batch directories fit.
fn fit_segment(
    def: &TableDef,
    indexes: &[Arc<IndexDef>],
    changes: &[Change],
    meta: &CommitMeta,
    options: &WriteOptions,
) -> Result<(String, EncodedSegment)> {
    let mut batches = (changes.len() / MIN_BATCH_ROWS).clamp(1, MAX_BATCHES);
    let tokens = key_tokens_of(def, changes);
    loop {
        let layout = Layout {
            per_batch: changes.len().div_ceil(batches).max(1),
            part_bytes: options.part_bytes,
        };
        let seg = segment::encode(def, indexes, changes, layout).map_err(|e| {
            Error::SegmentNotEncoded {
                table: def.qualified_name(),
                why: e.to_string(),
            }
        })?;
        if let Some(content) = fitting_content(&seg, meta, &tokens) {
            return Ok((content, seg));
        }
        if batches == 1 {
            // Statistics only let scans skip the segment: a wide table's
            // segments go without them rather than not at all.
            let mut seg = seg;
            seg.header.stats.clear();
            if let Some(content) = fitting_content(&seg, meta, &[]) {
                return Ok((content, seg));
            }
            return Err(Error::SegmentHeaderTooLarge(def.qualified_name()));
        }
        batches /= 2;
    }
}

/// The segment's message content if it fits in one message: with its
/// keys' search tokens when those fit too, else without.
fn fitting_content(seg: &EncodedSegment, meta: &CommitMeta, tokens: &[String]) -> Option<String> {
    let header = ascii_json::to_string(&seg.header);
    let with_tokens = commit::segment_content_with_tokens(&header, meta, tokens);
    if discord_len(&with_tokens) <= MAX_CONTENT_LEN {
        return Some(with_tokens);
    }
    if tokens.is_empty() {
        return None;
    }
    let content = commit::segment_content(&header, meta);
    (discord_len(&content) <= MAX_CONTENT_LEN).then_some(content)
}

/// Rows a segment names by their key tokens on its marker line, at most.
const TOKENED_ROWS: usize = 16;

/// The key tokens of a statement of few rows (none for more): a search for
/// a key then finds the segment that holds a large row.
fn key_tokens_of(def: &TableDef, changes: &[Change]) -> Vec<String> {
    if changes.len() > TOKENED_ROWS {
        return Vec::new();
    }
    let mut tokens: Vec<String> = changes
        .iter()
        .flat_map(|c| commit::key_tokens(def, &c.values))
        .collect();
    tokens.dedup();
    tokens
}
