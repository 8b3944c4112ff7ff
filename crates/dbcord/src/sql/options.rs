//! dbcord's session settings, as a DataFusion config extension: set with
//! `SET dbcord.<name> = ...`, shown with `SHOW dbcord.<name>` or `SHOW ALL`.

use std::any::Any;

use datafusion::common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::config::ConfigOptions;
use datafusion::error::DataFusionError;

use crate::store::WriteOptions;

/// dbcord's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DbcordOptions {
    /// Use key lookups, index lookups and segment statistics (false: read
    /// everything, for comparison).
    pub pushdown: bool,
    /// Fold a table into a checkpoint once this many commits follow the
    /// last one (0: only on VACUUM).
    pub compact_after: usize,
}

impl Default for DbcordOptions {
    fn default() -> Self {
        DbcordOptions {
            pushdown: true,
            compact_after: WriteOptions::default().compact_after,
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
            "compact_after" => {
                self.compact_after = value
                    .trim()
                    .parse()
                    .map_err(|_| bad("a number of commits (0: only on VACUUM)"))?
            }
            _ => {
                return Err(DataFusionError::Configuration(format!(
                    "unknown setting dbcord.{key}; dbcord has pushdown and compact_after"
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
                "Use key lookups, index lookups and segment statistics",
            ),
            entry(
                "compact_after",
                self.compact_after.to_string(),
                "Commits after which a table is folded into a checkpoint (0: only on VACUUM)",
            ),
        ]
    }
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

    pub fn write_options(&self) -> WriteOptions {
        WriteOptions {
            compact_after: self.compact_after,
        }
    }
}
