//! Faults on demand, for testing a client against a Discord that misbehaves:
//! `--faults "429=0.05,500=0.02,lose=0.02,seed=7"`. The served emulator
//! draws one per request; [`crate::Faulty`] draws one per call in process.
//!
//! Each kind is something Discord (or the network in front of it) does:
//!
//! - `429`, `429g`, `429s`: a rate limit of the bot's bucket (a second or
//!   two), the global limit (about a second), or a shared scope (minutes:
//!   219 to 280 s are observed on thread creation). Nothing is done.
//! - `500`, `502`, `503`: a server error. Half of them come after the
//!   request was done (a gateway that lost the origin's answer does that).
//! - `stall`: the request hangs past the client's timeout (`stall_ms`,
//!   default 3000 ms); half of them are done in the end.
//! - `drop`: the connection drops before the request arrives.
//! - `lose`: the request is done and its answer is lost.
//!
//! `after=N` lets the first N requests through untouched (a client's
//! start-up, say).
//!
//! Draws come from a seeded generator, so a run can be repeated, and the
//! plan counts what it drew, so a run can say what it survived.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use discord_api::{RateLimitScope, SeededRng};

/// What to do to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    None,
    /// Answer 429 with this scope and wait, without doing the request.
    RateLimit {
        scope: RateLimitScope,
        retry_after: f64,
    },
    /// Answer this 5xx, after doing the request if `applied`.
    ServerError {
        status: u16,
        applied: bool,
    },
    /// Hold the request this long; it is done in the end if `applied`.
    Stall {
        hold: Duration,
        applied: bool,
    },
    /// The connection drops before the request arrives.
    Drop,
    /// The request is done; its answer never comes.
    Lose,
}

impl Fault {
    /// The kind's name, as the spec and the counts write it.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::RateLimit { scope, .. } => match scope {
                RateLimitScope::User => "429",
                RateLimitScope::Global => "429g",
                RateLimitScope::Shared => "429s",
            },
            Fault::ServerError { status: 500, .. } => "500",
            Fault::ServerError { status: 502, .. } => "502",
            Fault::ServerError { .. } => "503",
            Fault::Stall { .. } => "stall",
            Fault::Drop => "drop",
            Fault::Lose => "lose",
        }
    }
}

/// The kinds a spec may name, in the order draws test them.
const KINDS: [&str; 9] = [
    "429", "429g", "429s", "500", "502", "503", "stall", "drop", "lose",
];

/// A fault spec as given (`kind=probability,...`, and `seed=N`,
/// `stall_ms=N`, `after=N`), parsed once: every process of a simulation
/// draws from a plan made of it.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    text: String,
    /// Probability of each of [`KINDS`], in its order.
    chance: [f64; KINDS.len()],
    stall_for: Duration,
    /// Requests let through before any fault.
    after: u64,
    /// The seed the spec names, if it names one.
    seed: Option<u64>,
}

impl Default for FaultSpec {
    fn default() -> Self {
        FaultSpec {
            text: String::new(),
            chance: [0.0; KINDS.len()],
            stall_for: Duration::from_millis(3000),
            after: 0,
            seed: None,
        }
    }
}

impl std::fmt::Display for FaultSpec {
    /// The spec as it was given.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for FaultSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<FaultSpec, String> {
        FaultSpec::parse(spec)
    }
}

impl FaultSpec {
    /// Parse `kind=probability,...` (and `seed=N`, `stall_ms=N`, `after=N`).
    pub fn parse(spec: &str) -> Result<FaultSpec, String> {
        let mut out = FaultSpec {
            text: spec.to_string(),
            ..FaultSpec::default()
        };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("fault \"{part}\" is not kind=value"))?;
            let num: f64 = value
                .parse()
                .map_err(|_| format!("fault {key}: \"{value}\" is not a number"))?;
            match key {
                "stall_ms" => out.stall_for = Duration::from_millis(num as u64),
                "after" => out.after = num as u64,
                "seed" => out.seed = Some(num as u64),
                _ => {
                    let i = KINDS.iter().position(|k| *k == key).ok_or_else(|| {
                        format!(
                            "unknown fault \"{key}\"; use {}, stall_ms, after, seed",
                            KINDS.join(", ")
                        )
                    })?;
                    if !(0.0..=1.0).contains(&num) {
                        return Err(format!(
                            "fault {key}: a probability is between 0 and 1, not {num}"
                        ));
                    }
                    out.chance[i] = num;
                }
            }
        }
        let total: f64 = out.chance.iter().sum();
        if total > 1.0 {
            return Err(format!(
                "the fault probabilities add up to {total}, more than 1"
            ));
        }
        Ok(out)
    }

    /// The seed the spec names (`seed=N`), if it names one.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// A plan drawing faults of this spec from `seed`.
    pub fn plan(&self, seed: u64) -> FaultPlan {
        FaultPlan {
            spec: self.clone(),
            requests: AtomicU64::new(0),
            rng: Mutex::new(SeededRng::new(seed)),
            drawn: Mutex::default(),
        }
    }
}

