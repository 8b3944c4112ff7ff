//! The Discord scan: an ExecutionPlan that streams a table's rows along the
//! chosen access path (search, index, or full history).
//!
//! One RecordBatch per Discord page, as the page arrives. The stream is lazy:
//! no request is made until the consumer asks for the next batch, so once a
//! LIMIT is met (or the query is cancelled) requests stop. Every row is
//! re-checked against every filter the scan accepted, so the answer is exact
//! whatever search returned.

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{
    Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet, Time,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::stream;

use super::convert::rows_to_batch;
use super::pushdown::ScanPlan;
use crate::store::lookup::{Access, Freshness, RowSource, SourceStats};
use crate::store::table::StoredRow;
use crate::store::{Store, TableDef};

/// Everything a scan needs besides the store.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub table: Arc<TableDef>,
    pub plan: ScanPlan,
    pub freshness: Freshness,
    /// Indexes into the table's columns.
    pub projection: Vec<usize>,
    /// All accepted filters, AND-ed, over the table's full schema.
    pub predicate: Option<Arc<dyn PhysicalExpr>>,
    /// The filters search does not narrow, as SQL, for EXPLAIN.
    pub post_filters: Vec<String>,
    pub limit: Option<usize>,
}

/// A scan of one table.
#[derive(Debug)]
pub struct DiscordScanExec {
    store: Arc<Store>,
    spec: ScanSpec,
    /// Output schema (the projection) and the full table schema.
    full_schema: SchemaRef,
    props: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
    /// Set when a run fell back from search; shown by EXPLAIN ANALYZE.
    fallback: Arc<Mutex<Option<String>>>,
}

impl DiscordScanExec {
    pub fn new(store: Arc<Store>, spec: ScanSpec, full_schema: SchemaRef) -> Result<Self> {
        let schema = Arc::new(full_schema.project(&spec.projection)?);
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(DiscordScanExec {
            store,
            spec,
            full_schema,
            props: Arc::new(props),
            metrics: ExecutionPlanMetricsSet::new(),
            fallback: Arc::new(Mutex::new(None)),
        })
    }
}

impl DisplayAs for DiscordScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let s = &self.spec;
        write!(
            f,
            "DiscordScanExec: table={}, {}",
            s.table.qualified_name(),
            s.plan
        )?;
        if s.plan.access == Access::FullScan {
            write!(
                f,
                ", channel=#table-{} ({})",
                s.table.name, s.table.channel_id
            )?;
        }
        if !s.post_filters.is_empty() {
            write!(f, ", post_filters=[{}]", s.post_filters.join(", "))?;
        }
        if !matches!(s.plan.access, Access::FullScan) {
            match s.freshness {
                Freshness::Fresh(w) => write!(
                    f,
                    ", consistency=fresh (search + last {}s of history)",
                    w.as_secs()
                )?,
                Freshness::Eventual => write!(
                    f,
                    ", consistency=eventual (search alone: may miss recent writes)"
                )?,
            }
        }
        // Named from the output schema: the projection may include the
        // hidden columns, which are not among the table's columns.
        let schema = self.schema();
        let names: Vec<&str> = schema.fields().iter().map(|c| c.name().as_str()).collect();
        write!(f, ", projection=[{}]", names.join(", "))?;
        if let Some(l) = s.limit {
            write!(f, ", limit={l}")?;
        }
        if let Some(why) = self.fallback.lock().ok().and_then(|g| g.clone()) {
            write!(f, ", fell back to full scan: {why}")?;
        }
        Ok(())
    }
}

/// Counters of one scan, named as `EXPLAIN ANALYZE` shows them.
#[derive(Clone)]
struct ScanMetrics {
    discord_requests: Count,
    search_requests: Count,
    history_requests: Count,
    get_requests: Count,
    rows_fetched: Count,
    output_rows: Count,
    rate_limit_wait: Time,
}

impl ScanMetrics {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let c = |name: &'static str| MetricBuilder::new(set).counter(name, partition);
        ScanMetrics {
            discord_requests: c("discord_requests"),
            search_requests: c("search_requests"),
            history_requests: c("history_requests"),
            get_requests: c("get_requests"),
            rows_fetched: c("rows_fetched"),
            output_rows: MetricBuilder::new(set).output_rows(partition),
            rate_limit_wait: MetricBuilder::new(set).subset_time("rate_limit_wait", partition),
        }
    }

    /// Add what the source did since `before`.
    fn record(&self, before: &SourceStats, now: &SourceStats) {
        let d = |a: u64, b: u64| (a - b) as usize;
        self.discord_requests
            .add(d(now.requests(), before.requests()));
        self.search_requests
            .add(d(now.search_requests, before.search_requests));
        self.history_requests
            .add(d(now.history_requests, before.history_requests));
        self.get_requests
            .add(d(now.get_requests, before.get_requests));
        let waited = now.rate_limit_wait.saturating_sub(before.rate_limit_wait);
        if !waited.is_zero() {
            self.rate_limit_wait.add_duration(waited);
        }
    }
}

/// The state carried from one page to the next.
struct ScanState {
    source: RowSource,
    spec: ScanSpec,
    full_schema: SchemaRef,
    remaining: Option<usize>,
    metrics: ScanMetrics,
    fallback: Arc<Mutex<Option<String>>>,
}

impl ScanState {
    async fn next_batch(mut self) -> Option<(Result<RecordBatch>, Self)> {
        loop {
            if self.remaining == Some(0) {
                return None;
            }
            let before = self.source.stats.clone();
            let page = self.source.next_page().await;
            self.metrics.record(&before, &self.source.stats);
            if let Some(why) = &self.source.stats.fallback {
                *self.fallback.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
            }
            let page = match page {
                Ok(Some(p)) => p,
                Ok(None) => return None,
                Err(e) => {
                    self.remaining = Some(0);
                    return Some((Err(DataFusionError::External(Box::new(e))), self));
                }
            };
            self.metrics.rows_fetched.add(page.rows.len());
            match self.page_batch(&page.rows) {
                Ok(b) if b.num_rows() == 0 => continue,
                Ok(b) => {
                    self.metrics.output_rows.add(b.num_rows());
                    return Some((Ok(b), self));
                }
                Err(e) => return Some((Err(e), self)),
            }
        }
    }

    /// Full rows, then the filters, then the limit, then the projection.
    fn page_batch(&mut self, rows: &[StoredRow]) -> Result<RecordBatch> {
        let all: Vec<usize> = (0..self.full_schema.fields().len()).collect();
        let mut batch = rows_to_batch(Arc::clone(&self.full_schema), &self.spec.table, &all, rows)?;
        if let Some(pred) = &self.spec.predicate {
            let mask = pred.evaluate(&batch)?.into_array(batch.num_rows())?;
            batch = filter_record_batch(&batch, mask.as_boolean())?;
        }
        if let Some(r) = &mut self.remaining {
            batch = batch.slice(0, batch.num_rows().min(*r));
            *r -= batch.num_rows();
        }
        Ok(batch.project(&self.spec.projection)?)
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
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        match &self.spec.predicate {
            Some(p) => f(p),
            None => Ok(TreeNodeRecursion::Continue),
        }
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
        let source = self.store.row_source(
            &self.spec.table,
            &self.spec.plan.access,
            self.spec.freshness,
        );
        let state = ScanState {
            source,
            spec: self.spec.clone(),
            full_schema: Arc::clone(&self.full_schema),
            remaining: self.spec.limit,
            metrics: ScanMetrics::new(&self.metrics, partition),
            fallback: Arc::clone(&self.fallback),
        };
        let batches = stream::unfold(state, ScanState::next_batch);
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
