//! The bot end to end on a served emulator: a guild member types the
//! seeds' walkthrough as slash commands, over the Gateway and over the
//! interactions endpoint, and SQL sees the tables it leaves. Refusals
//! (no permission, bad JSON, a duplicate key) write nothing, a forged
//! signature gets 401, and an application that never answers is shown
//! as Discord shows it.

use std::sync::Arc;
use std::time::Duration;

use dbcord::bot::run::Policy;
use dbcord::bot::{Bot, endpoint, server};
use dbcord::session::{Backend, Session};
use discord_api::{RealClock, ScaledClock};
use discord_emulator::EmulatorConfig;
use discord_emulator::serve::{self, ServeOptions};
use serde_json::{Value, json};

use crate::common::{cells, http_config};

/// An in-memory emulator served on real time: Discord's 3 s are real.
async fn serve_real_time() -> serve::Served {
    serve::start(
        "127.0.0.1:0".parse().unwrap(),
        EmulatorConfig::in_memory(),
        Arc::new(ScaledClock::new(1.0)),
        ServeOptions::default(),
    )
    .await
    .unwrap()
}

struct Harness {
    api: String,
    served: serve::Served,
    /// A separate SQL session on the same guild: what SQL sees.
    sql: Session,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    bot: Arc<Bot>,
}

