//! Object identifiers: PostgreSQL names every database, schema, table,
//! index, constraint and type by an OID, and clients pass them from one
//! catalog query to the next. dbcord's are derived from what names an
//! object for good (a table's channel, a database's name), so they stay
//! the same across statements, sessions and processes.

use crate::store::{Column, ColumnType, IndexDef, TableDef};

/// The `pg_catalog` schema's OID, as in PostgreSQL.
pub const PG_CATALOG: i64 = 11;
/// `information_schema`'s.
pub const INFORMATION_SCHEMA: i64 = 13_183;
/// The one role, `dbcord`.
pub const OWNER: i64 = 10;
/// The access methods: tables are `heap`, indexes `btree`.
pub const HEAP: i64 = 2;
pub const BTREE: i64 = 403;

/// An OID above PostgreSQL's own (16384 and up) for `key`.
pub fn of(key: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    16_384 + (h % (i32::MAX as u64 - 16_384)) as i64
}

pub fn schema(db: &str) -> i64 {
    match db {
        "pg_catalog" => PG_CATALOG,
        "information_schema" => INFORMATION_SCHEMA,
        db => of(&format!("schema:{db}")),
    }
}

pub fn database(db: &str) -> i64 {
    of(&format!("database:{db}"))
}

pub fn table(def: &TableDef) -> i64 {
    of(&format!("table:{}", def.channel_id))
}

/// The primary key's index.
pub fn primary_key(def: &TableDef) -> i64 {
    of(&format!("pkey:{}", def.channel_id))
}

pub fn index(def: &TableDef, index: &IndexDef) -> i64 {
    of(&format!("index:{}:{}", def.channel_id, index.name))
}

pub fn check(def: &TableDef, name: &str) -> i64 {
    of(&format!("check:{}:{name}", def.channel_id))
}

/// The primary key index's name, as PostgreSQL would call it.
pub fn pkey_name(def: &TableDef) -> String {
    format!("{}_pkey", def.name)
}

/// A column type's PostgreSQL type: OID and name.
pub fn column_type(ty: ColumnType) -> (i64, &'static str) {
    match ty {
        ColumnType::Text => (25, "text"),
        ColumnType::BigInt => (20, "bigint"),
        ColumnType::Int => (23, "integer"),
        ColumnType::Double => (701, "double precision"),
        ColumnType::Real => (700, "real"),
        ColumnType::Boolean => (16, "boolean"),
        ColumnType::Timestamp => (1114, "timestamp without time zone"),
        ColumnType::Json => (114, "json"),
    }
}

/// The types `pg_type` lists: (OID, name, length, `format_type`'s name).
pub const TYPES: [(i64, &str, i16, &str); 18] = [
    (16, "bool", 1, "boolean"),
    (17, "bytea", -1, "bytea"),
    (18, "char", 1, "\"char\""),
    (19, "name", 64, "name"),
    (20, "int8", 8, "bigint"),
    (21, "int2", 2, "smallint"),
    (23, "int4", 4, "integer"),
    (25, "text", -1, "text"),
    (26, "oid", 4, "oid"),
    (114, "json", -1, "json"),
    (700, "float4", 4, "real"),
    (701, "float8", 8, "double precision"),
    (1043, "varchar", -1, "character varying"),
    (1082, "date", 4, "date"),
    (1114, "timestamp", 8, "timestamp without time zone"),
    (1184, "timestamptz", 8, "timestamp with time zone"),
    (1700, "numeric", -1, "numeric"),
    (3802, "jsonb", -1, "jsonb"),
];

/// `format_type(oid, typmod)`.
pub fn type_name(oid: i64) -> Option<&'static str> {
    TYPES.iter().find(|t| t.0 == oid).map(|t| t.3)
}

/// Whether a column is NOT NULL, as `pg_attribute.attnotnull` says.
pub fn not_null(def: &TableDef, c: &Column) -> bool {
    !c.nullable || def.primary_key.contains(&c.name)
}