/// Faults as they are drawn: a spec, the generator that draws them, and
/// what was drawn.
#[derive(Debug)]
pub struct FaultPlan {
    spec: FaultSpec,
    /// Requests asked about so far.
    requests: AtomicU64,
    rng: Mutex<SeededRng>,
    drawn: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultSpec::default().plan(0)
    }
}

impl FaultPlan {
    /// A plan of `spec`, seeded by the spec's `seed=` (else 0).
    pub fn parse(spec: &str) -> Result<FaultPlan, String> {
        let spec = FaultSpec::parse(spec)?;
        Ok(spec.plan(spec.seed().unwrap_or(0)))
    }

    /// How long a stall holds a request.
    pub fn stall_for(&self) -> Duration {
        self.spec.stall_for
    }

    /// The fault for the next request (counted unless it is none).
    pub fn draw(&self) -> Fault {
        if self.requests.fetch_add(1, Ordering::SeqCst) < self.spec.after {
            return Fault::None;
        }
        let r = self.next_unit();
        let mut edge = 0.0;
        let mut kind = None;
        for (i, p) in self.spec.chance.iter().enumerate() {
            edge += p;
            if r < edge {
                kind = Some(KINDS[i]);
                break;
            }
        }
        let Some(kind) = kind else {
            return Fault::None;
        };
        let fault = self.shape(kind);
        *self.lock_drawn().entry(fault.kind()).or_default() += 1;
        fault
    }

    /// Requests the plan has been asked about (faulted or not).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Faults drawn so far, by kind.
    pub fn drawn(&self) -> BTreeMap<&'static str, u64> {
        self.lock_drawn().clone()
    }

    /// The details of a fault of `kind`: its wait, status, or whether it is done.
    fn shape(&self, kind: &str) -> Fault {
        let u = self.next_unit();
        let limited = |scope, retry_after| Fault::RateLimit { scope, retry_after };
        match kind {
            "429" => limited(RateLimitScope::User, 0.05 + 2.0 * u),
            "429g" => limited(RateLimitScope::Global, 0.5 + 0.5 * u),
            "429s" => limited(RateLimitScope::Shared, 219.0 + 61.0 * u),
            "500" | "502" | "503" => Fault::ServerError {
                status: kind.parse().expect("a status"),
                applied: u < 0.5,
            },
            "stall" => Fault::Stall {
                hold: self.spec.stall_for,
                applied: u < 0.5,
            },
            "drop" => Fault::Drop,
            _ => Fault::Lose,
        }
    }

    fn lock_drawn(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, u64>> {
        self.drawn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next_unit(&self) -> f64 {
        self.rng.lock().unwrap_or_else(|p| p.into_inner()).unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_draws_roughly_as_asked() {
        let plan = FaultPlan::parse("429=0.1, 500=0.1, lose=0.1, seed=3").unwrap();
        let draws: Vec<&str> = (0..10_000).map(|_| plan.draw().kind()).collect();
        let share = |k: &str| draws.iter().filter(|d| **d == k).count() as f64 / 10_000.0;
        assert!((share("429") - 0.1).abs() < 0.02);
        assert!((share("lose") - 0.1).abs() < 0.02);
        assert!((share("none") - 0.7).abs() < 0.03);
        assert_eq!(
            plan.drawn()["lose"],
            draws.iter().filter(|d| **d == "lose").count() as u64
        );
    }

    #[test]
    fn the_same_seed_draws_the_same_faults() {
        let spec = "429s=0.2,503=0.2,stall=0.2";
        let a = FaultSpec::parse(spec).unwrap().plan(9);
        let b = FaultSpec::parse(spec).unwrap().plan(9);
        for _ in 0..500 {
            assert_eq!(a.draw(), b.draw());
        }
    }

    #[test]
    fn the_first_requests_pass_when_asked() {
        let plan = FaultPlan::parse("500=1,after=3").unwrap();
        let kinds: Vec<&str> = (0..5).map(|_| plan.draw().kind()).collect();
        assert_eq!(kinds, ["none", "none", "none", "500", "500"]);
        assert_eq!(plan.drawn().values().sum::<u64>(), 2);
    }

    #[test]
    fn bad_specs_name_the_problem() {
        let err = |s| FaultPlan::parse(s).unwrap_err();
        assert!(err("429=2").contains("between 0 and 1"));
        assert!(err("boom=0.1").contains("unknown fault"));
        assert!(err("429").contains("kind=value"));
        assert!(err("500=0.6,502=0.6").contains("more than 1"));
    }
}
