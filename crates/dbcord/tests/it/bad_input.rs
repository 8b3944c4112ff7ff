//! A table of bad input: each case is a statement, the words its error
//! must contain (naming the table, column, value or rule), and a check
//! that nothing was written: every channel of the guild holds the same
//! messages after the failure as before. A second table holds awkward
//! values that must round-trip exactly.

use std::collections::BTreeMap;

use crate::common::Stack;

const SCHEMA: &[&str] = &[
    "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, age BIGINT CHECK (age >= 0), \
     doc JSON)",
    "CREATE UNIQUE INDEX users_email ON users (email)",
    "CREATE TABLE pairs (a TEXT, b BIGINT, v TEXT, PRIMARY KEY (a, b))",
    "INSERT INTO users VALUES ('u1', 'a@example.com', 30, NULL), ('u2', 'b@example.com', 40, '{}')",
    "INSERT INTO pairs VALUES ('x', 1, 'one'), ('x', 2, 'two')",
];

/// (statement, words its error must contain).
const CASES: &[(&str, &[&str])] = &[
    // Malformed SQL.
    ("SELEC 1", &["SELEC"]),
    ("SELECT * FROM", &["Expected"]),
    ("INSERT INTO users VALUES (", &["Expected"]),
    ("CREATE TABLE", &["Expected"]),
    ("SELECT 'unterminated", &["Unterminated string"]),
    ("UPDATE users SET", &["Expected"]),
    // Unknown databases, tables, columns, indexes.
    ("SELECT * FROM nope", &["nope"]),
    ("SELECT * FROM nodb.users", &["nodb"]),
    ("INSERT INTO nope VALUES (1)", &["nope"]),
    ("SELECT nocol FROM users", &["nocol"]),
    ("UPDATE users SET nocol = 1", &["nocol"]),
    ("DELETE FROM nope", &["nope"]),
    ("DROP TABLE nope", &["nope", "does not exist"]),
    ("DROP INDEX nope", &["nope", "does not exist"]),
    ("CREATE INDEX i ON nope (a)", &["nope"]),
    ("CREATE INDEX i ON users (nocol)", &["nocol"]),
    ("CREATE TABLE nodb.t (id TEXT PRIMARY KEY)", &["nodb"]),
    ("DROP SCHEMA nodb", &["nodb"]),
    // Types.
    (
        "INSERT INTO users VALUES ('u9', 'c@example.com', 'abc', NULL)",
        &["abc"],
    ),
    (
        "INSERT INTO users VALUES ('u9', 'c@example.com', 99999999999999999999, NULL)",
        &["1e20", "Int64"],
    ),
    (
        "INSERT INTO users VALUES ('u9', 'c@example.com', 1, '{not json')",
        &["doc", "JSON"],
    ),
    (
        "INSERT INTO users VALUES ('u9', 'c@example.com', 1, '[1,')",
        &["doc", "JSON"],
    ),
    (
        "CREATE TABLE t (id DATE PRIMARY KEY)",
        &["Date", "not supported"],
    ),
    (
        "CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT DEFAULT 'abc')",
        &["DEFAULT", "abc"],
    ),
    // NULL into NOT NULL and into keys.
    ("INSERT INTO users (id) VALUES ('u9')", &["email", "NULL"]),
    (
        "INSERT INTO users VALUES (NULL, 'c@example.com', 1, NULL)",
        &["id", "NULL"],
    ),
    (
        "UPDATE users SET email = NULL WHERE id = 'u1'",
        &["email", "NULL"],
    ),
    ("INSERT INTO pairs VALUES ('x', NULL, 'v')", &["b", "NULL"]),
    // Duplicates, within a statement and against the table.
    (
        "INSERT INTO users VALUES ('u1', 'c@example.com', 1, NULL)",
        &["duplicate key", "id = 'u1'"],
    ),
    (
        "INSERT INTO users VALUES ('u8', 'c@example.com', 1, NULL), ('u8', 'd@example.com', 2, NULL)",
        &["two rows", "u8"],
    ),
    (
        "INSERT INTO users VALUES ('u9', 'a@example.com', 1, NULL)",
        &["UNIQUE index users_email", "a@example.com"],
    ),
    (
        "INSERT INTO users VALUES ('u8', 'z@example.com', 1, NULL), ('u9', 'z@example.com', 2, NULL)",
        &["users_email", "z@example.com"],
    ),
    (
        "UPDATE users SET email = 'a@example.com' WHERE id = 'u2'",
        &["users_email"],
    ),
    (
        "UPDATE users SET id = 'u1' WHERE id = 'u2'",
        &["duplicate key", "u1"],
    ),
    (
        "INSERT INTO pairs VALUES ('x', 1, 'again')",
        &["duplicate key", "a = 'x', b = 1"],
    ),
    (
        "CREATE UNIQUE INDEX pairs_a ON pairs (a)",
        &["pairs_a", "'x' more than once"],
    ),
    // Rules.
    (
        "INSERT INTO users VALUES ('u9', 'c@example.com', -1, NULL)",
        &["CHECK", "age = -1"],
    ),
    ("UPDATE users SET age = age - 100", &["CHECK", "age"]),
    (
        "CREATE TABLE t (id TEXT PRIMARY KEY, CHECK (nope > 0))",
        &["nope"],
    ),
    ("ALTER TABLE users DROP COLUMN id", &["primary key"]),
    ("ALTER TABLE users DROP COLUMN email", &["users_email"]),
    ("ALTER TABLE users DROP COLUMN age", &["CHECK"]),
    (
        "ALTER TABLE users ADD COLUMN email TEXT",
        &["email", "twice"],
    ),
    (
        "ALTER TABLE users ADD COLUMN n BIGINT NOT NULL",
        &["DEFAULT"],
    ),
    ("ALTER TABLE users RENAME COLUMN nope TO x", &["nope"]),
    ("ALTER TABLE users RENAME TO people", &["not supported"]),
    // Names.
    (
        "CREATE TABLE \"Users\" (id TEXT PRIMARY KEY)",
        &["invalid table name", "Users"],
    ),
    (
        "CREATE TABLE \"a-b\" (id TEXT PRIMARY KEY)",
        &["invalid table name", "a-b"],
    ),
    (
        "CREATE TABLE abcdefghijabcdefghijabcdefghijabcdefghijx (id TEXT PRIMARY KEY)",
        &["invalid table name"],
    ),
    ("CREATE TABLE t (_x TEXT PRIMARY KEY)", &["reserved", "_x"]),
    (
        "CREATE TABLE t (\"Id\" TEXT PRIMARY KEY)",
        &["invalid column name", "Id"],
    ),
    ("CREATE TABLE t (id TEXT)", &["PRIMARY KEY"]),
    ("CREATE TABLE t (id TEXT PRIMARY KEY, id TEXT)", &["id"]),
    (
        "CREATE INDEX \"Bad\" ON users (age)",
        &["invalid index name", "Bad"],
    ),
    ("CREATE DATABASE \"Bad-Name\"", &["invalid database name"]),
    (
        "CREATE TABLE users (id TEXT PRIMARY KEY)",
        &["already exists"],
    ),
    ("CREATE DATABASE main", &["already exists"]),
    (
        "CREATE INDEX users_email ON users (age)",
        &["already exists"],
    ),
    (
        "CREATE INDEX again ON users (email)",
        &["already has index users_email"],
    ),
    ("DROP SCHEMA main", &["still has tables"]),
    // Statements dbcord does not carry out.
    ("CREATE TABLE t AS SELECT 1 AS id", &["not supported"]),
    (
        "CREATE OR REPLACE TABLE t (id TEXT PRIMARY KEY)",
        &["not supported"],
    ),
    (
        "CREATE TEMPORARY TABLE t (id TEXT PRIMARY KEY)",
        &["not supported"],
    ),
    (
        "CREATE TABLE t (id TEXT PRIMARY KEY) WITH (large_rows = 'zip')",
        &["'zip' is not a large-row mode"],
    ),
    (
        "INSERT INTO users (_message_id, id, email) VALUES (1, 'u9', 'c@example.com')",
        &["_message_id"],
    ),
    // Oversize.
    (
        "INSERT INTO users VALUES ('big', 'c@example.com', 1, '\"__BIG__\"')",
        &["up to 10 MiB"],
    ),
    // Settings.
    ("SET dbcord.compact_after = -1", &["compact_after"]),
    ("SET dbcord.nope = 1", &["nope"]),
    // Admin functions.
    (
        "SELECT * FROM history('users')",
        &["key of 1 column(s) (id), 0 given"],
    ),
    ("SELECT * FROM history('nope', 'x')", &["nope"]),
    ("SELECT * FROM verify('nope')", &["nope"]),
    ("SELECT * FROM reindex('nope')", &["nope"]),
    (
        "SELECT * FROM vacuum('users', 'bogus')",
        &["unknown option"],
    ),
    ("SELECT * FROM restore('users', 1)", &["already exists"]),
    (
        "SELECT * FROM restore('fresh', 12345)",
        &["snapshot 12345 cannot be restored"],
    ),
    (
        "SELECT * FROM restore('fresh', 'abc')",
        &["not a message ID"],
    ),
    (
        "SELECT * FROM import('users', '/nonexistent/file.csv')",
        &["cannot read"],
    ),
    (
        "SELECT * FROM export('users', '/nonexistent/dir/file.csv')",
        &["cannot write"],
    ),
    (
        "SELECT * FROM export('users', 'file.xlsx')",
        &["unknown format"],
    ),
    (
        "SELECT * FROM inspect('pairs', 'x', 'notanumber')",
        &["notanumber", "BIGINT"],
    ),
    (
        "SELECT * FROM verify(upper('users'))",
        &["USERS", "does not exist"],
    ),
    ("SELECT * FROM verify(id)", &["not a literal"]),
];

