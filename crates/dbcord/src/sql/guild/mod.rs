//! The `discord` schema: the guild's own channels, threads, members,
//! roles and messages as read-only tables, beside dbcord's databases.
//!
//! This is where Discord's search is the right engine: data dbcord did
//! not write, spread over many channels. `discord.messages` turns filters
//! into search parameters (`filters`), plans a search or a history read
//! (`plan`), reads pages and merges them newest first (`fetch`), places
//! each message in its channel or thread (`map`), and hands out Arrow rows
//! (`rows`); the small lists are in `tables`, the errors in `errors`, the two predicates search
//! answers in `words`, the counters in `metrics`. Nothing is written to
//! the guild or kept on disk.

mod errors;
mod fetch;
pub mod filters;
mod map;
mod messages;
mod metrics;
pub mod plan;
mod rows;
mod tables;
pub mod words;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::SchemaProvider;
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result};

use self::messages::MessagesTable;
use self::tables::{ListKind, ListTable};
use crate::store::Store;

pub use self::errors::read_only;
pub use self::messages::{DEFAULT_FRESH_WINDOW, SEARCH_WAIT_CAP};
pub use self::rows::{Placed, messages_batch, messages_schema};

/// The schema's name; no dbcord database may take it.
pub const SCHEMA: &str = "discord";

#[derive(Debug)]
pub struct GuildSchema {
    store: Arc<Store>,
}

impl GuildSchema {
    pub fn new(store: Arc<Store>) -> Self {
        GuildSchema { store }
    }
}

#[async_trait]
impl SchemaProvider for GuildSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = ListKind::ALL.iter().map(|k| k.name().to_string()).collect();
        names.push("messages".into());
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let store = Arc::clone(&self.store);
        if name == "messages" {
            return Ok(Some(Arc::new(MessagesTable::new(store))));
        }
        Ok(ListKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .map(|k| Arc::new(ListTable::new(store, k)) as Arc<dyn TableProvider>))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.table_names().iter().any(|n| n == name)
    }

    fn register_table(
        &self,
        name: String,
        _table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        Err(read_only("CREATE TABLE", &name))
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Err(read_only("DROP TABLE", name))
    }
}

/// Whether `table` names a table of the `discord` schema.
pub fn is_guild_table(table: &datafusion::common::TableReference, default_db: &str) -> bool {
    table.schema().unwrap_or(default_db) == SCHEMA
}

/// Refuse, before any request, a planned statement that would write to
/// the `discord` schema or take its name for a database.
pub fn refuse_writes(plan: &datafusion::logical_expr::LogicalPlan, default_db: &str) -> Result<()> {
    use datafusion::logical_expr::{DdlStatement as D, LogicalPlan};
    let table = |t: &datafusion::common::TableReference, what: &str| {
        if is_guild_table(t, default_db) {
            Err(read_only(what, t.table()))
        } else {
            Ok(())
        }
    };
    let reserved = |name: &str, what: &str| {
        if name.rsplit('.').next() == Some(SCHEMA) {
            Err(DataFusionError::Plan(format!(
                "{what} {SCHEMA} is refused: the name is the read-only schema of the guild's own channels and messages"
            )))
        } else {
            Ok(())
        }
    };
    match plan {
        LogicalPlan::Dml(dml) => table(&dml.table_name, &dml.op.to_string()),
        LogicalPlan::Ddl(D::CreateMemoryTable(c)) => table(&c.name, "CREATE TABLE"),
        LogicalPlan::Ddl(D::CreateView(c)) => table(&c.name, "CREATE VIEW"),
        LogicalPlan::Ddl(D::DropTable(c)) => table(&c.name, "DROP TABLE"),
        LogicalPlan::Ddl(D::CreateIndex(c)) => table(&c.table, "CREATE INDEX"),
        LogicalPlan::Ddl(D::CreateCatalogSchema(c)) => reserved(&c.schema_name, "CREATE DATABASE"),
        LogicalPlan::Ddl(D::CreateCatalog(c)) => reserved(&c.catalog_name, "CREATE DATABASE"),
        LogicalPlan::Ddl(D::DropCatalogSchema(c)) => {
            reserved(c.name.schema_name(), "DROP DATABASE")
        }
        _ => Ok(()),
    }
}
