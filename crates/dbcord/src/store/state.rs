//! The store itself: dbcord's view of one guild, what it holds in memory
//! between statements, and the accessors of its catalog.
//!
//! Everything it holds is a cache of what Discord says: the catalog as last
//! read, each channel's newest message, each table's log and decoded
//! segment batches. Losing all of it loses nothing; the next statement
//! reads it again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use discord_api::{Channel, Discord, SharedClock, Snowflake};
use tokio::sync::Mutex;

use super::catalog::model::Catalog;
use super::compact::backoff::Backoff;
use super::log::table_log::TableLog;
use super::progress::{self, Progress};
use super::read::cache::{BatchCache, PartCache};
use super::read::notes::{ScanLog, ScanNote};

use super::schema::{IndexDef, TableDef};
use crate::error::Result;

/// The database every guild has; created on first open.
pub const DEFAULT_DATABASE: &str = "main";

/// dbcord's view of one guild: the catalog in memory, Discord for the rest.
pub struct Store {
    pub(super) discord: Arc<dyn Discord>,
    /// The time the Discord backend lives in.
    pub(super) clock: SharedClock,
    pub(super) catalog: RwLock<Catalog>,
    /// DDL runs one statement at a time, so catalog changes never interleave.
    pub(super) ddl: Mutex<()>,
    /// Each channel's newest message, as the latest refresh listed it.
    pub(super) heads: std::sync::Mutex<HashMap<Snowflake, Option<Snowflake>>>,
    /// The guild's channels as the latest refresh listed them, and when
    /// (our clock, ms): a statement's own refresh, reused by the `discord`
    /// schema instead of listing them again.
    pub(super) listed: std::sync::Mutex<Option<(u64, Arc<Vec<Channel>>)>>,
    /// When the catalog was last read (our clock, ms): a commit is not
    /// posted from a catalog older than `timing::CATALOG_FRESH`.
    pub(super) refreshed_ms: std::sync::atomic::AtomicU64,
    /// Each table's log as last read, by channel.
    pub(super) logs: std::sync::Mutex<HashMap<Snowflake, Arc<TableLog>>>,
    /// Decoded segment batches.
    pub(super) batches: BatchCache,
    /// Staged segments' messages (for their attachments).
    pub(super) parts: PartCache,
    /// The commit points of transactions read so far.
    pub(super) points: std::sync::Mutex<super::txn::point_log::PointLog>,
    /// Tables whose compaction failed, by channel: not tried again until.
    pub(super) backoff: std::sync::Mutex<HashMap<Snowflake, Backoff>>,
    /// What the latest scans did, for the shell's `.timing`.
    pub(super) scans: std::sync::Mutex<ScanLog>,
    /// Where long work reports how far it is (a progress bar, or nowhere).
    pub(super) progress: RwLock<Arc<dyn Progress>>,
    /// Range reads a scan runs ahead of the batch it hands on.
    read_ahead: std::sync::atomic::AtomicUsize,
    /// Catalog entries after which this process folds a catalog (see
    /// `catalog::checkpoint`; the simulation lowers it).
    catalog_every: std::sync::atomic::AtomicUsize,
    /// Milliseconds a new UNIQUE index waits for older statements.
    unique_wait_ms: std::sync::atomic::AtomicU64,
}

