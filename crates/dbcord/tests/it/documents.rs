//! The seeds' documents: a `schema_json` makes a table's columns and
//! `value_json` documents its rows, type-checked as the seeds checked
//! them; a bad one is refused with the property named, and nothing is
//! written.

use dbcord::bot::documents::{Schema, row};
use dbcord::store::WriteOptions;

use crate::common::{Stack, table};

#[tokio::test]
async fn a_schema_makes_a_table_and_documents_become_its_rows() {
    let s = Stack::new().await;
    let schema = Schema::parse(
        r#"{"required": ["email"], "properties": {"email": "str", "age": "int",
            "score": "float", "admin": "bool", "tags": "list"}}"#,
    )
    .unwrap();
    let store = s.engine().store();
    store
        .create_table("main", schema.table("users", "id").unwrap(), false)
        .await
        .unwrap();
    let def = store.table("main", "users").unwrap();
    let doc = r#"{"email": "a@example.com", "age": 30, "tags": ["x", 1]}"#;
    let r = row(&def, Some("u_1"), doc).unwrap();
    store
        .insert(&def, vec![r], &WriteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        s.values("SELECT id, email, age, score, admin, tags FROM users")
            .await,
        table(&[&["u_1", "a@example.com", "30", "NULL", "NULL", r#"["x",1]"#]])
    );
    for (doc, words) in [
        (r#"{"email": 5}"#, "email is TEXT, and 5 is not one"),
        (r#"{"age": 3}"#, "email is required"),
        (
            r#"{"email": "b@x", "rank": 1}"#,
            "main.users has no property rank",
        ),
        (
            r#"{"email": "b@x", "age": "30"}"#,
            r#"age is BIGINT, and "30" is not one"#,
        ),
        (
            r#"{"email": "b@x", "id": "u_9"}"#,
            r#"id is "u_9" but the key is "u_2""#,
        ),
        ("[1]", "expected an object of properties"),
        ("{", "not valid JSON"),
    ] {
        let e = row(&def, Some("u_2"), doc).unwrap_err().to_string();
        assert!(
            e.contains(words) && e.ends_with("nothing was written"),
            "{doc}: {e}"
        );
    }
    assert_eq!(s.value("SELECT count(*) FROM users").await, "1");
}

#[test]
fn a_bad_schema_is_refused_naming_what_is_wrong() {
    for (schema, words) in [
        (
            r#"{"properties": {"a": "decimal"}}"#,
            r#"property a has type "decimal""#,
        ),
        (
            r#"{"properties": {"a": "str"}, "required": ["b"]}"#,
            r#"required names "b", which is not a property"#,
        ),
        ("{}", r#"expected {"properties""#),
        ("nope", "not valid JSON"),
    ] {
        let e = Schema::parse(schema).unwrap_err().to_string();
        assert!(e.contains(words), "{schema}: {e}");
    }
    let e = Schema::parse(r#"{"properties": {"k": "float"}}"#)
        .unwrap()
        .table("t", "k")
        .unwrap_err()
        .to_string();
    assert!(e.contains("a key is text or an integer"), "{e}");
}

/// Storcord's ObjectID (`_message_id`) changes with every UPDATE; one read
/// before three updates still finds the document through `object()`,
/// from the message while it is there and from the history archive after
/// VACUUM deleted it. `_message_id` itself keeps naming the current
/// version's message.
#[tokio::test]
async fn an_object_id_from_before_three_updates_still_finds_the_document() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE docs (id TEXT PRIMARY KEY, doc JSON)")
        .await;
    s.sql(r#"INSERT INTO docs VALUES ('d1', '{"v":0}'), ('d2', '{"v":0}')"#)
        .await;
    let old = s
        .value("SELECT _message_id FROM docs WHERE id = 'd1'")
        .await;
    for v in 1..=3 {
        s.sql(&format!(
            r#"UPDATE docs SET doc = json_merge_patch(doc, '{{"v":{v}}}') WHERE id = 'd1'"#
        ))
        .await;
    }
    let now = s
        .value("SELECT _message_id FROM docs WHERE id = 'd1'")
        .await;
    assert_ne!(now, old, "an UPDATE moves the row to a new message");
    assert_eq!(
        s.values(&format!("SELECT * FROM docs WHERE _message_id = {old}"))
            .await
            .len(),
        1,
        "d2 is still in the old message, d1 is not"
    );
    let found = s
        .values(&format!(
            "SELECT message_id, row_json FROM object('docs', {old}) ORDER BY row_json"
        ))
        .await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0][1].contains(r#"\"v\":3"#) && found[0][1].contains("d1"),
        "{found:?}"
    );
    assert_eq!(found[0][0], now);
    s.vacuum_clean("docs").await;
    let channel = s.engine().store().table("main", "docs").unwrap().channel_id;
    assert!(
        !s.emulator
            .messages_of(channel)
            .iter()
            .any(|m| m.id.to_string() == old),
        "vacuum deleted the old message, so the archive answers"
    );
    let after = s
        .values(&format!(
            "SELECT row_json FROM object('docs', {old}) ORDER BY row_json"
        ))
        .await;
    assert_eq!(after.len(), 2, "resolved from the archive: {after:?}");
    assert!(after[0][0].contains(r#"\"v\":3"#), "{after:?}");
}
