//! The benchmark's report: a Markdown table for people, JSON for scripts.

use super::measure::Measured;

/// One table of every measurement.
pub fn markdown(all: &[Measured]) -> String {
    let mut out = String::from(
        "| rows | scenario | API requests | CDN reads / MB down | MB up | simulated s | local ms | \
         peak MiB | lower bound | goal | engine ms warm / MemTable |\n\
         |---:|---|---|---|---:|---:|---:|---:|---|---|---|\n",
    );
    for m in all {
        let c = &m.cost;
        let mut routes: Vec<String> = c.requests.iter().map(|(r, n)| format!("{r} {n}")).collect();
        if c.rate_limited > 0 {
            routes.push(format!("{} of them 429s", c.rate_limited));
        }
        let engine = match (m.warm_ms, m.memtable_ms) {
            (Some(w), Some(t)) => format!("{w:.1} / {t:.1} ({:.1}x)", w / t.max(0.001)),
            _ => "-".into(),
        };
        let peak = c.peak_mib.map_or("-".into(), |p| format!("{p:.0}"));
        out.push_str(&format!(
            "| {} | {} | {} ({}) | {} / {:.2} | {:.2} | {:.1} | {:.0} | {} | {} | {} | {} |\n",
            m.rows,
            m.scenario,
            c.api_requests,
            routes.join(", "),
            c.cdn_requests,
            c.cdn_bytes as f64 / 1e6,
            (c.uploaded_bytes + c.content_bytes) as f64 / 1e6,
            c.simulated_s,
            c.local_ms,
            peak,
            m.lower_bound,
            m.goal,
            engine
        ));
    }
    out
}

/// The measurements as a JSON array: field names are stable.
pub fn json(all: &[Measured]) -> String {
    serde_json::to_string_pretty(all).expect("plain data serialises")
}
