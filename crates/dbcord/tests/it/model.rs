//! The seeds' data model: row history, schema rules (DEFAULT, CHECK),
//! JSON documents, large rows, snapshots, export and import, inspect.

use crate::common::{Stack, table};

/// Version, op and the row's `role`, from `history('users', 'u_1')`.
async fn versions(s: &Stack, key: &str) -> Vec<Vec<String>> {
    s.values(&format!(
        "SELECT version, op, row_json->>'role' FROM history('users', '{key}') ORDER BY version"
    ))
    .await
}

async fn users(s: &Stack) {
    s.sql("CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, role TEXT)")
        .await;
    s.sql("CREATE UNIQUE INDEX users_email ON users (email)")
        .await;
}

async fn three_updates(s: &Stack) {
    users(s).await;
    s.sql("INSERT INTO users VALUES ('u_1', 'a@example.com', 'student'), ('u_2', 'b@example.com', 'staff')")
        .await;
    for role in ["tutor", "admin", "owner"] {
        s.sql(&format!(
            "UPDATE users SET role = '{role}' WHERE id = 'u_1'"
        ))
        .await;
    }
}

fn four_versions() -> Vec<Vec<String>> {
    table(&[
        &["1", "insert", "student"],
        &["2", "update", "tutor"],
        &["3", "update", "admin"],
        &["4", "update", "owner"],
    ])
}

#[tokio::test]
async fn a_row_updated_three_times_shows_four_versions_in_order() {
    let s = Stack::new().await;
    three_updates(&s).await;
    assert_eq!(versions(&s, "u_1").await, four_versions());
    assert_eq!(
        versions(&s, "u_2").await,
        table(&[&["1", "insert", "staff"]])
    );
    // The versions' times are their commits' times, in order.
    let times = s
        .values("SELECT at, message_id FROM history('users', 'u_1') ORDER BY version")
        .await;
    assert!(times.windows(2).all(|w| w[0][1] < w[1][1]), "{times:?}");
}

#[tokio::test]
async fn history_survives_vacuum_in_the_tables_history_thread() {
    let s = Stack::new().await;
    three_updates(&s).await;
    s.sql("DELETE FROM users WHERE id = 'u_1'").await;
    s.age_past_vacuum_grace();
    let vacuumed = s
        .values("SELECT archived, deleted FROM vacuum('users')")
        .await;
    assert_eq!(
        vacuumed[0][0], "6",
        "2 inserts, 3 updates, 1 delete archived"
    );
    assert_ne!(vacuumed[0][1], "0", "the replaced commits are gone");
    let mut expected = four_versions();
    expected.push(vec!["5".into(), "delete".into(), "owner".into()]);
    assert_eq!(versions(&s, "u_1").await, expected);
    // Another process reads the same history, from the thread.
    let other = s.another().await;
    assert_eq!(versions(&other, "u_1").await, expected);
    // A second vacuum archives nothing twice.
    s.sql("UPDATE users SET role = 'x' WHERE id = 'u_2'").await;
    s.age_past_vacuum_grace();
    s.sql("SELECT * FROM vacuum('users')").await;
    assert_eq!(
        versions(&s, "u_2").await,
        table(&[&["1", "insert", "staff"], &["2", "update", "x"]])
    );
}

#[tokio::test]
async fn history_of_a_composite_key_takes_each_part() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE m (a TEXT, b BIGINT, v TEXT, PRIMARY KEY (a, b))")
        .await;
    s.sql("INSERT INTO m VALUES ('x', 1, 'one'), ('x', 2, 'two')")
        .await;
    s.sql("UPDATE m SET v = 'uno' WHERE a = 'x' AND b = 1")
        .await;
    assert_eq!(
        s.values("SELECT version, row_json->>'v' FROM history('m', 'x', 1)")
            .await,
        table(&[&["1", "one"], &["2", "uno"]])
    );
    let err = s.sql_err("SELECT * FROM history('m', 'x')").await;
    assert!(err.contains("key of 2 column(s) (a, b), 1 given"), "{err}");
    let err = s.sql_err("SELECT * FROM history('nope', 'x')").await;
    assert!(err.contains("nope"), "{err}");
}

