//! Discord's rules for a reply: at most 2,000 characters (a result set as
//! a code-block table when it fits, else a CSV attachment), no mentions
//! that could ping and no link previews whatever the rows hold, errors
//! seen only by the member who asked.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::util::pretty::pretty_format_batches;
use serde_json::{Value, json};

use discord_api::interactions::flag::{EPHEMERAL, SUPPRESS_EMBEDS};
use discord_api::limits::{MAX_CONTENT_LEN, MAX_FILE_BYTES};
use discord_api::{NewFile, discord_len};
use discord_http::ReplyBody;

/// What a command answers.
#[derive(Debug)]
pub enum Answer {
    /// A line of text (a command tag, a summary).
    Text(String),
    /// A result set.
    Rows {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    /// A file, with a line about it.
    File {
        line: String,
        name: String,
        bytes: Vec<u8>,
    },
    /// What went wrong; nothing was written unless it says so.
    Error(String),
}

/// The message that shows `answer`: content, flags, files.
pub fn message(answer: &Answer) -> ReplyBody {
    match answer {
        Answer::Text(t) => body(&fit(t), false, Vec::new()),
        Answer::Error(e) => body(&fit(&format!("error: {e}")), true, Vec::new()),
        Answer::File { line, name, bytes } => body(
            &fit(line),
            false,
            vec![NewFile {
                filename: name.clone(),
                bytes: bytes.clone(),
            }],
        ),
        Answer::Rows { schema, batches } => rows(schema, batches),
    }
}

/// The interaction response's `data` for an answer sent at once.
pub fn immediate(answer: &Answer) -> ReplyBody {
    let m = message(answer);
    ReplyBody {
        json: json!({"type": discord_api::interactions::callback::CHANNEL_MESSAGE, "data": m.json}),
        files: m.files,
    }
}

fn body(content: &str, ephemeral: bool, files: Vec<NewFile>) -> ReplyBody {
    let flags = SUPPRESS_EMBEDS | if ephemeral { EPHEMERAL } else { 0 };
    ReplyBody {
        json: json!({
            "content": content,
            "flags": flags,
            "allowed_mentions": {"parse": []},
        }),
        files,
    }
}

fn rows(schema: &SchemaRef, batches: &[RecordBatch]) -> ReplyBody {
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let noun = if total == 1 { "row" } else { "rows" };
    let empty = [RecordBatch::new_empty(schema.clone())];
    let all: &[RecordBatch] = if batches.is_empty() { &empty } else { batches };
    if let Ok(table) = pretty_format_batches(all) {
        let text = format!(
            "```\n{}\n```\n({total} {noun})",
            fence_safe(&table.to_string())
        );
        if discord_len(&text) <= MAX_CONTENT_LEN {
            return body(&text, false, Vec::new());
        }
    }
    let (csv, shown) = csv_within(all, MAX_FILE_BYTES);
    let line = if shown == total {
        format!("{total} {noun}, attached as rows.csv")
    } else {
        format!(
            "{total} {noun}; rows.csv holds the first {shown} (Discord's file limit); narrow the query or give a limit"
        )
    };
    body(
        &line,
        false,
        vec![NewFile {
            filename: "rows.csv".into(),
            bytes: csv,
        }],
    )
}

/// The rows as CSV, as many batches' rows as fit in `max` bytes.
fn csv_within(batches: &[RecordBatch], max: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut shown = 0;
    for (i, b) in batches.iter().enumerate() {
        let mut one = Vec::new();
        {
            let mut w = WriterBuilder::new().with_header(i == 0).build(&mut one);
            if w.write(b).is_err() {
                break;
            }
        }
        if out.len() + one.len() > max {
            break;
        }
        out.extend_from_slice(&one);
        shown += b.num_rows();
    }
    (out, shown)
}

/// Text cut to Discord's 2,000 characters (UTF-16 units), ending in "…".
pub fn fit(text: &str) -> String {
    if discord_len(text) <= MAX_CONTENT_LEN {
        return text.to_string();
    }
    let mut out = String::new();
    let mut units = 0;
    for c in text.chars() {
        units += c.len_utf16();
        if units > MAX_CONTENT_LEN - 1 {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A value holding ``` would end the code block early.
fn fence_safe(text: &str) -> String {
    text.replace("```", "`\u{200b}``")
}

/// The JSON of a deferred response ("thinking..."), ephemeral or not.
pub fn deferred(ephemeral: bool) -> Value {
    let flags = if ephemeral { EPHEMERAL } else { 0 };
    json!({"type": discord_api::interactions::callback::DEFERRED_CHANNEL_MESSAGE, "data": {"flags": flags}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_two_thousand_units() {
        let t = fit(&"é".repeat(5000));
        assert_eq!(discord_len(&t), MAX_CONTENT_LEN);
        assert!(t.ends_with('…'));
        assert_eq!(fit("short"), "short");
    }

    #[test]
    fn an_error_is_ephemeral_and_nothing_pings() {
        let m = message(&Answer::Error("bad @everyone".into()));
        assert_eq!(m.json["flags"], EPHEMERAL | SUPPRESS_EMBEDS);
        assert_eq!(m.json["allowed_mentions"], json!({"parse": []}));
    }
}
