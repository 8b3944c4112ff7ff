//! `discord.messages`: the guild's messages, read by search where the
//! filters narrow it and by history elsewhere, as one lazy stream.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::TableProviderFilterPushDown;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalSortExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::expressions::Column;
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};
use datafusion::prelude::Expr;
use discord_api::{Discord, Snowflake};
use futures::stream;

use super::errors::{discord_error, read_only};
use super::fetch::{Ctx, Merge, Threads, history_sources, search_source};
use super::filters::{self, Branch};
use super::map::GuildMap;
use super::metrics::GuildMetrics;
use super::plan::{Access, GuildPlan, GuildScan, Scope};
use super::rows::{Placed, messages_batch, messages_schema};
use crate::sql::options::DbcordOptions;
use crate::store::Store;

/// How long 202s are waited out before a branch reads history.
pub const SEARCH_WAIT_CAP: Duration = Duration::from_secs(30);
/// The fresh window where the backend knows no bound on search's lag.
pub const DEFAULT_FRESH_WINDOW: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub struct MessagesTable {
    store: Arc<Store>,
}

impl MessagesTable {
    pub fn new(store: Arc<Store>) -> Self {
        MessagesTable { store }
    }
}

#[async_trait]
impl TableProvider for MessagesTable {
    fn schema(&self) -> SchemaRef {
        messages_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    /// Every filter is `Inexact`: DataFusion re-checks each on every row,
    /// and the scan sees them all, so that those search can narrow become
    /// its parameters (see `filters` for the decision on each kind) and
    /// EXPLAIN lists the rest as post-filters.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mode = scan_mode(state.config_options());
        let mut cover: Option<Vec<Branch>> = None;
        let (mut pushed, mut post_only) = (Vec::new(), Vec::new());
        for f in filters {
            let c = filters::cover(f);
            let sql = f.to_string();
            if c.is_some() {
                pushed.push(sql);
            } else {
                post_only.push(sql);
            }
            cover = filters::and(cover, c);
        }
        let discord = self.store.discord();
        let plan = GuildPlan {
            access: GuildPlan::access(cover, mode),
            pushed: if mode == GuildScan::Search {
                pushed
            } else {
                Vec::new()
            },
            post_only,
            fresh_window: discord
                .search_lag_bound()
                .map_or(DEFAULT_FRESH_WINDOW, |lag| lag + Duration::from_secs(1)),
            wait_cap: SEARCH_WAIT_CAP,
        };
        let projection = projection
            .cloned()
            .unwrap_or_else(|| (0..messages_schema().fields().len()).collect());
        Ok(Arc::new(MessagesExec::new(
            Arc::clone(&self.store),
            plan,
            projection,
        )?))
    }

    async fn insert_into(
        &self,
        _state: &dyn Session,
        _input: Arc<dyn ExecutionPlan>,
        _op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(read_only("INSERT", "messages"))
    }
}