/// Every channel's name and message count.
fn fingerprint(s: &Stack) -> BTreeMap<String, usize> {
    s.emulator
        .channels()
        .iter()
        .map(|c| {
            (
                format!("{} {}", c.name, c.id),
                s.emulator.messages_of(c.id).len(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_bad_input_gets_a_clear_error_and_writes_nothing() {
    assert!(CASES.len() >= 60, "{} cases", CASES.len());
    let s = Stack::new().await;
    for sql in SCHEMA {
        s.sql(sql).await;
    }
    let big = "x".repeat((10 << 20) + 10);
    let mut failures = Vec::new();
    for (sql, words) in CASES {
        let sql = sql.replace("__BIG__", &big);
        let before = fingerprint(&s);
        let err = match s.engine().execute(&sql).await {
            Ok(_) => {
                failures.push(format!("{}: no error", short(&sql)));
                continue;
            }
            Err(e) => dbcord::sql::errors::user_message(&e),
        };
        if let Some(w) = words.iter().find(|w| !err.contains(*w)) {
            failures.push(format!("{}: {w:?} missing from: {err}", short(&sql)));
        }
        if err.contains("test-token") {
            failures.push(format!("{}: the error shows the token", short(&sql)));
        }
        let after = fingerprint(&s);
        if before != after {
            failures.push(format!(
                "{}: it wrote: {before:?} -> {after:?}",
                short(&sql)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn short(sql: &str) -> String {
    sql.chars().take(90).collect()
}

/// Values that are not bad at all, however they look: each must read back
/// exactly. Mentions in values cannot ping: every message is sent with
/// mentions disabled (`allowed_mentions`), and with embeds suppressed.
#[tokio::test]
async fn awkward_values_round_trip_exactly() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE v (id BIGINT PRIMARY KEY, t TEXT)")
        .await;
    let values = [
        "emoji 🦀👩‍👩‍👧",
        "right-to-left \u{202E}txet\u{202C} עברית العربية",
        "zero\u{200B}width\u{200D}joiner\u{FEFF}",
        "nul \u{0} inside",
        "quotes ' \" ` and \\ backslash",
        "new\nlines\r\nand\ttabs",
        "**markdown** _x_ ~~y~~ ||spoiler|| > quote",
        "@everyone @here",
        "<@123> <@&456> <#789> <t:0:R>",
        "https://example.com/should-not-unfurl",
        "from:me has:link in:general \"a phrase\" -not",
        "dbcrow qaaaaaaaaaaaaaa base 1 sum 0",
        "",
        "   leading and trailing   ",
        "combining e\u{301} vs é",
    ];
    for (i, v) in values.iter().enumerate() {
        let lit = v.replace('\'', "''");
        s.sql(&format!("INSERT INTO v VALUES ({i}, '{lit}')")).await;
    }
    // And all in one segment-sized statement.
    let many: Vec<String> = (0..2000)
        .map(|i| {
            let v = values[i % values.len()].replace('\'', "''");
            format!("({}, '{v}')", 1000 + i)
        })
        .collect();
    s.sql(&format!("INSERT INTO v VALUES {}", many.join(", ")))
        .await;
    let other = s.another().await;
    for (i, v) in values.iter().enumerate() {
        let got = other
            .values(&format!("SELECT t FROM v WHERE id = {i}"))
            .await;
        assert_eq!(got, vec![vec![v.to_string()]], "value {i}");
        let got = other
            .values(&format!("SELECT t FROM v WHERE id = {}", 1000 + i))
            .await;
        assert_eq!(got, vec![vec![v.to_string()]], "value {i} in a segment");
    }
    let channel = s.engine().store().table("main", "v").unwrap().channel_id;
    for m in s.emulator.messages_of(channel) {
        assert!(
            m.flags & discord_api::limits::FLAG_SUPPRESS_EMBEDS != 0,
            "links in values must not unfurl"
        );
    }
}

/// A channel a person made, named as dbcord would name a table's channel,
/// inside dbcord's category and outside it: dbcord never posts in it,
/// deletes it or its messages, through CREATE, INSERT, VACUUM and DROP.
#[tokio::test]
async fn channels_dbcord_does_not_own_are_never_touched() {
    use discord_api::{Discord, NewChannel, channel_type};

    let s = Stack::new().await;
    s.sql("CREATE TABLE early (id BIGINT PRIMARY KEY)").await;
    let category = s
        .emulator
        .channels()
        .into_iter()
        .find(|c| c.name == "dbcord-main")
        .expect("the database's category")
        .id;
    let mut theirs = Vec::new();
    for parent in [Some(category), None] {
        let c = s
            .emulator
            .create_channel(&NewChannel {
                name: "table-users".into(),
                kind: channel_type::TEXT,
                topic: Some("our own channel".into()),
                parent_id: parent,
            })
            .await
            .unwrap();
        s.emulator
            .post_as_person(c.id, "dbcrow please keep me")
            .unwrap();
        theirs.push(c.id);
    }
    s.sql("CREATE TABLE users (id BIGINT PRIMARY KEY, v TEXT)")
        .await;
    s.sql("INSERT INTO users VALUES (1, 'a'), (2, 'b')").await;
    s.sql("UPDATE users SET v = 'c' WHERE id = 1").await;
    s.age_past_vacuum_grace();
    s.sql("SELECT * FROM vacuum('users', 'foreign')").await;
    assert_eq!(s.value("SELECT count(*) FROM users").await, "2");
    s.sql("DROP TABLE users").await;
    for id in theirs {
        let messages = s.emulator.messages_of(id);
        assert_eq!(messages.len(), 1, "channel {id}");
        assert_eq!(messages[0].content, "dbcrow please keep me");
        let channel = s.emulator.get_channel(id).await.unwrap();
        assert_eq!(channel.topic.as_deref(), Some("our own channel"));
    }
}

/// `import` refuses a key the table does not have, naming it, and gives a
/// column the file leaves out its DEFAULT, in JSON lines and CSV alike.
#[tokio::test]
async fn an_import_refuses_unknown_columns_and_fills_defaults() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE p (id BIGINT PRIMARY KEY, name TEXT, age BIGINT DEFAULT 30)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": 1, \"name\": \"a\"}\n{\"id\": 2, \"nmae\": \"b\"}\n",
    )
    .unwrap();
    let e = s
        .sql_err(&format!("SELECT * FROM import('p', '{}')", bad.display()))
        .await;
    assert!(
        e.contains("line 2") && e.contains("no column \"nmae\""),
        "{e}"
    );
    assert_eq!(s.value("SELECT count(*) FROM p").await, "0");
    let good = dir.path().join("good.jsonl");
    std::fs::write(
        &good,
        "{\"id\": 1, \"name\": \"a\"}\n{\"id\": 2, \"age\": null}\n",
    )
    .unwrap();
    s.sql(&format!("SELECT * FROM import('p', '{}')", good.display()))
        .await;
    let csv = dir.path().join("more.csv");
    std::fs::write(&csv, "id,name\n3,c\n").unwrap();
    s.sql(&format!("SELECT * FROM import('p', '{}')", csv.display()))
        .await;
    assert_eq!(
        s.values("SELECT id, name, age FROM p ORDER BY id").await,
        crate::common::table(&[&["1", "a", "30"], &["2", "NULL", "NULL"], &["3", "c", "30"]])
    );
}
