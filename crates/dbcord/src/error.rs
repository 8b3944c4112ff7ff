//! The library's one error type above the Discord boundary.
//!
//! Each variant is one kind of failure, carrying what a user needs to act
//! on it: the table, the column, the row and the value. None of them can
//! contain the bot token: it never leaves the HTTP backend.

use discord_api::DiscordError;

/// What a name is the name of, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Database,
    Table,
    Column,
    Index,
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameKind::Database => "database",
            NameKind::Table => "table",
            NameKind::Column => "column",
            NameKind::Index => "index",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Discord refused the request: {0}")]
    Discord(#[from] DiscordError),

    // Names and definitions.
    #[error(
        "invalid {kind} name \"{name}\": use 1 to {max} characters of a-z, 0-9 and _, starting \
         with a letter{underscore} (Discord channel names are lower-case)",
        underscore = if *kind == NameKind::Column { "" } else { " or _" }
    )]
    InvalidName {
        kind: NameKind,
        name: String,
        max: usize,
    },
    #[error(
        "column name \"{0}\" is reserved: names starting with _ belong to dbcord \
         (_message_id and _channel_id are the hidden ObjectID columns)"
    )]
    ReservedColumnName(String),
    #[error("table {table} names column \"{column}\" twice")]
    DuplicateColumn { table: String, column: String },
    #[error("table {0} needs at least one column")]
    NoColumns(String),
    #[error("table {0} needs a PRIMARY KEY: dbcord finds rows by their key")]
    NoPrimaryKey(String),
    #[error("table {table} has no column \"{column}\"")]
    NoSuchColumn { table: String, column: String },
    #[error("column {table}.{column} already has index {index}")]
    ColumnAlreadyIndexed {
        table: String,
        column: String,
        index: String,
    },
    #[error(
        "a segment of {0} cannot describe itself in one message ({max} characters): the \
         table has too many columns or indexes for dbcord's segments",
        max = discord_api::limits::MAX_CONTENT_LEN
    )]
    SegmentHeaderTooLarge(String),
    #[error(
        "the definition of {0} does not fit in one catalog message ({max} characters); use fewer \
         or shorter columns",
        max = discord_api::limits::MAX_CONTENT_LEN
    )]
    DefinitionTooLarge(String),

    // Catalog objects.
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
    #[error(
        "table \"{0}\" already exists; restore makes a new table: drop it first or restore \
         under another name"
    )]
    RestoreOverTable(String),
    #[error("index \"{0}\" does not exist")]
    NoSuchIndex(String),
    #[error("index \"{0}\" already exists")]
    IndexExists(String),

    // Rows. `row` counts from 1 within the statement.
    #[error("row {row} has {got} values but table {table} has {want} columns; nothing was written")]
    WrongArity {
        table: String,
        row: usize,
        got: usize,
        want: usize,
    },
    #[error("row {row}: column \"{column}\" of {table} may not be NULL; nothing was written")]
    NullValue {
        table: String,
        column: String,
        row: usize,
    },
    #[error(
        "row {row}: column \"{column}\" of {table} is {expected} but the value is {value}; \
         nothing was written"
    )]
    TypeMismatch {
        table: String,
        column: String,
        row: usize,
        expected: &'static str,
        value: String,
    },
    #[error(
        "row {row}: column \"{column}\" of {table} is JSON but the value is not one JSON \
         document ({why}); nothing was written"
    )]
    BadJson {
        table: String,
        column: String,
        row: usize,
        why: String,
    },
    #[error(
        "row {row} of {table} violates CHECK {check} ({expr}) with {cells}; nothing was written"
    )]
    CheckViolated {
        table: String,
        row: usize,
        check: String,
        expr: String,
        /// The cells the rule reads, as `column = value, ...`.
        cells: String,
    },
    #[error(
        "row {row} of {table} does not fit in one Discord message: it encodes to {len} \
         characters and the limit is {max}{what}; nothing was written",
        max = discord_api::limits::MAX_CONTENT_LEN
    )]
    RowTooLarge {
        table: String,
        row: usize,
        len: usize,
        /// What had to fit, if not the row message itself (an index entry).
        what: String,
    },
    #[error(
        "row {row} of {table} is {bytes} bytes as JSON; dbcord stores rows of up to 10 MiB \
         (10485760 bytes); nothing was written"
    )]
    RowOverLimit {
        table: String,
        row: usize,
        bytes: usize,
    },
    #[error(
        "the statement writes {bytes} bytes into {table}, more than one commit holds \
         (25 MiB); split it into smaller statements"
    )]
    StatementTooLarge { table: String, bytes: usize },
    #[error("duplicate key: {table} {whence} {key} ({constraint}); nothing was written")]
    Duplicate {
        table: String,
        /// `primary key` or `UNIQUE index <name>`.
        constraint: String,
        /// The key as `column = value, ...`.
        key: String,
        /// "already has a row with" or "would get two rows with".
        whence: &'static str,
    },
    #[error(
        "row {row} of {table}: Discord changed {what} on the way in (it strips some \
         characters); the message was removed and nothing was written"
    )]
    ContentAltered {
        table: String,
        row: usize,
        /// `column "x"`, or what else differed.
        what: String,
    },
    #[error(
        "conflict: another statement changed the same rows of {table} at the same moment \
         and committed first; nothing was written (run the statement again)"
    )]
    Conflict { table: String },
    #[error(
        "the commit to {table} was posted, but a compaction folded it and a vacuum removed \
         the messages that say whether it counted before it could be read back: it may or \
         may not have been applied; read the table to see"
    )]
    Unconfirmed { table: String },
    #[error("cannot create UNIQUE index {index}: {table}.{column} holds {value} more than once")]
    NotUnique {
        index: String,
        table: String,
        column: String,
        value: String,
    },

    // Discord's structural limits.
    #[error(
        "database {database} has {limit} channels, Discord's limit for a category (each table \
         and each index is a channel, besides #dbc-catalog): nothing was made; drop a table or \
         an index, or use another database"
    )]
    CategoryFull { database: String, limit: usize },
    #[error(
        "the guild has {limit} channels, Discord's limit: nothing was made; drop tables, \
         indexes or databases first"
    )]
    GuildFull { limit: usize },

    // The guild's own state.
    #[error(
        "channel #{0} holds messages but no table refers to it; move or delete it before \
         creating this table"
    )]
    ChannelInUse(String),
    #[error("snapshot {id} cannot be restored: {why}")]
    BadSnapshot {
        id: discord_api::Snowflake,
        why: String,
    },
    #[error("{file}: {why}")]
    BadFile { file: String, why: String },
    #[error("the catalog is damaged: {0}")]
    CatalogDamaged(String),
    #[error("the segment in message {message} of {table} is unreadable: {why}")]
    SegmentUnreadable {
        table: String,
        message: discord_api::Snowflake,
        why: String,
    },
    #[error("a segment of {table} could not be written: {why}; nothing was written")]
    SegmentNotEncoded { table: String, why: String },
    #[error(
        "writing {table} took more than {minutes} minutes, so it stopped before committing: \
         nothing was written (what it had staged is left for vacuum)"
    )]
    StageTooSlow { table: String, minutes: u64 },

    // Transactions.
    #[error(
        "could not serialize: {table} was compacted since this transaction began, so it can no \
         longer be read as of then; the transaction was rolled back and nothing was written \
         (run it again)"
    )]
    SnapshotGone { table: String },
    #[error(
        "the transaction's commit took longer than {seconds} s, so it stopped before its commit \
         point: nothing was written (run it again)"
    )]
    TxnTooSlow { seconds: u64 },
    /// A transaction-control statement out of place (a PostgreSQL
    /// SQLSTATE of class 25 or 3B).
    #[error("{message}")]
    TxnState {
        sqlstate: &'static str,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether a statement that failed with this error may still have
    /// taken effect: Discord failed on the way (its commit may have been
    /// posted before), or the commit's fate could not be read back. Every
    /// other error comes before anything is written, or after a commit
    /// that is known not to count.
    pub fn is_indeterminate(&self) -> bool {
        matches!(self, Error::Discord(_) | Error::Unconfirmed { .. })
    }

    /// The PostgreSQL SQLSTATE of this error, for clients that act on it
    /// (a driver raises `UniqueViolation` for 23505, retries on 40001).
    pub fn sqlstate(&self) -> &'static str {
        use Error::*;
        match self {
            Duplicate { .. } | NotUnique { .. } => "23505",
            NullValue { .. } => "23502",
            CheckViolated { .. } => "23514",
            Conflict { .. } | SnapshotGone { .. } | TxnTooSlow { .. } => "40001",
            NoSuchTable(_) => "42P01",
            NoSuchDatabase(_) => "3F000",
            NoSuchColumn { .. } => "42703",
            NoSuchIndex(_) => "42704",
            TableExists(_) | IndexExists(_) => "42P07",
            DatabaseExists(_) => "42P06",
            DatabaseNotEmpty(_) => "2BP01",
            InvalidName { .. } | ReservedColumnName(_) => "42602",
            DuplicateColumn { .. } => "42701",
            NoColumns(_) | NoPrimaryKey(_) | ColumnAlreadyIndexed { .. } => "42P16",
            WrongArity { .. } => "42601",
            TypeMismatch { .. } | BadJson { .. } | BadFile { .. } => "22P02",
            RowTooLarge { .. } | RowOverLimit { .. } | StatementTooLarge { .. } => "54000",
            SegmentHeaderTooLarge(_) | DefinitionTooLarge(_) => "54000",
            CategoryFull { .. } | GuildFull { .. } => "53400",
            TxnState { sqlstate, .. } => sqlstate,
            Discord(_) | Unconfirmed { .. } | StageTooSlow { .. } => "58000",
            _ => "XX000",
        }
    }
}
