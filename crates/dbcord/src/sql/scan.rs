//! The Discord scan: an ExecutionPlan that streams a table's rows along the
//! chosen access path (key lookups, index lookups, or a scan of the runs).
//!
//! One RecordBatch per page (a run of rows, or a batch of a segment). The stream is lazy:
//! no request is made until the consumer asks for the next batch, so once a
//! LIMIT is met (or the query is cancelled) requests stop. Every row is
//! re-checked against every filter the scan accepted, so the answer is exact
//! whatever search returned.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::stats::Precision;
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
    ReplaceChildrenOptions, Statistics, StatisticsArgs,
};
use futures::stream;

use super::convert::rows_to_batch;
use super::pushdown::ScanPlan;
use crate::store::{
    Access, ArrowRows, Prediction, ReadStats, RowSource, ScanNote, Store, StoredRow, TableDef,
};

/// Everything a scan needs besides the store.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub table: Arc<TableDef>,
    pub plan: ScanPlan,
    /// Indexes into the table's columns.
    pub projection: Vec<usize>,
    /// All accepted filters, AND-ed, over the table's full schema.
    pub predicate: Option<Arc<dyn PhysicalExpr>>,
    /// Every accepted filter, as SQL, for EXPLAIN: each row is checked against all.
    pub post_filters: Vec<String>,
    pub limit: Option<usize>,
    /// The table's live rows, when segment statistics tell them exactly
    /// and no filter applies (see `Snapshot::exact_rows`).
    pub exact_rows: Option<u64>,
}

/// A scan of one table.
#[derive(Debug)]
pub struct DiscordScanExec {
    store: Arc<Store>,
    spec: ScanSpec,
    /// The full table schema (the output schema is its projection).
    full_schema: SchemaRef,
    props: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
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
        })
    }
}

impl DisplayAs for DiscordScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let s = &self.spec;
        if matches!(t, DisplayFormatType::TreeRender) {
            // EXPLAIN FORMAT TREE: one fact a line, inside the node's box.
            writeln!(f, "table={}", s.table.qualified_name())?;
            writeln!(f, "channel=#table-{}", s.table.name)?;
            writeln!(f, "{}", s.plan)?;
            if !s.post_filters.is_empty() {
                writeln!(f, "rechecked={}", s.post_filters.join(" AND "))?;
            }
            if let Some(l) = s.limit {
                writeln!(f, "limit={l}")?;
            }
            writeln!(f, "predicted={}", self.predicted())?;
            return Ok(());
        }
        write!(
            f,
            "DiscordScanExec: table={} (#table-{}), {}",
            s.table.qualified_name(),
            s.table.name,
            s.plan
        )?;
        if !s.post_filters.is_empty() {
            write!(f, ", filters=[{}]", s.post_filters.join(", "))?;
        }
        // Named from the output schema: the projection may include the
        // hidden columns, which are not among the table's columns.
        let schema = self.schema();
        let names: Vec<&str> = schema.fields().iter().map(|c| c.name().as_str()).collect();
        write!(f, ", projection=[{}]", names.join(", "))?;
        if let Some(l) = s.limit {
            write!(f, ", limit={l}")?;
        }
        if let Some(n) = s.exact_rows {
            write!(f, ", exact_rows={n} (segment statistics)")?;
        }
        if matches!(t, DisplayFormatType::Default) {
            write!(f, ", predicted=[{}]", self.predicted())?;
        }
        Ok(())
    }
}

impl DiscordScanExec {
    /// The Discord cost of this scan, predicted from the table's log as
    /// this process last read it.
    fn predicted(&self) -> Prediction {
        self.store.predict(&self.spec.table, &self.spec.plan.access)
    }
}

/// Counters of one scan, named as `EXPLAIN ANALYZE` shows them.
#[derive(Clone)]
struct ScanMetrics {
    history_requests: Count,
    cdn_requests: Count,
    cdn_bytes: Count,
    cached_batches: Count,
    runs_read: Count,
    runs_pruned: Count,
    rows_fetched: Count,
    output_rows: Count,
    rate_limit_wait: Time,
}

