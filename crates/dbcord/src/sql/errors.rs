//! Error text for people: DataFusion wraps dbcord's errors in layers of
//! context; a user wants the innermost message, without the wrapping.

use datafusion::error::DataFusionError;

/// The message a user should see for a failed statement.
pub fn user_message(e: &DataFusionError) -> String {
    match e.find_root() {
        DataFusionError::External(inner) => inner.to_string(),
        DataFusionError::ArrowError(inner, _) => inner.to_string(),
        DataFusionError::Plan(m)
        | DataFusionError::NotImplemented(m)
        | DataFusionError::Execution(m)
        | DataFusionError::Configuration(m) => m.clone(),
        DataFusionError::SQL(inner, _) => inner.to_string(),
        root => root.to_string(),
    }
}

/// The PostgreSQL SQLSTATE of a failed statement: dbcord's own errors say
/// theirs (see [`crate::Error::sqlstate`]); DataFusion's are told by kind.
pub fn sqlstate(e: &DataFusionError) -> &'static str {
    match e.find_root() {
        DataFusionError::External(inner) => match inner.downcast_ref::<crate::Error>() {
            Some(e) => e.sqlstate(),
            None => "XX000",
        },
        DataFusionError::SQL(..) => "42601",
        DataFusionError::NotImplemented(_) => "0A000",
        DataFusionError::ArrowError(..) => "22P02",
        DataFusionError::SchemaError(inner, _) => match inner.as_ref() {
            datafusion::common::SchemaError::FieldNotFound { .. } => "42703",
            _ => "42P01",
        },
        DataFusionError::Plan(m) if m.contains("table") && m.contains("not found") => "42P01",
        DataFusionError::Plan(_) => "42601",
        DataFusionError::Execution(m) if m.contains("ivision by zero") => "22012",
        DataFusionError::Execution(m) if m.contains("cast") || m.contains("Cast") => "22P02",
        _ => "XX000",
    }
}
