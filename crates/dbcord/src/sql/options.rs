//! dbcord's session settings, as a DataFusion config extension: set with
//! `SET dbcord.<name> = ...`, shown with `SHOW dbcord.<name>` or `SHOW ALL`.

use std::any::Any;

use datafusion::common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion::config::ConfigOptions;
use datafusion::error::DataFusionError;

use super::guild::plan::GuildScan;
use crate::store::WriteOptions;

/// dbcord's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DbcordOptions {
    /// Use key lookups, index lookups and segment statistics (false: read
    /// everything, for comparison).
    pub pushdown: bool,
    /// How writes behave and how what they write is laid out.
    pub write: WriteOptions,
    /// Whether `discord.messages` asks search or reads history.
    pub guild_scan: GuildScan,
}

impl Default for DbcordOptions {
    fn default() -> Self {
        DbcordOptions {
            pushdown: true,
            write: WriteOptions::default(),
            guild_scan: GuildScan::Search,
        }
    }
}

/// dbcord's settings, each with what `SET` takes and what it is for.
const SETTINGS: [(&str, &str, &str); 7] = [
    (
        "pushdown",
        "true or false",
        "Use key lookups, index lookups and segment statistics",
    ),
    (
        "compact_after",
        "a number of commits (0: only on VACUUM)",
        "Commits after which a table is folded into its manifest (0: only on VACUUM)",
    ),
    (
        "segment_bytes",
        "a number of bytes from 1024 to 24117248",
        "Bytes of a segment's files in one message; larger statements are staged over several",
    ),
    (
        "part_bytes",
        "a number of bytes from 1024 to 10485760",
        "Bytes of one attachment; longer files are cut into parts",
    ),
    (
        "batch_rows",
        "a number of rows from 1 to 1000000",
        "Rows in a batch of a staged segment (a key lookup reads one batch)",
    ),
    (
        "level0_runs",
        "a number of runs from 1 to 64",
        "Runs folded from commits a manifest keeps before merging them into its bottom run",
    ),
    (
        "guild_scan",
        "search or history",
        "How discord.messages reads the guild: search where filters narrow it, or every channel's history",
    ),
];

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
        let Some((_, what, _)) = SETTINGS.iter().find(|(name, ..)| *name == key) else {
            let names: Vec<&str> = SETTINGS.iter().map(|(n, ..)| *n).collect();
            return Err(DataFusionError::Configuration(format!(
                "unknown setting dbcord.{key}; dbcord has {}",
                names.join(", ")
            )));
        };
        let bad = || {
            DataFusionError::Configuration(format!("dbcord.{key} must be {what}, not '{value}'"))
        };
        let number = |lo: usize, hi: usize| {
            value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(bad)
        };
        let w = &mut self.write;
        match key {
            "pushdown" => {
                self.pushdown = value
                    .trim()
                    .to_ascii_lowercase()
                    .parse()
                    .map_err(|_| bad())?
            }
            "compact_after" => w.compact_after = value.trim().parse().map_err(|_| bad())?,
            "segment_bytes" => w.segment_bytes = number(1024, 23 << 20)?,
            "part_bytes" => w.part_bytes = number(1024, 10 << 20)?,
            "batch_rows" => w.batch_rows = number(1, 1_000_000)?,
            "guild_scan" => {
                self.guild_scan = match value.trim().to_ascii_lowercase().as_str() {
                    "search" => GuildScan::Search,
                    "history" => GuildScan::History,
                    _ => return Err(bad()),
                }
            }
            _ => w.level0_runs = number(1, 64)?,
        }
        Ok(())
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        let w = &self.write;
        let values = [
            self.pushdown.to_string(),
            w.compact_after.to_string(),
            w.segment_bytes.to_string(),
            w.part_bytes.to_string(),
            w.batch_rows.to_string(),
            w.level0_runs.to_string(),
            match self.guild_scan {
                GuildScan::Search => "search".to_string(),
                GuildScan::History => "history".to_string(),
            },
        ];
        SETTINGS
            .iter()
            .zip(values)
            .map(|((key, _, description), value)| ConfigEntry {
                key: format!("dbcord.{key}"),
                value: Some(value),
                description,
            })
            .collect()
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
        self.write
    }
}
