//! Faults on demand, for testing a client against a Discord that misbehaves:
//! `--faults "429=0.05,500=0.05,stall=0.02,lose=0.02,seed=7"`.
//!
//! - `429`: answer 429 (scope shared) without doing the request;
//! - `500`: answer 500 without doing it;
//! - `stall`: hold the request for `stall_ms` (default 3000 ms, real time) first;
//! - `lose`: do the request, then never answer (the client times out).
//!
//! Draws come from a seeded generator, so a run can be repeated.

use std::sync::Mutex;
use std::time::Duration;

/// What to do to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    RateLimit,
    ServerError,
    Stall(Duration),
    Lose,
}

/// Fault probabilities and the generator that draws them.
#[derive(Debug)]
pub struct FaultPlan {
    rate_limit: f64,
    server_error: f64,
    stall: f64,
    lose: f64,
    stall_for: Duration,
    state: Mutex<u64>,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan {
            rate_limit: 0.0,
            server_error: 0.0,
            stall: 0.0,
            lose: 0.0,
            stall_for: Duration::from_millis(3000),
            state: Mutex::new(0x9e37_79b9_7f4a_7c15),
        }
    }
}

impl FaultPlan {
    /// Parse `kind=probability,...` (and `seed=N`, `stall_ms=N`).
    pub fn parse(spec: &str) -> Result<FaultPlan, String> {
        let mut plan = FaultPlan::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("fault \"{part}\" is not kind=value"))?;
            let num: f64 = value
                .parse()
                .map_err(|_| format!("fault {key}: \"{value}\" is not a number"))?;
            let p = || {
                if (0.0..=1.0).contains(&num) {
                    Ok(num)
                } else {
                    Err(format!(
                        "fault {key}: a probability is between 0 and 1, not {num}"
                    ))
                }
            };
            match key {
                "429" => plan.rate_limit = p()?,
                "500" => plan.server_error = p()?,
                "stall" => plan.stall = p()?,
                "lose" => plan.lose = p()?,
                "stall_ms" => plan.stall_for = Duration::from_millis(num as u64),
                "seed" => plan.state = Mutex::new((num as u64).max(1)),
                _ => {
                    return Err(format!(
                        "unknown fault \"{key}\"; use 429, 500, stall, lose, stall_ms, seed"
                    ));
                }
            }
        }
        Ok(plan)
    }

    /// The fault for the next request.
    pub fn draw(&self) -> Fault {
        let r = self.next_unit();
        let mut edge = self.rate_limit;
        if r < edge {
            return Fault::RateLimit;
        }
        edge += self.server_error;
        if r < edge {
            return Fault::ServerError;
        }
        edge += self.stall;
        if r < edge {
            return Fault::Stall(self.stall_for);
        }
        edge += self.lose;
        if r < edge {
            return Fault::Lose;
        }
        Fault::None
    }

    /// xorshift64*: small, seeded, good enough to spread faults.
    fn next_unit(&self) -> f64 {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s ^= *s >> 12;
        *s ^= *s << 25;
        *s ^= *s >> 27;
        let x = s.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_draws_roughly_as_asked() {
        let plan = FaultPlan::parse("429=0.1, 500=0.1, lose=0.1, seed=3").unwrap();
        let draws: Vec<Fault> = (0..10_000).map(|_| plan.draw()).collect();
        let share = |f: Fault| draws.iter().filter(|d| **d == f).count() as f64 / 10_000.0;
        assert!((share(Fault::RateLimit) - 0.1).abs() < 0.02);
        assert!((share(Fault::Lose) - 0.1).abs() < 0.02);
        assert!((share(Fault::None) - 0.7).abs() < 0.03);
    }

    #[test]
    fn bad_specs_name_the_problem() {
        assert!(
            FaultPlan::parse("429=2")
                .unwrap_err()
                .contains("between 0 and 1")
        );
        assert!(
            FaultPlan::parse("boom=0.1")
                .unwrap_err()
                .contains("unknown fault")
        );
        assert!(FaultPlan::parse("429").unwrap_err().contains("kind=value"));
    }
}
