//! `cargo bench -p discord-emulator --bench search`: what the emulator's
//! search costs in local time at scale, and what loading a guild costs.
//!
//! For each size (default 100,000 and 1,000,000 row messages; set
//! `DBCORD_BENCH_SIZES=10000,100000` for others) it writes a guild of
//! dbcord-like row messages into a data directory, then reports:
//! - a one-token search answered (1 hit, and a token in 1% of the rows),
//!   median and 99th percentile of local time;
//! - opening the guild again (replaying the journal) in a fresh process:
//!   its time and the memory it holds afterwards.
//!
//! Both should grow linearly with the messages stored, and a search should
//! cost about its hits, not the guild's size.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use discord_api::{Discord, ManualClock, NewChannel, NewMessage, SearchQuery, channel_type};
use discord_emulator::{Emulator, EmulatorConfig, SearchConfig};

fn config(dir: &Path) -> EmulatorConfig {
    EmulatorConfig {
        data_dir: Some(dir.to_path_buf()),
        fsync: false,
        buckets: vec![],
        global_per_second: u32::MAX,
        search: SearchConfig {
            first_search_202: false,
            ..SearchConfig::strict_with_lag(Duration::ZERO)
        },
        ..EmulatorConfig::default()
    }
}

/// A row message shaped like dbcord's: a marker, three tokens, JSON.
fn row(i: u64) -> String {
    format!(
        "dbcrow qkey{i:x}k qrole{}r qage{}a\n{{\"id\":\"u_{i}\",\"role\":\"r{}\",\"age\":{}}}",
        i % 100,
        i % 61,
        i % 100,
        i % 61
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--load") {
        return load_and_report(Path::new(&args[at + 1]));
    }
    let sizes: Vec<u64> = std::env::var("DBCORD_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    println!(
        "| messages | write (s) | search, 1 hit: median / p99 | search, 1% of rows: median / p99 | journal | load (s) | memory after load |"
    );
    println!("|---|---|---|---|---|---|---|");
    for n in sizes {
        rt.block_on(measure(n));
    }
}

async fn measure(n: u64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clock = Arc::new(ManualClock::fixed());
    let d = Emulator::open(config(dir.path()), clock.clone()).expect("an emulator");
    let channel = NewChannel {
        name: "table-users".into(),
        kind: channel_type::TEXT,
        topic: None,
        parent_id: None,
    };
    let ch = d.create_channel(&channel).await.expect("a channel").id;
    let start = Instant::now();
    for i in 0..n {
        d.create_message(ch, &NewMessage::text(row(i)))
            .await
            .expect("a message");
        if i % 1000 == 999 {
            clock.advance(Duration::from_millis(10));
        }
    }
    let write = start.elapsed();
    clock.advance(Duration::from_secs(600));
    let one = timings(&d, ch, |i| format!("qkey{:x}k", (i * 7919) % n)).await;
    let common = timings(&d, ch, |i| format!("qrole{}r", i % 100)).await;
    drop(d);
    let journal = std::fs::metadata(dir.path().join("guild.journal"))
        .map(|m| m.len())
        .unwrap_or(0);
    let exe = std::env::current_exe().expect("the bench binary");
    let out = Command::new(exe)
        .arg("--load")
        .arg(dir.path())
        .output()
        .expect("a child process");
    let load = String::from_utf8_lossy(&out.stdout).trim().to_string();
    println!(
        "| {n} | {:.1} | {} | {} | {:.0} MiB | {load} |",
        write.as_secs_f64(),
        one,
        common,
        journal as f64 / 1048576.0
    );
}

/// Median and 99th percentile of 200 one-token searches (first page).
async fn timings(d: &Emulator, ch: discord_api::Snowflake, word: impl Fn(u64) -> String) -> String {
    let mut times = Vec::new();
    for i in 0..200 {
        let q = SearchQuery {
            content: Some(word(i)),
            channel_ids: vec![ch],
            ..Default::default()
        };
        let t = Instant::now();
        let r = d.search(&q).await.expect("a search");
        times.push(t.elapsed());
        assert!(r.total_results > 0, "the token is found");
    }
    times.sort();
    format!("{:.2} ms / {:.2} ms", ms(times[100]), ms(times[198]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// In a fresh process: open the guild, print the time and resident memory.
fn load_and_report(dir: &Path) {
    let rss_before = rss_kib();
    let t = Instant::now();
    let clock = Arc::new(ManualClock::fixed());
    let d = Emulator::open(config(dir), clock).expect("the guild opens");
    let took = t.elapsed();
    let grew = rss_kib().saturating_sub(rss_before);
    println!(
        "{:.1} | {:.0} MiB",
        took.as_secs_f64(),
        grew as f64 / 1024.0
    );
    drop(d);
}

/// Resident memory of this process (Linux), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
