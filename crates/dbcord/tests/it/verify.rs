//! verify finds damage injected into a table's channel, and after vacuum
//! and reindex it finds none.

use std::sync::Arc;

use dbcord::store::codec::commit;
use dbcord::store::codec::meta::CommitMeta;
use dbcord::store::codec::op::Change;
use dbcord::store::codec::op::Op;
use dbcord::store::codec::segment;
use dbcord::store::{IndexDef, TableDef, Value, WriteOptions};
use discord_api::{Discord, NewFile, NewMessage, Snowflake};

use crate::common::{Stack, table};

/// (check, message) of every problem verify reports.
async fn problems(s: &Stack) -> Vec<(String, String)> {
    s.values("SELECT kind, message_id FROM verify('users') WHERE NOT ok ORDER BY kind")
        .await
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

fn checks(found: &[(String, String)]) -> Vec<&str> {
    let mut c: Vec<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
    c.dedup();
    c
}

async fn setup() -> (Stack, Arc<TableDef>, Vec<Arc<IndexDef>>) {
    let s = Stack::new().await;
    s.sql("CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, role TEXT)")
        .await;
    s.sql("CREATE UNIQUE INDEX users_email ON users (email)")
        .await;
    s.sql("INSERT INTO users VALUES ('u_1', 'a@example.com', 'student'), ('u_2', 'b@example.com', 'staff')")
        .await;
    let store = s.session.engine.store();
    let def = store.table("main", "users").unwrap();
    let indexes = store.indexes_of("main", "users");
    (s, def, indexes)
}

fn row(id: &str, email: &str) -> Change {
    Change {
        op: Op::Insert,
        values: vec![
            Value::Text(id.into()),
            Value::Text(email.into()),
            Value::Null,
        ],
    }
}

/// The newest message of the table's channel: a commit's base.
fn head(s: &Stack, def: &TableDef) -> Option<Snowflake> {
    s.emulator
        .messages_of(def.channel_id)
        .iter()
        .map(|m| m.id)
        .max()
}

/// One batch a segment, as the small segments of commits have.
fn layout() -> segment::Layout {
    segment::Layout {
        per_batch: 1024,
        part_bytes: 8 << 20,
    }
}

/// Post a segment commit as the bot, built by `shape` from two segments:
/// `rows`' own, and one of `other` rows (for files that do not match).
async fn post_segment(
    s: &Stack,
    def: &TableDef,
    indexes: &[Arc<IndexDef>],
    rows: &[Change],
    shape: impl FnOnce(&mut segment::SegmentHeader, &mut Vec<NewFile>),
) -> Snowflake {
    let mut seg = segment::encode(def, indexes, rows, layout()).unwrap();
    shape(&mut seg.header, &mut seg.files);
    let meta = CommitMeta {
        part: false,
        base: head(s, def),
        txn: Some("injected".into()),
    };
    let json = serde_json::to_string(&seg.header).unwrap();
    let message =
        NewMessage::idempotent(commit::segment_content(&json, &meta)).with_files(seg.files);
    // Through the session's client, which waits out the bucket as the bot would.
    s.engine()
        .store()
        .discord()
        .create_message(def.channel_id, &message)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_clean_table_verifies_clean_and_every_check_reports_itself() {
    let (s, _, _) = setup().await;
    assert!(problems(&s).await.is_empty());
    let all = s.values("SELECT kind, ok FROM verify('users')").await;
    assert_eq!(all.len(), dbcord::store::CHECKS.len());
    assert!(all.iter().all(|r| r[1] == "true"), "{all:?}");
}

#[tokio::test]
async fn verify_finds_injected_damage_and_vacuum_and_reindex_clear_it() {
    let (s, def, indexes) = setup().await;
    // The leftovers of a VACUUM killed after its checkpoint: every older
    // commit is replaced but still there.
    let store = s.session.engine.store();
    store.compact(&def, &WriteOptions::default()).await.unwrap();
    // A person's message in the table channel.
    let foreign = s
        .emulator
        .post_as_person(def.channel_id, "hello from a person")
        .unwrap();
    // A duplicate primary key: a row of the first format (no base, so it
    // always counts) inserting a key the table already has.
    let dup = s
        .engine()
        .store()
        .discord()
        .create_message(
            def.channel_id,
            &NewMessage::idempotent(
                "dbc1 qaaaaaaaaaaaaaa\n{\"id\":\"u_2\",\"email\":\"c@example.com\"}",
            ),
        )
        .await
        .unwrap();
    // Index data that does not match its rows: a segment of new rows whose
    // index file is another segment's (orphan entries and missing ones).
    let other = segment::encode(&def, &indexes, &[row("zz", "zz@example.com")], layout()).unwrap();
    let swapped = post_segment(
        &s,
        &def,
        &indexes,
        &[row("u_3", "d@example.com")],
        |header, files| {
            header.indexes = other.header.indexes.clone();
            files[1] = other.files[1].clone();
        },
    )
    .await;
    // A segment whose index attachment is missing.
    let missing = post_segment(
        &s,
        &def,
        &indexes,
        &[row("u_4", "e@example.com")],
        |_, files| {
            files.truncate(1);
        },
    )
    .await;

    let found = problems(&s).await;
    assert_eq!(
        checks(&found),
        [
            "duplicate key",
            "foreign message",
            "leftover",
            "missing attachment",
            "missing index entry",
            "orphan index entry"
        ],
        "{found:?}"
    );
    let at = |check: &str, id: Snowflake| {
        found
            .iter()
            .any(|(c, m)| c == check && *m == id.to_string())
    };
    assert!(at("foreign message", foreign.id), "{found:?}");
    assert!(at("orphan index entry", swapped), "{found:?}");
    assert!(at("missing index entry", swapped), "{found:?}");
    assert!(at("missing attachment", missing), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(c, m)| c == "duplicate key" && *m == dup.id.to_string()),
        "{found:?}"
    );

    // Reads still answer: the newest version of u_2 wins.
    assert_eq!(
        s.values("SELECT id, email FROM users ORDER BY id").await,
        table(&[
            &["u_1", "a@example.com"],
            &["u_2", "c@example.com"],
            &["u_3", "d@example.com"],
            &["u_4", "e@example.com"],
        ])
    );
    s.sql("SELECT * FROM reindex('users_email')").await;
    s.vacuum_clean("users").await;
    assert_eq!(
        checks(&problems(&s).await),
        ["foreign message"],
        "a person's message stays until vacuum is told"
    );
    let out = s
        .values("SELECT deleted, foreign_messages FROM vacuum('users', 'foreign')")
        .await;
    assert_eq!(out, table(&[&["1", "1"]]));
    assert!(problems(&s).await.is_empty());
    assert_eq!(s.value("SELECT count(*) FROM users").await, "4");
    assert_eq!(
        s.value("SELECT id FROM users WHERE email = 'e@example.com'")
            .await,
        "u_4"
    );
}

#[tokio::test]
async fn verify_names_a_message_whose_text_was_changed() {
    let (s, def, _) = setup().await;
    // A commit whose text was changed after it was written.
    let m = s.emulator.messages_of(def.channel_id).pop().unwrap();
    let changed = m.content.replace("student", "teacher");
    s.emulator
        .edit_message(def.channel_id, m.id, &changed)
        .await
        .unwrap();
    let found = problems(&s).await;
    assert_eq!(checks(&found), ["unreadable message"], "{found:?}");
    let detail = s
        .value("SELECT detail FROM verify('users') WHERE kind = 'unreadable message' AND message_id IS NOT NULL")
        .await;
    assert!(detail.contains("checksum"), "{detail}");
}

#[tokio::test]
async fn a_missing_shard_and_a_cut_short_statements_shards_are_found_and_vacuumed() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT) WITH (large_rows = 'shards')")
        .await;
    let body = "y".repeat(9000);
    s.sql(&format!(
        "INSERT INTO docs VALUES ('big', '{body}'), ('small', 'x')"
    ))
    .await;
    s.sql(&format!("INSERT INTO docs VALUES ('kept', '{body}')"))
        .await;
    let def = s.engine().store().table("main", "docs").unwrap();
    let shards: Vec<Snowflake> = s
        .emulator
        .messages_of(def.channel_id)
        .iter()
        .filter(|m| m.content.starts_with("dbcshard"))
        .map(|m| m.id)
        .collect();
    assert_eq!(
        shards.len(),
        2 * 6,
        "9,000 characters (and the key) in shards of 1,800, twice"
    );
    // Someone deletes the second shard of the first row.
    s.emulator
        .delete_message(def.channel_id, shards[1])
        .await
        .unwrap();
    // A statement cut short after posting a shard, before its commit.
    let orphan = dbcord::store::codec::shard::contents(&"z".repeat(100), "qorphan");
    let orphan = s
        .emulator
        .create_message(def.channel_id, &NewMessage::idempotent(orphan[0].clone()))
        .await
        .unwrap();
    let other = s.another().await;
    let found = other
        .values("SELECT kind, message_id FROM verify('docs') WHERE NOT ok AND message_id IS NOT NULL ORDER BY kind")
        .await;
    let kinds: Vec<&str> = found.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(kinds, ["broken shard", "leftover"], "{found:?}");
    assert_eq!(found[1][1], orphan.id.to_string());
    // The broken commit counts for nobody: its rows read as before it.
    assert_eq!(
        other.values("SELECT id FROM docs ORDER BY id").await,
        vec![vec!["kept".to_string()]]
    );
    other.vacuum_clean("docs").await;
    let problems = other
        .values("SELECT * FROM verify('docs') WHERE NOT ok")
        .await;
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(other.value("SELECT length(body) FROM docs").await, "9000");
}
