//! Reading segments: batches fetched from the CDN with range reads, decoded
//! once and cached (a segment never changes, so its batches never go stale).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::error::ArrowError;
use discord_api::attachments::download;
use discord_api::{ByteRange, Snowflake};

use super::cache::{IndexBatch, recall, remember};
use super::stats::ReadStats;
use crate::error::{Error, Result};
use crate::store::codec::commit::Change;
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::segment::{self, BatchDir, FileDir};
use crate::store::log::commit::{KeyedBatch, SegmentRef};
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

/// Bytes a scan reads ahead in one range request.
pub const READ_AHEAD: u64 = 8 << 20;

/// The cache key of data batch `i` of a segment.
fn data_key(seg: &SegmentRef, i: usize) -> (Snowflake, usize) {
    let attachment = seg.message.attachments.get(seg.header.data.file);
    (attachment.map(|a| a.id).unwrap_or_default(), i)
}

/// One data batch's bytes, decoded, and as keyed changes.
fn decode_data(
    def: &TableDef,
    seg: &SegmentRef,
    dir: &BatchDir,
    bytes: Vec<u8>,
) -> Result<(KeyedBatch, RecordBatch)> {
    let arrow = segment::segment_schema(def, &seg.header)
        .and_then(|schema| segment::decode_batch(&schema, dir, bytes))
        .and_then(|raw| segment::normalize(def, &raw))
        .map_err(|e| corrupt(def, seg, e))?;
    let changes = segment::changes(def, &arrow).map_err(|e| corrupt(def, seg, e))?;
    let keyed: Vec<(Key, Change)> = changes
        .into_iter()
        .filter_map(|c| Some((row_key(def, &c.values)?, c)))
        .collect();
    Ok((Arc::new(keyed), arrow))
}

/// The error for a segment of `def` that cannot be read, and why.
pub(crate) fn corrupt(def: &TableDef, seg: &SegmentRef, why: impl std::fmt::Display) -> Error {
    Error::SegmentUnreadable {
        table: def.qualified_name(),
        message: seg.message.id,
        why: why.to_string(),
    }
}

impl Store {
    /// Bytes `range` of one of a segment's files: one range read (one per
    /// part it spans, for a file cut into parts).
    async fn file_bytes(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        file: &FileDir,
        range: ByteRange,
        stats: &mut ReadStats,
    ) -> Result<Vec<u8>> {
        let Some((part, _)) = file.parts else {
            return self.part_bytes(def, seg, file.file, range, stats).await;
        };
        let mut out = Vec::with_capacity((range.end - range.start) as usize);
        let mut at = range.start;
        while at < range.end {
            let k = at / part;
            let end = range.end.min((k + 1) * part);
            let sub = ByteRange {
                start: at - k * part,
                end: end - k * part,
            };
            out.extend(
                self.part_bytes(def, seg, file.file + k as usize, sub, stats)
                    .await?,
            );
            at = end;
        }
        Ok(out)
    }

    /// Bytes `range` of attachment `i` of a segment's message.
    async fn part_bytes(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        i: usize,
        range: ByteRange,
        stats: &mut ReadStats,
    ) -> Result<Vec<u8>> {
        let attachment = seg
            .message
            .attachments
            .get(i)
            .ok_or_else(|| corrupt(def, seg, format!("it lacks attachment {i}")))?;
        let bytes = download(
            self.discord.as_ref(),
            seg.message.channel_id,
            seg.message.id,
            attachment,
            Some(range),
        )
        .await?;
        stats.cdn_requests += 1;
        stats.cdn_bytes += bytes.len() as u64;
        Ok(bytes)
    }

    /// The bytes of one batch of one of a segment's files.
    async fn batch_bytes(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        file: &FileDir,
        dir: &BatchDir,
        stats: &mut ReadStats,
    ) -> Result<Vec<u8>> {
        let range = ByteRange {
            start: dir.offset(),
            end: dir.offset() + dir.len(),
        };
        self.file_bytes(def, seg, file, range, stats).await
    }

    /// Batch `i` of a segment's data file, keyed. With `ahead` (a scan
    /// that will want the next batches too), the batches that follow it,
    /// up to [`READ_AHEAD`] bytes, come in the same range read.
    pub async fn data_batch(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        i: usize,
        ahead: bool,
        stats: &mut ReadStats,
    ) -> Result<KeyedBatch> {
        let cache = &self.batches.data;
        self.data_form(def, seg, i, ahead, stats, cache, |(keyed, _)| keyed)
            .await
    }

    /// Batch `i` of a segment's data file as decoded: the table's columns,
    /// then `_op`. Reads ahead as [`Store::data_batch`] does.
    pub async fn data_arrow(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        i: usize,
        stats: &mut ReadStats,
    ) -> Result<RecordBatch> {
        let cache = &self.batches.arrow;
        self.data_form(def, seg, i, true, stats, cache, |(_, arrow)| arrow)
            .await
    }

