//! The Discord-native data model: databases, tables, rows as messages.
//!
//! The store knows Discord (through the trait) and JSON, nothing of SQL.
//! Files: `codec` (the message formats, as pure functions), `names`
//! (naming rules and ownership markers), `schema` (table and index
//! definitions), `catalog` (loading the catalog), `history` (paging),
//! `ddl` (create and drop), `table` (insert and full reads), `lookup`
//! (access paths: search, fresh history, full scan), `index` (secondary
//! indexes), `unique` (primary key and UNIQUE checks).

pub mod catalog;
pub mod codec;
mod ddl;
pub mod history;
pub mod index;
pub mod lag;
pub mod lookup;
pub mod names;
pub mod recent;
pub mod schema;
pub mod search_cursor;
pub mod table;
mod unique;

use std::sync::{Arc, RwLock};

use tokio::sync::Mutex;

use crate::error::Result;
use catalog::Catalog;
pub use codec::Value;
use discord_api::{Discord, SharedClock};
use lag::LagWatch;
use lookup::{Access, Freshness, RowSource};
pub use schema::{Column, ColumnType, IndexDef, NewIndex, NewTable, TableDef};

/// The database every guild has; created on first open.
pub const DEFAULT_DATABASE: &str = "main";

/// dbcord's view of one guild: the catalog in memory, Discord for the rest.
pub struct Store {
    discord: Arc<dyn Discord>,
    /// The time the Discord backend lives in: freshness windows are measured on it.
    clock: SharedClock,
    catalog: RwLock<Catalog>,
    /// DDL runs one statement at a time, so catalog changes never interleave.
    ddl: Mutex<()>,
    /// What is known of search's lag, for fresh reads.
    lag: Arc<LagWatch>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Load the catalog from the guild, creating the default database if missing.
    pub async fn open(discord: Arc<dyn Discord>, clock: SharedClock) -> Result<Self> {
        let catalog = Catalog::load(&discord).await?;
        let store = Store {
            lag: Arc::new(LagWatch::new(discord.search_lag_bound())),
            discord,
            clock,
            catalog: RwLock::new(catalog),
            ddl: Mutex::new(()),
        };
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

    pub fn lag(&self) -> &Arc<LagWatch> {
        &self.lag
    }

    /// A source of `table`'s rows along `access`.
    pub fn row_source(
        &self,
        table: &Arc<TableDef>,
        access: &Access,
        freshness: Freshness,
    ) -> RowSource {
        RowSource::new(
            Arc::clone(&self.discord),
            Arc::clone(&self.clock),
            Arc::clone(&self.lag),
            Arc::clone(table),
            access,
            freshness,
        )
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

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Catalog> {
        self.catalog.write().unwrap_or_else(|p| p.into_inner())
    }
}
