//! What the simulated clients do: random statements whose effects the
//! checker can account for afterwards, whatever order they landed in.
//!
//! Two tables carry the invariants:
//!
//! - `accounts`: a fixed set of keys whose balances only move by
//!   *transfers* (`v + d` on one key, `v - d` on another, one statement),
//!   so every read must see the same total, and each key's final balance
//!   says exactly which transfers took effect.
//! - `ledger`: rows that say which statement inserted them (`stmt`), with
//!   a UNIQUE `code` and an index on `stmt`. A statement's rows are all
//!   there or none are, whole, with one body version among them.
//!
//! A *receipt* is a transaction over both: a transfer and the ledger rows
//! recording it, BEGIN ... COMMIT, so the transfer took effect exactly
//! when its rows are there, whichever way the client died.

use std::fmt::Write;

use discord_api::SeededRng;

/// Keys of `accounts`, and the balance each starts with.
pub const ACCOUNTS: i64 = 8;
pub const OPENING: i64 = 1000;

/// The schema every seed starts from (run without faults).
pub fn setup_sql() -> String {
    let mut sql = String::from(
        "CREATE TABLE accounts (k INT PRIMARY KEY, v BIGINT NOT NULL, tag TEXT);\n\
         CREATE INDEX accounts_tag ON accounts (tag);\n\
         CREATE TABLE ledger (id BIGINT PRIMARY KEY, stmt BIGINT NOT NULL, \
         client INT NOT NULL, code TEXT, body TEXT, alias TEXT);\n\
         CREATE UNIQUE INDEX ledger_code ON ledger (code);\n\
         CREATE INDEX ledger_stmt ON ledger (stmt);\n\
         INSERT INTO accounts VALUES ",
    );
    let rows: Vec<String> = (0..ACCOUNTS)
        .map(|k| format!("({k}, {OPENING}, 'init')"))
        .collect();
    sql.push_str(&rows.join(", "));
    sql.push(';');
    sql
}

/// One row a statement inserts into `ledger`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRow {
    pub id: i64,
    pub stmt: i64,
    pub client: i64,
    pub code: String,
    pub body: String,
    /// The code, or sometimes another row's: a UNIQUE index on it comes and goes.
    pub alias: String,
}

/// What a statement is, as much as the checker needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// `v + d` on `a`, `v - d` on `b`, both tagged with the statement.
    Transfer {
        a: i64,
        b: i64,
        d: i64,
    },
    /// Tag keys `lo..=hi` with the statement; balances stay.
    Retag {
        lo: i64,
        hi: i64,
    },
    Insert {
        rows: Vec<LedgerRow>,
    },
    /// A transfer and the ledger rows recording it, in one transaction.
    Receipt {
        a: i64,
        b: i64,
        d: i64,
        rows: Vec<LedgerRow>,
    },
    /// Delete the rows statement `of` inserted.
    Delete {
        of: i64,
    },
    /// Give the rows of statement `of` the body `r<this statement>`.
    Rewrite {
        of: i64,
    },
    Read(Read),
    Vacuum,
    CreateScratch {
        name: String,
    },
    DropScratch {
        name: String,
    },
    /// `CREATE INDEX ledger_client`, or (`unique`) `CREATE UNIQUE INDEX
    /// ledger_alias`: built while others insert, the UNIQUE one over values
    /// some inserts repeat.
    CreateIndex {
        unique: bool,
    },
    DropIndex {
        unique: bool,
    },
}

/// The reads, each with an invariant its answer must keep.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    /// `sum(v), count(*)` of accounts: always the opening total.
    Total,
    /// The rows of one insert: all of them or none.
    RowsOf { of: i64 },
    /// `count(*)` and `count(DISTINCT id)` over an id range: equal.
    Range { lo: i64, hi: i64 },
    /// Rows with one code: at most one.
    Code { code: String },
}

/// A statement to run, with its number and its SQL.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub id: i64,
    pub client: usize,
    pub kind: Kind,
    pub sql: String,
}

/// How a statement ended, as its client saw it.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// It succeeded, with this many rows affected (or returned).
    Acked(u64),
    /// It failed with an error that says it did nothing: why, by the
    /// error's kind, and its message.
    Failed(Refusal, String),
    /// It failed on the way (Discord, a timeout) or its client was
    /// killed: it may or may not have taken effect, but all or nothing.
    Unknown(String),
}

/// Why a statement was refused, by the kind of dbcord's error: the kinds a
/// workload expects of its statements, and the rest.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// A concurrent statement committed first on the same rows or values.
    Conflict,
    /// A key or UNIQUE value is held by another row; the constraint,
    /// `primary key` or `UNIQUE index <name>`.
    Duplicate(String),
    /// A UNIQUE index over values that repeat.
    NotUnique,
    /// What the statement creates exists (or its column has an index).
    Exists,
    /// What the statement drops does not exist.
    Missing,
    /// Anything else.
    Other,
}