impl ScanMetrics {
    fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let c = |name: &'static str| MetricBuilder::new(set).counter(name, partition);
        ScanMetrics {
            history_requests: c("history_requests"),
            cdn_requests: c("cdn_requests"),
            cdn_bytes: c("cdn_bytes"),
            cached_batches: c("cached_batches"),
            runs_read: c("runs_read"),
            runs_pruned: c("runs_pruned"),
            rows_fetched: c("rows_fetched"),
            output_rows: MetricBuilder::new(set).output_rows(partition),
            rate_limit_wait: MetricBuilder::new(set).subset_time("rate_limit_wait", partition),
        }
    }

    /// Add what the source did since `before`.
    fn record(&self, before: &ReadStats, now: &ReadStats, waited: Duration) {
        let d = |a: u64, b: u64| (a - b) as usize;
        self.history_requests
            .add(d(now.history_requests, before.history_requests));
        self.cdn_requests
            .add(d(now.cdn_requests, before.cdn_requests));
        self.cdn_bytes.add(d(now.cdn_bytes, before.cdn_bytes));
        self.cached_batches
            .add(d(now.cached_batches, before.cached_batches));
        self.runs_read.add(d(now.runs_read, before.runs_read));
        self.runs_pruned.add(d(now.runs_pruned, before.runs_pruned));
        if !waited.is_zero() {
            self.rate_limit_wait.add_duration(waited);
        }
    }
}

/// The state carried from one page to the next.
struct ScanState {
    source: RowSource,
    store: Arc<Store>,
    spec: ScanSpec,
    full_schema: SchemaRef,
    remaining: Option<usize>,
    metrics: ScanMetrics,
    /// Rows the source handed on, for the scan's note.
    fetched: u64,
}

impl Drop for ScanState {
    /// A scan ends (or is dropped early, under a LIMIT): note what it did.
    fn drop(&mut self) {
        // The log is as this scan read it: the full scan's figure is of
        // the same snapshot.
        let full = self
            .store
            .predict(&self.spec.table, &Access::Scan(Vec::new()));
        self.store.note_scan(ScanNote {
            table: self.spec.table.qualified_name(),
            strategy: self.spec.plan.strategy.clone(),
            stats: self.source.stats,
            rows_fetched: self.fetched,
            full_reads: full.full_reads,
            full_bytes: full.full_bytes,
        });
    }
}

impl ScanState {
    async fn next_batch(mut self) -> Option<(Result<RecordBatch>, Self)> {
        loop {
            if self.remaining == Some(0) {
                return None;
            }
            let before = self.source.stats;
            let waited = self.store.discord().rate_limit_waited();
            let page = self.source.next_page().await;
            let waited = self
                .store
                .discord()
                .rate_limit_waited()
                .saturating_sub(waited);
            self.metrics.record(&before, &self.source.stats, waited);
            let page = match page {
                Ok(Some(p)) => p,
                Ok(None) => return None,
                Err(e) => {
                    self.remaining = Some(0);
                    return Some((Err(DataFusionError::External(Box::new(e))), self));
                }
            };
            self.metrics.rows_fetched.add(page.len());
            self.fetched += page.len() as u64;
            let batch = match page.arrow {
                Some(a) => self.arrow_batch(a),
                None => self.page_batch(&page.rows),
            };
            match batch {
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
        let batch = rows_to_batch(Arc::clone(&self.full_schema), &self.spec.table, &all, rows)?;
        self.finish(batch)
    }

    /// A decoded segment batch in the table's schema, the hidden columns
    /// added if the statement names them, then as [`Self::page_batch`].
    fn arrow_batch(&mut self, rows: ArrowRows) -> Result<RecordBatch> {
        let n = rows.batch.num_rows();
        let mut columns = rows.batch.columns().to_vec();
        let hidden = self.full_schema.fields().len() - columns.len();
        let constant = |v: u64| Arc::new(Int64Array::from_value(v as i64, n)) as ArrayRef;
        if hidden == 2 {
            columns.push(constant(rows.message_id.0));
            columns.push(constant(rows.channel_id.0));
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.full_schema), columns)?;
        self.finish(batch)
    }

    fn finish(&mut self, mut batch: RecordBatch) -> Result<RecordBatch> {
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
        ctx: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let source = RowSource::new(
            Arc::clone(&self.store),
            Arc::clone(&self.spec.table),
            self.spec.plan.access.clone(),
        )
        .with_view(super::txn::view_of(ctx.session_config()));
        let state = ScanState {
            source,
            store: Arc::clone(&self.store),
            spec: self.spec.clone(),
            full_schema: Arc::clone(&self.full_schema),
            remaining: self.spec.limit,
            metrics: ScanMetrics::new(&self.metrics, partition),
            fetched: 0,
        };
        let batches = stream::unfold(state, ScanState::next_batch);
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }

    /// Exact row counts let DataFusion answer `count(*)` without running
    /// the scan (its `AggregateStatistics` rule): no data batch is read.
    fn statistics_from_inputs(
        &self,
        _input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        let stats = Statistics::new_unknown(&self.schema());
        Ok(Arc::new(match self.spec.exact_rows {
            Some(n) if self.spec.predicate.is_none() => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                let n = self.spec.limit.map_or(n, |l| n.min(l));
                stats.with_num_rows(Precision::Exact(n))
            }
            _ => stats,
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