/// Range reads a scan runs at once unless told otherwise.
pub const DEFAULT_READ_AHEAD: usize = 8;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Load the catalog from the guild, creating the default database if missing.
    pub async fn open(discord: Arc<dyn Discord>, clock: SharedClock) -> Result<Self> {
        let store = Store {
            discord,
            clock,
            catalog: RwLock::new(Catalog::default()),
            ddl: Mutex::new(()),
            heads: Default::default(),
            listed: Default::default(),
            refreshed_ms: Default::default(),
            logs: Default::default(),
            batches: BatchCache::default(),
            parts: PartCache::default(),
            points: Default::default(),
            backoff: Default::default(),
            scans: Default::default(),
            progress: RwLock::new(Arc::new(progress::Silent)),
            read_ahead: DEFAULT_READ_AHEAD.into(),
            catalog_every: crate::store::catalog::model::CHECKPOINT_EVERY.into(),
            unique_wait_ms: (crate::store::timing::UNIQUE_INDEX_WAIT.as_millis() as u64).into(),
        };
        store.refresh().await?;
        if !store.database_names().iter().any(|d| d == DEFAULT_DATABASE) {
            store.create_database(DEFAULT_DATABASE, true).await?;
        }
        Ok(store)
    }

    pub fn discord(&self) -> &Arc<dyn Discord> {
        &self.discord
    }

    /// The guild's channels as listed by a refresh at most `within` ago.
    pub fn channels_listed_within(&self, within: std::time::Duration) -> Option<Arc<Vec<Channel>>> {
        let listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
        let (at, channels) = listed.as_ref()?;
        let age = self.clock.now_ms().saturating_sub(*at);
        (age <= within.as_millis() as u64).then(|| Arc::clone(channels))
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Now by Discord's clock where the backend knows it (message IDs are
    /// minted by that clock), else by ours.
    pub fn discord_now_ms(&self) -> u64 {
        self.discord
            .server_time_ms()
            .unwrap_or_else(|| self.clock.now_ms())
    }

    pub fn database_names(&self) -> Vec<String> {
        self.read().databases.keys().cloned().collect()
    }

    pub fn has_database(&self, db: &str) -> bool {
        self.read().databases.contains_key(db)
    }

    pub fn table_names(&self, db: &str) -> Vec<String> {
        self.read()
            .databases
            .get(db)
            .map(|d| d.tables.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn table(&self, db: &str, name: &str) -> Option<Arc<TableDef>> {
        self.read()
            .databases
            .get(db)
            .and_then(|d| d.tables.get(name))
            .map(|t| Arc::clone(&t.def))
    }

    pub fn indexes_of(&self, db: &str, table: &str) -> Vec<Arc<IndexDef>> {
        self.read()
            .databases
            .get(db)
            .map(|d| d.indexes_of(table).map(|i| Arc::clone(&i.def)).collect())
            .unwrap_or_default()
    }

    /// Catalog entries after which this process writes a catalog checkpoint.
    pub fn catalog_checkpoint_every(&self) -> usize {
        self.catalog_every
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_catalog_checkpoint_every(&self, n: usize) {
        self.catalog_every
            .store(n.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// How long a new UNIQUE index waits for statements that began before
    /// it ([`crate::store::timing::UNIQUE_INDEX_WAIT`] unless lowered: tests
    /// with one writer lower it, as CI lowers other limits).
    pub fn unique_index_wait(&self) -> std::time::Duration {
        std::time::Duration::from_millis(
            self.unique_wait_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub fn set_unique_index_wait(&self, wait: std::time::Duration) {
        self.unique_wait_ms.store(
            wait.as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Range reads a scan runs at once (0 or 1: one after another).
    pub fn read_ahead(&self) -> usize {
        self.read_ahead.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_read_ahead(&self, n: usize) {
        self.read_ahead
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Bytes of decoded segment batches held now.
    pub fn cached_bytes(&self) -> u64 {
        self.batches.bytes()
    }

    /// Report long work to `p` from now on.
    pub fn set_progress(&self, p: Arc<dyn Progress>) {
        *self.progress.write().unwrap_or_else(|e| e.into_inner()) = p;
    }

    /// Begin a piece of long work (ended when the step is dropped).
    pub(crate) fn step(&self, what: &str, total: u64, eta_s: Option<f64>) -> progress::Step {
        let p = Arc::clone(&self.progress.read().unwrap_or_else(|e| e.into_inner()));
        progress::Step::start(p, what, total, eta_s)
    }

    /// Note a finished scan.
    pub fn note_scan(&self, note: ScanNote) {
        self.scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(note);
    }

    /// How many scans this process has noted: a mark for [`Store::scans_since`].
    pub fn scan_mark(&self) -> u64 {
        self.scans.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// The scans noted since `mark` (the latest ones, if there were many).
    pub fn scans_since(&self, mark: u64) -> Vec<ScanNote> {
        self.scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .since(mark)
    }

    pub(super) fn read(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Catalog> {
        self.catalog.write().unwrap_or_else(|p| p.into_inner())
    }
}