/// The scan of `discord.messages`.
#[derive(Debug)]
pub struct MessagesExec {
    store: Arc<Store>,
    plan: GuildPlan,
    projection: Vec<usize>,
    props: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl MessagesExec {
    fn new(store: Arc<Store>, plan: GuildPlan, projection: Vec<usize>) -> Result<Self> {
        let schema = Arc::new(messages_schema().project(&projection)?);
        // Rows come newest first: by `id` and `created_at` descending, so
        // `ORDER BY created_at DESC LIMIT n` needs no sort and stops the
        // requests once it has its rows.
        let mut eq = EquivalenceProperties::new(Arc::clone(&schema));
        for name in ["id", "created_at"] {
            let Ok(i) = schema.index_of(name) else {
                continue;
            };
            let newest_first = PhysicalSortExpr::new(
                Arc::new(Column::new(name, i)),
                datafusion::arrow::compute::SortOptions {
                    descending: true,
                    nulls_first: false,
                },
            );
            eq.add_ordering([newest_first]);
        }
        let props = PlanProperties::new(
            eq,
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(MessagesExec {
            store,
            plan,
            projection,
            props: Arc::new(props),
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl DisplayAs for MessagesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let schema = self.schema();
        let names: Vec<&str> = schema.fields().iter().map(|c| c.name().as_str()).collect();
        write!(
            f,
            "DiscordMessagesExec: table=discord.messages, {}, projection=[{}]",
            self.plan,
            names.join(", ")
        )
    }
}

/// The stream's state between batches.
struct Reading {
    ctx: Option<Ctx>,
    merge: Option<Merge>,
    store: Arc<Store>,
    plan: GuildPlan,
    projection: Vec<usize>,
    metrics: GuildMetrics,
}

impl Reading {
    async fn next(mut self) -> Option<(Result<RecordBatch>, Self)> {
        let waited = self.store.discord().rate_limit_waited();
        let step = self.step().await;
        let waited = self
            .store
            .discord()
            .rate_limit_waited()
            .saturating_sub(waited);
        if !waited.is_zero() {
            self.metrics.rate_limit_wait.add_duration(waited);
        }
        match step {
            Ok(Some(batch)) => Some((Ok(batch), self)),
            Ok(None) => None,
            Err(e) => {
                self.merge = Some(Merge::new(Vec::new())); // no more requests
                Some((Err(e), self))
            }
        }
    }

    async fn step(&mut self) -> Result<Option<RecordBatch>> {
        if self.merge.is_none() {
            self.start().await?;
        }
        let (Some(ctx), Some(merge)) = (&self.ctx, &mut self.merge) else {
            return Ok(None);
        };
        let messages = merge.next(ctx).await.map_err(discord_error)?;
        if messages.is_empty() {
            return Ok(None);
        }
        self.metrics.messages_read.add(messages.len());
        let mut placed = Vec::with_capacity(messages.len());
        for m in messages {
            let (channel, thread) = ctx.map.place(ctx.discord.as_ref(), m.channel_id.0).await;
            placed.push(Placed {
                message: m,
                channel,
                thread,
            });
        }
        let batch = messages_batch(&placed, &self.projection)?;
        self.metrics.output_rows.add(batch.num_rows());
        Ok(Some(batch))
    }

    /// The guild's map, then the sources of the plan.
    async fn start(&mut self) -> Result<()> {
        let discord: Arc<dyn Discord> = Arc::clone(self.store.discord());
        let (channels, listed_now) = super::map::channels(&self.store)
            .await
            .map_err(discord_error)?;
        self.metrics
            .map_requests
            .add(if listed_now { 2 } else { 1 });
        let map = GuildMap::load(discord.as_ref(), &channels)
            .await
            .map_err(discord_error)?;
        let map = Arc::new(map);
        let ctx = Ctx {
            discord: Arc::clone(&discord),
            clock: self.store.clock().clone(),
            map,
            metrics: self.metrics.clone(),
            wait_cap: self.plan.wait_cap,
        };
        let sources = match &self.plan.access {
            Access::Nothing => Vec::new(),
            Access::History(scope) => history_sources(&ctx, scope, Threads::All)
                .await
                .map_err(discord_error)?,
            Access::Search(branches) => {
                let now_ms = discord.server_time_ms().unwrap_or_else(local_ms);
                let fresh_ms = now_ms.saturating_sub(self.plan.fresh_window.as_millis() as u64);
                let boundary = Snowflake::from_unix_ms(fresh_ms).0;
                let mut sources = Vec::new();
                for b in branches {
                    let source = search_source(&ctx, b, boundary.saturating_add(1)).await;
                    sources.extend(source.map_err(discord_error)?);
                }
                let mut fresh = Scope::of(branches);
                fresh.min_id = Some(fresh.min_id.unwrap_or(0).max(boundary));
                if fresh.max_id.is_none_or(|m| m > boundary.saturating_add(1)) {
                    sources.extend(
                        history_sources(&ctx, &fresh, Threads::Active)
                            .await
                            .map_err(discord_error)?,
                    );
                }
                sources
            }
        };
        self.ctx = Some(ctx);
        self.merge = Some(Merge::new(sources));
        Ok(())
    }
}

/// The engine `discord.messages` reads with in this session.
fn scan_mode(config: &datafusion::config::ConfigOptions) -> GuildScan {
    let options = DbcordOptions::of(config);
    if options.pushdown {
        options.guild_scan
    } else {
        GuildScan::History
    }
}

fn local_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl ExecutionPlan for MessagesExec {
    fn name(&self) -> &str {
        "DiscordMessagesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    /// The filters are not evaluated here (the FilterExec above re-checks
    /// every row), so there is no expression to visit.
    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(
            &Arc<dyn datafusion::physical_expr::PhysicalExpr>,
        ) -> Result<datafusion::common::tree_node::TreeNodeRecursion>,
    ) -> Result<datafusion::common::tree_node::TreeNodeRecursion> {
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
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
        let reading = Reading {
            ctx: None,
            merge: None,
            store: Arc::clone(&self.store),
            plan: self.plan.clone(),
            projection: self.projection.clone(),
            metrics: GuildMetrics::new(&self.metrics, partition),
        };
        let batches = stream::unfold(reading, Reading::next);
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}
