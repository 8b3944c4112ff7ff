//! ALTER TABLE on a table whose rows are in every storage form (row
//! commits, statement segments, a checkpoint), checked after each step
//! against a model of what every query must answer.

use std::collections::BTreeMap;

use crate::common::Stack;

/// The table as it must read: columns, and each row's cells as text.
struct Model {
    columns: Vec<String>,
    rows: BTreeMap<i64, Vec<String>>,
}

impl Model {
    fn col(&self, name: &str) -> usize {
        self.columns.iter().position(|c| c == name).unwrap()
    }

    fn all(&self) -> Vec<Vec<String>> {
        self.rows.values().cloned().collect()
    }

    fn filtered(&self, col: &str, value: &str) -> Vec<Vec<String>> {
        let i = self.col(col);
        self.rows
            .values()
            .filter(|r| r[i] == value)
            .cloned()
            .collect()
    }
}

/// Every query the test asks of the table, against the model: all rows,
/// a key lookup, an equality on each column, with pushdown on and off.
async fn check(s: &Stack, m: &Model, step: &str) {
    let header = s
        .values("SELECT column_name FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect::<Vec<_>>();
    assert_eq!(header, m.columns, "{step}: columns");
    for pushdown in ["true", "false"] {
        s.sql(&format!("SET dbcord.pushdown = {pushdown}")).await;
        assert_eq!(
            s.values("SELECT * FROM t ORDER BY id").await,
            m.all(),
            "{step}: all rows, pushdown {pushdown}"
        );
        let key = m.rows.keys().nth(m.rows.len() / 2).copied().unwrap();
        assert_eq!(
            s.values(&format!("SELECT * FROM t WHERE id = {key}")).await,
            vec![m.rows[&key].clone()],
            "{step}: key {key}"
        );
        for col in m.columns.iter().skip(1) {
            let i = m.col(col);
            let probe = m.rows[&key][i].clone();
            let sql = if probe == "NULL" {
                format!("SELECT * FROM t WHERE {col} IS NULL ORDER BY id")
            } else if probe.parse::<f64>().is_ok() {
                format!("SELECT * FROM t WHERE {col} = {probe} ORDER BY id")
            } else {
                format!("SELECT * FROM t WHERE {col} = '{probe}' ORDER BY id")
            };
            assert_eq!(
                s.values(&sql).await,
                m.filtered(col, &probe),
                "{step}: {sql}, pushdown {pushdown}"
            );
        }
    }
    s.sql("SET dbcord.pushdown = true").await;
}

fn cells(id: i64, a: &str, b: i64, c: f64) -> Vec<String> {
    vec![id.to_string(), a.to_string(), b.to_string(), c.to_string()]
}

/// Rows `from..to` as one INSERT, and into the model.
async fn load(s: &Stack, m: &mut Model, from: i64, to: i64) {
    let values: Vec<String> = (from..to)
        .map(|i| format!("({i}, 'name {i}', {}, {}.5)", i % 7, i % 11))
        .collect();
    s.sql(&format!("INSERT INTO t VALUES {}", values.join(", ")))
        .await;
    for i in from..to {
        let c: f64 = format!("{}.5", i % 11).parse().unwrap();
        m.rows.insert(i, cells(i, &format!("name {i}"), i % 7, c));
    }
}

#[tokio::test]
async fn alter_table_keeps_every_answer_right_over_every_storage_form() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT, b BIGINT, c DOUBLE)")
        .await;
    s.sql("CREATE INDEX t_b ON t (b)").await;
    let mut m = Model {
        columns: ["id", "a", "b", "c"].map(String::from).to_vec(),
        rows: BTreeMap::new(),
    };
    load(&s, &mut m, 0, 2000).await; // a segment
    s.age_past_vacuum_grace();
    s.sql("VACUUM t").await; // ... folded into a checkpoint
    load(&s, &mut m, 2000, 2300).await; // a statement segment
    load(&s, &mut m, 2300, 2303).await; // a row commit
    s.sql("UPDATE t SET a = 'changed' WHERE id IN (5, 2100, 2301)")
        .await;
    for id in [5, 2100, 2301] {
        m.rows.get_mut(&id).unwrap()[1] = "changed".into();
    }
    s.sql("DELETE FROM t WHERE id IN (6, 2101, 2302)").await;
    for id in [6, 2101, 2302] {
        m.rows.remove(&id);
    }
    check(&s, &m, "before any ALTER").await;

    s.sql("ALTER TABLE t ADD COLUMN d TEXT DEFAULT 'fill'")
        .await;
    m.columns.push("d".into());
    m.rows.values_mut().for_each(|r| r.push("fill".into()));
    check(&s, &m, "ADD COLUMN d DEFAULT").await;

    s.sql("INSERT INTO t VALUES (5000, 'new', 1, 1.5, NULL), (5001, 'new', 2, 2.5, 'given')")
        .await;
    s.sql("INSERT INTO t (id, a, b, c) VALUES (5002, 'new', 3, 3.5)")
        .await;
    m.rows.insert(
        5000,
        vec!["5000", "new", "1", "1.5", "NULL"]
            .into_iter()
            .map(String::from)
            .collect(),
    );
    m.rows.insert(
        5001,
        vec!["5001", "new", "2", "2.5", "given"]
            .into_iter()
            .map(String::from)
            .collect(),
    );
    m.rows.insert(
        5002,
        vec!["5002", "new", "3", "3.5", "fill"]
            .into_iter()
            .map(String::from)
            .collect(),
    );
    check(&s, &m, "rows written after ADD COLUMN").await;

    s.sql("ALTER TABLE t RENAME COLUMN a TO a2").await;
    m.columns[1] = "a2".into();
    check(&s, &m, "RENAME a TO a2").await;

    s.sql("ALTER TABLE t DROP COLUMN c").await;
    m.columns.remove(3);
    m.rows.values_mut().for_each(|r| {
        r.remove(3);
    });
    check(&s, &m, "DROP COLUMN c").await;

    s.sql("ALTER TABLE t ADD COLUMN c BIGINT").await;
    m.columns.push("c".into());
    m.rows.values_mut().for_each(|r| r.push("NULL".into()));
    check(&s, &m, "ADD COLUMN c again: the old c stays dropped").await;

    s.sql("ALTER TABLE t RENAME COLUMN b TO b2").await;
    m.columns[2] = "b2".into();
    check(&s, &m, "RENAME b TO b2").await;
    let plan = s.text("EXPLAIN SELECT id FROM t WHERE b2 = 3").await;
    assert!(plan.contains("t_b"), "the index follows the rename: {plan}");

    s.sql("UPDATE t SET c = 7, d = 'upd' WHERE b2 = 4").await;
    let (c, d) = (m.col("c"), m.col("d"));
    let b2 = m.col("b2");
    for r in m.rows.values_mut().filter(|r| r[b2] == "4") {
        r[c] = "7".into();
        r[d] = "upd".into();
    }
    check(&s, &m, "UPDATE after the ALTERs").await;

    // Another process reads the same; a vacuum (a new checkpoint in the
    // new shape) changes no answer.
    let other = s.another().await;
    check(&other, &m, "another process").await;
    s.vacuum_clean("t").await;
    check(&s, &m, "after VACUUM").await;
    check(&other, &m, "another process after VACUUM").await;

    // History reads versions written under every shape.
    let versions = s
        .values("SELECT op, row_json->>'a2', row_json->>'d' FROM history('t', 5) ORDER BY version")
        .await;
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[1][1], "changed");
    let problems = s.values("SELECT * FROM verify('t') WHERE NOT ok").await;
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn alter_table_refuses_what_would_break_the_table() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, a BIGINT CHECK (a > 0), b TEXT)")
        .await;
    s.sql("CREATE INDEX t_b ON t (b)").await;
    s.sql("INSERT INTO t VALUES ('x', 1, 'y')").await;
    for (sql, want) in [
        ("ALTER TABLE t DROP COLUMN id", "part of the primary key"),
        (
            "ALTER TABLE t DROP COLUMN b",
            "has index t_b; DROP INDEX t_b first",
        ),
        (
            "ALTER TABLE t DROP COLUMN a",
            "used by CHECK t_check1 (a > 0)",
        ),
        ("ALTER TABLE t DROP COLUMN nope", "has no column \"nope\""),
        (
            "ALTER TABLE t ADD COLUMN b TEXT",
            "names column \"b\" twice",
        ),
        (
            "ALTER TABLE t ADD COLUMN n BIGINT NOT NULL",
            "give it a DEFAULT",
        ),
        ("ALTER TABLE t ADD COLUMN _x TEXT", "reserved"),
        (
            "ALTER TABLE t ADD COLUMN m DATE",
            "type DATE is not supported",
        ),
        (
            "ALTER TABLE t RENAME COLUMN a TO b",
            "names column \"b\" twice",
        ),
        ("ALTER TABLE nope ADD COLUMN z TEXT", "nope"),
        ("ALTER TABLE t RENAME TO u", "is not supported"),
    ] {
        let err = s.sql_err(sql).await;
        assert!(err.contains(want), "{sql}: {err}");
    }
    // A CHECK follows its column's rename.
    s.sql("ALTER TABLE t RENAME COLUMN a TO amount").await;
    let err = s.sql_err("INSERT INTO t VALUES ('z', 0, 'q')").await;
    assert!(err.contains("CHECK t_check1 (amount > 0)"), "{err}");
    s.sql("ALTER TABLE t ADD COLUMN n BIGINT NOT NULL DEFAULT 3")
        .await;
    assert_eq!(s.value("SELECT n FROM t WHERE id = 'x'").await, "3");
    s.sql("ALTER TABLE IF EXISTS nope ADD COLUMN z TEXT").await;
}

