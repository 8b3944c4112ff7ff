//! The served emulator's edge, as Cloudflare in front of Discord behaves.

use std::sync::Arc;

use discord_api::ManualClock;
use discord_emulator::EmulatorConfig;
use discord_emulator::serve::{self, EdgeRules, ServeOptions};

async fn served(edge: EdgeRules) -> (String, String) {
    let options = ServeOptions {
        edge,
        ..Default::default()
    };
    let clock = Arc::new(ManualClock::fixed());
    let s = serve::start(
        "127.0.0.1:0".parse().unwrap(),
        EmulatorConfig::in_memory(),
        clock,
        options,
    )
    .await
    .unwrap();
    let guild = discord_api::Discord::guild_id(s.emulator.as_ref());
    (format!("http://{}/api/v10", s.addr), guild.to_string())
}

#[tokio::test]
async fn a_request_without_a_discord_bot_user_agent_is_refused() {
    let (base, guild) = served(EdgeRules::default()).await;
    let url = format!("{base}/guilds/{guild}/channels");
    let plain = reqwest::Client::new();
    let resp = plain
        .get(&url)
        .header("authorization", "Bot t")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(resp.text().await.unwrap(), "error code: 1010");
    let bot = reqwest::Client::builder()
        .user_agent("DiscordBot (https://example.com, 1.0)")
        .build()
        .unwrap();
    let ok = bot
        .get(&url)
        .header("authorization", "Bot t")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
}

#[tokio::test]
async fn too_many_invalid_requests_get_a_cloudflare_ban() {
    let rules = EdgeRules {
        ban_after: 5,
        ..EdgeRules::default()
    };
    let (base, guild) = served(rules).await;
    let url = format!("{base}/guilds/{guild}/channels");
    let bot = reqwest::Client::builder()
        .user_agent("DiscordBot (https://example.com, 1.0)")
        .build()
        .unwrap();
    for _ in 0..5 {
        let resp = bot.get(&url).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 401, "no token");
    }
    let banned = bot
        .get(&url)
        .header("authorization", "Bot t")
        .send()
        .await
        .unwrap();
    assert_eq!(banned.status().as_u16(), 429);
    assert!(banned.headers().get("x-ratelimit-bucket").is_none());
    assert!(banned.headers().get("x-ratelimit-scope").is_none());
    assert!(banned.text().await.unwrap().contains("error code: 1015"));
}
