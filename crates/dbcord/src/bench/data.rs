//! The benchmark's rows: users of realistic entropy (random names, emails
//! and a few words of text), so that compression does not flatter the
//! figures as `'user' || n` would. Row `id` is a pure function of the seed
//! and `id`, so any stretch of rows can be made again, in any order, by
//! dbcord's load and by the MemTable it is compared with, without holding
//! the table in memory: the table function `bench_users(from, to)` streams
//! them in batches.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use discord_api::rng::{SeededRng, mix};

/// The table the rows go to, and its index.
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT, name TEXT, role TEXT, age BIGINT, \
     bio TEXT)",
    "CREATE INDEX users_role ON users (role)",
];

/// 0.01% of users are owners, 1% admins: the two indexed equalities.
pub const RARE_ROLE: &str = "owner";
pub const COMMON_ROLE: &str = "admin";

/// Rows a generated batch holds.
const BATCH_ROWS: u64 = 8192;

/// Every row derives from this seed and its `id`.
const SEED: u64 = 0xdbc0_5eed;

const SYLLABLES: [&str; 48] = [
    "ka", "ri", "mo", "an", "el", "sa", "to", "lu", "ne", "vi", "da", "jo", "mi", "ra", "se", "ba",
    "li", "no", "te", "ha", "ze", "po", "qu", "fe", "gi", "xa", "wy", "ul", "or", "is", "en", "ca",
    "de", "fi", "go", "hu", "ja", "ke", "lo", "ma", "ni", "op", "pe", "ro", "su", "ti", "va", "yo",
];
const DOMAINS: [&str; 8] = [
    "example.com",
    "mail.test",
    "post.example.org",
    "inbox.test",
    "corp.example.net",
    "uni.example.edu",
    "letters.test",
    "home.example.com",
];
const ROLES: [&str; 4] = ["member", "guest", "editor", "moderator"];

/// The columns `bench_users` returns, as in [`SCHEMA`].
pub fn schema() -> SchemaRef {
    let text = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        text("email"),
        text("name"),
        text("role"),
        Field::new("age", DataType::Int64, true),
        text("bio"),
    ]))
}

/// A made-up word of 1..=`max` syllables.
fn word(rng: &mut SeededRng, max: u64) -> String {
    let n = 1 + rng.below(max);
    (0..n)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize])
        .collect()
}

/// One of a vocabulary of about 10,000 words, the first ones far more
/// often (as in text): the square of a uniform draw favours small ranks.
fn common_word(rng: &mut SeededRng) -> String {
    let u = rng.unit();
    let rank = (u * u * 10_000.0) as u64;
    let mut w = SeededRng::new(mix(SEED, &[rank]));
    word(&mut w, 3)
}

/// The role of user `id`: rare and common roles at fixed rates.
pub fn role_of(id: u64, rng: &mut SeededRng) -> &'static str {
    if id % 10_000 == 7 {
        RARE_ROLE
    } else if id % 100 == 3 {
        COMMON_ROLE
    } else {
        ROLES[rng.below(ROLES.len() as u64) as usize]
    }
}

/// Users `from..to` as one batch.
pub fn users(from: u64, to: u64) -> RecordBatch {
    let n = (to - from) as usize;
    let mut email = StringBuilder::with_capacity(n, n * 28);
    let mut name = StringBuilder::with_capacity(n, n * 16);
    let mut role = StringBuilder::with_capacity(n, n * 7);
    let mut bio = StringBuilder::with_capacity(n, n * 40);
    let mut age = Vec::with_capacity(n);
    for id in from..to {
        let mut rng = SeededRng::new(mix(SEED, &[id]));
        let (first, last) = (word(&mut rng, 3), word(&mut rng, 4));
        let domain = DOMAINS[rng.below(DOMAINS.len() as u64) as usize];
        email.append_value(format!("{first}.{last}{}@{domain}", rng.below(1000)));
        name.append_value(format!("{} {}", capital(&first), capital(&last)));
        role.append_value(role_of(id, &mut rng));
        age.push(18 + rng.below(70) as i64);
        let words: Vec<String> = (0..3 + rng.below(6))
            .map(|_| common_word(&mut rng))
            .collect();
        bio.append_value(words.join(" "));
    }
    let ids = Int64Array::from_iter_values((from..to).map(|i| i as i64));
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(ids),
            Arc::new(email.finish()),
            Arc::new(name.finish()),
            Arc::new(role.finish()),
            Arc::new(Int64Array::from(age)),
            Arc::new(bio.finish()),
        ],
    )
    .expect("the columns match the schema")
}

fn capital(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `bench_users(from, to)`: users `from..to`, streamed in batches.
#[derive(Debug)]
pub struct UsersFunction;

impl TableFunctionImpl for UsersFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let bound = |i: usize| match args.exprs().get(i) {
            Some(Expr::Literal(ScalarValue::Int64(Some(v)), _)) if *v >= 0 => Ok(*v as u64),
            _ => Err(DataFusionError::Plan(
                "bench_users: call it as bench_users(from, to) with two non-negative integers"
                    .into(),
            )),
        };
        let (from, to) = (bound(0)?, bound(1)?);
        let stream = Users {
            from,
            to: to.max(from),
            schema: schema(),
        };
        Ok(Arc::new(StreamingTable::try_new(
            schema(),
            vec![Arc::new(stream)],
        )?))
    }
}

#[derive(Debug)]
struct Users {
    from: u64,
    to: u64,
    schema: SchemaRef,
}

impl PartitionStream for Users {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (from, to) = (self.from, self.to);
        let starts = (from..to).step_by(BATCH_ROWS as usize);
        let batches =
            futures::stream::iter(starts.map(move |s| Ok(users(s, (s + BATCH_ROWS).min(to)))));
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            batches,
        ))
    }
}
