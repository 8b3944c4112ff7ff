//! Decoded segment batches, kept by (attachment, batch): a segment never
//! changes, so its batches never go stale.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::RecordBatch;
use discord_api::Snowflake;

use crate::store::codec::key::Key;
use crate::store::log::commit::KeyedBatch;

/// The (value key, row key) pairs of an index batch, in order.
pub type IndexBatch = Arc<Vec<(Key, Key)>>;

/// Entries kept before the cache starts over (each is one decoded batch).
const CACHE_BATCHES: usize = 4096;

/// Decoded batches by (attachment, batch).
#[derive(Debug, Default)]
pub struct BatchCache {
    pub(crate) data: Mutex<HashMap<(Snowflake, usize), KeyedBatch>>,
    /// The same batches as decoded (table columns then `_op`), for scans
    /// that hand them on without going through rows.
    pub(crate) arrow: Mutex<HashMap<(Snowflake, usize), RecordBatch>>,
    pub(crate) index: Mutex<HashMap<(Snowflake, usize), IndexBatch>>,
}

impl BatchCache {
    /// Forget every decoded batch (a table's shape changed).
    pub fn clear(&self) {
        fn empty<V>(m: &Mutex<HashMap<(Snowflake, usize), V>>) {
            m.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        empty(&self.data);
        empty(&self.arrow);
        empty(&self.index);
    }
}

pub(crate) fn remember<V: Clone>(
    map: &Mutex<HashMap<(Snowflake, usize), V>>,
    k: (Snowflake, usize),
    v: &V,
) {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    if m.len() >= CACHE_BATCHES {
        m.clear();
    }
    m.insert(k, v.clone());
}

pub(crate) fn recall<V: Clone>(
    map: &Mutex<HashMap<(Snowflake, usize), V>>,
    k: &(Snowflake, usize),
) -> Option<V> {
    map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(k)
        .cloned()
}