/// NOT NULL and CHECK rules added to a table with rows are checked against
/// them first: a row that breaks one is named and nothing changes; once
/// added they hold for every later write, and dropping them lifts them.
#[tokio::test]
async fn rules_added_by_alter_are_checked_against_the_rows_first() {
    let s = Stack::new().await;
    s.sql("CREATE TABLE t (id TEXT PRIMARY KEY, a TEXT, n BIGINT)")
        .await;
    s.sql("INSERT INTO t VALUES ('u_1', 'x', 5), ('u_2', NULL, -1)")
        .await;
    let e = s.sql_err("ALTER TABLE t ALTER COLUMN a SET NOT NULL").await;
    assert!(
        e.contains("cannot add NOT NULL on a to main.t: the row with id = u_2 breaks it"),
        "{e}"
    );
    let e = s
        .sql_err("ALTER TABLE t ADD CONSTRAINT positive CHECK (n > 0)")
        .await;
    assert!(
        e.contains("CHECK positive") && e.contains("id = u_2"),
        "{e}"
    );
    // Nothing changed: the rules are not there.
    s.sql("INSERT INTO t VALUES ('u_3', NULL, -7)").await;
    s.sql("DELETE FROM t WHERE id <> 'u_1'").await;
    s.sql("ALTER TABLE t ALTER COLUMN a SET NOT NULL").await;
    s.sql("ALTER TABLE t ADD CONSTRAINT positive CHECK (n > 0)")
        .await;
    let e = s.sql_err("INSERT INTO t VALUES ('u_4', NULL, 1)").await;
    assert!(e.contains("a"), "{e}");
    let e = s.sql_err("INSERT INTO t VALUES ('u_4', 'y', 0)").await;
    assert!(e.contains("positive"), "{e}");
    let e = s.sql_err("ALTER TABLE t DROP CONSTRAINT nope").await;
    assert!(
        e.contains("main.t has no CHECK named nope") || e.contains("t has no CHECK named nope"),
        "{e}"
    );
    let e = s
        .sql_err("ALTER TABLE t ALTER COLUMN id DROP NOT NULL")
        .await;
    assert!(e.contains("primary key"), "{e}");
    s.sql("ALTER TABLE t DROP CONSTRAINT positive").await;
    s.sql("ALTER TABLE t ALTER COLUMN a DROP NOT NULL").await;
    s.sql("INSERT INTO t VALUES ('u_4', NULL, 0)").await;
    // Another process sees the same rules.
    let other = s.another().await;
    assert_eq!(other.value("SELECT count(*) FROM t").await, "2");
    other.sql("INSERT INTO t VALUES ('u_5', NULL, -3)").await;
}
