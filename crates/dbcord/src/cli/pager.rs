//! Long results through a pager, in the interactive shell on a terminal:
//! `$PAGER`, else `less -FRX` (which prints short text and leaves).

use std::io::Write;
use std::process::{Command, Stdio};

/// Rows of the terminal: `$LINES`, else 24.
fn height() -> usize {
    std::env::var("LINES")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(24)
}

/// Print `text`, through the pager if it is taller than the terminal. If
/// the pager cannot be started, the text is printed as it is.
pub fn show(text: &[u8]) {
    let lines = text.iter().filter(|b| **b == b'\n').count();
    if lines + 2 <= height() || !page(text) {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let _ = out.write_all(text);
        let _ = out.flush();
    }
}

/// Whether the pager took the text.
fn page(text: &[u8]) -> bool {
    let pager = std::env::var("PAGER")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "less -FRX".to_string());
    let mut words = pager.split_whitespace();
    let Some(program) = words.next() else {
        return false;
    };
    let Ok(mut child) = Command::new(program)
        .args(words)
        .stdin(Stdio::piped())
        .spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A pager left early (q) closes its input: not an error.
        let _ = stdin.write_all(text);
    }
    child.wait().is_ok()
}
