//! The guild as a DataFusion catalog: one schema per dbcord database, and
//! the read-only `discord` schema of the guild's own channels and messages.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use datafusion::datasource::TableProvider;
use datafusion::error::Result;

use super::guild::{self, GuildSchema};
use super::provider::DiscordTable;
use crate::store::Store;

/// The name the guild's catalog is registered under.
pub const CATALOG_NAME: &str = "dbcord";

#[derive(Debug)]
pub struct GuildCatalog {
    store: Arc<Store>,
    hidden: HiddenColumns,
}

/// Whether the statement being planned sees the hidden columns; the engine
/// sets it per statement, before planning.
pub type HiddenColumns = Arc<AtomicBool>;

impl GuildCatalog {
    pub fn new(store: Arc<Store>, hidden: HiddenColumns) -> Self {
        GuildCatalog { store, hidden }
    }
}

impl CatalogProvider for GuildCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.store.database_names();
        names.push(guild::SCHEMA.to_string());
        names.push(super::pg_catalog::SCHEMA.to_string());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == guild::SCHEMA {
            return Some(Arc::new(GuildSchema::new(Arc::clone(&self.store))));
        }
        if name == super::pg_catalog::SCHEMA {
            return Some(Arc::new(super::pg_catalog::PgCatalog::new(Arc::clone(
                &self.store,
            ))));
        }
        self.store.has_database(name).then(|| {
            Arc::new(DatabaseSchema {
                store: Arc::clone(&self.store),
                db: name.to_string(),
                hidden: Arc::clone(&self.hidden),
            }) as Arc<dyn SchemaProvider>
        })
    }
}

/// One database's tables.
#[derive(Debug)]
pub struct DatabaseSchema {
    store: Arc<Store>,
    db: String,
    hidden: HiddenColumns,
}

#[async_trait]
impl SchemaProvider for DatabaseSchema {
    fn table_names(&self) -> Vec<String> {
        self.store.table_names(&self.db)
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.store.table(&self.db, name).map(|def| {
            let hidden = self.hidden.load(Ordering::SeqCst);
            Arc::new(DiscordTable::new(Arc::clone(&self.store), def, hidden))
                as Arc<dyn TableProvider>
        }))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.store.table(&self.db, name).is_some()
    }
}