/// The kinds of statement, as the totals count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Delete,
    IndexDdl,
    Insert,
    Retag,
    Rewrite,
    Select,
    TableDdl,
    Transaction,
    Transfer,
    Vacuum,
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Class::Delete => "delete",
            Class::IndexDdl => "index ddl",
            Class::Insert => "insert",
            Class::Retag => "retag",
            Class::Rewrite => "rewrite",
            Class::Select => "select",
            Class::TableDdl => "table ddl",
            Class::Transaction => "transaction",
            Class::Transfer => "transfer",
            Class::Vacuum => "vacuum",
        })
    }
}

impl Kind {
    pub fn class(&self) -> Class {
        match self {
            Kind::Transfer { .. } => Class::Transfer,
            Kind::Retag { .. } => Class::Retag,
            Kind::Insert { .. } => Class::Insert,
            Kind::Receipt { .. } => Class::Transaction,
            Kind::Delete { .. } => Class::Delete,
            Kind::Rewrite { .. } => Class::Rewrite,
            Kind::Read(_) => Class::Select,
            Kind::Vacuum => Class::Vacuum,
            Kind::CreateScratch { .. } | Kind::DropScratch { .. } => Class::TableDdl,
            Kind::CreateIndex { .. } | Kind::DropIndex { .. } => Class::IndexDdl,
        }
    }
}

/// What every client may refer to: inserts known to be acknowledged.
#[derive(Debug, Default)]
pub struct Known {
    pub acked_inserts: Vec<(i64, Vec<LedgerRow>)>,
}

/// Bodies that test what a value may hold on its way through Discord.
const AWKWARD: [&str; 10] = [
    "it's a 'quote'",
    "line\nbreak",
    "@everyone look",
    "<@123> and <#123>",
    "**bold** `tick` ```block```",
    "émoji 🎉",
    "עברית text",
    "zero\u{200b}width",
    "from:someone has:link",
    "https://example.com/x",
];

/// Draw the next statement of `client`; with `unique_ddl`, index DDL
/// also creates and drops the UNIQUE index `ledger_alias`.
pub fn draw(
    rng: &mut SeededRng,
    id: i64,
    client: usize,
    known: &Known,
    scratch: &mut Vec<String>,
    unique_ddl: bool,
) -> Statement {
    let roll = rng.range(0, 100);
    let kind = match roll {
        0..=19 => transfer(rng),
        20..=27 => receipt(rng, id, client),
        28..=31 => {
            let lo = rng.range(0, ACCOUNTS);
            Kind::Retag {
                lo,
                hi: (lo + rng.range(0, 3)).min(ACCOUNTS - 1),
            }
        }
        32..=55 => insert(rng, id, client, known),
        56..=61 => match rng.pick(&known.acked_inserts) {
            Some((of, _)) => Kind::Delete { of: *of },
            None => transfer(rng),
        },
        62..=66 => match rng.pick(&known.acked_inserts) {
            Some((of, _)) => Kind::Rewrite { of: *of },
            None => transfer(rng),
        },
        67..=92 => Kind::Read(read(rng, known)),
        93..=94 => Kind::Vacuum,
        95..=97 => match scratch.pop() {
            Some(name) if rng.chance(0.5) => Kind::DropScratch { name },
            other => {
                scratch.extend(other);
                let name = format!("scratch_{client}_{id}");
                scratch.push(name.clone());
                Kind::CreateScratch { name }
            }
        },
        _ => {
            let unique = rng.chance(0.5) && unique_ddl;
            if rng.chance(0.5) {
                Kind::DropIndex { unique }
            } else {
                Kind::CreateIndex { unique }
            }
        }
    };
    Statement {
        id,
        client,
        sql: sql_of(id, &kind, rng),
        kind,
    }
}

fn transfer(rng: &mut SeededRng) -> Kind {
    let a = rng.range(0, ACCOUNTS);
    let b = (a + rng.range(1, ACCOUNTS)) % ACCOUNTS;
    Kind::Transfer {
        a,
        b,
        d: rng.range(1, 10_000),
    }
}

/// A transfer, and a row or two recording it (fresh ids and codes).
fn receipt(rng: &mut SeededRng, id: i64, client: usize) -> Kind {
    let Kind::Transfer { a, b, d } = transfer(rng) else {
        unreachable!("a transfer")
    };
    let rows = (0..rng.range(1, 3))
        .map(|i| LedgerRow {
            id: id * 16 + i,
            stmt: id,
            client: client as i64,
            code: format!("c{id}_{i}"),
            alias: format!("c{id}_{i}"),
            body: format!("receipt {a}->{b} {d}"),
        })
        .collect();
    Kind::Receipt { a, b, d, rows }
}