    /// Batch `i` in one of its decoded forms: from `cache`, or fetched
    /// (both forms cached) and picked by `form`.
    #[allow(clippy::too_many_arguments)]
    async fn data_form<T: Clone>(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        i: usize,
        ahead: bool,
        stats: &mut ReadStats,
        cache: &Mutex<HashMap<(Snowflake, usize), T>>,
        form: fn((KeyedBatch, RecordBatch)) -> T,
    ) -> Result<T> {
        if let Some(hit) = recall(cache, &data_key(seg, i)) {
            stats.cached_batches += 1;
            return Ok(hit);
        }
        Ok(form(self.load_data(def, seg, i, ahead, stats).await?))
    }

    /// Fetch batch `i` (and with `ahead` the batches after it) in one
    /// range read, decode and cache them; batch `i` both ways.
    async fn load_data(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        i: usize,
        ahead: bool,
        stats: &mut ReadStats,
    ) -> Result<(KeyedBatch, RecordBatch)> {
        let file = &seg.header.data;
        let dirs = &file.batches;
        let start = dirs[i].offset();
        let mut last = i;
        while ahead
            && last + 1 < dirs.len()
            && dirs[last + 1].offset() + dirs[last + 1].len() - start <= READ_AHEAD
        {
            last += 1;
        }
        let end = dirs[last].offset() + dirs[last].len();
        let bytes = self
            .file_bytes(def, seg, file, ByteRange { start, end }, stats)
            .await?;
        let mut first = None;
        for (j, dir) in dirs.iter().enumerate().take(last + 1).skip(i) {
            let at = (dir.offset() - start) as usize;
            let own = bytes
                .get(at..at + dir.len() as usize)
                .ok_or_else(|| {
                    corrupt(def, seg, ArrowError::IpcError("a short range read".into()))
                })?
                .to_vec();
            let (keyed, arrow) = decode_data(def, seg, dir, own)?;
            remember(&self.batches.data, data_key(seg, j), &keyed);
            remember(&self.batches.arrow, data_key(seg, j), &arrow);
            first.get_or_insert((keyed, arrow));
        }
        Ok(first.expect("batch i was read"))
    }

    /// Batch `i` of a segment's file for `index`.
    pub async fn index_batch(
        &self,
        def: &TableDef,
        index: &IndexDef,
        seg: &SegmentRef,
        file: &FileDir,
        i: usize,
        stats: &mut ReadStats,
    ) -> Result<IndexBatch> {
        let attachment = seg.message.attachments.get(file.file).map(|a| a.id);
        let cache_key = (attachment.unwrap_or_default(), i);
        if let Some(hit) = recall(&self.batches.index, &cache_key) {
            stats.cached_batches += 1;
            return Ok(hit);
        }
        let schema = segment::index_schema(def, index).ok_or_else(|| {
            Error::CatalogDamaged(format!("index {} names a missing column", index.name))
        })?;
        let dir = &file.batches[i];
        let bytes = self.batch_bytes(def, seg, file, dir, stats).await?;
        let entries = segment::decode_batch(&schema, dir, bytes)
            .and_then(|b| segment::index_entries(def, index, &b))
            .map_err(|e| corrupt(def, seg, e))?;
        let pairs: Vec<(Key, Key)> = entries
            .into_iter()
            .filter_map(|(v, k)| Some((Key::of([&v])?, k)))
            .collect();
        let pairs = Arc::new(pairs);
        remember(&self.batches.index, cache_key, &pairs);
        Ok(pairs)
    }

    /// Every change of a segment, in key order.
    pub async fn all_changes(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        stats: &mut ReadStats,
    ) -> Result<Vec<Change>> {
        Ok(self
            .all_batches(def, seg, stats)
            .await?
            .iter()
            .flat_map(|b| b.iter().map(|(_, c)| c.clone()))
            .collect())
    }

    /// Every row of a segment, batch by batch, keyed.
    pub async fn all_batches(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        stats: &mut ReadStats,
    ) -> Result<Vec<KeyedBatch>> {
        let mut out = Vec::with_capacity(seg.header.data.batches.len());
        for i in 0..seg.header.data.batches.len() {
            out.push(self.data_batch(def, seg, i, true, stats).await?);
        }
        Ok(out)
    }
}

/// The batches of an index directory that may hold entries for `value`:
/// from the one that may hold its first entry to the last that starts with it.
pub fn batches_for_value(batches: &[BatchDir], value: &Key) -> std::ops::Range<usize> {
    let starts_at_most = batches.partition_point(|b| b.first().is_some_and(|f| f < *value));
    let first = starts_at_most.saturating_sub(1);
    let end = batches.partition_point(|b| {
        b.first()
            .is_some_and(|f| f.0.starts_with(&value.0) || f < *value)
    });
    first..end.max(first + 1).min(batches.len())
}
