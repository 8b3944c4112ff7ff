//! How a scan of `discord.messages` reads the guild: by search (one query
//! per branch of the filters' cover, a fresh window from history), by
//! history over the channels the filters name, or not at all.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use super::filters::Branch;

/// Which engine `discord.messages` reads with (`dbcord.guild_scan`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuildScan {
    /// Search where the filters narrow it, history elsewhere.
    Search,
    /// History only: every message of the channels in scope, exact.
    History,
}

/// What a history read covers: channels (with their threads), single
/// threads, and an ID range; `None` channels and no threads is everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub channels: Option<BTreeSet<u64>>,
    pub threads: BTreeSet<u64>,
    pub min_id: Option<u64>,
    pub max_id: Option<u64>,
}

impl Scope {
    /// The channels (and threads) every branch could match in, and the
    /// widest range of them.
    pub fn of(branches: &[Branch]) -> Scope {
        let mut scope = Scope {
            channels: Some(BTreeSet::new()),
            ..Default::default()
        };
        let mut everything = false;
        for b in branches {
            match (&b.channels, &b.threads) {
                (_, Some(t)) => scope.threads.extend(t),
                (Some(c), None) => scope.channels.get_or_insert_default().extend(c),
                (None, None) => everything = true,
            }
        }
        if everything {
            scope.channels = None;
            scope.threads.clear();
        }
        let all =
            |f: fn(&Branch) -> Option<u64>| branches.iter().map(f).collect::<Option<Vec<_>>>();
        scope.min_id = all(|b| b.min_id).and_then(|v| v.into_iter().min());
        scope.max_id = all(|b| b.max_id).and_then(|v| v.into_iter().max());
        scope
    }
}

/// The access path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// The filters contradict each other: no request at all.
    Nothing,
    /// One search per branch, newer messages from history.
    Search(Vec<Branch>),
    History(Scope),
}

/// Everything a scan of `discord.messages` decided before running.
#[derive(Clone, Debug)]
pub struct GuildPlan {
    pub access: Access,
    /// Filters search answers (re-checked on every row all the same).
    pub pushed: Vec<String>,
    /// Filters only checked on the rows read.
    pub post_only: Vec<String>,
    /// Messages younger than this are read from history, not search.
    pub fresh_window: Duration,
    /// How long 202s (index not ready) are waited out before history.
    pub wait_cap: Duration,
}

impl GuildPlan {
    /// The plan for filters whose cover is `cover`, in `mode`.
    pub fn access(cover: Option<Vec<Branch>>, mode: GuildScan) -> Access {
        match cover {
            Some(b) if b.is_empty() => Access::Nothing,
            Some(b) if mode == GuildScan::Search && b.iter().all(Branch::is_selective) => {
                Access::Search(b)
            }
            Some(b) => Access::History(Scope::of(&b)),
            None => Access::History(Scope::default()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |s: &BTreeSet<u64>| {
            s.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        match &self.channels {
            None if self.threads.is_empty() => write!(f, "every readable channel and thread")?,
            None => write!(f, "threads {}", list(&self.threads))?,
            Some(c) if self.threads.is_empty() => {
                write!(f, "channels {} and their threads", list(c))?
            }
            Some(c) => write!(
                f,
                "channels {} and their threads, threads {}",
                list(c),
                list(&self.threads)
            )?,
        }
        if let Some(m) = self.min_id {
            write!(f, ", stop at min_id={m}")?;
        }
        if let Some(m) = self.max_id {
            write!(f, ", from before={m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for GuildPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.access {
            Access::Nothing => write!(f, "access=none (the filters contradict each other)")?,
            Access::Search(branches) => {
                let list: Vec<String> = branches.iter().map(|b| b.to_string()).collect();
                write!(
                    f,
                    "access=search, search=[{}], sort=timestamp desc, paged by max_id, fresh_window=last {} s from history, on_202=wait up to {} s then history",
                    list.join(" | "),
                    self.fresh_window.as_secs(),
                    self.wait_cap.as_secs()
                )?;
            }
            Access::History(scope) => write!(f, "access=history ({scope}), 100 a page")?,
        }
        if !self.pushed.is_empty() {
            write!(f, ", pushed=[{}]", self.pushed.join(", "))?;
        }
        if !self.post_only.is_empty() {
            write!(f, ", post_filters=[{}]", self.post_only.join(", "))?;
        }
        Ok(())
    }
}
