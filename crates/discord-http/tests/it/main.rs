//! The HTTP client against the emulator served as Discord API v10: the
//! start-up check, request encoding, uploads and expiring URLs.

use std::sync::Arc;
use std::time::Duration;

use discord_api::attachments;
use discord_api::limits::permission;
use discord_api::{
    ByteRange, Discord, ManualClock, NewChannel, NewFile, NewMessage, SearchQuery, Snowflake,
    channel_type,
};
use discord_emulator::serve::{self, ServeOptions};
use discord_emulator::{Emulator, EmulatorConfig};
use discord_http::{DiscordConfig, HttpDiscord, Secret, StartupError};

/// An emulator on a virtual clock, served on 127.0.0.1.
struct Served {
    clock: Arc<ManualClock>,
    emulator: Arc<Emulator>,
    addr: std::net::SocketAddr,
}

impl Served {
    async fn start(config: EmulatorConfig, token: Option<&str>) -> Served {
        let clock = Arc::new(ManualClock::fixed());
        let options = ServeOptions {
            token: token.map(str::to_string),
            time_scale: 1.0,
            ..Default::default()
        };
        let served = serve::start(
            "127.0.0.1:0".parse().unwrap(),
            config,
            clock.clone(),
            options,
        )
        .await
        .unwrap();
        Served {
            clock,
            emulator: served.emulator,
            addr: served.addr,
        }
    }

    fn config(&self) -> DiscordConfig {
        DiscordConfig {
            token: Secret::new("test-token"),
            guild_id: self.emulator.guild_id(),
            api_base: format!("http://{}", self.addr),
            request_timeout: Duration::from_secs(5),
            max_retries: 5,
            rate_limit: Default::default(),
            invalid_request_budget: 9_000,
        }
    }

    async fn client(&self) -> HttpDiscord {
        HttpDiscord::connect(self.config(), self.clock.clone())
            .await
            .unwrap()
    }
}

fn text_channel(name: &str) -> NewChannel {
    NewChannel {
        name: name.into(),
        kind: channel_type::TEXT,
        topic: None,
        parent_id: None,
    }
}

async fn startup(
    config: EmulatorConfig,
    token: Option<&str>,
    guild: Option<u64>,
) -> Result<HttpDiscord, StartupError> {
    let served = Served::start(config, token).await;
    let mut cfg = served.config();
    if let Some(g) = guild {
        cfg.guild_id = Snowflake(g);
    }
    HttpDiscord::connect(cfg, served.clock.clone()).await
}

