//! dbcord's session settings, as a DataFusion config extension: set with
//! `SET dbcord.<name> = ...`, shown with `SHOW dbcord.<name>` or `SHOW ALL`.

use std::any::Any;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use datafusion::common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
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

/// dbcord's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DbcordOptions {
    /// Push equality filters down into Discord search (false: always full scans).
    pub pushdown: bool,
    /// `fresh` (search plus recent history) or `eventual` (search alone).
    pub consistency: Consistency,
    /// Seconds of recent history a fresh scan reads, because search may not
    /// have indexed it yet; must exceed Discord's indexing lag.
    pub fresh_window: f64,
    /// The backend's known indexing lag in seconds: no window may be
    /// shorter. Not a setting: the engine sets it from the backend.
    pub lag_floor: f64,
}

/// The default window: Discord's lag is heavy-tailed, "1-2 minutes" after
/// a deletion is reported, and it publishes no bound.
pub const DEFAULT_FRESH_WINDOW: f64 = 180.0;

impl Default for DbcordOptions {
    fn default() -> Self {
        DbcordOptions {
            pushdown: true,
            consistency: Consistency::Fresh,
            fresh_window: DEFAULT_FRESH_WINDOW,
            lag_floor: 0.0,
        }
    }
}

impl ConfigExtension for DbcordOptions {
    const PREFIX: &'static str = "dbcord";
}

/// Written by hand rather than with DataFusion's macro so that the entries
/// carry the `dbcord.` prefix, which `SHOW dbcord.<name>` looks for.
impl ExtensionOptions for DbcordOptions {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> datafusion::error::Result<()> {
        let bad = |what: &str| {
            DataFusionError::Configuration(format!("dbcord.{key} must be {what}, not '{value}'"))
        };
        match key {
            "pushdown" => {
                self.pushdown = value
                    .trim()
                    .to_ascii_lowercase()
                    .parse()
                    .map_err(|_| bad("true or false"))?
            }
            "consistency" => {
                self.consistency = value
                    .parse()
                    .map_err(|e: ConsistencyError| DataFusionError::Configuration(e.to_string()))?
            }
            "fresh_window" => {
                let secs: f64 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("a number of seconds"))?;
                if !(0.0..=604_800.0).contains(&secs) {
                    return Err(bad("between 0 and 604800 seconds"));
                }
                if secs < self.lag_floor {
                    return Err(DataFusionError::Configuration(format!(
                        "dbcord.fresh_window must cover the backend's search lag: at least {} \
                         seconds, since search may take that long to see a write (asked for {secs})",
                        self.lag_floor
                    )));
                }
                self.fresh_window = secs;
            }
            _ => {
                return Err(DataFusionError::Configuration(format!(
                    "unknown setting dbcord.{key}; dbcord has pushdown, consistency and fresh_window"
                )));
            }
        }
        Ok(())
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        let entry = |key: &str, value: String, description: &'static str| ConfigEntry {
            key: format!("dbcord.{key}"),
            value: Some(value),
            description,
        };
        vec![
            entry(
                "pushdown",
                self.pushdown.to_string(),
                "Push equality filters down into Discord search",
            ),
            entry(
                "consistency",
                self.consistency.to_string(),
                "fresh: search plus recent history; eventual: search alone",
            ),
            entry(
                "fresh_window",
                self.fresh_window.to_string(),
                "Seconds of recent history a fresh scan reads",
            ),
        ]
    }
}

impl DbcordOptions {
    /// The defaults for a backend whose search may lag writes by `floor`.
    pub fn for_lag(floor: Duration) -> Self {
        let floor = floor.as_secs_f64();
        DbcordOptions {
            fresh_window: DEFAULT_FRESH_WINDOW.max(floor),
            lag_floor: floor,
            ..DbcordOptions::default()
        }
    }

    /// The settings of a session (defaults if the extension is missing).
    pub fn of(config: &ConfigOptions) -> DbcordOptions {
        config
            .extensions
            .get::<DbcordOptions>()
            .cloned()
            .unwrap_or_default()
    }

    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.fresh_window)
    }

    pub fn freshness(&self) -> Freshness {
        match self.consistency {
            Consistency::Fresh => Freshness::Fresh(self.window()),
            Consistency::Eventual => Freshness::Eventual,
        }
    }
}
