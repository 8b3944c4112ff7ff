//! The TableProvider of a dbcord table.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{Constraint, Constraints, not_impl_err};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::Expr;

use super::scan::DiscordScanExec;
use super::sink::DiscordSink;
use super::types::table_schema;
use crate::store::{Store, TableDef};

/// One table channel, as DataFusion sees it.
#[derive(Debug)]
pub struct DiscordTable {
    store: Arc<Store>,
    def: Arc<TableDef>,
    schema: SchemaRef,
    constraints: Constraints,
}

impl DiscordTable {
    pub fn new(store: Arc<Store>, def: Arc<TableDef>) -> Self {
        let schema = Arc::new(table_schema(&def));
        let key = def
            .primary_key
            .iter()
            .filter_map(|k| def.column_index(k))
            .collect();
        DiscordTable {
            store,
            def,
            schema,
            constraints: Constraints::new_unverified(vec![Constraint::PrimaryKey(key)]),
        }
    }
}

#[async_trait]
impl TableProvider for DiscordTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn constraints(&self) -> Option<&Constraints> {
        Some(&self.constraints)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.def.columns.len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&projection)?);
        Ok(Arc::new(DiscordScanExec::new(
            Arc::clone(&self.store),
            Arc::clone(&self.def),
            projection,
            schema,
            limit,
        )))
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if op != InsertOp::Append {
            return not_impl_err!("{op} is not supported by dbcord; use INSERT INTO");
        }
        let sink = DiscordSink::new(
            Arc::clone(&self.store),
            Arc::clone(&self.def),
            self.schema(),
        );
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }
}
