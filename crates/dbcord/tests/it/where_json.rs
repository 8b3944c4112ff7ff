//! `where_json` (the seeds' filter documents) against the SQL they stand
//! for: random documents using every operator, each with the WHERE clause
//! it means written independently here, give the same rows; an equality
//! is pushed down as in SQL; a bad document is refused, naming the problem.

use dbcord::bot::where_json::filter;
use discord_api::SeededRng;

use crate::common::{Stack, cells};

const SCHEMA: [&str; 3] = [
    "CREATE TABLE users (id TEXT PRIMARY KEY, role TEXT, age BIGINT, score DOUBLE, active BOOLEAN)",
    "CREATE INDEX users_role ON users (role)",
    "INSERT INTO users SELECT 'u_' || CAST(value AS VARCHAR), \
     CASE WHEN value % 5 = 0 THEN NULL WHEN value % 3 = 0 THEN 'admin' ELSE 'student' END, \
     CASE WHEN value % 7 = 0 THEN NULL ELSE value % 50 END, value * 0.5, value % 2 = 0 \
     FROM generate_series(1, 300) AS g(value)",
];

/// Kinds of condition [`condition`] makes: one per operator and value type.
const KINDS: u64 = 14;

/// A random condition of `kind`: the `where_json` and the SQL it means.
fn condition(rng: &mut SeededRng, kind: u64) -> (String, String) {
    let role = ["admin", "student", "nobody"][rng.below(3) as usize];
    let n = rng.below(60) as i64;
    match kind {
        0 => (format!(r#""role": "{role}""#), format!("role = '{role}'")),
        1 => (
            format!(r#""role": {{"$eq": "{role}"}}"#),
            format!("role = '{role}'"),
        ),
        2 => (
            format!(r#""role": {{"$ne": "{role}"}}"#),
            format!("role IS DISTINCT FROM '{role}'"),
        ),
        3 => (format!(r#""age": {{"$gt": {n}}}"#), format!("age > {n}")),
        4 => (format!(r#""age": {{"$gte": {n}}}"#), format!("age >= {n}")),
        5 => (format!(r#""age": {{"$lt": {n}}}"#), format!("age < {n}")),
        6 => (format!(r#""age": {{"$lte": {n}}}"#), format!("age <= {n}")),
        7 => (
            format!(r#""age": {{"$in": [{n}, {}, 3]}}"#, n + 1),
            format!("age IN ({n}, {}, 3)", n + 1),
        ),
        8 => (
            r#""role": {"$contains": "dmi"}"#.into(),
            "strpos(role, 'dmi') > 0".into(),
        ),
        9 => (
            r#""id": {"$prefix": "u_1"}"#.into(),
            "substr(id, 1, 3) = 'u_1'".into(),
        ),
        10 => {
            let yes = rng.chance(0.5);
            let sql = if yes {
                "age IS NOT NULL"
            } else {
                "age IS NULL"
            };
            (format!(r#""age": {{"$exists": {yes}}}"#), sql.into())
        }
        11 => (r#""role": null"#.into(), "role IS NULL".into()),
        12 => (
            format!(r#""score": {{"$gte": {}.5}}"#, n),
            format!("score >= {n}.5"),
        ),
        _ => (
            format!(r#""active": {}"#, n % 2 == 0),
            format!("active = {}", n % 2 == 0),
        ),
    }
}

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

#[tokio::test]
async fn every_operator_gives_the_rows_of_the_sql_it_stands_for() {
    let s = Stack::new().await;
    for sql in SCHEMA {
        s.sql(sql).await;
    }
    let def = s.engine().store().table("main", "users").unwrap();
    let mut rng = SeededRng::new(41);
    let mut matched = 0;
    let mut used = [0; KINDS as usize];
    for _ in 0..150 {
        let mut parts: Vec<(String, String)> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let kind = rng.below(KINDS);
            used[kind as usize] += 1;
            parts.push(condition(&mut rng, kind));
        }
        // The same field twice in one JSON object: the last wins in JSON,
        // so keep one condition per field.
        let mut seen = std::collections::HashSet::new();
        let parts: Vec<_> = parts
            .into_iter()
            .filter(|(j, _)| seen.insert(j.split('"').nth(1).unwrap().to_string()))
            .collect();
        let json = format!(
            "{{{}}}",
            parts
                .iter()
                .map(|(j, _)| j.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let sql = parts
            .iter()
            .map(|(_, q)| format!("({q})"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let expr = filter(&def, &json).unwrap_or_else(|e| panic!("{json}: {e}"));
        let found = s
            .engine()
            .find("main", "users", expr, None)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let ours = sorted(cells(&found));
        let theirs = sorted(s.values(&format!("SELECT * FROM users WHERE {sql}")).await);
        assert_eq!(ours, theirs, "{json} against {sql}");
        matched += ours.len();
    }
    assert!(matched > 1000, "the documents matched rows: {matched}");
    assert!(
        used.iter().all(|n| *n >= 10),
        "every kind of condition ran: {used:?}"
    );
}

#[tokio::test]
async fn an_equality_is_pushed_down_as_in_sql() {
    let s = Stack::new().await;
    for sql in SCHEMA {
        s.sql(sql).await;
    }
    let def = s.engine().store().table("main", "users").unwrap();
    for (json, strategy) in [
        (r#"{"id": "u_7"}"#, "strategy=key lookup"),
        (
            r#"{"role": {"$in": ["admin", "nobody"]}}"#,
            "index lookup (users_role)",
        ),
    ] {
        let expr = filter(&def, json).unwrap();
        let plan = s
            .engine()
            .find("main", "users", expr, Some(10))
            .await
            .unwrap()
            .explain(false, false)
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = cells(&plan).concat().join("\n");
        assert!(
            text.contains(strategy) || text.contains("note=index lookup (users_role)"),
            "{json}: {text}"
        );
    }
}

#[tokio::test]
async fn a_bad_document_is_refused_naming_what_is_wrong() {
    let s = Stack::new().await;
    s.sql(SCHEMA[0]).await;
    let def = s.engine().store().table("main", "users").unwrap();
    for (json, words) in [
        ("{role: 1}", "not valid JSON"),
        ("[1, 2]", "expected an object of fields"),
        (r#"{"rank": 1}"#, "main.users has no field rank"),
        (r#"{"age": {"$near": 3}}"#, "unknown operator $near"),
        (r#"{"age": "old"}"#, "age is BIGINT, and \"old\" is not one"),
        (r#"{"role": 5}"#, "role is TEXT, and 5 is not one"),
        (
            r#"{"age": {"$prefix": "1"}}"#,
            "age is BIGINT: $prefix applies to text fields",
        ),
        (r#"{"age": {"$in": 3}}"#, "$in takes a list"),
        (
            r#"{"age": {"$exists": "yes"}}"#,
            "$exists takes true or false",
        ),
        (r#"{"$or": []}"#, "$or at the top level"),
        (r#"{"age": {"$gt": null}}"#, "null has no order"),
    ] {
        let e = filter(&def, json).expect_err(json).to_string();
        assert!(e.contains(words), "{json}: {e}");
        assert!(e.ends_with("nothing was read"), "{e}");
    }
}
