//! dbcord's session settings, as a DataFusion config extension: set with
//! `SET dbcord.<name> = ...`, shown with `SHOW dbcord.<name>` or `SHOW ALL`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use datafusion::common::config::{ConfigExtension, ConfigField, Visit};
use datafusion::common::extensions_options;
use datafusion::config::ConfigOptions;
use datafusion::error::DataFusionError;

use crate::store::lookup::Freshness;

/// How a search-based scan treats writes search has not indexed yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Consistency {
    /// Search hits plus the history newer than `fresh_window`: a session
    /// reads its own writes.
    #[default]
    Fresh,
    /// Search alone, like the Python dbcord: cheaper, may miss recent writes.
    Eventual,
}

impl FromStr for Consistency {
    type Err = ConsistencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fresh" => Ok(Consistency::Fresh),
            "eventual" => Ok(Consistency::Eventual),
            _ => Err(ConsistencyError(s.to_string())),
        }
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Consistency::Fresh => "fresh",
            Consistency::Eventual => "eventual",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("dbcord.consistency must be 'fresh' or 'eventual', not '{0}'")]
pub struct ConsistencyError(String);

impl ConfigField for Consistency {
    fn visit<V: Visit>(&self, v: &mut V, key: &str, description: &'static str) {
        v.some(key, self, description)
    }

    fn set(&mut self, _key: &str, value: &str) -> datafusion::error::Result<()> {
        *self = value
            .parse()
            .map_err(|e: ConsistencyError| DataFusionError::Configuration(e.to_string()))?;
        Ok(())
    }

    fn reset(&mut self, _key: &str) -> datafusion::error::Result<()> {
        *self = Consistency::default();
        Ok(())
    }
}

extensions_options! {
    /// dbcord's settings.
    pub struct DbcordOptions {
        /// Push equality filters down into Discord search (false: always full scans).
        pub pushdown: bool, default = true
        /// 'fresh' (search plus recent history) or 'eventual' (search alone).
        pub consistency: Consistency, default = Consistency::Fresh
        /// Seconds of recent history a fresh scan reads, because search may not
        /// have indexed it yet; must exceed Discord's indexing lag.
        pub fresh_window: f64, default = 60.0
    }
}

impl ConfigExtension for DbcordOptions {
    const PREFIX: &'static str = "dbcord";
}

impl DbcordOptions {
    /// The settings of a session (defaults if the extension is missing).
    pub fn of(config: &ConfigOptions) -> DbcordOptions {
        config
            .extensions
            .get::<DbcordOptions>()
            .cloned()
            .unwrap_or_default()
    }

    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.fresh_window.clamp(0.0, 7.0 * 86_400.0))
    }

    pub fn freshness(&self) -> Freshness {
        match self.consistency {
            Consistency::Fresh => Freshness::Fresh(self.window()),
            Consistency::Eventual => Freshness::Eventual,
        }
    }
}
