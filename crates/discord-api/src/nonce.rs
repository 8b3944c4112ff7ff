//! Nonces for message creates: a retried create with the same nonce and
//! `enforce_nonce` returns the first message instead of making a second.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::limits::MAX_NONCE_LEN;

/// A nonce unique to this process and call, at most 25 characters: the
/// time in nanoseconds, the process ID and a counter, in fixed-width hex so
/// that no two of them run together into the same text.
pub fn new_nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut s = format!(
        "{:012x}{:04x}{:x}",
        t & 0xffff_ffff_ffff,
        std::process::id() & 0xffff,
        n
    );
    s.truncate(MAX_NONCE_LEN);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_differ_and_fit() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_ne!(a, b);
        assert!(a.len() <= MAX_NONCE_LEN && b.len() <= MAX_NONCE_LEN);
    }
}
