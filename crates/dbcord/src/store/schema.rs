//! Table definitions as the catalog stores them.

use serde::{Deserialize, Serialize};

use discord_api::Snowflake;

/// The column types dbcord stores. Each maps to one JSON form in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// JSON string.
    Text,
    /// JSON integer (64-bit).
    BigInt,
    /// JSON integer (32-bit).
    Int,
    /// JSON number, or "NaN" / "Infinity" / "-Infinity".
    Double,
    /// As `Double`, 32-bit.
    Real,
    /// JSON true / false.
    Boolean,
    /// JSON integer: nanoseconds since the Unix epoch, UTC.
    Timestamp,
}

impl ColumnType {
    pub fn sql_name(self) -> &'static str {
        match self {
            ColumnType::Text => "TEXT",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Int => "INT",
            ColumnType::Double => "DOUBLE",
            ColumnType::Real => "REAL",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Timestamp => "TIMESTAMP",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub nullable: bool,
}

/// A table: its columns, key, and the channel that holds its rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableDef {
    pub database: String,
    pub name: String,
    pub columns: Vec<Column>,
    /// Names of the primary-key columns (at least one).
    pub primary_key: Vec<String>,
    pub channel_id: Snowflake,
}

impl TableDef {
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// What `CREATE TABLE` asks for, before a channel exists.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTable {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
}

/// A secondary index on one column, held in channel `#idx-<table>-<column>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexDef {
    pub database: String,
    pub name: String,
    pub table: String,
    pub column: String,
    pub unique: bool,
    pub channel_id: Snowflake,
    /// False while the index is being built (or was left half-built): scans
    /// must not trust it and fall back to the table.
    pub ready: bool,
}

/// What `CREATE INDEX` asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct NewIndex {
    pub name: String,
    pub table: String,
    pub column: String,
    pub unique: bool,
}

/// A table `main.t` of nullable columns keyed by the first, for unit tests.
#[cfg(test)]
pub fn test_table(name: &str, columns: &[(&str, ColumnType)]) -> TableDef {
    TableDef {
        database: "main".into(),
        name: name.into(),
        columns: columns
            .iter()
            .map(|(n, ty)| Column {
                name: n.to_string(),
                ty: *ty,
                nullable: true,
            })
            .collect(),
        primary_key: vec![columns[0].0.to_string()],
        channel_id: discord_api::Snowflake(1),
    }
}
