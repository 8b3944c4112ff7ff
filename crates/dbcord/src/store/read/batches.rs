//! Reading segments: batches fetched from the CDN with range reads (the
//! batches that follow too, for a scan that will want them), decoded, and
//! kept in the cache.

use std::sync::Arc;

use datafusion::arrow::error::ArrowError;
use discord_api::ByteRange;
use discord_api::attachments::download;

use super::cache::{BatchId, DataBatch, IndexBatch};
use super::stats::ReadStats;
use crate::error::{Error, Result};
use crate::store::codec::batch::{index_entries, normalize};
use crate::store::codec::ipc::{BatchDir, decode_batch};
use crate::store::codec::key::Key;
use crate::store::codec::segment::{self, FileDir};
use crate::store::log::commit::SegmentRef;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;

/// Bytes a scan reads ahead in one range request.
pub const READ_AHEAD: u64 = 8 << 20;

/// The error for a segment of `def` that cannot be read, and why.
pub(crate) fn corrupt(def: &TableDef, seg: &SegmentRef, why: impl std::fmt::Display) -> Error {
    Error::SegmentUnreadable {
        table: def.qualified_name(),
        message: seg.id,
        why: why.to_string(),
    }
}

/// The batches from `i` that one range read fetches: `i` alone, or with
/// `ahead` the batches after it up to [`READ_AHEAD`] bytes in all.
pub fn read_span(dirs: &[BatchDir], i: usize, ahead: bool) -> std::ops::Range<usize> {
    read_span_within(dirs, i, if ahead { READ_AHEAD } else { 0 })
}

/// The batches from `i` that one range read of at most `budget` bytes
/// fetches (batch `i` at least).
pub fn read_span_within(dirs: &[BatchDir], i: usize, budget: u64) -> std::ops::Range<usize> {
    let start = dirs[i].offset();
    let mut last = i;
    while last + 1 < dirs.len() && dirs[last + 1].offset() + dirs[last + 1].len() - start <= budget
    {
        last += 1;
    }
    i..last + 1
}

/// Range reads a whole file takes, in spans as a scan reads them.
pub fn full_reads(file: &FileDir) -> u64 {
    let (mut i, mut n) = (0, 0);
    while i < file.batches.len() {
        let span = read_span(&file.batches, i, true);
        n += span_reads(file, &span);
        i = span.end;
    }
    n
}

