//! The Discord-native data model: databases, tables, rows as messages.
//!
//! The store knows Discord (through the trait), JSON and Arrow (segments
//! are Arrow files), nothing of SQL. A table is a log of commits in its
//! channel; the newest committed version of each row wins.
//!
//! Files: `codec` (the message and file formats, as pure functions),
//! `names` (naming rules and ownership markers), `schema` (definitions),
//! `catalog` (the catalog log), `history` (paging), `ddl` (create and drop),
//! `index` (CREATE and DROP INDEX), `fresh` (one request a statement to stay
//! current), `log` (a table's commits), `runs` (which commits count),
//! `segments` (range reads of segment batches, cached), `read` (lookups and
//! scans), `write` (a statement as one commit), `compact` (checkpoints and
//! vacuum), `source` (access paths, walked a page at a time), `table` (rows
//! as handed on). The admin operations: `versions` (row history and its
//! archive thread), `verify`, `snapshot` (and restore), `transfer` (export
//! and import of local files), `inspect`; reindex is in `index`; `shards` (rows kept as Storcord shards).

pub mod catalog;
pub mod codec;
pub mod compact;
mod ddl;
pub mod fresh;
pub mod history;
pub mod index;
pub mod inspect;
pub mod log;
pub mod names;
pub mod predict;
pub mod progress;
pub mod read;
pub mod runs;
pub mod schema;
pub mod segments;
pub mod shards;
pub mod snapshot;
pub mod source;
pub mod table;
pub mod transfer;
pub mod verify;
pub mod versions;
pub mod write;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use discord_api::{Discord, SharedClock, Snowflake};
use tokio::sync::Mutex;

use crate::error::Result;
use catalog::Catalog;
pub use codec::Value;
use log::TableLog;
pub use schema::{Column, ColumnType, IndexDef, NewIndex, NewTable, TableDef};
use segments::BatchCache;
pub use segments::ReadStats;

/// The database every guild has; created on first open.
pub const DEFAULT_DATABASE: &str = "main";

/// dbcord's view of one guild: the catalog in memory, Discord for the rest.
pub struct Store {
    discord: Arc<dyn Discord>,
    /// The time the Discord backend lives in.
    clock: SharedClock,
    catalog: RwLock<Catalog>,
    /// DDL runs one statement at a time, so catalog changes never interleave.
    ddl: Mutex<()>,
    /// Each channel's newest message, as the latest refresh listed it.
    heads: std::sync::Mutex<HashMap<Snowflake, Option<Snowflake>>>,
    /// When the catalog was last read (our clock, ms): a commit is not
    /// posted from a catalog older than [`index::CATALOG_FRESH`].
    refreshed_ms: std::sync::atomic::AtomicU64,
    /// Each table's log as last read, by channel.
    logs: std::sync::Mutex<HashMap<Snowflake, Arc<TableLog>>>,
    /// Decoded segment batches.
    batches: BatchCache,
    /// What the latest scans did, for the shell's `.timing`.
    scans: std::sync::Mutex<ScanLog>,
    /// Where long work reports how far it is (a progress bar, or nowhere).
    progress: RwLock<Arc<dyn progress::Progress>>,
}

/// What one scan of a table did: its path and what it read.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanNote {
    pub table: String,
    /// The access path, as EXPLAIN names it.
    pub strategy: String,
    pub stats: segments::ReadStats,
    pub rows_fetched: u64,
}

/// The latest scans, numbered from the first of the process.
#[derive(Debug, Default)]
struct ScanLog {
    total: u64,
    latest: std::collections::VecDeque<ScanNote>,
}

/// Scans remembered for `.timing` (a statement runs a few).
const SCANS_KEPT: usize = 64;

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
            refreshed_ms: Default::default(),
            logs: Default::default(),
            batches: BatchCache::default(),
            scans: Default::default(),
            progress: RwLock::new(Arc::new(progress::Silent)),
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

    /// Report long work to `p` from now on.
    pub fn set_progress(&self, p: Arc<dyn progress::Progress>) {
        *self.progress.write().unwrap_or_else(|e| e.into_inner()) = p;
    }

    /// Begin a piece of long work (ended when the step is dropped).
    pub(crate) fn step(&self, what: &str, total: u64, eta_s: Option<f64>) -> progress::Step {
        let p = Arc::clone(&self.progress.read().unwrap_or_else(|e| e.into_inner()));
        progress::Step::start(p, what, total, eta_s)
    }

    /// Note a finished scan.
    pub fn note_scan(&self, note: ScanNote) {
        let mut log = self.scans.lock().unwrap_or_else(|p| p.into_inner());
        log.total += 1;
        log.latest.push_back(note);
        if log.latest.len() > SCANS_KEPT {
            log.latest.pop_front();
        }
    }

    /// How many scans this process has noted: a mark for [`Store::scans_since`].
    pub fn scan_mark(&self) -> u64 {
        self.scans.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// The scans noted since `mark` (the latest ones, if there were many).
    pub fn scans_since(&self, mark: u64) -> Vec<ScanNote> {
        let log = self.scans.lock().unwrap_or_else(|p| p.into_inner());
        let n = (log.total - mark).min(log.latest.len() as u64) as usize;
        log.latest
            .iter()
            .skip(log.latest.len() - n)
            .cloned()
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Catalog> {
        self.catalog.write().unwrap_or_else(|p| p.into_inner())
    }
}
