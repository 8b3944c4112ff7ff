//! Decoded segment batches, kept by (segment, file, batch) and weighed by
//! their bytes: a segment never changes, so its batches never go stale,
//! and a scan of a table larger than the cache keeps only its latest
//! batches resident (quick_cache's CLOCK-Pro eviction).
//!
//! The messages of staged segments are kept here too (see `read::parts`).
//!
//! Each batch is kept in one form: a data batch as its decoded Arrow batch
//! (the table's columns, then `_op`), with the keys of its rows computed
//! the first time a lookup needs them; an index batch as its entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::array::RecordBatch;
use discord_api::{Message, Snowflake};
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::store::codec::batch::{IndexEntry, changes};
use crate::store::codec::key::{Key, row_key};
use crate::store::codec::op::Change;
use crate::store::codec::value::Value;
use crate::store::schema::TableDef;

/// Bytes the cache holds unless told otherwise.
pub const DEFAULT_CACHE_BYTES: u64 = 256 << 20;

/// A decoded data batch, in key order.
#[derive(Debug)]
pub struct DataBatch {
    /// The table's current columns, then `_op`.
    pub arrow: RecordBatch,
    /// Each row's change and key, decoded once when first asked for.
    rows: OnceLock<Vec<(Key, Change)>>,
}

impl DataBatch {
    pub fn new(arrow: RecordBatch) -> DataBatch {
        DataBatch {
            arrow,
            rows: OnceLock::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.arrow.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether [`DataBatch::rows`] has decoded the rows yet (a batch held
    /// by the cache is weighed again once it has).
    pub fn decoded(&self) -> bool {
        self.rows.get().is_some()
    }

    /// The batch's changes with their keys, in key order (decoded on first
    /// use, then kept with the batch). A row without a key is left out.
    pub fn rows(&self, def: &TableDef) -> &[(Key, Change)] {
        self.rows.get_or_init(|| {
            changes(def, &self.arrow)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| Some((row_key(def, &c.values)?, c)))
                .collect()
        })
    }

    /// The change of `key`, if the batch holds it.
    pub fn find(&self, def: &TableDef, key: &Key) -> Option<&Change> {
        let rows = self.rows(def);
        rows.binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .map(|i| &rows[i].1)
    }

    fn weight(&self) -> u64 {
        let decoded = self.rows.get().map_or(0, |rows| {
            rows.iter()
                .map(|(k, c)| 64 + k.0.len() as u64 + values_weight(&c.values))
                .sum()
        });
        self.arrow.get_array_memory_size() as u64 + decoded
    }
}

fn values_weight(values: &[Value]) -> u64 {
    values
        .iter()
        .map(|v| match v {
            Value::Text(s) => 32 + s.len() as u64,
            _ => 32,
        })
        .sum()
}

/// The entries of an index batch, in (value, key) order.
pub type IndexBatch = Arc<Vec<IndexEntry>>;

/// Where a batch is: the segment's message, which of its files (0 the
/// data file, then its index files by position), which batch.
pub type BatchId = (Snowflake, usize, usize);

/// A cached batch with its weight as it was when kept (a data batch grows
/// when its rows are decoded; it is then kept again, weighed anew).
#[derive(Clone, Debug)]
enum Cached {
    Data(Arc<DataBatch>, u64),
    Index(IndexBatch, u64),
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<BatchId, Cached> for ByBytes {
    fn weight(&self, _: &BatchId, value: &Cached) -> u64 {
        match value {
            Cached::Data(_, w) | Cached::Index(_, w) => (*w).max(1),
        }
    }
}

fn index_weight(entries: &[IndexEntry]) -> u64 {
    entries
        .iter()
        .map(|e| {
            let row = e.row.as_deref().map_or(0, values_weight);
            64 + (e.value.0.len() + e.key.0.len()) as u64 + row
        })
        .sum()
}

/// Decoded batches, at most a number of bytes of them.
pub struct BatchCache {
    cache: Cache<BatchId, Cached, ByBytes>,
}

impl std::fmt::Debug for BatchCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchCache")
            .field("bytes", &self.cache.weight())
            .field("capacity", &self.cache.capacity())
            .finish()
    }
}

impl Default for BatchCache {
    fn default() -> Self {
        BatchCache::new(DEFAULT_CACHE_BYTES)
    }
}

impl BatchCache {
    pub fn new(bytes: u64) -> BatchCache {
        // About 256 KiB a batch, for the cache's own sizing.
        let items = (bytes / (256 << 10)).max(16) as usize;
        BatchCache {
            cache: Cache::with_weighter(items, bytes.max(1), ByBytes),
        }
    }

    pub fn data(&self, id: &BatchId) -> Option<Arc<DataBatch>> {
        match self.cache.get(id)? {
            Cached::Data(b, _) => Some(b),
            Cached::Index(..) => None,
        }
    }

    pub fn index(&self, id: &BatchId) -> Option<IndexBatch> {
        match self.cache.get(id)? {
            Cached::Index(e, _) => Some(e),
            Cached::Data(..) => None,
        }
    }

    pub fn keep_data(&self, id: BatchId, batch: &Arc<DataBatch>) {
        let weight = batch.weight();
        self.cache
            .insert(id, Cached::Data(Arc::clone(batch), weight));
    }

    pub fn keep_index(&self, id: BatchId, entries: &IndexBatch) {
        let weight = index_weight(entries);
        self.cache
            .insert(id, Cached::Index(Arc::clone(entries), weight));
    }

    /// Bytes held now.
    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }

    /// Forget every decoded batch (a table's shape changed).
    pub fn clear(&self) {
        self.cache.clear();
    }
}

/// Staged messages kept before the oldest are forgotten.
const KEPT: usize = 100_000;

/// How long a kept message's attachment URLs are trusted (Discord's expire
/// after about a day; a download with an expired one asks again anyway).
const FRESH_MS: u64 = 6 * 3600 * 1000;

/// Staged segments' messages, by ID, with when they were read (our clock, ms).
#[derive(Debug, Default)]
pub struct PartCache {
    messages: Mutex<HashMap<Snowflake, (Arc<Message>, u64)>>,
}

impl PartCache {
    pub fn keep(&self, messages: impl IntoIterator<Item = Arc<Message>>, now_ms: u64) {
        let mut kept = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        for m in messages {
            if kept.len() >= KEPT {
                let oldest = kept.iter().min_by_key(|(_, (_, t))| *t).map(|(id, _)| *id);
                oldest.map(|id| kept.remove(&id));
            }
            kept.insert(m.id, (m, now_ms));
        }
    }

    pub fn get(&self, id: Snowflake, now_ms: u64) -> Option<Arc<Message>> {
        let kept = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        kept.get(&id)
            .filter(|(_, t)| now_ms.saturating_sub(*t) < FRESH_MS)
            .map(|(m, _)| Arc::clone(m))
    }
}
