//! A realistic guild, made in the emulator as its people would have made
//! it over months: categories and channels, members whose activity is
//! heavy-tailed (a few post most), a vocabulary of common and rare words,
//! links, mentions, replies, threads and pins. Seeded, so a run repeats.
//!
//! The guild is built on the emulator's clock, which the caller starts
//! `days` in the past: each message is posted at its own time (its ID says
//! when), and the clock ends at the present.

use discord_api::{
    Channel, Clock, Discord, DiscordResult, NewChannel, SeededRng, Snowflake, User, channel_type,
};
use discord_emulator::{Emulator, PersonPost};

/// How big a guild to make.
#[derive(Clone, Debug)]
pub struct GuildShape {
    pub categories: usize,
    pub channels_per_category: usize,
    pub members: usize,
    pub messages: usize,
    pub days: u64,
    pub seed: u64,
}

impl GuildShape {
    /// A guild of `messages` messages over a year, tens of channels.
    pub fn realistic(messages: usize) -> GuildShape {
        GuildShape {
            categories: 5,
            channels_per_category: 8,
            members: (messages / 100).clamp(50, 5_000),
            messages,
            days: 365,
            seed: 0x0006_091d,
        }
    }
}

/// What was made, for asking questions about it.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// Text channels, busiest first.
    pub channels: Vec<Channel>,
    pub threads: Vec<Channel>,
    /// Members by activity, the busiest first.
    pub authors: Vec<User>,
    pub bots: Vec<User>,
    /// Words by frequency, the most common first.
    pub words: Vec<String>,
    /// A few messages of each kind, to check answers against.
    pub pinned: usize,
    pub messages: usize,
}

impl Generated {
    /// A member who posted a little (deep in the tail), but posted.
    pub fn rare_author(&self) -> &User {
        &self.authors[self.authors.len() * 3 / 4]
    }

    /// A word used in a few messages only.
    pub fn rare_word(&self) -> &str {
        &self.words[self.words.len() * 9 / 10]
    }
}

/// Make `shape` in `emulator`, whose clock `clock` stands `shape.days`
/// in the past; the clock ends `shape.days` later. Channels are made by
/// `discord` (the emulator behind a rate-limit waiter), as a bot would.
pub async fn generate(
    emulator: &Emulator,
    discord: &dyn Discord,
    clock: &dyn Clock,
    shape: &GuildShape,
) -> DiscordResult<Generated> {
    let mut rng = SeededRng::new(shape.seed);
    let mut made = Generated {
        words: vocabulary(&mut rng, 4_000),
        ..Default::default()
    };
    for c in 0..shape.categories {
        let category = discord
            .create_channel(&NewChannel {
                name: format!("area {c}"),
                kind: channel_type::CATEGORY,
                topic: None,
                parent_id: None,
            })
            .await?;
        for i in 0..shape.channels_per_category {
            let name = format!("{}-{i}", made.words[c * 10 + i]);
            made.channels.push(
                discord
                    .create_channel(&NewChannel {
                        name,
                        kind: channel_type::TEXT,
                        topic: Some(format!("about {}", made.words[i])),
                        parent_id: Some(category.id),
                    })
                    .await?,
            );
        }
    }
    let roles: Vec<Snowflake> = ["mod", "regular", "new"]
        .iter()
        .map(|r| emulator.import_role(r, 0x3366cc).id)
        .collect();
    for i in 0..shape.members {
        let role = roles[i % roles.len()];
        let name = format!("{}{}", made.words[i % 300], i);
        made.authors
            .push(emulator.import_member(&name, false, vec![role]).user);
    }
    for name in ["helper-bot", "feed-bot"] {
        made.bots
            .push(emulator.import_member(name, true, Vec::new()).user);
    }
    post_all(emulator, clock, shape, &mut rng, &mut made).await?;
    Ok(made)
}

