//! The `discord` tables' columns, and messages as Arrow rows.
//!
//! IDs are BIGINT throughout (snowflakes fit in 63 bits until 2084, and
//! compare as numbers, so `id` ranges are exact); times are
//! TIMESTAMP(ms, UTC), as Discord keeps them; lists and objects are JSON text.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMillisecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::error::Result;
use discord_api::Message;
use serde_json::json;

pub fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// `discord.messages`.
pub fn messages_schema() -> SchemaRef {
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Arc::new(Schema::new(vec![
        f("id", DataType::Int64, false),
        f("channel_id", DataType::Int64, false),
        f("thread_id", DataType::Int64, true),
        f("author_id", DataType::Int64, false),
        f("author_name", DataType::Utf8, false),
        f("author_is_bot", DataType::Boolean, false),
        f("content", DataType::Utf8, false),
        f("created_at", timestamp(), false),
        f("edited_at", timestamp(), true),
        f("pinned", DataType::Boolean, false),
        f("mentions", DataType::Utf8, false),
        f("attachments", DataType::Utf8, false),
        f("embeds", DataType::Utf8, false),
        f("reply_to", DataType::Int64, true),
        f("message_type", DataType::Int32, false),
        f("flags", DataType::Int64, false),
        f("has_link", DataType::Boolean, false),
        f("has_file", DataType::Boolean, false),
        f("has_embed", DataType::Boolean, false),
    ]))
}

/// A message with the place it was posted in: `channel_id` (the parent,
/// for a thread's message) and `thread_id`.
pub struct Placed {
    pub message: Message,
    pub channel: u64,
    pub thread: Option<u64>,
}

/// Unix milliseconds of an ISO-8601 time.
pub fn iso_ms(s: &str) -> Option<i64> {
    datafusion::arrow::compute::kernels::cast_utils::string_to_timestamp_nanos(s)
        .ok()
        .map(|ns| ns.div_euclid(1_000_000))
}

/// The messages as a batch of `schema` (the full messages schema), projected.
pub fn messages_batch(rows: &[Placed], projection: &[usize]) -> Result<RecordBatch> {
    let schema = messages_schema();
    let n = rows.len();
    let ids = |f: &dyn Fn(&Placed) -> Option<u64>| {
        let mut b = Int64Builder::with_capacity(n);
        rows.iter()
            .for_each(|r| b.append_option(f(r).map(|v| v as i64)));
        Arc::new(b.finish()) as ArrayRef
    };
    let text = |f: &dyn Fn(&Placed) -> String| {
        let mut b = StringBuilder::with_capacity(n, n * 32);
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish()) as ArrayRef
    };
    let flag = |f: &dyn Fn(&Placed) -> bool| {
        let mut b = BooleanBuilder::with_capacity(n);
        rows.iter().for_each(|r| b.append_value(f(r)));
        Arc::new(b.finish()) as ArrayRef
    };
    let time = |f: &dyn Fn(&Placed) -> Option<i64>| {
        let mut b = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
        rows.iter().for_each(|r| b.append_option(f(r)));
        Arc::new(b.finish()) as ArrayRef
    };
    let column = |i: usize| -> ArrayRef {
        match i {
            0 => ids(&|r| Some(r.message.id.0)),
            1 => ids(&|r| Some(r.channel)),
            2 => ids(&|r| r.thread),
            3 => ids(&|r| Some(r.message.author.id.0)),
            4 => text(&|r| r.message.author.username.clone()),
            5 => flag(&|r| r.message.author.bot || r.message.webhook_id.is_some()),
            6 => text(&|r| r.message.content.clone()),
            7 => time(&|r| Some(r.message.id.unix_ms() as i64)),
            8 => time(&|r| r.message.edited_timestamp.as_deref().and_then(iso_ms)),
            9 => flag(&|r| r.message.pinned),
            10 => text(&|r| {
                let ids: Vec<String> = r
                    .message
                    .mentions
                    .iter()
                    .map(|u| u.id.to_string())
                    .collect();
                json!(ids).to_string()
            }),
            11 => {
                text(&|r| {
                    let list: Vec<_> = r
                    .message
                    .attachments
                    .iter()
                    .map(|a| json!({"id": a.id.to_string(), "filename": a.filename, "size": a.size}))
                    .collect();
                    json!(list).to_string()
                })
            }
            12 => text(&|r| json!(r.message.embeds).to_string()),
            13 => ids(&|r| {
                r.message
                    .message_reference
                    .as_ref()
                    .and_then(|m| m.message_id)
                    .map(|m| m.0)
            }),
            14 => {
                let mut b = Int32Builder::with_capacity(n);
                rows.iter()
                    .for_each(|r| b.append_value(i32::from(r.message.kind)));
                Arc::new(b.finish())
            }
            15 => ids(&|r| Some(r.message.flags)),
            16 => flag(&|r| r.message.has_link()),
            17 => flag(&|r| !r.message.attachments.is_empty()),
            _ => flag(&|r| !r.message.embeds.is_empty()),
        }
    };
    let columns: Vec<ArrayRef> = projection.iter().map(|i| column(*i)).collect();
    let projected = Arc::new(schema.project(projection)?);
    let options = datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(n));
    Ok(RecordBatch::try_new_with_options(
        projected, columns, &options,
    )?)
}
