//! `dbcord sim --served`: the same workload and checks, but the clients
//! talk HTTP to a served emulator on loopback, which draws the faults per
//! request (so the HTTP client's own retries, timeouts and nonces are what
//! is tested), and a kill drops a statement after a random real time.
//!
//! Real sockets and real time make the interleaving vary from run to run;
//! the seed still fixes the statements, the faults' sequence and the kills.

use std::sync::Arc;
use std::time::Duration;

use discord_api::{Discord, RateLimitPolicy, ScaledClock, SharedClock};
use discord_emulator::EmulatorConfig;
use discord_emulator::serve::{self, ServeOptions};
use discord_http::{DiscordConfig, Secret};

use super::client::Guild;
use super::plan::{Plan, TOKEN};
use super::report::Totals;
use super::world::{SeedRun, run_on};

/// Emulator seconds per real second: Discord's 5-second buckets last half
/// a second. Not faster: the clients' timeouts and backoff are real time,
/// and at this scale their worst retries still fall inside Discord's
/// 5-minute nonce window, as they do against Discord.
const TIME_SCALE: f64 = 10.0;

pub async fn run(plan: &Plan) -> SeedRun {
    let options = ServeOptions {
        token: Some(TOKEN.into()),
        time_scale: TIME_SCALE,
        faults: plan.faults.plan(plan.seed),
        ..Default::default()
    };
    let clock: SharedClock = Arc::new(ScaledClock::new(TIME_SCALE));
    let config = EmulatorConfig {
        fsync: false,
        ..EmulatorConfig::default()
    };
    let addr = "127.0.0.1:0".parse().expect("an address");
    let served = match serve::start(addr, config, clock, options).await {
        Ok(s) => s,
        Err(e) => {
            let mut totals = Totals::default();
            totals.violation(plan, format!("serving the emulator: {e}"));
            return SeedRun {
                totals,
                statements: Vec::new(),
            };
        }
    };
    let config = DiscordConfig {
        token: Secret::new(TOKEN),
        guild_id: served.emulator.guild_id(),
        api_base: format!("http://{}", served.addr),
        request_timeout: Duration::from_secs(2),
        max_retries: 4,
        // The 60 s a client waits out at most, in the server's time.
        rate_limit: RateLimitPolicy {
            max_wait: Some(Duration::from_secs_f64(60.0 / TIME_SCALE)),
            ..RateLimitPolicy::default()
        },
        invalid_request_budget: 9_000,
    };
    let guild = Guild::Served {
        emulator: Arc::clone(&served.emulator),
        config,
    };
    let mut run = run_on(plan, &guild).await;
    served.stop();
    run.totals.add_faults(&served.faults().drawn());
    // Every request the server answered, the checker's too.
    let counters = served.emulator.counters();
    run.totals.requests = counters.by_route.values().map(|c| c.requests).sum();
    run
}