/// A few rows; sometimes many long ones (a segment, not a row message);
/// sometimes one that reuses a code or an id already taken (a statement
/// that must fail whole, unless the holder was deleted meanwhile).
fn insert(rng: &mut SeededRng, id: i64, client: usize, known: &Known) -> Kind {
    let big = rng.chance(0.15);
    let n = if big {
        rng.range(10, 16)
    } else {
        rng.range(1, 5)
    };
    let mut rows: Vec<LedgerRow> = (0..n)
        .map(|i| {
            let mut body = format!("{} #{id}.{i}", rng.pick(&AWKWARD).expect("not empty"));
            if big {
                body.push_str(&"~".repeat(200));
            }
            LedgerRow {
                id: id * 16 + i,
                stmt: id,
                client: client as i64,
                code: format!("c{id}_{i}"),
                alias: format!("c{id}_{i}"),
                body,
            }
        })
        .collect();
    if let Some((_, theirs)) = rng.pick(&known.acked_inserts) {
        let taken = &theirs[0];
        match rng.range(0, 10) {
            0 => rows[0].code = taken.code.clone(),
            1 => rows[0].id = taken.id,
            2 | 3 => rows[0].alias = taken.alias.clone(),
            _ => {}
        }
    }
    Kind::Insert { rows }
}

fn read(rng: &mut SeededRng, known: &Known) -> Read {
    match (rng.range(0, 4), rng.pick(&known.acked_inserts)) {
        (1, Some((of, _))) => Read::RowsOf { of: *of },
        (2, Some((_, rows))) => Read::Code {
            code: rows[0].code.clone(),
        },
        (3, Some((of, _))) => Read::Range {
            lo: of * 16 - 40,
            hi: of * 16 + 40,
        },
        _ => Read::Total,
    }
}

/// The columns of `ledger`, in the order [`LedgerRow`] reads them.
pub const LEDGER_COLUMNS: &str = "id, stmt, client, code, body, alias";

/// A SQL string literal.
pub fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn sql_of(id: i64, kind: &Kind, rng: &mut SeededRng) -> String {
    match kind {
        Kind::Transfer { a, b, d } => transfer_sql(id, *a, *b, *d),
        Kind::Receipt { a, b, d, rows } => format!(
            "BEGIN; {}; {}; COMMIT",
            transfer_sql(id, *a, *b, *d),
            insert_sql(rows)
        ),
        Kind::Retag { lo, hi } => {
            format!("UPDATE accounts SET tag = 's{id}' WHERE k BETWEEN {lo} AND {hi}")
        }
        Kind::Insert { rows } => insert_sql(rows),
        Kind::Delete { of } => format!("DELETE FROM ledger WHERE stmt = {of}"),
        Kind::Rewrite { of } => format!("UPDATE ledger SET body = 'r{id}' WHERE stmt = {of}"),
        Kind::Read(Read::Total) => "SELECT sum(v), count(*) FROM accounts".into(),
        Kind::Read(Read::RowsOf { of }) => {
            format!("SELECT {LEDGER_COLUMNS} FROM ledger WHERE stmt = {of}")
        }
        Kind::Read(Read::Range { lo, hi }) => format!(
            "SELECT count(*), count(DISTINCT id) FROM ledger WHERE id BETWEEN {lo} AND {hi}"
        ),
        Kind::Read(Read::Code { code }) => {
            format!("SELECT count(*) FROM ledger WHERE code = {}", lit(code))
        }
        Kind::Vacuum => {
            let table = if rng.chance(0.5) {
                "ledger"
            } else {
                "accounts"
            };
            format!("VACUUM {table}")
        }
        Kind::CreateScratch { name } => {
            format!("CREATE TABLE {name} (k INT PRIMARY KEY, v TEXT)")
        }
        Kind::DropScratch { name } => format!("DROP TABLE {name}"),
        Kind::CreateIndex { unique: false } => {
            "CREATE INDEX ledger_client ON ledger (client)".into()
        }
        Kind::CreateIndex { unique: true } => {
            "CREATE UNIQUE INDEX ledger_alias ON ledger (alias)".into()
        }
        Kind::DropIndex { unique: false } => "DROP INDEX ledger_client".into(),
        Kind::DropIndex { unique: true } => "DROP INDEX ledger_alias".into(),
    }
}

fn transfer_sql(id: i64, a: i64, b: i64, d: i64) -> String {
    format!(
        "UPDATE accounts SET v = v + CASE WHEN k = {a} THEN {d} ELSE {} END, \
         tag = 's{id}' WHERE k IN ({a}, {b})",
        -d
    )
}

fn insert_sql(rows: &[LedgerRow]) -> String {
    let mut sql = String::from("INSERT INTO ledger VALUES ");
    for (i, r) in rows.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(
            sql,
            "{sep}({}, {}, {}, {}, {}, {})",
            r.id,
            r.stmt,
            r.client,
            lit(&r.code),
            lit(&r.body),
            lit(&r.alias)
        );
    }
    sql
}
