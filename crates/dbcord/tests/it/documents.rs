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
