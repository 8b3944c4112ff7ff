//! Time, as dbcord and the emulator see it.
//!
//! Rate-limit waits, latency and search lag are all measured on a [`Clock`], so
//! that tests and benchmarks run on virtual time while still knowing what the
//! same work would have cost on Discord.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

/// A source of "now" and a way to wait.
#[async_trait]
pub trait Clock: Send + Sync + Debug {
    /// Microseconds since the Unix epoch.
    fn now_us(&self) -> u64;

    /// Wait for `d`: really, or by moving virtual time forward.
    async fn sleep(&self, d: Duration);

    /// Ensure `now` is at least `unix_us`. A clock that restarts after a
    /// session that waited on virtual time must not go back before the
    /// snowflakes it already minted.
    fn advance_to(&self, unix_us: u64);

    fn now_ms(&self) -> u64 {
        self.now_us() / 1000
    }
}

pub type SharedClock = Arc<dyn Clock>;

fn wall_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Virtual time that moves only when someone sleeps or advances it: for
/// tests and benchmarks, which must be repeatable and never wait for real.
#[derive(Debug)]
pub struct ManualClock {
    now_us: AtomicU64,
}

impl ManualClock {
    pub fn new(start_unix_ms: u64) -> Self {
        ManualClock {
            now_us: AtomicU64::new(start_unix_ms * 1000),
        }
    }

    /// Starts at a fixed, recent instant (2026-01-01T00:00:00Z).
    pub fn fixed() -> Self {
        Self::new(1_767_225_600_000)
    }

    pub fn advance(&self, d: Duration) {
        self.now_us
            .fetch_add(d.as_micros() as u64, Ordering::SeqCst);
    }
}

#[async_trait]
impl Clock for ManualClock {
    fn now_us(&self) -> u64 {
        self.now_us.load(Ordering::SeqCst)
    }

    /// Sleeps end at their deadline: waits that overlap (concurrent range
    /// reads, each waiting its turn) overlap on virtual time too, instead
    /// of adding up as if they ran one after another.
    async fn sleep(&self, d: Duration) {
        let deadline = self.now_us() + d.as_micros() as u64;
        tokio::task::yield_now().await;
        self.advance_to(deadline);
        tokio::task::yield_now().await;
    }

    fn advance_to(&self, unix_us: u64) {
        self.now_us.fetch_max(unix_us, Ordering::SeqCst);
    }
}

/// Wall time plus every wait that was accounted instead of slept: the
/// embedded default. Local work runs at local speed, yet rate-limit waiting
/// and latency still move the clock as they would on Discord.
#[derive(Debug)]
pub struct AccountedClock {
    start: Instant,
    start_us: u64,
    skipped_us: AtomicU64,
}

impl AccountedClock {
    pub fn new() -> Self {
        AccountedClock {
            start: Instant::now(),
            start_us: wall_us(),
            skipped_us: AtomicU64::new(0),
        }
    }
}

impl Default for AccountedClock {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Clock for AccountedClock {
    fn now_us(&self) -> u64 {
        self.start_us
            + self.start.elapsed().as_micros() as u64
            + self.skipped_us.load(Ordering::SeqCst)
    }

    /// As [`ManualClock::sleep`]: a wait ends at its deadline, so
    /// concurrent waits overlap.
    async fn sleep(&self, d: Duration) {
        let deadline = self.now_us() + d.as_micros() as u64;
        tokio::task::yield_now().await;
        let wall = self.start_us + self.start.elapsed().as_micros() as u64;
        self.skipped_us
            .fetch_max(deadline.saturating_sub(wall), Ordering::SeqCst);
        tokio::task::yield_now().await;
    }

    fn advance_to(&self, unix_us: u64) {
        let now = self.now_us();
        if unix_us > now {
            self.skipped_us.fetch_add(unix_us - now, Ordering::SeqCst);
        }
    }
}

/// Real time with real sleeps: for demonstrations and for testing a
/// client's limiter against a served emulator.
#[derive(Debug, Default)]
pub struct RealClock;

#[async_trait]
impl Clock for RealClock {
    fn now_us(&self) -> u64 {
        wall_us()
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn advance_to(&self, _unix_us: u64) {}
}

/// Real time sped up by a factor: a served emulator whose 5-second buckets
/// last 50 ms at `scale` 100, so a test of a client's limiter takes seconds.
#[derive(Debug)]
pub struct ScaledClock {
    start: Instant,
    start_us: u64,
    scale: f64,
    skipped_us: AtomicU64,
}

impl ScaledClock {
    pub fn new(scale: f64) -> Self {
        ScaledClock {
            start: Instant::now(),
            start_us: wall_us(),
            scale: scale.max(f64::MIN_POSITIVE),
            skipped_us: AtomicU64::new(0),
        }
    }

    /// A clock that stands at `start_unix_ms` now and runs `scale` times
    /// faster than real time from there (a guild given a past to fill).
    pub fn starting_at(start_unix_ms: u64, scale: f64) -> Self {
        ScaledClock {
            start_us: start_unix_ms * 1000,
            ..Self::new(scale)
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }
}

#[async_trait]
impl Clock for ScaledClock {
    fn now_us(&self) -> u64 {
        let elapsed = self.start.elapsed().as_micros() as f64 * self.scale;
        self.start_us + elapsed as u64 + self.skipped_us.load(Ordering::SeqCst)
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d.div_f64(self.scale)).await;
    }

    fn advance_to(&self, unix_us: u64) {
        let now = self.now_us();
        if unix_us > now {
            self.skipped_us.fetch_add(unix_us - now, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_sleeps_overlap_and_sleeps_in_turn_add_up() {
        let c = ManualClock::fixed();
        let t0 = c.now_us();
        let one = Duration::from_secs(1);
        tokio::join!(c.sleep(one), c.sleep(one), c.sleep(one), c.sleep(one));
        assert_eq!(
            c.now_us() - t0,
            1_000_000,
            "four waits of 1 s at once take 1 s"
        );
        c.sleep(one).await;
        c.sleep(one).await;
        assert_eq!(c.now_us() - t0, 3_000_000, "two more, one after the other");
        let a = AccountedClock::new();
        let t0 = a.now_us();
        let ten = Duration::from_secs(10);
        tokio::join!(a.sleep(ten), a.sleep(ten), a.sleep(ten), a.sleep(ten));
        let spent = a.now_us() - t0;
        assert!((10_000_000..11_000_000).contains(&spent), "{spent}");
    }

    #[tokio::test]
    async fn manual_clock_moves_only_when_told() {
        let c = ManualClock::fixed();
        let t0 = c.now_us();
        c.sleep(Duration::from_millis(1500)).await;
        assert_eq!(c.now_us() - t0, 1_500_000);
        c.advance_to(t0);
        assert_eq!(c.now_us() - t0, 1_500_000, "advance_to never goes back");
    }

    #[tokio::test]
    async fn accounted_clock_adds_waits_without_sleeping() {
        let c = AccountedClock::new();
        let real = Instant::now();
        let t0 = c.now_us();
        c.sleep(Duration::from_secs(3600)).await;
        assert!(c.now_us() - t0 >= 3_600_000_000);
        assert!(real.elapsed() < Duration::from_secs(5));
    }
}