#[tokio::test]
async fn defaults_fill_left_out_columns_and_checks_refuse_whole_statements() {
    let s = Stack::new().await;
    s.sql(
        "CREATE TABLE acct (id TEXT PRIMARY KEY, kind TEXT NOT NULL DEFAULT 'basic', \
         balance BIGINT DEFAULT 0 CHECK (balance >= 0), \
         CONSTRAINT short_id CHECK (length(id) <= 8))",
    )
    .await;
    s.sql("INSERT INTO acct (id) VALUES ('a')").await;
    s.sql("INSERT INTO acct VALUES ('b', 'gold', 5)").await;
    assert_eq!(
        s.values("SELECT * FROM acct ORDER BY id").await,
        table(&[&["a", "basic", "0"], &["b", "gold", "5"]])
    );
    let err = s
        .sql_err("INSERT INTO acct VALUES ('c', 'x', 1), ('d', 'x', -1)")
        .await;
    assert!(
        err.contains(
            "row 2 of main.acct violates CHECK acct_check1 (balance >= 0) with balance = -1"
        ),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    let err = s
        .sql_err("INSERT INTO acct (id) VALUES ('much_too_long')")
        .await;
    assert!(err.contains("CHECK short_id"), "{err}");
    assert!(err.contains("id = 'much_too_long'"), "{err}");
    let err = s.sql_err("UPDATE acct SET balance = balance - 3").await;
    assert!(err.contains("violates CHECK acct_check1"), "{err}");
    assert_eq!(
        s.values("SELECT id, balance FROM acct ORDER BY id").await,
        table(&[&["a", "0"], &["b", "5"]]),
        "the failed statements wrote nothing"
    );
    // The rules are in the catalog: another process enforces them.
    let other = s.another().await;
    other.sql("INSERT INTO acct (id) VALUES ('e')").await;
    let err = other
        .sql_err("INSERT INTO acct VALUES ('f', 'x', -9)")
        .await;
    assert!(err.contains("CHECK acct_check1"), "{err}");
    assert_eq!(
        other.value("SELECT kind FROM acct WHERE id = 'e'").await,
        "basic"
    );
    // A rule that does not plan is refused when the table is made.
    let err = s
        .sql_err("CREATE TABLE bad (id TEXT PRIMARY KEY, CHECK (nope > 1))")
        .await;
    assert!(err.contains("nope"), "{err}");
    assert_eq!(
        s.value("SELECT count(*) FROM information_schema.tables WHERE table_name = 'bad'")
            .await,
        "0"
    );
}

#[tokio::test]
async fn json_documents_read_back_byte_for_byte_and_answer_json_queries() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE docs (id TEXT PRIMARY KEY, doc JSON)")
        .await;
    let doc = r#"{"name":"Zoë",  "tags":["a","b"], "n": 1.50, "deep":{"x":null}}"#;
    s.sql(&format!(
        "INSERT INTO docs VALUES ('d1', '{doc}'), ('d2', '[1,2,3]'), ('d3', '\"just text\"'), ('d4', '{{\"name\":\"Ann\"}}')"
    ))
    .await;
    assert_eq!(s.value("SELECT doc FROM docs WHERE id = 'd1'").await, doc);
    assert_eq!(
        s.values("SELECT id FROM docs WHERE doc->>'name' = 'Ann'")
            .await,
        table(&[&["d4"]])
    );
    assert_eq!(
        s.value("SELECT json_get_str(doc, 'name') FROM docs WHERE id = 'd1'")
            .await,
        "Zoë"
    );
    assert_eq!(
        s.value("SELECT json_length(doc) FROM docs WHERE id = 'd2'")
            .await,
        "3"
    );
    let err = s
        .sql_err("INSERT INTO docs VALUES ('bad', '{not json')")
        .await;
    assert!(
        err.contains(
            "row 1: column \"doc\" of main.docs is JSON but the value is not one JSON document"
        ),
        "{err}"
    );
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let err = s
        .sql_err(&format!("INSERT INTO docs VALUES ('deep', '{deep}')"))
        .await;
    assert!(err.contains("recursion limit exceeded"), "{err}");
    assert_eq!(s.value("SELECT count(*) FROM docs").await, "4");
}

