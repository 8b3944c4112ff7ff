//! Each table's log as this process last read it, by channel: a statement
//! reads only what came after it (see `read::snapshot`).

use std::sync::Arc;

use discord_api::Snowflake;

use super::table_log::TableLog;
use crate::store::state::Store;

impl Store {
    /// The log of a table's channel as last read (empty if never read).
    pub(crate) fn log_of(&self, channel: Snowflake) -> Arc<TableLog> {
        let logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.get(&channel).cloned().unwrap_or_default()
    }

    pub(crate) fn cache_log(&self, channel: Snowflake, log: Arc<TableLog>) {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.insert(channel, log);
    }

    /// Forget a table's log (its channel is gone, or its shape changed).
    pub(crate) fn forget_log(&self, channel: Snowflake) {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.remove(&channel);
    }
}
