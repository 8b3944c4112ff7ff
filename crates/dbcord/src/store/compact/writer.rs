//! Writing a sorted run: rows in key order (or, for an index, in (value,
//! key) order) cut into segments of about a set size, each posted as a
//! staged segment before anything names it, every Discord limit checked
//! before a byte is uploaded.

use std::sync::Arc;

use discord_api::limits::{MAX_FILE_BYTES, MAX_FILES, MAX_REQUEST_BYTES};
use discord_api::{NewMessage, Snowflake};

use crate::error::{Error, Result};
use crate::store::codec::key::Key;
use crate::store::codec::manifest::{Part, Stage, staged_content};
use crate::store::codec::op::Change;
use crate::store::codec::segment::{self, EncodedSegment, Layout};
use crate::store::codec::value::Value;
use crate::store::progress::Step;
use crate::store::schema::{IndexDef, TableDef};
use crate::store::state::Store;
use crate::store::timing::STAGE_GRACE;
use crate::store::write::options::WriteOptions;

/// What a run's segments hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunKind {
    /// Changes in key order: a data run.
    Data,
    /// Live rows in an index's (value, key) order: covering index segments.
    Index,
}

/// Posts a sorted run's segments as they fill.
pub(crate) struct RunWriter<'a> {
    store: &'a Store,
    def: Arc<TableDef>,
    kind: RunKind,
    /// Where the segments go: the table's channel, or an index's.
    channel: Snowflake,
    stage: Stage,
    options: WriteOptions,
    /// Keys a segment may not span (the starts of segments kept beside
    /// the ones this run writes), ascending; the next one first.
    fences: std::collections::VecDeque<Key>,
    pending: Vec<(Key, Change)>,
    pending_bytes: usize,
    /// Indexes whose covering files each data segment carries itself (a
    /// staged statement's: nothing else names its rows by value).
    inline: Vec<Arc<IndexDef>>,
    progress: Option<Step>,
    /// What has been posted.
    pub parts: Vec<Part>,
    pub uploaded: u64,
}

impl<'a> RunWriter<'a> {
    pub fn new(
        store: &'a Store,
        def: Arc<TableDef>,
        kind: RunKind,
        channel: Snowflake,
        stage: Stage,
        options: WriteOptions,
    ) -> Self {
        RunWriter {
            store,
            def,
            kind,
            channel,
            stage,
            options,
            fences: Default::default(),
            pending: Vec::new(),
            pending_bytes: 0,
            inline: Vec::new(),
            progress: None,
            parts: Vec::new(),
            uploaded: 0,
        }
    }

    /// Segments end before each of `fences` (ascending).
    pub fn with_fences(mut self, fences: Vec<Key>) -> Self {
        self.fences = fences.into();
        self
    }

    /// Data segments carry covering files of `indexes` themselves.
    pub fn with_inline_indexes(mut self, indexes: Vec<Arc<IndexDef>>) -> Self {
        self.inline = indexes;
        self
    }

    /// Count each posted segment as a step of `progress`.
    pub fn with_progress(mut self, progress: Step) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Take in the next row, in the run's order.
    pub async fn push(&mut self, key: Key, change: Change) -> Result<()> {
        let mut crossed = false;
        while self.fences.front().is_some_and(|f| *f <= key) {
            self.fences.pop_front();
            crossed = true;
        }
        if crossed {
            self.flush().await?;
        }
        self.pending_bytes += row_bytes(&key, &change.values);
        self.pending.push((key, change));
        if self.pending_bytes >= self.options.segment_bytes {
            self.flush().await?;
        }
        Ok(())
    }

    /// Post what is pending; the parts written.
    pub async fn finish(mut self) -> Result<(Vec<Part>, u64)> {
        self.flush().await?;
        Ok((self.parts, self.uploaded))
    }

    /// Post the pending rows as one segment (or, if its files would break
    /// a limit, as halves).
    async fn flush(&mut self) -> Result<()> {
        let rows = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        if !rows.is_empty() {
            Box::pin(self.post(&rows)).await?;
        }
        Ok(())
    }

