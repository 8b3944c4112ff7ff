//! What a scan of `discord.messages` asked of Discord, as EXPLAIN ANALYZE
//! shows it.

use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder, Time};

#[derive(Clone, Debug)]
pub struct GuildMetrics {
    /// `GET /guilds/{id}/channels` and the active threads: the guild's map.
    pub map_requests: Count,
    pub search_requests: Count,
    /// Search pages that held hits.
    pub search_pages: Count,
    /// Search answers of 202 (index not ready).
    pub search_202s: Count,
    /// Empty pages while `total_results` said hits remained.
    pub empty_pages: Count,
    /// Answers that said `doing_deep_historical_index`.
    pub deep_index: Count,
    /// Search branches that went to history instead.
    pub fallbacks: Count,
    /// History pages asked for (100 messages each).
    pub history_requests: Count,
    /// Channels the bot may not read, left out.
    pub channels_skipped: Count,
    pub messages_read: Count,
    pub output_rows: Count,
    pub rate_limit_wait: Time,
}

impl GuildMetrics {
    pub fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let c = |name: &'static str| MetricBuilder::new(set).counter(name, partition);
        GuildMetrics {
            map_requests: c("map_requests"),
            search_requests: c("search_requests"),
            search_pages: c("search_pages"),
            search_202s: c("search_202s"),
            empty_pages: c("empty_pages"),
            deep_index: c("deep_index"),
            fallbacks: c("fallbacks"),
            history_requests: c("history_requests"),
            channels_skipped: c("channels_skipped"),
            messages_read: c("messages_read"),
            output_rows: MetricBuilder::new(set).output_rows(partition),
            rate_limit_wait: MetricBuilder::new(set).subset_time("rate_limit_wait", partition),
        }
    }
}
