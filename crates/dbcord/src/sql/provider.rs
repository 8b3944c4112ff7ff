//! The TableProvider of a dbcord table.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{Constraint, Constraints, DFSchema, not_impl_err};
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::TableProviderFilterPushDown;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::Expr;

use super::options::DbcordOptions;
use super::pushdown::{ScanPlan, choose, equality, message_ids, plan_uses};
use super::scan::{DiscordScanExec, ScanSpec};
use super::sink::DiscordSink;
use super::types::{CHANNEL_ID, MESSAGE_ID, table_schema};
use crate::store::lookup::Access;
use crate::store::{Store, TableDef};

/// One table channel, as DataFusion sees it.
#[derive(Debug)]
pub struct DiscordTable {
    store: Arc<Store>,
    def: Arc<TableDef>,
    schema: SchemaRef,
    constraints: Constraints,
    /// Whether the schema ends with the hidden `_message_id`, `_channel_id`.
    hidden: bool,
}

/// The filters for which `keep(position)` holds, as SQL.
fn shown(filters: &[Expr], keep: impl Fn(usize) -> bool) -> Vec<String> {
    filters
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, f)| f.to_string())
        .collect()
}

impl DiscordTable {
    /// The access path for these filters, and the filters it leaves to re-checking alone.
    fn plan(&self, filters: &[Expr], pushdown: bool) -> (ScanPlan, Vec<String>) {
        if !pushdown {
            let post = shown(filters, |_| true);
            return (ScanPlan::full(Some("dbcord.pushdown = false".into())), post);
        }
        let ids: Vec<Option<_>> = filters.iter().map(message_ids).collect();
        if let Some(first) = ids.iter().flatten().next() {
            let post = shown(filters, |i| ids[i].is_none());
            return (ScanPlan::fetch(&self.def, first.clone()), post);
        }
        let eqs: Vec<Option<_>> = filters.iter().map(|f| equality(&self.def, f)).collect();
        let indexes = self.store.indexes_of(&self.def.database, &self.def.name);
        let plan = choose(
            &self.def,
            &eqs.iter().flatten().cloned().collect::<Vec<_>>(),
            &indexes,
        );
        let searched = |i: usize| {
            matches!(plan.access, Access::Search { .. })
                && eqs[i]
                    .as_ref()
                    .is_some_and(|e| plan_uses(&self.def, &plan, e))
        };
        let post = shown(filters, |i| !searched(i));
        (plan, post)
    }

    pub fn new(store: Arc<Store>, def: Arc<TableDef>, hidden: bool) -> Self {
        let schema = Arc::new(table_schema(&def, hidden));
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
            hidden,
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
        let (plan, post_filters) = self.plan(&filters, options.pushdown);
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
            freshness: options.freshness(),
            projection,
            predicate,
            post_filters,
            limit,
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
        let window = DbcordOptions::of(state.config_options()).window();
        let sink = DiscordSink::new(
            Arc::clone(&self.store),
            Arc::clone(&self.def),
            self.schema(),
            window,
        );
        Ok(Arc::new(DataSinkExec::new(input, Arc::new(sink), None)))
    }
}
