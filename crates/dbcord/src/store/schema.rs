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
    /// A JSON document (Storcord's): any JSON value, kept as its text in a
    /// JSON string, so it reads back byte for byte. SQL sees text and
    /// reaches into it with the JSON functions (`->`, `->>`, `json_get_str`).
    Json,
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
            ColumnType::Json => "JSON",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub nullable: bool,
    /// `DEFAULT`: SQL text, planned by DataFusion when an INSERT leaves
    /// the column out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The name rows store the column under, when it is not `name`: a
    /// renamed column keeps its stored name, and a column added under the
    /// name of a dropped one gets a new one, so no stored row changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<String>,
    /// For a column added to a table with rows: the value (in its row
    /// JSON form) that rows written before it existed read as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<serde_json::Value>,
}

impl Column {
    /// A new column, with no rules.
    pub fn new(name: impl Into<String>, ty: ColumnType, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable,
            default: None,
            stored: None,
            fill: None,
        }
    }

    /// The name rows store this column under.
    pub fn stored(&self) -> &str {
        self.stored.as_deref().unwrap_or(&self.name)
    }
}

/// Where a row too large for a message goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LargeRows {
    /// In the attachments of a segment (the Python dbcord's blob rows).
    #[default]
    Attachment,
    /// In Storcord shards: readable messages the commit names.
    Shards,
}

impl LargeRows {
    fn is_default(&self) -> bool {
        *self == LargeRows::Attachment
    }
}

/// A `CHECK` constraint: a boolean SQL expression over the row's columns,
/// evaluated by DataFusion on every row an INSERT or UPDATE writes. A row
/// fails when it is false (NULL passes, as SQL has it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckDef {
    pub name: String,
    pub expr: String,
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
    /// The table's history thread (the catalog message it starts on), when
    /// it is not this definition's own catalog message: set by a later
    /// definition of the same table, so the thread outlives an ALTER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckDef>,
    /// Columns dropped by ALTER TABLE: older segments still hold them, and
    /// decoding those needs their types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<Column>,
    /// Set by the first ALTER TABLE: the stored names, in order, of the
    /// columns of segments written before it. Segments written after it
    /// list their own columns in their header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_columns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "LargeRows::is_default")]
    pub large_rows: LargeRows,
}

impl TableDef {
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.database, self.name)
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The live column rows store under `stored`.
    pub fn stored_index(&self, stored: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.stored() == stored)
    }

    /// The type of a stored column, live or dropped.
    pub fn stored_type(&self, stored: &str) -> Option<ColumnType> {
        self.columns
            .iter()
            .chain(&self.dropped)
            .find(|c| c.stored() == stored)
            .map(|c| c.ty)
    }

    /// The column an index covers (indexes name their column's stored
    /// name, which a RENAME COLUMN does not change).
    pub fn index_column(&self, index: &IndexDef) -> Option<usize> {
        self.stored_index(&index.column)
    }

    /// Whether an ALTER TABLE has changed the columns since creation.
    pub fn altered(&self) -> bool {
        self.initial_columns.is_some()
    }

    /// The stored names of the columns of a segment whose header lists
    /// `listed` (segments since the first ALTER do).
    pub fn segment_columns(&self, listed: Option<&Vec<String>>) -> Vec<String> {
        match listed.or(self.initial_columns.as_ref()) {
            Some(cols) => cols.clone(),
            None => self
                .columns
                .iter()
                .map(|c| c.stored().to_string())
                .collect(),
        }
    }
}

/// What `CREATE TABLE` asks for, before a channel exists.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTable {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub checks: Vec<CheckDef>,
    pub large_rows: LargeRows,
}

impl NewTable {
    /// The definition of this table in database `db`, held in `channel_id`.
    pub fn into_def(self, db: &str, channel_id: Snowflake) -> TableDef {
        TableDef {
            database: db.to_string(),
            name: self.name,
            columns: self.columns,
            primary_key: self.primary_key,
            channel_id,
            history: None,
            checks: self.checks,
            dropped: Vec::new(),
            initial_columns: None,
            large_rows: self.large_rows,
        }
    }
}

/// A secondary index on one column. Its data is in the table's segments:
/// each carries a file of the index's entries (see `codec::segment`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexDef {
    pub database: String,
    pub name: String,
    pub table: String,
    /// The stored name of the column (it outlives a RENAME COLUMN).
    pub column: String,
    pub unique: bool,
    /// A channel of the index's own. Only indexes of the first format had
    /// one (`#idx-<table>-<column>`, their entries as messages); DROP
    /// deletes it. Catalog entries written before this was optional say
    /// `"0"` for none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "zero_is_none"
    )]
    pub channel_id: Option<Snowflake>,
    /// False while the index is being built (or was left half-built): scans
    /// must not trust it and fall back to the table.
    pub ready: bool,
}

impl IndexDef {
    /// The channel that holds this index's segments: its own, or (an index
    /// of before index channels) the table's.
    pub fn segments_channel(&self, table: &TableDef) -> Snowflake {
        self.channel_id.unwrap_or(table.channel_id)
    }
}

/// An ID where `"0"` (or `0`) stands for none, as older catalog entries write it.
fn zero_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Snowflake>, D::Error> {
    let id = Option::<Snowflake>::deserialize(d)?;
    Ok(id.filter(|s| s.0 != 0))
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
            .map(|(n, ty)| Column::new(*n, *ty, true))
            .collect(),
        primary_key: vec![columns[0].0.to_string()],
        channel_id: discord_api::Snowflake(1),
        history: None,
        checks: Vec::new(),
        dropped: Vec::new(),
        initial_columns: None,
        large_rows: LargeRows::Attachment,
    }
}