    async fn post(&mut self, rows: &[(Key, Change)]) -> Result<()> {
        let elapsed = self
            .store
            .clock()
            .now_ms()
            .saturating_sub(self.stage.since_ms);
        if elapsed > STAGE_GRACE.as_millis() as u64 / 2 {
            return Err(Error::StageTooSlow {
                table: self.def.qualified_name(),
                minutes: STAGE_GRACE.as_secs() / 120,
            });
        }
        let seg = self.encode(rows)?;
        if rows.len() == 1 && !within_discord(&seg) {
            return Err(Error::StatementTooLarge {
                table: self.def.qualified_name(),
                bytes: seg.files.iter().map(|f| f.bytes.len()).sum(),
            });
        }
        if rows.len() > 1 && !fits(&seg, &self.options) {
            let (a, b) = rows.split_at(rows.len() / 2);
            Box::pin(self.post(a)).await?;
            return Box::pin(self.post(b)).await;
        }
        let part = self
            .store
            .post_staged(&self.def, self.channel, &self.stage, seg)
            .await?;
        self.uploaded += part.1;
        self.parts.push(part.0);
        if let Some(p) = &self.progress {
            p.advance(1);
        }
        Ok(())
    }

    fn encode(&self, rows: &[(Key, Change)]) -> Result<EncodedSegment> {
        let layout = Layout {
            per_batch: self.options.batch_rows,
            part_bytes: self.options.part_bytes,
        };
        let encoded = match self.kind {
            RunKind::Data => {
                let changes: Vec<Change> = rows.iter().map(|(_, c)| c.clone()).collect();
                segment::encode(&self.def, &self.inline, &changes, layout)
            }
            RunKind::Index => {
                let entries: Vec<(Key, &Change)> =
                    rows.iter().map(|(k, c)| (k.clone(), c)).collect();
                segment::encode_index(&self.def, &entries, layout)
            }
        };
        encoded.map_err(|e| Error::SegmentNotEncoded {
            table: self.def.qualified_name(),
            why: e.to_string(),
        })
    }
}

/// Whether a segment's files go in one message within `options`' size
/// (a segment of one row: within Discord's limits; see [`within_discord`]).
pub(crate) fn fits(seg: &EncodedSegment, options: &WriteOptions) -> bool {
    let total: usize = seg.files.iter().map(|f| f.bytes.len()).sum();
    within_discord(seg) && total <= options.segment_bytes
}

/// Whether a segment's files go in one message within Discord's limits:
/// 10 attachments, 10 MiB each, 25 MiB a request (with room for the rest).
pub(crate) fn within_discord(seg: &EncodedSegment) -> bool {
    let total: usize = seg.files.iter().map(|f| f.bytes.len()).sum();
    seg.files.len() <= MAX_FILES
        && total <= MAX_REQUEST_BYTES - (1 << 20)
        && seg.files.iter().all(|f| f.bytes.len() <= MAX_FILE_BYTES)
}

/// About the bytes a row takes in a segment, before compression.
pub(crate) fn row_bytes(key: &Key, values: &[Value]) -> usize {
    key.0.len()
        + values
            .iter()
            .map(|v| match v {
                Value::Text(s) => s.len() + 4,
                _ => 8,
            })
            .sum::<usize>()
}

impl Store {
    /// Post one staged segment of `def` into `channel`; the part that
    /// names it and the bytes uploaded.
    pub(crate) async fn post_staged(
        &self,
        def: &TableDef,
        channel: Snowflake,
        stage: &Stage,
        seg: EncodedSegment,
    ) -> Result<(Part, u64)> {
        let bytes: u64 = seg.files.iter().map(|f| f.bytes.len() as u64).sum();
        let content = staged_content(stage, &def.qualified_name(), &seg.header);
        let message = NewMessage::idempotent(content).with_files(seg.files);
        let sent = self.discord.create_message(channel, &message).await?;
        self.note_head(channel, sent.id);
        let part = Part {
            message: sent.id,
            channel: (channel != def.channel_id).then_some(channel),
            header: seg.header,
        };
        self.parts.keep([Arc::new(sent)], self.clock.now_ms());
        Ok((part, bytes))
    }
}

/// An index's run of covering index segments for `def`'s index `index`:
/// the channel they go in (the index's own, else the table's).
pub(crate) fn index_channel(def: &TableDef, index: &IndexDef) -> Snowflake {
    index.segments_channel(def)
}
