//! `pg_catalog`: PostgreSQL's system catalog, generated from dbcord's own
//! for each statement that reads it, so that Postgres clients (psql's
//! `\dt` and `\d`, drivers, tools) find the databases, tables, columns,
//! keys and indexes that are there.
//!
//! | file | its one job |
//! | --- | --- |
//! | `oids` | object identifiers, stable across sessions; PostgreSQL's type names |
//! | `tables` | the relations, built from the catalog |
//! | `functions` | the catalog functions clients call |

mod functions;
mod oids;
mod tables;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::Result;

use crate::store::Store;

pub use functions::{VERSION, register};
pub use tables::{EMPTY, LIVE, is_table};

/// The schema's name.
pub const SCHEMA: &str = "pg_catalog";

/// `pg_catalog`, read from the store's catalog as it is now.
#[derive(Debug)]
pub struct PgCatalog {
    store: Arc<Store>,
}

impl PgCatalog {
    pub fn new(store: Arc<Store>) -> PgCatalog {
        PgCatalog { store }
    }
}

#[async_trait]
impl SchemaProvider for PgCatalog {
    fn table_names(&self) -> Vec<String> {
        LIVE.iter().chain(&EMPTY).map(|t| t.to_string()).collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let Some(batch) = tables::build(&self.store, name) else {
            return Ok(None);
        };
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        Ok(Some(Arc::new(table)))
    }

    fn table_exist(&self, name: &str) -> bool {
        is_table(name)
    }
}
