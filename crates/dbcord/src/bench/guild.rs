//! `dbcord bench --guild`: pushdown to Discord's search against the full
//! history scan, on a generated guild of the given size. Each typical
//! question runs both ways (`dbcord.guild_scan` = `search`, then
//! `history`): requests by route, simulated time under Discord's rate
//! limits, local time, and whether the two answers agree.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use discord_api::{Clock, ManualClock, RateLimitPolicy};
use discord_emulator::{Emulator, EmulatorConfig, SearchConfig};
use serde::Serialize;

use super::guild_data::{Generated, GuildShape, generate};
use crate::session::Session;
use crate::sql::Outcome;

/// One question answered one way.
#[derive(Clone, Debug, Serialize)]
pub struct GuildRun {
    pub messages: usize,
    pub question: String,
    /// `search` or `history`.
    pub scan: String,
    pub requests: BTreeMap<String, u64>,
    pub api_requests: u64,
    pub simulated_s: f64,
    pub local_ms: f64,
    pub rows: usize,
    /// Whether this answer is the other way's (set on both rows).
    pub agree: bool,
    #[serde(skip)]
    digest: Vec<String>,
}

/// The questions, each a name and its SQL.
fn questions(g: &Generated) -> Vec<(String, String)> {
    let rare = g.rare_author().id;
    let busiest = g.authors[0].id;
    let channel = g.channels[0].id;
    let mentioned = g.authors[5].id;
    let word = g.rare_word();
    let q = |name: &str, sql: String| (name.to_string(), sql);
    vec![
        q(
            "pinned messages, newest first",
            "SELECT id, channel_id FROM discord.messages WHERE pinned ORDER BY created_at DESC".into(),
        ),
        q(
            "a rare member's messages in the last month",
            format!(
                "SELECT count(*) FROM discord.messages WHERE author_id = {rare} \
                 AND created_at >= now() - INTERVAL '30 days'"
            ),
        ),
        q(
            "links posted in the busiest channel last week",
            format!(
                "SELECT id FROM discord.messages WHERE channel_id = {channel} AND has_link \
                 AND created_at >= now() - INTERVAL '7 days'"
            ),
        ),
        q(
            "every message with a rare word",
            format!("SELECT id FROM discord.messages WHERE has_word(content, '{word}')"),
        ),
        q(
            "messages mentioning a member",
            format!("SELECT count(*) FROM discord.messages WHERE mentions_user(mentions, '{mentioned}')"),
        ),
        q(
            "the busiest member's newest 20",
            format!(
                "SELECT id, content FROM discord.messages WHERE author_id = {busiest} \
                 ORDER BY created_at DESC LIMIT 20"
            ),
        ),
        q(
            "messages per member in the last week (no search filter)",
            "SELECT author_id, count(*) AS n FROM discord.messages \
             WHERE created_at >= now() - INTERVAL '7 days' GROUP BY author_id ORDER BY n DESC, author_id LIMIT 10"
                .into(),
        ),
    ]
}

/// Generate a guild of `messages` messages and ask it every question both ways.
pub async fn run(messages: usize) -> Result<Vec<GuildRun>> {
    if messages < 1_000 {
        bail!("--messages must be at least 1000");
    }
    let shape = GuildShape::realistic(messages);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let clock = Arc::new(ManualClock::new(now_ms - shape.days * 86_400_000));
    // Discord's search as the emulator has it by default (lag, phrases,
    // short and empty pages, a 202 first); history is exact.
    let config = EmulatorConfig {
        search: SearchConfig::strict(),
        ..EmulatorConfig::in_memory()
    };
    let session = Session::embedded(config, clock.clone(), RateLimitPolicy::default()).await?;
    let emulator = Arc::clone(session.emulator().context("an embedded guild")?);
    let discord = Arc::clone(session.engine.store().discord());
    let made = generate(&emulator, discord.as_ref(), clock.as_ref(), &shape).await?;
    let mut out = Vec::new();
    for (name, sql) in questions(&made) {
        let mut pair = Vec::new();
        for scan in ["search", "history"] {
            session
                .engine
                .execute(&format!("SET dbcord.guild_scan = '{scan}'"))
                .await?;
            pair.push(ask(&session, &emulator, &clock, messages, &name, scan, &sql).await?);
        }
        let agree = pair[0].digest == pair[1].digest;
        out.extend(pair.into_iter().map(|r| GuildRun { agree, ..r }));
    }
    Ok(out)
}

async fn ask(
    session: &Session,
    emulator: &Emulator,
    clock: &ManualClock,
    messages: usize,
    question: &str,
    scan: &str,
    sql: &str,
) -> Result<GuildRun> {
    let before = emulator.counters();
    let t0 = clock.now_us();
    let start = Instant::now();
    let outcome = session.engine.execute(sql).await?.pop();
    let local = start.elapsed();
    let spent = emulator.counters().since(&before);
    let Some(Outcome::Rows { batches, .. }) = outcome else {
        bail!("{question}: no rows");
    };
    let mut digest: Vec<String> = Vec::new();
    for b in &batches {
        for row in 0..b.num_rows() {
            let cells: Vec<String> = b
                .columns()
                .iter()
                .map(|c| datafusion::arrow::util::display::array_value_to_string(c, row))
                .collect::<Result<_, _>>()?;
            digest.push(cells.join("|"));
        }
    }
    digest.sort();
    Ok(GuildRun {
        messages,
        question: question.into(),
        scan: scan.into(),
        requests: super::measure::api_requests_by_route(&spent),
        api_requests: spent.total_requests(),
        simulated_s: Duration::from_micros(clock.now_us() - t0).as_secs_f64(),
        local_ms: local.as_secs_f64() * 1e3,
        rows: digest.len(),
        agree: false,
        digest,
    })
}

/// The runs as a Markdown table, with search's saving beside each pair.
pub fn markdown(all: &[GuildRun]) -> String {
    let mut out = String::from(
        "| messages | question | scan | API requests | simulated s | local ms | rows | agree | requests saved |\n\
         |---:|---|---|---|---:|---:|---:|---|---:|\n",
    );
    for pair in all.chunks(2) {
        let saved = match pair {
            [s, h] => format!(
                "{:.0}x",
                h.api_requests as f64 / s.api_requests.max(1) as f64
            ),
            _ => "-".into(),
        };
        for (i, r) in pair.iter().enumerate() {
            let routes: Vec<String> = r.requests.iter().map(|(k, n)| format!("{k} {n}")).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} ({}) | {:.1} | {:.0} | {} | {} | {} |\n",
                r.messages,
                r.question,
                r.scan,
                r.api_requests,
                routes.join(", "),
                r.simulated_s,
                r.local_ms,
                r.rows,
                if r.agree { "yes" } else { "NO" },
                if i == 0 { saved.as_str() } else { "" },
            ));
        }
    }
    out
}

pub fn json(all: &[GuildRun]) -> String {
    serde_json::to_string_pretty(all).expect("plain data serialises")
}
