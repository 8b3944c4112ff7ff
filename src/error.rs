//! The library's one error type above the Discord boundary.
//!
//! Every message names what was wrong in words a user can act on. None of
//! them can contain the bot token: it is never passed below the HTTP layer.

use crate::discord::DiscordError;
use crate::discord::emulator::JournalError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Discord refused the request: {0}")]
    Discord(#[from] DiscordError),
    #[error("emulator storage: {0}")]
    Journal(#[from] JournalError),
    #[error("{0}")]
    InvalidName(String),
    #[error("database \"{0}\" does not exist")]
    NoSuchDatabase(String),
    #[error("database \"{0}\" already exists")]
    DatabaseExists(String),
    #[error("database \"{0}\" still has tables; drop them first")]
    DatabaseNotEmpty(String),
    #[error("table \"{0}\" does not exist")]
    NoSuchTable(String),
    #[error("table \"{0}\" already exists")]
    TableExists(String),
    #[error("index \"{0}\" does not exist")]
    NoSuchIndex(String),
    #[error("index \"{0}\" already exists")]
    IndexExists(String),
    #[error("{0}")]
    InvalidRow(String),
    #[error(
        "row {row} does not fit in one Discord message: it encodes to {len} characters and the \
         limit is 2000 (rows larger than a message are not supported yet); nothing was written"
    )]
    RowTooLarge { row: usize, len: usize },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}; nothing was written")]
    Duplicate(String),
    #[error("the catalog is damaged: {0}")]
    Catalog(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