impl Harness {
    /// A served emulator and a bot answering over the Gateway, or over
    /// its endpoint when `endpoint` is true.
    async fn start(endpoint_mode: bool) -> Harness {
        let served = serve_real_time().await;
        let config = http_config(&served.emulator, served.addr);
        let session = Session::over_http(config.clone(), Arc::new(RealClock))
            .await
            .unwrap();
        // One writer: a UNIQUE index need not wait a minute for older statements.
        session
            .engine
            .store()
            .set_unique_index_wait(Duration::from_millis(200));
        let Backend::Http(http) = session.backend else {
            unreachable!()
        };
        let bot = Bot::start(
            Arc::new(session.engine),
            Arc::clone(&http),
            Policy::default(),
        )
        .await
        .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = if endpoint_mode {
            let (addr, task) =
                endpoint::listen(Arc::clone(&bot), "127.0.0.1:0".parse().unwrap(), async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            let url = format!("http://{addr}{}", endpoint::PATH);
            http.set_interactions_endpoint(&url).await.unwrap();
            task
        } else {
            let b = Arc::clone(&bot);
            let task = tokio::spawn(async move {
                server::run_gateway(b, &config, || {}, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
            // The session is up once the Gateway has a connection.
            for _ in 0..100 {
                if served.bots.gateway.connected() > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            task
        };
        let sql = Session::over_http(
            http_config(&served.emulator, served.addr),
            Arc::new(RealClock),
        )
        .await
        .unwrap();
        Harness {
            api: format!("http://{}", served.addr),
            served,
            sql,
            stop: Some(stop),
            task: Some(task),
            bot,
        }
    }

    /// Type `command` as a member with `permissions`; what they see.
    async fn type_as(&self, command: &str, permissions: u64) -> Value {
        reqwest::Client::new()
            .post(format!("{}/_emulator/interact", self.api))
            .json(&json!({"command": command, "permissions": permissions, "wait_seconds": 30}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Type `command` as a member with Manage Guild; the reply's text,
    /// which must not be an error.
    async fn ok(&self, command: &str) -> String {
        let shown = self.type_as(command, 32).await;
        assert_eq!(shown["finished"], true, "{command}: {shown}");
        let content = shown["content"].as_str().unwrap_or_default().to_string();
        assert!(!content.starts_with("error"), "{command}: {content}");
        content
    }

    async fn refused(&self, command: &str, permissions: u64) -> String {
        let shown = self.type_as(command, permissions).await;
        assert_eq!(
            shown["ephemeral"], true,
            "{command}: errors are ephemeral: {shown}"
        );
        shown["content"].as_str().unwrap_or_default().to_string()
    }

    async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        match self.sql.engine.execute(sql).await.unwrap().pop().unwrap() {
            dbcord::sql::Outcome::Rows { batches, .. } => cells(&batches),
            other => panic!("{sql}: {other:?}"),
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.task.take().unwrap().await;
        assert_eq!(self.bot.drain(Duration::from_secs(5)).await, 0);
        self.served.stop();
    }
}

/// The seeds' walkthrough, then SQL over what it left.
async fn walkthrough(h: &Harness) {
    h.ok("/dbc_init database:prod").await;
    h.ok("/dbc_table_create database:prod table:users pk:id")
        .await;
    h.ok(r#"/dbc_schema_set database:prod table:users schema_json:{"required":["email"],"properties":{"email":"str","role":"str","age":"int"}}"#).await;
    h.ok("/dbc_index_create database:prod table:users field:email unique:true")
        .await;
    h.ok(r#"/dbc_insert database:prod table:users key:u_1 value_json:{"email":"a@x.org","role":"student","age":20}"#).await;
    h.ok(r#"/dbc_insert database:prod table:users key:u_2 value_json:{"email":"b@x.org","role":"teacher"}"#).await;
    let found = h
        .ok(r#"/dbc_find database:prod table:users where_json:{"role":"student"}"#)
        .await;
    assert!(
        found.contains("u_1") && !found.contains("u_2") && found.contains("(1 row)"),
        "{found}"
    );
    h.ok(r#"/dbc_update database:prod table:users key:u_1 patch_json:{"role":"admin"}"#)
        .await;
    let verify = h.ok("/dbc_verify database:prod table:users").await;
    assert!(!verify.contains("| false"), "{verify}");
    let snap = h.ok("/dbc_snapshot database:prod table:users").await;
    assert!(snap.contains("users"), "{snap}");
    assert_eq!(
        h.rows("SELECT id, email, role, age FROM prod.users ORDER BY id")
            .await,
        vec![
            vec!["u_1", "a@x.org", "admin", "20"],
            vec!["u_2", "b@x.org", "teacher", "NULL"],
        ]
    );
}

#[tokio::test]
async fn the_seeds_walkthrough_runs_as_slash_commands_over_the_gateway() {
    let h = Harness::start(false).await;
    walkthrough(&h).await;
    // Refused before anything is read: no permission, bad JSON, a wrong type.
    // Discord's client refuses a member without Manage Guild (the
    // command's default_member_permissions): nothing reaches the bot.
    let shown = h
        .type_as(
            r#"/dbc_insert database:prod table:users key:u_3 value_json:{"email":"c@x.org"}"#,
            0,
        )
        .await;
    assert!(
        shown["error"].as_str().unwrap().contains("permission"),
        "{shown}"
    );
    let e = h
        .refused(
            r#"/dbc_insert database:prod table:users key:u_3 value_json:{"email":"#,
            32,
        )
        .await;
    assert!(e.contains("not valid JSON"), "{e}");
    let e = h
        .type_as(
            r#"/dbc_insert database:prod table:users key:u_3 value_json:{"email":5}"#,
            32,
        )
        .await["content"]
        .to_string();
    assert!(e.contains("email is TEXT, and 5 is not one"), "{e}");
    // A duplicate key is refused.
    let shown = h
        .type_as(
            r#"/dbc_insert database:prod table:users key:u_1 value_json:{"email":"z@x.org"}"#,
            32,
        )
        .await;
    assert!(
        shown["content"].as_str().unwrap().contains("duplicate"),
        "{shown}"
    );
    assert_eq!(
        h.rows("SELECT count(*) FROM prod.users").await,
        vec![vec!["2"]]
    );
    // A schema whose new rule a row breaks is refused, naming the row.
    let shown = h
        .type_as(r#"/dbc_schema_set database:prod table:users schema_json:{"required":["email","age"],"properties":{"email":"str","role":"str","age":"int"}}"#, 32)
        .await;
    let refusal = shown["content"].as_str().unwrap();
    assert!(
        refusal.starts_with("error") && refusal.contains("u_2"),
        "{shown}"
    );
    assert_eq!(
        h.rows("SELECT count(*) FROM prod.users WHERE age IS NULL")
            .await,
        vec![vec!["1"]],
        "nothing changed"
    );
    // Every write is in #dbc-audit with the member who ran it; reads are not.
    let audit = h
        .served
        .emulator
        .channels()
        .into_iter()
        .find(|c| c.name == "dbc-audit")
        .expect("the bot made #dbc-audit");
    let lines: Vec<String> = h
        .served
        .emulator
        .messages_of(audit.id)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("member 4242424242 ran /dbc_insert")
                && l.contains("key:u_1")
                && l.contains("inserted u_1")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/dbc_update") && l.contains("UPDATE 1")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("/dbc_find")), "{lines:#?}");
    // Reads are open to members without Manage Guild.
    let found = h
        .type_as("/dbc_find database:prod table:users limit:1", 0)
        .await;
    assert!(
        found["content"].as_str().unwrap().contains("(1 row)"),
        "{found}"
    );
    h.stop().await;
}

/// Two members insert the same key at once: one wins, the other is
/// refused cleanly, and the table holds one row.
#[tokio::test]
async fn two_members_at_once_on_one_key_are_answered_as_if_in_some_order() {
    let h = Harness::start(false).await;
    h.ok("/dbc_init database:d").await;
    h.ok("/dbc_table_create database:d table:t pk:k").await;
    let a = r#"/dbc_insert database:d table:t key:same value_json:{"by":"a"}"#;
    let b = r#"/dbc_insert database:d table:t key:same value_json:{"by":"b"}"#;
    let (ra, rb) = tokio::join!(h.type_as(a, 32), h.type_as(b, 32));
    let texts = [
        ra["content"].as_str().unwrap(),
        rb["content"].as_str().unwrap(),
    ];
    assert_eq!(
        texts.iter().filter(|t| t.starts_with("inserted")).count(),
        1,
        "{texts:?}"
    );
    assert_eq!(
        texts.iter().filter(|t| t.contains("duplicate")).count(),
        1,
        "{texts:?}"
    );
    assert_eq!(h.rows("SELECT count(*) FROM d.t").await, vec![vec!["1"]]);
    h.stop().await;
}

#[tokio::test]
async fn the_walkthrough_runs_over_the_interactions_endpoint_and_forgeries_get_401() {
    let h = Harness::start(true).await;
    walkthrough(&h).await;
    let endpoint = h.served.bots.endpoint().unwrap();
    let forged = reqwest::Client::new()
        .post(&endpoint)
        .header("x-signature-ed25519", "00".repeat(64))
        .header("x-signature-timestamp", "1700000000")
        .body(r#"{"type":1,"id":"1","application_id":"1","token":"t","version":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    h.stop().await;
}

/// A document table: a patch changes its one field, the rest stays byte
/// for byte, from the bot and from SQL alike.
#[tokio::test]
async fn a_patch_changes_one_field_of_a_document_and_leaves_the_rest_byte_identical() {
    let h = Harness::start(false).await;
    h.ok("/dbc_init database:s").await;
    h.ok("/dbc_table_create database:s table:docs pk:id").await;
    let doc = r#"{"name":"Ada",  "tags":["x", 1.50],"role":"student"}"#;
    h.ok(&format!(
        "/dbc_insert database:s table:docs key:d1 value_json:{doc}"
    ))
    .await;
    let before = h.rows("SELECT doc FROM s.docs").await[0][0].clone();
    h.ok(r#"/dbc_update database:s table:docs key:d1 patch_json:{"role":"admin"}"#)
        .await;
    let after = h.rows("SELECT doc FROM s.docs").await[0][0].clone();
    assert_eq!(
        after,
        before.replace("\"student\"", "\"admin\""),
        "{before} -> {after}"
    );
    h.sql
        .engine
        .execute(r#"UPDATE s.docs SET doc = json_merge_patch(doc, '{"role":"owner"}')"#)
        .await
        .unwrap();
    let sql_after = h.rows("SELECT doc FROM s.docs").await[0][0].clone();
    assert_eq!(sql_after, before.replace("\"student\"", "\"owner\""));
    h.stop().await;
}

#[tokio::test]
async fn with_no_bot_listening_the_member_sees_that_the_application_did_not_respond() {
    let served = serve_real_time().await;
    let config = http_config(&served.emulator, served.addr);
    let session = Session::over_http(config, Arc::new(RealClock))
        .await
        .unwrap();
    let Backend::Http(http) = session.backend else {
        unreachable!()
    };
    // Register, but never connect.
    let _bot = Bot::start(Arc::new(session.engine), http, Policy::default())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let shown: Value = reqwest::Client::new()
        .post(format!("http://{}/_emulator/interact", served.addr))
        .json(&json!({"command": "/dbc_init database:x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        shown["failure"], "The application did not respond",
        "{shown}"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    served.stop();
}
