//! The TableProvider of a dbcord table.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{Constraint, Constraints, DFSchema, not_impl_err};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::TableProviderFilterPushDown;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::Expr;

use super::options::DbcordOptions;
use super::pushdown::{ScanPlan, plan};
use super::rules::plan_rule;
use super::scan::{DiscordScanExec, ScanSpec};
use super::sink::DiscordSink;
use super::types::{CHANNEL_ID, MESSAGE_ID, table_schema};
use crate::store::{Access, Store, TableDef};

/// One table channel, as DataFusion sees it.
#[derive(Debug)]
pub struct DiscordTable {
    store: Arc<Store>,
    def: Arc<TableDef>,
    schema: SchemaRef,
    constraints: Constraints,
    /// Whether the schema ends with the hidden `_message_id`, `_channel_id`.
    hidden: bool,
    /// Planned DEFAULTs by column, for INSERTs that leave columns out.
    defaults: HashMap<String, Expr>,
}

impl DiscordTable {
    /// The access path for these filters. An index lookup is taken only
    /// when it is predicted to read fewer CDN bytes than the path without
    /// it (a value held by many rows can cost more by index than by a
    /// scan); the prediction needs the table's log read before.
    fn plan(&self, filters: &[Expr], pushdown: bool) -> ScanPlan {
        let indexes = self.store.indexes_of(&self.def.database, &self.def.name);
        let chosen = plan(&self.def, filters, &indexes, pushdown);
        if !matches!(chosen.access, Access::Index { .. }) {
            return chosen;
        }
        let by_index = self.store.predict(&self.def, &chosen.access);
        let mut without = plan(&self.def, filters, &[], pushdown);
        let other = self.store.predict(&self.def, &without.access);
        if !by_index.known || by_index.cdn_bytes <= other.cdn_bytes {
            return chosen;
        }
        without.note = Some(format!(
            "{} predicted to read {} bytes, more than the {} of this path",
            chosen.strategy, by_index.cdn_bytes, other.cdn_bytes
        ));
        without
    }

    pub fn new(store: Arc<Store>, def: Arc<TableDef>, hidden: bool) -> Self {
        let schema = Arc::new(table_schema(&def, hidden));
        let key = def
            .primary_key
            .iter()
            .filter_map(|k| def.column_index(k))
            .collect();
        let defaults = def
            .columns
            .iter()
            .filter_map(|c| {
                let sql = c.default.as_ref()?;
                match plan_rule(&def, sql) {
                    Ok(e) => Some((c.name.clone(), e)),
                    Err(e) => {
                        tracing::warn!("DEFAULT of {}.{} does not plan: {e}", def.name, c.name);
                        None
                    }
                }
            })
            .collect();
        DiscordTable {
            store,
            def,
            schema,
            constraints: Constraints::new_unverified(vec![Constraint::PrimaryKey(key)]),
            hidden,
            defaults,
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

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.defaults.get(column)
    }

    /// Every filter is accepted exactly: the scan re-checks all of them on
    /// every row (so DataFusion can hand it LIMIT too), and uses the
    /// equalities among them to narrow its reads.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Exact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let options = DbcordOptions::of(state.config_options());
        let projection: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let filters: Vec<Expr> = filters.iter().cloned().map(unnormalize_col).collect();
        // A `count(*)` (no filter, no column) may be answered by segment
        // statistics, without a data batch: see `statistics_from_inputs`.
        let exact_rows = if options.pushdown && filters.is_empty() && projection.is_empty() {
            self.store
                .exact_rows(&self.def, &super::txn::view_of(state.config()))
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?
        } else {
            None
        };
        let plan = self.plan(&filters, options.pushdown);
        let post_filters = filters.iter().map(|f| f.to_string()).collect();
        let predicate = match conjunction(filters) {
            Some(expr) => {
                let df_schema = DFSchema::try_from(self.schema.as_ref().clone())?;
                Some(state.create_physical_expr(expr, &df_schema)?)
            }
            None => None,
        };
        let spec = ScanSpec {
            table: Arc::clone(&self.def),
            plan,
            projection,
            predicate,
            post_filters,
            limit,
            exact_rows,
        };
        Ok(Arc::new(DiscordScanExec::new(
            Arc::clone(&self.store),
            spec,
            self.schema(),
        )?))
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if self.hidden {
            return not_impl_err!(
                "{MESSAGE_ID} and {CHANNEL_ID} are given by Discord; an INSERT cannot name them"
            );
        }
        if op != InsertOp::Append {
            return not_impl_err!("{op} is not supported by dbcord; use INSERT INTO");
        }
        let options = DbcordOptions::of(state.config_options()).write_options();
        let sink = DiscordSink::new(
            Arc::clone(&self.store),
            Arc::clone(&self.def),
            self.schema(),
            options,
        )
        .in_txn(super::txn::view_of(state.config()).txn);
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }
}
