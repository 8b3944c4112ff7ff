//! The Discord scan: an ExecutionPlan that streams a table's channel.
//!
//! One RecordBatch per history page, as the page arrives. The stream is
//! lazy: no request is made until the consumer asks for the next batch, so
//! once a LIMIT is satisfied (or the query is cancelled) requests stop.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::stream;

use super::convert::rows_to_batch;
use crate::store::table::TableScan;
use crate::store::{Store, TableDef};

/// Scan of one table channel by history paging.
#[derive(Debug)]
pub struct DiscordScanExec {
    store: Arc<Store>,
    table: Arc<TableDef>,
    /// Indexes into the table's columns.
    projection: Vec<usize>,
    limit: Option<usize>,
    props: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl DiscordScanExec {
    pub fn new(
        store: Arc<Store>,
        table: Arc<TableDef>,
        projection: Vec<usize>,
        schema: SchemaRef,
        limit: Option<usize>,
    ) -> Self {
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        DiscordScanExec {
            store,
            table,
            projection,
            limit,
            props: Arc::new(props),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for DiscordScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self
            .projection
            .iter()
            .map(|&i| self.table.columns[i].name.as_str())
            .collect();
        write!(
            f,
            "DiscordScanExec: table={}, channel=#table-{} ({}), strategy=full history scan, projection=[{}]",
            self.table.qualified_name(),
            self.table.name,
            self.table.channel_id,
            names.join(", ")
        )?;
        if let Some(l) = self.limit {
            write!(f, ", limit={l}")?;
        }
        Ok(())
    }
}

/// Counters of one scan, shown by `EXPLAIN ANALYZE`.
#[derive(Clone)]
struct ScanMetrics {
    discord_requests: Count,
    history_requests: Count,
    rows_fetched: Count,
    foreign_messages: Count,
}

impl ScanMetrics {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let c = |name: &'static str| MetricBuilder::new(set).counter(name, partition);
        ScanMetrics {
            discord_requests: c("discord_requests"),
            history_requests: c("history_requests"),
            rows_fetched: c("rows_fetched"),
            foreign_messages: c("foreign_messages"),
        }
    }
}

/// The state carried from one page to the next.
struct ScanState {
    scan: TableScan,
    table: Arc<TableDef>,
    projection: Vec<usize>,
    schema: SchemaRef,
    remaining: Option<usize>,
    metrics: ScanMetrics,
}

impl ScanState {
    async fn next_batch(mut self) -> Option<(Result<datafusion::arrow::array::RecordBatch>, Self)> {
        if self.remaining == Some(0) {
            return None;
        }
        let page = match self.scan.next_page().await {
            Ok(Some(p)) => p,
            Ok(None) => return None,
            Err(e) => {
                self.remaining = Some(0);
                return Some((Err(DataFusionError::External(Box::new(e))), self));
            }
        };
        self.metrics.discord_requests.add(1);
        self.metrics.history_requests.add(1);
        self.metrics.rows_fetched.add(page.rows.len());
        self.metrics.foreign_messages.add(page.skipped);
        let mut rows = page.rows;
        if let Some(r) = &mut self.remaining {
            rows.truncate(*r);
            *r -= rows.len();
        }
        let batch = rows_to_batch(
            Arc::clone(&self.schema),
            &self.table,
            &self.projection,
            &rows,
        );
        Some((batch, self))
    }
}

impl ExecutionPlan for DiscordScanExec {
    fn name(&self) -> &str {
        "DiscordScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.schema();
        let state = ScanState {
            scan: self.store.scan(Arc::clone(&self.table)),
            table: Arc::clone(&self.table),
            projection: self.projection.clone(),
            schema: Arc::clone(&schema),
            remaining: self.limit,
            metrics: ScanMetrics::new(&self.metrics, partition),
        };
        let batches = stream::unfold(state, ScanState::next_batch);
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, batches)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
