//! `.timing on`: what one statement took, here and on Discord.
//!
//! A [`Meter`] notes the session's counters before a statement; its report
//! is the difference after: wall time, Discord requests by route (and 429s),
//! CDN requests and bytes, rate-limit waiting, and on the embedded emulator
//! the simulated time Discord would have taken, and for each scan its path
//! and how many of the table's commits pushdown let it skip. Over HTTP the
//! emulator's counters are not visible; time, waits and scans are reported.

use std::time::{Duration, Instant};

use discord_emulator::Counters;

use crate::session::Session;
use crate::store::ScanNote;

/// The counters at the start of a statement.
pub struct Meter {
    wall: Instant,
    clock_us: u64,
    counters: Option<Counters>,
    waited: Duration,
    waits: u64,
    scans: u64,
}

impl Meter {
    pub fn start(session: &Session) -> Meter {
        let waits = session.wait_stats();
        Meter {
            wall: Instant::now(),
            clock_us: session.engine.store().clock().now_us(),
            counters: session.emulator().map(|e| e.counters()),
            waited: waits.waited,
            waits: waits.waits,
            scans: session.engine.store().scan_mark(),
        }
    }

    /// The statement's cost, in a few lines for people.
    pub fn report(&self, session: &Session) -> String {
        let wall = self.wall.elapsed();
        let waits = session.wait_stats();
        let waited = waits.waited.saturating_sub(self.waited);
        let mut lines = vec![format!(
            "Time: {:.3} s here; rate limits: {} waits, {:.1} s",
            wall.as_secs_f64(),
            waits.waits - self.waits,
            waited.as_secs_f64()
        )];
        for scan in session.engine.store().scans_since(self.scans) {
            lines.push(scan_line(&scan));
        }
        if let (Some(before), Some(e)) = (&self.counters, session.emulator()) {
            let after = e.counters();
            lines.push(discord_line(before, &after));
            let simulated = session.engine.store().clock().now_us() - self.clock_us;
            let uploaded = (after.uploaded_bytes + after.content_bytes)
                - (before.uploaded_bytes + before.content_bytes);
            lines.push(format!(
                "CDN: {} requests, {} bytes down; {} bytes uploaded (messages and \
                 attachments); simulated Discord time: {:.1} s",
                after.cdn_requests() - before.cdn_requests(),
                after.cdn_bytes - before.cdn_bytes,
                uploaded,
                simulated as f64 / 1e6
            ));
        }
        lines.join("\n")
    }
}

/// What one scan read and, when it read less than a full scan of the same
/// snapshot would have, what the full scan reads (from the segments' batch
/// directories: the reads and bytes a `pushdown = false` run makes).
fn scan_line(scan: &ScanNote) -> String {
    let s = &scan.stats;
    let mut line = format!(
        "Scan of {}: {}: read {} commits ({} history pages, {} CDN reads, {} bytes; {} cached \
         batches), {} rows fetched",
        scan.table,
        scan.strategy,
        s.runs_read,
        s.history_requests,
        s.cdn_requests,
        s.cdn_bytes,
        s.cached_batches,
        scan.rows_fetched
    );
    if scan.full_bytes > s.cdn_bytes && (s.runs_pruned > 0 || scan.strategy != "scan") {
        line.push_str(&format!(
            "; a full scan reads {} bytes in {} CDN reads",
            scan.full_bytes, scan.full_reads
        ));
    }
    line
}

/// `Discord: 3 requests (list_channels 1, list_messages 1, create_message 1)`.
fn discord_line(before: &Counters, after: &Counters) -> String {
    let mut parts = Vec::new();
    let mut limited = 0;
    for (route, count) in &after.by_route {
        if route.is_cdn() {
            continue;
        }
        let was = before.route(*route);
        let n = count.requests - was.requests;
        limited += count.rate_limited - was.rate_limited;
        if n > 0 {
            parts.push(format!("{route} {n}"));
        }
    }
    let total = after.total_requests() - before.total_requests();
    let detail = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    };
    let limited = if limited > 0 {
        format!(", {limited} of them answered 429")
    } else {
        String::new()
    };
    format!("Discord: {total} requests{detail}{limited}")
}
