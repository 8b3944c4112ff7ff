//! Peak resident memory of a scenario, from Linux's `/proc/self/status`:
//! the high-water mark (`VmHWM`) is reset before the scenario (writing `5`
//! to `/proc/self/clear_refs`) and read after it. Memory the allocator
//! keeps after a free would hide a scenario's growth, so it is handed back
//! to the system first (glibc's `malloc_trim`).

use std::fs;

/// Start a measurement: the resident bytes now, the peak reset to them.
pub fn start() -> Option<u64> {
    trim();
    fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kib("VmRSS:").map(|k| k * 1024)
}

/// Peak resident MiB since [`start`] above what was resident then.
pub fn peak_above(base: Option<u64>) -> Option<f64> {
    let peak = status_kib("VmHWM:")? * 1024;
    Some(peak.saturating_sub(base?) as f64 / (1024.0 * 1024.0))
}

fn status_kib(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim takes a plain integer, has no preconditions and
    // only returns free heap pages to the system.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
