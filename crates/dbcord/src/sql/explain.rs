//! EXPLAIN a person can read: DataFusion prints each plan node on one
//! line, metrics included, which for a Discord scan runs to several
//! hundred characters. Long node lines are broken at their top-level
//! commas, one fact a line, indented under their node; metrics likewise.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::error::Result;

/// Node lines longer than this are broken up.
const WIDE: usize = 100;

/// EXPLAIN's result with its plan column reflowed.
pub fn readable(batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
    batches.into_iter().map(reflow_batch).collect()
}

fn reflow_batch(batch: RecordBatch) -> Result<RecordBatch> {
    let Some(i) = batch.schema().index_of("plan").ok() else {
        return Ok(batch);
    };
    let Some(plans) = batch.column(i).as_any().downcast_ref::<StringArray>() else {
        return Ok(batch);
    };
    let reflowed: StringArray = (0..plans.len())
        .map(|r| (!plans.is_null(r)).then(|| reflow(plans.value(r))))
        .collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[i] = Arc::new(reflowed);
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// Every wide line of a plan broken into facts.
pub fn reflow(plan: &str) -> String {
    let mut out = Vec::new();
    for line in plan.lines() {
        if line.chars().count() <= WIDE {
            out.push(line.to_string());
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let pad = " ".repeat(indent + 4);
        let (head, rest) = match line.trim_start().split_once(": ") {
            Some((h, r)) if !h.contains(' ') => (h.to_string() + ":", r),
            _ => (String::new(), line.trim_start()),
        };
        let parts = split_top(rest);
        let first = if head.is_empty() {
            parts[0].clone()
        } else {
            format!("{head} {}", parts[0])
        };
        out.push(format!("{}{first}", " ".repeat(indent)));
        for part in &parts[1..] {
            match part
                .strip_prefix("metrics=[")
                .and_then(|m| m.strip_suffix(']'))
            {
                Some(metrics) => {
                    out.push(format!("{pad}metrics:"));
                    for m in split_top(metrics) {
                        out.push(format!("{pad}  {m}"));
                    }
                }
                None => out.push(format!("{pad}{part}")),
            }
        }
    }
    out.join("\n")
}

/// Text cut at its commas outside brackets and parentheses.
fn split_top(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(current.trim().to_string());
                current.clear();
                if chars.peek() == Some(&' ') {
                    chars.next();
                }
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() || parts.is_empty() {
        parts.push(current.trim().to_string());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_scan_line_becomes_a_fact_a_line() {
        let line = "  DiscordScanExec: table=main.t (#table-t), strategy=index lookup (t_b), \
                    lookup=[b = 3], filters=[b = Int64(3), id > Int64(2)], projection=[id], \
                    metrics=[output_rows=500, cdn_bytes=32.58 K, cdn_requests=5]";
        let plan = format!("CooperativeExec, metrics=[]\n{line}");
        assert_eq!(
            reflow(&plan),
            "CooperativeExec, metrics=[]\n\
             \x20 DiscordScanExec: table=main.t (#table-t)\n\
             \x20     strategy=index lookup (t_b)\n\
             \x20     lookup=[b = 3]\n\
             \x20     filters=[b = Int64(3), id > Int64(2)]\n\
             \x20     projection=[id]\n\
             \x20     metrics:\n\
             \x20       output_rows=500\n\
             \x20       cdn_bytes=32.58 K\n\
             \x20       cdn_requests=5"
        );
    }
}