/// Messages of the table's channel that a search for the key token finds.
async fn found_by_key(s: &Stack, channel: discord_api::Snowflake, key: &str) -> usize {
    use discord_api::{Discord, SearchQuery};
    let token =
        dbcord::store::codec::token::token("id", &dbcord::store::Value::Text(key.into())).unwrap();
    let query = SearchQuery {
        content: Some(token),
        channel_ids: vec![channel],
        ..SearchQuery::default()
    };
    // A new channel's index answers 202 until it is built: wait as told.
    for _ in 0..100 {
        match s.emulator.search(&query).await {
            Ok(r) => return r.hits().count(),
            Err(discord_api::DiscordError::IndexNotReady { retry_after, .. })
            | Err(discord_api::DiscordError::RateLimited { retry_after, .. }) => {
                s.clock
                    .advance(std::time::Duration::from_secs_f64(retry_after));
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("the search index never answered")
}

#[tokio::test]
async fn a_50000_character_json_row_round_trips_in_both_modes_and_leaves_nothing_when_deleted() {
    for mode in ["attachment", "shards"] {
        let s = Stack::new().await;
        s.sql(&format!(
            "CREATE TABLE big (id TEXT PRIMARY KEY, doc JSON) WITH (large_rows = '{mode}')"
        ))
        .await;
        let body: String = (0..5000)
            .map(|i| format!("\"k{i:04}\":{},", i % 7))
            .collect();
        let doc = format!("{{{}\"end\":\"Zoë ✓\"}}", body);
        assert!(doc.chars().count() >= 50_000, "{}", doc.len());
        s.sql(&format!(
            "INSERT INTO big VALUES ('b1', '{doc}'), ('b2', '[]')"
        ))
        .await;
        let other = s.another().await;
        assert_eq!(
            other.value("SELECT doc FROM big WHERE id = 'b1'").await,
            doc,
            "{mode}"
        );
        assert_eq!(
            other
                .value("SELECT doc->>'end' FROM big WHERE id = 'b1'")
                .await,
            "Zoë ✓"
        );
        let channel = s.engine().store().table("main", "big").unwrap().channel_id;
        let messages = s.emulator.messages_of(channel);
        let facts = s.values("SELECT * FROM inspect('big', 'b1')").await;
        let fact = |p: &str| {
            facts
                .iter()
                .find(|f| f[0] == p)
                .map(|f| f[1].clone())
                .unwrap_or_default()
        };
        if mode == "shards" {
            let shards = messages
                .iter()
                .filter(|m| m.content.starts_with("dbcshard"))
                .count();
            // The document's 50,012 characters are about 60,000 as a row's
            // JSON (its quotes escaped), in shards of 1,800.
            assert!((28..=40).contains(&shards), "{shards} shards");
            assert!(fact("stored_as").contains("row commit"), "{facts:?}");
            // The commit and every shard carry the key's token.
            assert_eq!(found_by_key(&s, channel, "b1").await, 25, "a page of hits");
        } else {
            assert!(fact("stored_as").contains("attachment"), "{facts:?}");
            assert_eq!(found_by_key(&s, channel, "b1").await, 1, "the segment");
        }
        let clean = s.values("SELECT * FROM verify('big') WHERE NOT ok").await;
        assert!(clean.is_empty(), "{mode}: {clean:?}");
        s.sql("DELETE FROM big WHERE id = 'b1'").await;
        s.vacuum_clean("big").await;
        assert_eq!(s.value("SELECT count(*) FROM big").await, "1");
        let problems = s.values("SELECT * FROM verify('big') WHERE NOT ok").await;
        assert!(problems.is_empty(), "{mode}: {problems:?}");
        let left = s.emulator.messages_of(channel);
        let manifests = left
            .iter()
            .filter(|m| m.content.starts_with("dbcman"))
            .count();
        let staged = left
            .iter()
            .filter(|m| m.content.starts_with("dbcpart"))
            .count();
        assert_eq!(
            (manifests, staged, left.len()),
            (1, 1, 2),
            "{mode}: only the manifest and the segment it names are left: {left:?}"
        );
        assert!(
            left.iter().all(|m| !m.content.contains("k0001")),
            "{mode}: no trace of the row's text"
        );
    }
}

#[tokio::test]
async fn snapshot_drop_restore_gives_back_the_same_table() {
    let s = Stack::new().await;
    s.sql(
        "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL, role TEXT DEFAULT 'student', \
         age BIGINT CHECK (age >= 0))",
    )
    .await;
    s.sql("CREATE UNIQUE INDEX users_email ON users (email)")
        .await;
    let rows: Vec<String> = (0..3000)
        .map(|i| format!("('u_{i}', 'p{i}@example.com', 'r{}', {i})", i % 5))
        .collect();
    s.sql(&format!("INSERT INTO users VALUES {}", rows.join(", ")))
        .await;
    s.sql("INSERT INTO users (id, email) VALUES ('z', 'z@example.com')")
        .await;
    let before = s.values("SELECT * FROM users ORDER BY id").await;
    let snap = s
        .values("SELECT snapshot_id, row_count, checksum FROM snapshot('users')")
        .await;
    assert_eq!(snap[0][1], "3001");
    s.sql("DROP TABLE users").await;
    let restored = s
        .values(&format!(
            "SELECT row_count, indexes FROM restore('users', {})",
            snap[0][0]
        ))
        .await;
    assert_eq!(restored, table(&[&["3001", "users_email"]]));
    assert_eq!(s.values("SELECT * FROM users ORDER BY id").await, before);
    // The index and the rules came back too.
    let plan = s
        .text("EXPLAIN SELECT id FROM users WHERE email = 'p7@example.com'")
        .await;
    assert!(plan.contains("users_email"), "{plan}");
    let err = s
        .sql_err("INSERT INTO users VALUES ('n', 'p7@example.com', 'x', 1)")
        .await;
    assert!(err.contains("UNIQUE index users_email"), "{err}");
    let err = s
        .sql_err("INSERT INTO users VALUES ('n', 'n@example.com', 'x', -1)")
        .await;
    assert!(err.contains("CHECK"), "{err}");
    s.sql("INSERT INTO users (id, email) VALUES ('d', 'd@example.com')")
        .await;
    assert_eq!(
        s.value("SELECT role FROM users WHERE id = 'd'").await,
        "student"
    );
    // Restoring over a table that exists is refused.
    let err = s
        .sql_err(&format!("SELECT * FROM restore('users', {})", snap[0][0]))
        .await;
    assert!(err.contains("already exists"), "{err}");
    let err = s.sql_err("SELECT * FROM restore('other', 12345)").await;
    assert!(err.contains("snapshot 12345 cannot be restored"), "{err}");
}

#[tokio::test]
async fn export_and_import_round_trip_in_csv_and_json_lines() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, x DOUBLE, b BOOLEAN, at TIMESTAMP, doc JSON)")
        .await;
    s.sql(
        "INSERT INTO t VALUES ('a', 1, 0.1, true, TIMESTAMP '2024-05-01 12:00:00', '{\"k\":[1]}'), \
         ('b,\"quoted\"\nline', NULL, -2.5e300, false, NULL, NULL), ('c', -7, NULL, NULL, TIMESTAMP '1970-01-01 00:00:00.000000001', '3')",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let before = s.values("SELECT * FROM t ORDER BY id").await;
    for ext in ["csv", "jsonl"] {
        let file = dir.path().join(format!("t.{ext}"));
        let file = file.to_str().unwrap();
        let out = s
            .values(&format!(
                "SELECT row_count, format FROM export('t', '{file}')"
            ))
            .await;
        assert_eq!(out, table(&[&["3", ext]]));
        s.sql(&format!("CREATE TABLE t_{ext} (id TEXT PRIMARY KEY, n BIGINT, x DOUBLE, b BOOLEAN, at TIMESTAMP, doc JSON)"))
            .await;
        s.sql(&format!("SELECT * FROM import('t_{ext}', '{file}')"))
            .await;
        assert_eq!(
            s.values(&format!("SELECT * FROM t_{ext} ORDER BY id"))
                .await,
            before,
            "{ext}"
        );
        // A second import collides on every key and writes nothing.
        let err = s
            .sql_err(&format!("SELECT * FROM import('t_{ext}', '{file}')"))
            .await;
        assert!(err.contains("duplicate key"), "{err}");
    }
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,n\nok,1\nbad,one\n").unwrap();
    let err = s
        .sql_err(&format!(
            "SELECT * FROM import('t_csv', '{}')",
            bad.display()
        ))
        .await;
    assert!(
        err.contains("line 3: column \"n\" is BIGINT but the value is 'one'"),
        "{err}"
    );
    let err = s
        .sql_err("SELECT * FROM export('t', '/tmp/t.parquet')")
        .await;
    assert!(err.contains("unknown format"), "{err}");
}

/// Text that does not compress: a 10 MiB row's file is over Discord's
/// 10 MiB a file, so it is cut into parts.
fn noise(len: usize) -> String {
    let mut rng = discord_api::SeededRng::new(0x2545_f491_4f6c_dd1d);
    (0..len)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect()
}

#[tokio::test]
async fn rows_up_to_10_mib_work_and_larger_ones_are_refused_whole() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE blobs (id TEXT PRIMARY KEY, body TEXT)")
        .await;
    let body = noise((10 << 20) - 64);
    s.sql(&format!(
        "INSERT INTO blobs VALUES ('big', '{body}'), ('small', 'x')"
    ))
    .await;
    assert_eq!(
        s.value("SELECT length(body) FROM blobs WHERE id = 'big'")
            .await,
        body.len().to_string()
    );
    assert_eq!(
        s.value(&format!(
            "SELECT body = '{body}' FROM blobs WHERE id = 'big'"
        ))
        .await,
        "true"
    );
    let facts = s.values("SELECT * FROM inspect('blobs', 'big')").await;
    assert!(
        facts
            .iter()
            .any(|f| f[0] == "attachment" && f[1].contains(".part1")),
        "{facts:?}"
    );
    let too_big = noise((10 << 20) + 1);
    let err = s
        .sql_err(&format!("INSERT INTO blobs VALUES ('huge', '{too_big}')"))
        .await;
    assert!(err.contains("row 1 of main.blobs is"), "{err}");
    assert!(err.contains("up to 10 MiB"), "{err}");
    assert_eq!(s.value("SELECT count(*) FROM blobs").await, "2");
    s.sql("DELETE FROM blobs WHERE id = 'big'").await;
    s.vacuum_clean("blobs").await;
    let problems = s.values("SELECT * FROM verify('blobs') WHERE NOT ok").await;
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn history_reads_the_same_over_http() {
    let s = Stack::served().await;
    three_updates(&s).await;
    assert_eq!(versions(&s, "u_1").await, four_versions());
    s.age_past_vacuum_grace();
    s.sql("SELECT * FROM vacuum('users')").await;
    assert_eq!(versions(&s, "u_1").await, four_versions());
}

#[tokio::test]
async fn the_large_row_mode_is_chosen_per_table() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE a (id TEXT PRIMARY KEY, doc JSON) WITH (large_rows = 'attachment')")
        .await;
    s.sql("CREATE TABLE b (id TEXT PRIMARY KEY, doc JSON) WITH (large_rows = 'shards')")
        .await;
    let err = s
        .sql_err("CREATE TABLE c (id TEXT PRIMARY KEY) WITH (large_rows = 'zip')")
        .await;
    assert!(err.contains("'zip' is not a large-row mode"), "{err}");
    // Another process reads the mode from the catalog, and writes shards.
    let other = s.another().await;
    let doc = format!("\"{}\"", "x".repeat(4000));
    other
        .sql(&format!("INSERT INTO b VALUES ('k', '{doc}')"))
        .await;
    let channel = s.engine().store().table("main", "b").unwrap().channel_id;
    let shards = s
        .emulator
        .messages_of(channel)
        .iter()
        .filter(|m| m.content.starts_with("dbcshard"))
        .count();
    assert_eq!(shards, 3);
    assert_eq!(s.value("SELECT doc FROM b WHERE id = 'k'").await, doc);
}

#[tokio::test]
async fn a_guild_at_its_thread_cap_keeps_history_in_the_commits_and_says_so() {
    let config = discord_emulator::EmulatorConfig {
        max_active_threads: 0,
        ..discord_emulator::EmulatorConfig::in_memory()
    };
    let s = Stack::with_config(config).await;
    three_updates(&s).await;
    s.age_past_vacuum_grace();
    let out = s
        .values("SELECT archived, deleted, note FROM vacuum('users')")
        .await;
    assert_eq!(out[0][0], "0");
    assert_eq!(
        out[0][1], "0",
        "nothing deleted: the commits still hold the history"
    );
    assert!(
        out[0][2].contains("history could not be archived") && out[0][2].contains("160006"),
        "{out:?}"
    );
    // Updates go on, and history is whole.
    s.sql("UPDATE users SET role = 'x' WHERE id = 'u_1'").await;
    assert_eq!(versions(&s, "u_1").await.len(), 5);
    assert_eq!(
        s.value("SELECT role FROM users WHERE id = 'u_1'").await,
        "x"
    );
}

/// A partial update of a document from SQL: `json_merge_patch` (RFC 7396)
/// and `json_set` change the members they name and leave every other byte
/// of the stored document as it was.
#[tokio::test]
async fn a_merge_patch_changes_one_member_and_leaves_the_rest_byte_for_byte() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE docs (id TEXT PRIMARY KEY, doc JSON)")
        .await;
    let doc = r#"{ "email": "a@example.com",  "role": "student", "n": [1, 2.50, {"x": null}] }"#;
    s.sql(&format!(
        "INSERT INTO docs VALUES ('u_1', '{doc}'), ('u_2', '{{}}')"
    ))
    .await;
    s.sql(r#"UPDATE docs SET doc = json_merge_patch(doc, '{"role":"admin"}') WHERE id = 'u_1'"#)
        .await;
    assert_eq!(
        s.value("SELECT doc FROM docs WHERE id = 'u_1'").await,
        doc.replace(r#""student""#, r#""admin""#)
    );
    s.sql("UPDATE docs SET doc = json_set(doc, '$.profile.city', 'Oslo')")
        .await;
    assert_eq!(
        s.value("SELECT doc FROM docs WHERE id = 'u_2'").await,
        r#"{"profile":{"city":"Oslo"}}"#
    );
    assert_eq!(
        s.value("SELECT doc->'profile'->>'city' FROM docs WHERE id = 'u_1'")
            .await,
        "Oslo"
    );
    let e = s
        .sql_err(r#"UPDATE docs SET doc = json_merge_patch(doc, '{oops')"#)
        .await;
    assert!(e.contains("json_merge_patch: the patch is not JSON"), "{e}");
    assert_eq!(
        s.value("SELECT doc->>'role' FROM docs WHERE id = 'u_1'")
            .await,
        "admin",
        "a refused UPDATE wrote nothing"
    );
}