/// Range reads of a span of batches: one, or one per part of the file it
/// touches (a read never spans two attachments).
pub fn span_reads(file: &FileDir, span: &std::ops::Range<usize>) -> u64 {
    let Some((part, _)) = file.parts else {
        return 1;
    };
    let start = file.batches[span.start].offset();
    let last = &file.batches[span.end - 1];
    let end = last.offset() + last.len();
    (end - 1) / part - start / part + 1
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
        let message = self.segment_message(def, seg, stats).await?;
        let attachment = message
            .attachments
            .get(i)
            .ok_or_else(|| corrupt(def, seg, format!("it lacks attachment {i}")))?;
        let bytes = download(
            self.discord.as_ref(),
            message.channel_id,
            message.id,
            attachment,
            Some(range),
        )
        .await?;
        stats.cdn_requests += 1;
        stats.cdn_bytes += bytes.len() as u64;
        Ok(bytes)
    }

    /// Data batch `i` of a segment. With `ahead` (a scan that will want the
    /// next batches too), the batches that follow it, up to
    /// [`READ_AHEAD`] bytes, come in the same range read.
    pub async fn data_batch(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        i: usize,
        ahead: bool,
        stats: &mut ReadStats,
    ) -> Result<Arc<DataBatch>> {
        if let Some(hit) = self.batches.data(&(seg.id, seg.header.data.file, i)) {
            stats.cached_batches += 1;
            return Ok(hit);
        }
        let span = read_span(&seg.header.data.batches, i, ahead);
        Ok(self
            .load_data(def, seg, span, stats)
            .await?
            .into_iter()
            .next()
            .expect("a span holds its first batch"))
    }

    /// Fetch the batches of `span` in one range read, decode and cache them.
    pub(crate) async fn load_data(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        span: std::ops::Range<usize>,
        stats: &mut ReadStats,
    ) -> Result<Vec<Arc<DataBatch>>> {
        self.decode_span(def, seg, span, stats, true).await
    }

    /// The batches of `span`, read and decoded for a reader that passes
    /// once (a compaction's merge): the cache is left as it was, so that a
    /// merge of the whole table holds no more than its own read-ahead.
    pub(crate) async fn batches_once(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        span: std::ops::Range<usize>,
        stats: &mut ReadStats,
    ) -> Result<Vec<Arc<DataBatch>>> {
        self.decode_span(def, seg, span, stats, false).await
    }

    async fn decode_span(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        span: std::ops::Range<usize>,
        stats: &mut ReadStats,
        keep: bool,
    ) -> Result<Vec<Arc<DataBatch>>> {
        let file = &seg.header.data;
        let dirs = &file.batches[span.clone()];
        let start = dirs[0].offset();
        let last = &dirs[dirs.len() - 1];
        let range = ByteRange {
            start,
            end: last.offset() + last.len(),
        };
        let bytes = self.file_bytes(def, seg, file, range, stats).await?;
        let schema = segment::segment_schema(def, seg.header.cols.as_ref())
            .map_err(|e| corrupt(def, seg, e))?;
        let mut out = Vec::with_capacity(dirs.len());
        for (j, dir) in span.zip(dirs) {
            let own = batch_slice(&bytes, dir, start).ok_or_else(|| {
                corrupt(def, seg, ArrowError::IpcError("a short range read".into()))
            })?;
            let arrow = decode_batch(&schema, dir, own)
                .and_then(|raw| normalize(def, &raw))
                .map_err(|e| corrupt(def, seg, e))?;
            let batch = Arc::new(DataBatch::new(arrow));
            if keep {
                self.batches.keep_data((seg.id, file.file, j), &batch);
            }
            out.push(batch);
        }
        Ok(out)
    }

    /// The changes of a data batch with their keys, decoded once: a batch
    /// the cache holds is weighed again with them.
    pub(crate) fn rows_of<'a>(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        i: usize,
        batch: &'a Arc<DataBatch>,
    ) -> &'a [(Key, crate::store::codec::op::Change)] {
        if batch.decoded() {
            return batch.rows(def);
        }
        let rows = batch.rows(def);
        self.batches
            .keep_data((seg.id, seg.header.data.file, i), batch);
        rows
    }

    /// Batch `i` of an index file of a segment: `file` is one of its
    /// index files, or (for an index segment) its one file.
    pub async fn index_batch(
        &self,
        def: &TableDef,
        index: &IndexDef,
        seg: &SegmentRef,
        file: &FileDir,
        i: usize,
        stats: &mut ReadStats,
    ) -> Result<IndexBatch> {
        let id: BatchId = (seg.id, file.file, i);
        if let Some(hit) = self.batches.index(&id) {
            stats.cached_batches += 1;
            return Ok(hit);
        }
        let schema = if file.covering {
            segment::covering_schema(def, seg.header.cols.as_ref())
                .map_err(|e| corrupt(def, seg, e))?
        } else {
            segment::pair_schema(def, index).ok_or_else(|| {
                Error::CatalogDamaged(format!("index {} names a missing column", index.name))
            })?
        };
        let dir = &file.batches[i];
        let range = ByteRange {
            start: dir.offset(),
            end: dir.offset() + dir.len(),
        };
        let bytes = self.file_bytes(def, seg, file, range, stats).await?;
        let entries = decode_batch(&schema, dir, bytes)
            .and_then(|b| index_entries(def, index, file, &b))
            .map_err(|e| corrupt(def, seg, e))?;
        let entries = Arc::new(entries);
        self.batches.keep_index(id, &entries);
        Ok(entries)
    }

    /// Every data batch of a segment, in key order.
    pub async fn all_batches(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        stats: &mut ReadStats,
    ) -> Result<Vec<Arc<DataBatch>>> {
        let n = seg.header.data.batches.len();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let i = out.len();
            match self.batches.data(&(seg.id, seg.header.data.file, i)) {
                Some(hit) => {
                    stats.cached_batches += 1;
                    out.push(hit);
                }
                None => {
                    let span = read_span(&seg.header.data.batches, i, true);
                    out.extend(self.load_data(def, seg, span, stats).await?);
                }
            }
        }
        Ok(out)
    }

    /// Every change of a segment, in key order.
    pub async fn all_changes(
        &self,
        def: &TableDef,
        seg: &SegmentRef,
        stats: &mut ReadStats,
    ) -> Result<Vec<crate::store::codec::op::Change>> {
        let batches = self.all_batches(def, seg, stats).await?;
        Ok(batches
            .iter()
            .enumerate()
            .flat_map(|(i, b)| self.rows_of(def, seg, i, b).iter().map(|(_, c)| c.clone()))
            .collect())
    }
}

/// A batch's own bytes within a range read that began at `start`.
fn batch_slice(bytes: &[u8], dir: &BatchDir, start: u64) -> Option<Vec<u8>> {
    let at = (dir.offset() - start) as usize;
    bytes.get(at..at + dir.len() as usize).map(<[u8]>::to_vec)
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
