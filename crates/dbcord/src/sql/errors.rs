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
