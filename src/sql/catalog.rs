//! The guild as a DataFusion catalog: one schema per dbcord database.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use datafusion::datasource::TableProvider;
use datafusion::error::Result;

use super::provider::DiscordTable;
use crate::store::Store;

/// The name the guild's catalog is registered under.
pub const CATALOG_NAME: &str = "dbcord";

#[derive(Debug)]
pub struct GuildCatalog {
    store: Arc<Store>,
}

impl GuildCatalog {
    pub fn new(store: Arc<Store>) -> Self {
        GuildCatalog { store }
    }
}

impl CatalogProvider for GuildCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.store.database_names()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.store.has_database(name).then(|| {
            Arc::new(DatabaseSchema {
                store: Arc::clone(&self.store),
                db: name.to_string(),
            }) as Arc<dyn SchemaProvider>
        })
    }
}

/// One database's tables.
#[derive(Debug)]
pub struct DatabaseSchema {
    store: Arc<Store>,
    db: String,
}

#[async_trait]
impl SchemaProvider for DatabaseSchema {
    fn table_names(&self) -> Vec<String> {
        self.store.table_names(&self.db)
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.store.table(&self.db, name).map(|def| {
            Arc::new(DiscordTable::new(Arc::clone(&self.store), def)) as Arc<dyn TableProvider>
        }))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.store.table(&self.db, name).is_some()
    }
}