/// Every message, in time order.
async fn post_all(
    emulator: &Emulator,
    clock: &dyn Clock,
    shape: &GuildShape,
    rng: &mut SeededRng,
    made: &mut Generated,
) -> DiscordResult<()> {
    let span_us = shape.days * 86_400_000_000;
    let step_us = (span_us / shape.messages.max(1) as u64).max(1);
    let authors = zipf_table(made.authors.len(), 1.1);
    let channels = zipf_table(made.channels.len(), 0.8);
    let words = zipf_table(made.words.len(), 1.0);
    let mut recent: Vec<(Snowflake, Snowflake)> = Vec::new(); // (channel, message)
    for n in 0..shape.messages {
        clock.advance_to(clock.now_us() + 1 + rng.below(step_us * 2));
        let in_thread = !made.threads.is_empty() && rng.chance(0.08);
        let channel = if in_thread {
            made.threads[rng.below(made.threads.len() as u64) as usize].id
        } else {
            made.channels[draw(&channels, rng)].id
        };
        let bot = rng.chance(0.04);
        let author = if bot {
            made.bots[n % made.bots.len()].clone()
        } else {
            made.authors[draw(&authors, rng)].clone()
        };
        let content = sentence(rng, made, &words);
        let reply_to = recent
            .iter()
            .rev()
            .take(20)
            .find(|(c, _)| *c == channel)
            .map(|(_, m)| *m)
            .filter(|_| rng.chance(0.1));
        let m = emulator.import_message(PersonPost {
            channel,
            author: Some(author),
            content,
            reply_to,
            ..Default::default()
        })?;
        made.messages += 1;
        recent.push((channel, m.id));
        if recent.len() > 200 {
            recent.drain(..100);
        }
        if rng.chance(0.004) {
            emulator.import_pin(channel, m.id, true)?;
            made.pinned += 1;
        }
        if !in_thread && rng.chance(0.01) {
            let name = format!("{} talk", made.words[draw(&words, rng)]);
            made.threads
                .push(emulator.import_thread(channel, m.id, &name, 1440)?);
        }
    }
    Ok(())
}

/// A message: a few words drawn by frequency, sometimes a link, a
/// mention, or one of the deploy words (which `LIKE` and search read
/// differently).
fn sentence(rng: &mut SeededRng, made: &Generated, words: &[f64]) -> String {
    let len = 3 + rng.below(12) as usize;
    let mut parts: Vec<String> = (0..len)
        .map(|_| made.words[draw(words, rng)].clone())
        .collect();
    if rng.chance(0.03) {
        let host = ["example.com", "docs.rs", "github.com"][rng.below(3) as usize];
        parts.push(format!("https://{host}/{}", made.words[draw(words, rng)]));
    }
    if rng.chance(0.05) {
        let who = &made.authors[rng.below(made.authors.len() as u64) as usize];
        parts.insert(0, format!("<@{}>", who.id));
    }
    if rng.chance(0.02) {
        let w = ["deploy", "redeploy", "deployment", "Deploy", "deployed"];
        parts.push(w[rng.below(w.len() as u64) as usize].to_string());
    }
    parts.join(" ")
}

/// Pronounceable words without digits (a digit may end a search token).
fn vocabulary(rng: &mut SeededRng, n: usize) -> Vec<String> {
    const ONSETS: [&str; 16] = [
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "st", "tr",
    ];
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ai"];
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    while out.len() < n {
        let syllables = 2 + rng.below(3);
        let w: String = (0..syllables)
            .map(|_| {
                let o = ONSETS[rng.below(ONSETS.len() as u64) as usize];
                let v = VOWELS[rng.below(VOWELS.len() as u64) as usize];
                format!("{o}{v}")
            })
            .collect();
        // Words ending like an English suffix would stem into others.
        if !w.ends_with('s') && !w.ends_with("ed") && seen.insert(w.clone()) {
            out.push(w);
        }
    }
    out
}

/// Cumulative weights `1 / (rank + 1)^s`, for drawing ranks.
fn zipf_table(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (0..n)
        .map(|r| {
            acc += 1.0 / ((r + 1) as f64).powf(s);
            acc
        })
        .collect()
}

fn draw(table: &[f64], rng: &mut SeededRng) -> usize {
    let total = table.last().copied().unwrap_or(0.0);
    let x = rng.unit() * total;
    table.partition_point(|c| *c < x).min(table.len() - 1)
}
