//! The served emulator's JSON, route by route, against the schemas of
//! Discord's OpenAPI description (vendored in tests/openapi/ with Discord's
//! MIT notice; `tests/openapi/vendor.py` regenerates them).

use std::sync::Arc;

use discord_api::{Discord, ManualClock};
use discord_emulator::serve::{self, ServeOptions};
use discord_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

fn validator(schema: &str) -> jsonschema::Validator {
    let mut doc: Value =
        serde_json::from_str(include_str!("../openapi/discord-schemas.json")).unwrap();
    doc["$ref"] = json!(format!("#/components/schemas/{schema}"));
    jsonschema::draft202012::new(&doc).unwrap_or_else(|e| panic!("schema {schema}: {e}"))
}

fn check(schema: &str, body: &Value) {
    let v = validator(schema);
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{schema} does not accept\n{body:#}\n{}",
        errors.join("\n")
    );
}

/// An emulator on a virtual clock, served on 127.0.0.1.
struct Served {
    clock: Arc<ManualClock>,
    emulator: Arc<Emulator>,
    addr: std::net::SocketAddr,
}

async fn served(config: EmulatorConfig) -> Served {
    let clock = Arc::new(ManualClock::fixed());
    let served = serve::start(
        "127.0.0.1:0".parse().unwrap(),
        config,
        clock.clone(),
        ServeOptions::default(),
    )
    .await
    .unwrap();
    Served {
        clock,
        emulator: served.emulator,
        addr: served.addr,
    }
}

/// A client that says it is a bot, as Discord requires.
fn bot_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent("DiscordBot (https://example.com, 1.0)")
        .build()
        .unwrap()
}

struct Api {
    base: String,
    guild: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("authorization", "Bot t");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn every_route_answers_in_discords_shapes() {
    let mut config = EmulatorConfig::in_memory();
    config.search.warmup = std::time::Duration::from_secs(60);
    let s = served(config).await;
    let api = Api {
        base: format!("http://{}/api/v10", s.addr),
        guild: s.emulator.guild_id().to_string(),
        client: bot_client(),
    };
    use reqwest::Method as M;
    let (st, me) = api.call(M::GET, "/users/@me", None).await;
    assert_eq!(st, 200);
    check("UserPIIResponse", &me);
    let (st, chans) = api
        .call(M::GET, &format!("/guilds/{}/channels", api.guild), None)
        .await;
    assert_eq!(st, 200);
    for c in chans.as_array().unwrap() {
        check("GuildChannelResponse", c);
    }
    let (st, ch) = api
        .call(
            M::POST,
            &format!("/guilds/{}/channels", api.guild),
            Some(json!({"name": "t", "type": 0, "topic": "x"})),
        )
        .await;
    assert_eq!(st, 201);
    check("GuildChannelResponse", &ch);
    let cid = ch["id"].as_str().unwrap().to_string();
    let (st, patched) = api
        .call(
            M::PATCH,
            &format!("/channels/{cid}"),
            Some(json!({"topic": "y"})),
        )
        .await;
    assert_eq!(st, 200);
    check("GuildChannelResponse", &patched);
    let (st, msg) = api
        .call(
            M::POST,
            &format!("/channels/{cid}/messages"),
            Some(json!({"content": "hello", "nonce": "n1", "enforce_nonce": true})),
        )
        .await;
    assert_eq!(st, 200);
    check("MessageResponse", &msg);
    let mid = msg["id"].as_str().unwrap().to_string();
    let (_, got) = api
        .call(M::GET, &format!("/channels/{cid}/messages/{mid}"), None)
        .await;
    check("MessageResponse", &got);
    let (_, page) = api
        .call(M::GET, &format!("/channels/{cid}/messages?limit=10"), None)
        .await;
    check("MessageResponse", &page[0]);
    let (_, edited) = api
        .call(
            M::PATCH,
            &format!("/channels/{cid}/messages/{mid}"),
            Some(json!({"content": "hi"})),
        )
        .await;
    check("MessageResponse", &edited);
    let (st, thread) = api
        .call(
            M::POST,
            &format!("/channels/{cid}/messages/{mid}/threads"),
            Some(json!({"name": "history"})),
        )
        .await;
    assert_eq!(st, 201);
    check("ThreadResponse", &thread);
    let (st, not_ready) = api
        .call(
            M::GET,
            &format!("/guilds/{}/messages/search?content=hi", api.guild),
            None,
        )
        .await;
    assert_eq!(st, 202);
    check("SearchIndexNotReadyResponse", &not_ready);
    s.clock.advance(std::time::Duration::from_secs(61));
    let (st, found) = api
        .call(
            M::GET,
            &format!(
                "/guilds/{}/messages/search?content=hi&channel_id={cid}",
                api.guild
            ),
            None,
        )
        .await;
    assert_eq!(st, 200);
    check("GuildSearchResponse", &found);
    assert_eq!(found["total_results"], 1);
    let (st, bad) = api
        .call(M::GET, &format!("/channels/{cid}/messages?limit=101"), None)
        .await;
    assert_eq!(st, 400);
    check("ErrorResponse", &bad);
    assert_eq!(bad["code"], 50035);
    let (st, missing) = api
        .call(M::GET, &format!("/channels/{cid}/messages/1"), None)
        .await;
    assert_eq!((st, missing["code"].as_u64()), (404, Some(10008)));
    check("ErrorResponse", &missing);
    let mut limited = None;
    for i in 0..6 {
        let (st, body) = api
            .call(
                M::POST,
                &format!("/channels/{cid}/messages"),
                Some(json!({"content": format!("m{i}")})),
            )
            .await;
        if st == 429 {
            limited = Some(body);
        }
    }
    check(
        "RatelimitedResponse",
        &limited.expect("the sixth create in 5 s is refused"),
    );
    let (st, _) = api
        .call(M::DELETE, &format!("/channels/{cid}/messages/{mid}"), None)
        .await;
    assert_eq!(st, 204);
    let (st, deleted) = api.call(M::DELETE, &format!("/channels/{cid}"), None).await;
    assert_eq!(st, 200);
    check("GuildChannelResponse", &deleted);
}

#[tokio::test]
async fn no_bot_token_is_401_and_headers_carry_the_buckets() {
    let s = served(EmulatorConfig::in_memory()).await;
    let url = format!(
        "http://{}/api/v10/guilds/{}/channels",
        s.addr,
        s.emulator.guild_id()
    );
    let client = bot_client();
    let resp = client.get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = client
        .get(&url)
        .header("authorization", "Bearer x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = client
        .get(&url)
        .header("authorization", "Bot x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let h = resp.headers();
    let get = |k: &str| h.get(k).unwrap().to_str().unwrap().to_string();
    assert!(get("x-ratelimit-limit").parse::<u32>().is_ok());
    assert!(get("x-ratelimit-remaining").parse::<u32>().is_ok());
    assert!(get("x-ratelimit-reset-after").contains('.'));
    assert!(get("x-ratelimit-reset").contains('.'));
    assert_eq!(get("x-ratelimit-bucket"), "list_channels");
}