#[tokio::test]
async fn the_startup_check_names_each_problem() {
    let err = startup(EmulatorConfig::in_memory(), Some("another-token"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StartupError::InvalidToken), "{err}");
    assert!(!err.to_string().contains("test-token"));
    let err = startup(EmulatorConfig::in_memory(), None, Some(42))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not in guild 42"), "{err}");
    let no_perms = EmulatorConfig {
        bot_permissions: permission::VIEW_CHANNEL | permission::SEND_MESSAGES,
        ..EmulatorConfig::in_memory()
    };
    let err = startup(no_perms, None, None).await.unwrap_err();
    assert!(
        err.to_string().contains("MANAGE_CHANNELS")
            && err.to_string().contains("READ_MESSAGE_HISTORY"),
        "{err}"
    );
    let no_intent = EmulatorConfig {
        message_content_intent: false,
        ..EmulatorConfig::in_memory()
    };
    let err = startup(no_intent, None, None).await.unwrap_err();
    assert!(err.to_string().contains("Message Content intent"), "{err}");
    startup(EmulatorConfig::in_memory(), Some("test-token"), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn search_values_are_percent_encoded() {
    let s = Served::start(EmulatorConfig::in_memory(), None).await;
    let ch = s.emulator.create_channel(&text_channel("t")).await.unwrap();
    s.emulator
        .post_as_person(ch.id, "fish&chips #1 c++")
        .unwrap();
    let http = s.client().await;
    let first = http.search(&SearchQuery::default()).await;
    assert!(first.is_err(), "the first search of a guild answers 202");
    // Unencoded, '&' and '#' would cut the query short and '+' would become a space.
    let q = SearchQuery {
        content: Some("\"fish&chips #1\"".into()),
        channel_ids: vec![ch.id],
        ..Default::default()
    };
    assert_eq!(http.search(&q).await.unwrap().total_results, 1);
    let q = SearchQuery {
        content: Some("c++ nothing".into()),
        channel_ids: vec![ch.id],
        ..Default::default()
    };
    assert_eq!(
        http.search(&q).await.unwrap().total_results,
        0,
        "both words must match"
    );
}

#[tokio::test]
async fn channels_report_their_last_message() {
    let s = Served::start(EmulatorConfig::in_memory(), None).await;
    let http = s.client().await;
    let ch = http.create_channel(&text_channel("log")).await.unwrap();
    assert_eq!(http.get_channel(ch.id).await.unwrap().last_message_id, None);
    let m = http
        .create_message(ch.id, &NewMessage::text("one"))
        .await
        .unwrap();
    assert_eq!(
        http.get_channel(ch.id).await.unwrap().last_message_id,
        Some(m.id)
    );
}

#[tokio::test]
async fn files_upload_as_multipart_and_expired_urls_are_refreshed() {
    let s = Served::start(EmulatorConfig::in_memory(), None).await;
    let http = s.client().await;
    let ch = http.create_channel(&text_channel("files")).await.unwrap();
    let msg = NewMessage {
        content: "blob".into(),
        files: vec![NewFile {
            filename: "a.bin".into(),
            bytes: vec![1, 2, 3],
        }],
        ..Default::default()
    };
    let m = http.create_message(ch.id, &msg).await.unwrap();
    let a = &m.attachments[0];
    assert!(
        a.url.starts_with(&format!("http://{}/", s.addr)),
        "the URL points at the server: {}",
        a.url
    );
    assert_eq!(
        http.download_attachment(ch.id, m.id, a, None)
            .await
            .unwrap(),
        vec![1, 2, 3]
    );
    let middle = ByteRange { start: 1, end: 2 };
    assert_eq!(
        http.download_attachment(ch.id, m.id, a, Some(middle))
            .await
            .unwrap(),
        vec![2],
        "a range request"
    );
    s.clock.advance(Duration::from_secs(25 * 3600));
    assert_eq!(
        reqwest::get(&a.url).await.unwrap().status().as_u16(),
        404,
        "the old URL has expired"
    );
    assert_eq!(
        attachments::download(&http, ch.id, m.id, a, None)
            .await
            .unwrap(),
        vec![1, 2, 3],
        "re-read for a fresh URL"
    );
}

/// A create whose answers keep failing after it may have been done is not
/// sent again once half of Discord's nonce window has passed: a repeat
/// after the window would store the message a second time.
#[tokio::test]
async fn a_doubtful_create_is_not_repeated_past_the_nonce_window() {
    let clock = Arc::new(ManualClock::fixed());
    let options = ServeOptions {
        faults: discord_emulator::FaultPlan::parse("500=1,after=30").unwrap(),
        ..Default::default()
    };
    let addr = "127.0.0.1:0".parse().unwrap();
    let served = serve::start(addr, EmulatorConfig::in_memory(), clock.clone(), options)
        .await
        .unwrap();
    let config = DiscordConfig {
        token: Secret::new("test-token"),
        guild_id: served.emulator.guild_id(),
        api_base: format!("http://{}", served.addr),
        request_timeout: Duration::from_secs(5),
        max_retries: 200,
        rate_limit: Default::default(),
        invalid_request_budget: 9_000,
    };
    let http = HttpDiscord::connect(config, clock.clone()).await.unwrap();
    let channel = http.create_channel(&text_channel("t")).await.unwrap();
    while served.faults().requests() < 30 {
        http.list_channels().await.unwrap();
    }
    let started = discord_api::Clock::now_ms(&*clock);
    let err = http
        .create_message(channel.id, &NewMessage::idempotent("once"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, discord_api::DiscordError::Server { status: 500, .. }),
        "{err}"
    );
    let tries = served.faults().drawn()["500"];
    let waited = discord_api::Clock::now_ms(&*clock) - started;
    let window = discord_api::limits::NONCE_WINDOW.as_millis() as u64;
    assert!(
        tries < 100,
        "{tries} tries: the window, not max_retries, stopped it"
    );
    assert!(waited >= window / 2 && waited < window, "{waited} ms");
    assert!(served.emulator.messages_of(channel.id).len() <= 1);
}

mod gateway;
