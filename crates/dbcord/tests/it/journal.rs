//! The emulator's own durability: `kill -9` of a served emulator while
//! clients write, then its data directory opened again, holds every
//! message the server acknowledged. A twin shows that the check has
//! teeth: with the last acknowledged record cut from the journal, the
//! same check names the message that went missing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use discord_api::{
    Discord, ManualClock, NewChannel, NewMessage, RealClock, Snowflake, channel_type,
};
use discord_emulator::{Emulator, EmulatorConfig};
use discord_http::{DiscordConfig, HttpDiscord, Secret};

const TOKEN: &str = "journal-test-token";

/// Serve a data directory in a child process; its API base and guild.
fn serve(dir: &Path) -> (Child, String, Snowflake) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbcord"))
        .arg("--data-dir")
        .arg(dir)
        .args(["emulator", "serve", "--time-scale", "100", "--token", TOKEN])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut guild) = (None, None);
    while base.is_none() || guild.is_none() {
        let line = lines
            .next()
            .expect("the server prints its address")
            .unwrap();
        if let Some(b) = line.strip_prefix("DISCORD_API_BASE=") {
            base = Some(b.to_string());
        }
        if let Some(g) = line.strip_prefix("DBCORD_GUILD_ID=") {
            guild = Some(Snowflake(g.parse().unwrap()));
        }
    }
    (child, base.unwrap(), guild.unwrap())
}

async fn client(base: &str, guild: Snowflake) -> Arc<HttpDiscord> {
    let config = DiscordConfig {
        token: Secret::new(TOKEN),
        guild_id: guild,
        api_base: base.to_string(),
        request_timeout: Duration::from_secs(2),
        max_retries: 0,
        rate_limit: Default::default(),
        invalid_request_budget: 9_000,
    };
    Arc::new(
        HttpDiscord::connect(config, Arc::new(RealClock))
            .await
            .unwrap(),
    )
}

/// The acknowledged messages the data directory does not hold.
fn missing(dir: &Path, channel: Snowflake, acked: &[Snowflake]) -> Vec<Snowflake> {
    let config = EmulatorConfig {
        data_dir: Some(dir.to_path_buf()),
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::open(config, Arc::new(ManualClock::fixed())).unwrap();
    let held: Vec<Snowflake> = emulator.messages_of(channel).iter().map(|m| m.id).collect();
    acked
        .iter()
        .filter(|id| !held.contains(id))
        .copied()
        .collect()
}

/// Four writers post until the server dies under them; returns the
/// channel and every message the server acknowledged.
async fn write_until_killed(
    mut child: Child,
    http: Arc<HttpDiscord>,
    kill_after: Duration,
) -> (Snowflake, Vec<Snowflake>) {
    let channel = http
        .create_channel(&NewChannel {
            name: "t".into(),
            kind: channel_type::TEXT,
            topic: None,
            parent_id: None,
        })
        .await
        .unwrap()
        .id;
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, acked) = (Arc::clone(&http), Arc::clone(&acked));
            tokio::spawn(async move {
                for i in 0.. {
                    let msg = NewMessage::idempotent(format!("writer {w} message {i}"));
                    match http.create_message(channel, &msg).await {
                        Ok(m) => acked.lock().unwrap().push(m.id),
                        Err(discord_api::DiscordError::RateLimited { .. }) => {}
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(kill_after).await;
    child.kill().unwrap(); // SIGKILL, mid-write
    child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    (channel, acked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_served_emulator_keeps_every_acknowledged_write() {
    let mut total = 0;
    for round in 0..5u64 {
        let dir = tempfile::tempdir().unwrap();
        let (child, base, guild) = serve(dir.path());
        let http = client(&base, guild).await;
        let kill_after = Duration::from_millis(150 + 70 * round);
        let (channel, acked) = write_until_killed(child, http, kill_after).await;
        assert!(!acked.is_empty(), "round {round}: nothing was acknowledged");
        assert_eq!(
            missing(dir.path(), channel, &acked),
            vec![],
            "round {round}"
        );
        total += acked.len();
    }
    assert!(total >= 20, "only {total} writes were acknowledged in all");
}

/// The twin: cut the journal's last record (as a server that acknowledged
/// before writing would have lost it) and the same check finds the gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_check_finds_an_acknowledged_write_the_journal_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base, guild) = serve(dir.path());
    let http = client(&base, guild).await;
    let (channel, acked) = write_until_killed(child, http, Duration::from_millis(300)).await;
    assert_eq!(missing(dir.path(), channel, &acked), vec![]);
    let journal = dir.path().join("guild.journal");
    let text = std::fs::read_to_string(&journal).unwrap();
    let newest = acked.iter().max().unwrap().to_string();
    let mut lines: Vec<&str> = text.lines().collect();
    let its_record = lines
        .iter()
        .position(|l| l.contains("\"message_created\"") && l.contains(&newest))
        .expect("the newest acknowledged message's record");
    lines.truncate(its_record);
    std::fs::write(&journal, lines.join("\n") + "\n").unwrap();
    let gone = missing(dir.path(), channel, &acked);
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(
        Some(&gone[0]),
        acked.iter().max(),
        "the newest acknowledged message"
    );
}
