//! Which filters on `discord.messages` Discord's search can narrow, and how.
//!
//! A filter becomes a *cover*: a few branches, each a conjunction of
//! search parameters, whose union holds every row the filter accepts.
//! `None` means the filter narrows nothing (every row may match). A cover
//! only ever over-approximates: the rows are re-checked against every
//! filter afterwards, so a parameter that matches more than the filter
//! (search stems words, `mentions` takes any of its users) costs requests,
//! never rows.
//!
//! The decisions, filter by filter (DataFusion's `Exact` / `Inexact` /
//! `Unsupported`; none is `Exact`, since every row is re-checked):
//! - `author_id`, `channel_id`, `thread_id` `=` or `IN`: *inexact*, the
//!   `author_id` / `channel_id` parameters (any of up to 100 / 500 values).
//! - `id` and `created_at` ranges, `id =`: *inexact*, `min_id` / `max_id`
//!   (a snowflake holds its creation time, to the millisecond).
//! - `pinned`, `author_is_bot`, `has_link`, `has_file`, `has_embed` true or
//!   false: *inexact*, `pinned`, `author_type`, `has` (negated with `-`).
//! - `mentions_user(mentions, id)`: *inexact*, `mentions`.
//! - `has_word(content, 'word')`: *inexact*, `content` with that one word
//!   (several words in one `content` are matched as a phrase, so a branch
//!   sends one word and re-checks the others).
//! - `content LIKE '%word%'`: *unsupported*. Search matches whole words, so
//!   it would miss "redeploy" for `%deploy%`; pushing it would lose rows.
//!   It stays a post-filter; `has_word` is the form search can answer.
//! - `AND` of covers: every pair of branches combined; `OR`: the branches
//!   of both (if both narrow). Anything else: *unsupported*.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use discord_api::Snowflake;

/// Branches beyond this many become one wider cover instead.
pub const MAX_BRANCHES: usize = 16;

/// One conjunction of search parameters. Sets are "any of"; `None` is any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branch {
    pub authors: Option<BTreeSet<u64>>,
    /// Values of `channel_id` (a thread's messages have its parent's).
    pub channels: Option<BTreeSet<u64>>,
    pub threads: Option<BTreeSet<u64>>,
    /// Each set is "mentions any of these"; all must hold.
    pub mentions: Vec<BTreeSet<u64>>,
    pub pinned: Option<bool>,
    pub bot: Option<bool>,
    /// `link`, `file`, `embed`: present (true) or absent (false).
    pub has: BTreeMap<&'static str, bool>,
    /// Whole words, all of which the content holds.
    pub words: BTreeSet<String>,
    /// `id > min_id` and `id < max_id`.
    pub min_id: Option<u64>,
    pub max_id: Option<u64>,
}

/// `None`: the filter narrows nothing. `Some(vec![])`: no row can match.
pub type Cover = Option<Vec<Branch>>;

impl Branch {
    /// Both at once, or `None` if they contradict each other.
    fn and(&self, o: &Branch) -> Option<Branch> {
        let both = |a: &Option<BTreeSet<u64>>, b: &Option<BTreeSet<u64>>| match (a, b) {
            (Some(a), Some(b)) => Some(a.intersection(b).copied().collect::<BTreeSet<u64>>()),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        let agree = |a: Option<bool>, b: Option<bool>| match (a, b) {
            (Some(x), Some(y)) if x != y => Err(()),
            _ => Ok(a.or(b)),
        };
        let mut has = self.has.clone();
        for (k, v) in &o.has {
            if has.insert(k, *v).is_some_and(|old| old != *v) {
                return None;
            }
        }
        let b = Branch {
            authors: both(&self.authors, &o.authors),
            channels: both(&self.channels, &o.channels),
            threads: both(&self.threads, &o.threads),
            mentions: self.mentions.iter().chain(&o.mentions).cloned().collect(),
            pinned: agree(self.pinned, o.pinned).ok()?,
            bot: agree(self.bot, o.bot).ok()?,
            has,
            words: self.words.union(&o.words).cloned().collect(),
            min_id: self.min_id.max(o.min_id),
            max_id: match (self.max_id, o.max_id) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        };
        let empty = |s: &Option<BTreeSet<u64>>| s.as_ref().is_some_and(|s| s.is_empty());
        let no_range =
            matches!((b.min_id, b.max_id), (Some(lo), Some(hi)) if lo.saturating_add(1) >= hi);
        if empty(&b.authors) || empty(&b.channels) || empty(&b.threads) || no_range {
            return None;
        }
        Some(b)
    }

    /// Whether search narrows this branch better than reading history:
    /// it names authors, mentions, a word, pins, an attachment or a link.
    /// A branch of channels and time only is read from history (exact, and
    /// 100 messages a request instead of 25).
    pub fn is_selective(&self) -> bool {
        self.authors.is_some()
            || !self.mentions.is_empty()
            || !self.words.is_empty()
            || self.pinned == Some(true)
            || self.bot == Some(true)
            || self.has.values().any(|v| *v)
    }
}

/// Both covers at once: every pair of branches, contradictions dropped.
pub fn and(a: Cover, b: Cover) -> Cover {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => {
            if a.len() * b.len() > MAX_BRANCHES {
                // Either side alone still covers the conjunction.
                return Some(if a.len() <= b.len() { a } else { b });
            }
            Some(
                a.iter()
                    .flat_map(|x| b.iter().filter_map(|y| x.and(y)))
                    .collect(),
            )
        }
    }
}

/// Either cover: the branches of both, if both narrow.
pub fn or(a: Cover, b: Cover) -> Cover {
    let (mut a, b) = (a?, b?);
    a.extend(b);
    (a.len() <= MAX_BRANCHES).then_some(a)
}

/// The cover of one filter (see the module's list of decisions).
pub fn cover(e: &Expr) -> Cover {
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => and(cover(left), cover(right)),
            Operator::Or => or(cover(left), cover(right)),
            _ => comparison(left, *op, right),
        },
        Expr::Column(c) => flag(&c.name, true),
        Expr::Not(inner) => match strip(inner) {
            Expr::Column(c) => flag(&c.name, false),
            _ => None,
        },
        Expr::IsTrue(inner) => match strip(inner) {
            Expr::Column(c) => flag(&c.name, true),
            _ => None,
        },
        Expr::InList(l) if !l.negated => {
            let name = column_name(&l.expr)?;
            let values: Option<BTreeSet<u64>> = l.list.iter().map(id_literal).collect();
            let values = values?;
            match name {
                "id" => Some(vec![Branch {
                    min_id: values.first().map(|v| v.saturating_sub(1)),
                    max_id: values.last().map(|v| v.saturating_add(1)),
                    ..Default::default()
                }]),
                _ => id_set(name, values),
            }
        }
        Expr::Between(b) if !b.negated => and(
            comparison(&b.expr, Operator::GtEq, &b.low),
            comparison(&b.expr, Operator::LtEq, &b.high),
        ),
        Expr::ScalarFunction(f) => function(f.name(), &f.args),
        _ => None,
    }
}

/// `has_word(content, 'w')` and `mentions_user(mentions, id)`.
fn function(name: &str, args: &[Expr]) -> Cover {
    let [column, value] = args else { return None };
    match (name, column_name(column)?) {
        (super::words::HAS_WORD, "content") => {
            let word = string_literal(value)?;
            let words = super::words::words(&word);
            // One word exactly; anything else is re-checked only.
            let [w] = words.as_slice() else { return None };
            Some(vec![Branch {
                words: BTreeSet::from([w.clone()]),
                ..Default::default()
            }])
        }
        (super::words::MENTIONS_USER, "mentions") => Some(vec![Branch {
            mentions: vec![BTreeSet::from([id_literal(value)?])],
            ..Default::default()
        }]),
        _ => None,
    }
}

/// `column op literal`, either way round.
fn comparison(left: &Expr, op: Operator, right: &Expr) -> Cover {
    let (name, value, op) = match (column_name(left), column_name(right)) {
        (Some(n), None) => (n, right, op),
        (None, Some(n)) => (n, left, op.swap()?),
        _ => return None,
    };
    if op == Operator::Eq
        && let Some(b) = bool_literal(value)
    {
        return flag(name, b);
    }
    match name {
        "author_id" | "channel_id" | "thread_id" if op == Operator::Eq => {
            id_set(name, BTreeSet::from([id_literal(value)?]))
        }
        "id" => range(op, id_literal(value)?),
        "created_at" => {
            let ms = timestamp_ms(value)?;
            // Every message of millisecond `ms` has an ID from
            // `from_unix_ms(ms)` to just below `from_unix_ms(ms + 1)`.
            let first = Snowflake::from_unix_ms(ms).0;
            let after_last = Snowflake::from_unix_ms(ms + 1).0;
            match op {
                Operator::Gt | Operator::GtEq => range(Operator::GtEq, first),
                Operator::Lt | Operator::LtEq => range(Operator::Lt, after_last),
                Operator::Eq => and(
                    range(Operator::GtEq, first),
                    range(Operator::Lt, after_last),
                ),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `id op v` as exclusive bounds.
fn range(op: Operator, v: u64) -> Cover {
    let (min_id, max_id) = match op {
        Operator::Gt => (Some(v), None),
        Operator::GtEq => (Some(v.saturating_sub(1)), None),
        Operator::Lt => (None, Some(v)),
        Operator::LtEq => (None, Some(v.saturating_add(1))),
        Operator::Eq => (Some(v.saturating_sub(1)), Some(v.saturating_add(1))),
        _ => return None,
    };
    Some(vec![Branch {
        min_id,
        max_id,
        ..Default::default()
    }])
}

fn id_set(name: &str, values: BTreeSet<u64>) -> Cover {
    let mut b = Branch::default();
    match name {
        "author_id" => b.authors = Some(values),
        "channel_id" => b.channels = Some(values),
        "thread_id" => b.threads = Some(values),
        _ => return None,
    }
    Some(vec![b])
}

/// A boolean column being true or false.
fn flag(name: &str, value: bool) -> Cover {
    let mut b = Branch::default();
    match name {
        "pinned" => b.pinned = Some(value),
        "author_is_bot" => b.bot = Some(value),
        "has_link" => {
            b.has.insert("link", value);
        }
        "has_file" => {
            b.has.insert("file", value);
        }
        "has_embed" => {
            b.has.insert("embed", value);
        }
        _ => return None,
    }
    Some(vec![b])
}

/// Casts added by type coercion change nothing here: look through them.
fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Cast(c) => strip(&c.expr),
        Expr::TryCast(c) => strip(&c.expr),
        other => other,
    }
}

fn column_name(e: &Expr) -> Option<&str> {
    match strip(e) {
        Expr::Column(c) => Some(c.name.as_str()),
        _ => None,
    }
}

fn literal(e: &Expr) -> Option<&ScalarValue> {
    match strip(e) {
        Expr::Literal(v, _) => Some(v),
        _ => None,
    }
}

/// A snowflake given as a number or as its digits.
fn id_literal(e: &Expr) -> Option<u64> {
    match literal(e)? {
        ScalarValue::Int64(Some(v)) => u64::try_from(*v).ok(),
        ScalarValue::Int32(Some(v)) => u64::try_from(*v).ok(),
        ScalarValue::UInt64(Some(v)) => Some(*v),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

fn string_literal(e: &Expr) -> Option<String> {
    match literal(e)? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

fn bool_literal(e: &Expr) -> Option<bool> {
    match literal(e)? {
        ScalarValue::Boolean(Some(b)) => Some(*b),
        _ => None,
    }
}

/// A timestamp literal in whole milliseconds (rounded down).
fn timestamp_ms(e: &Expr) -> Option<u64> {
    let ms = match literal(e)? {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1000)?,
        ScalarValue::TimestampMillisecond(Some(v), _) => *v,
        ScalarValue::TimestampMicrosecond(Some(v), _) => v.div_euclid(1000),
        ScalarValue::TimestampNanosecond(Some(v), _) => v.div_euclid(1_000_000),
        _ => return None,
    };
    u64::try_from(ms).ok()
}

impl fmt::Display for Branch {
    /// The branch as search parameters, for EXPLAIN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let ids = |s: &BTreeSet<u64>| {
            s.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        if let Some(a) = &self.authors {
            parts.push(format!("author_id={}", ids(a)));
        }
        if let Some(c) = &self.channels {
            parts.push(format!("channel_id={} (and its threads)", ids(c)));
        }
        if let Some(t) = &self.threads {
            parts.push(format!("channel_id={}", ids(t)));
        }
        if let Some(m) = self.mentions.iter().min_by_key(|m| m.len()) {
            parts.push(format!("mentions={}", ids(m)));
        }
        if let Some(p) = self.pinned {
            parts.push(format!("pinned={p}"));
        }
        if let Some(b) = self.bot {
            parts.push(format!(
                "author_type={}",
                if b { "bot,webhook" } else { "user" }
            ));
        }
        for (k, v) in &self.has {
            parts.push(format!("has={}{k}", if *v { "" } else { "-" }));
        }
        if let Some(w) = self.search_word() {
            parts.push(format!("content={w}"));
        }
        if let Some(m) = self.min_id {
            parts.push(format!("min_id={m}"));
        }
        if let Some(m) = self.max_id {
            parts.push(format!("max_id={m}"));
        }
        write!(f, "{{{}}}", parts.join(" "))
    }
}

impl Branch {
    /// The one word sent as `content`: the longest, as likely the rarest.
    pub fn search_word(&self) -> Option<&String> {
        self.words
            .iter()
            .max_by_key(|w| (w.chars().count(), w.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn an_or_of_authors_is_two_branches_and_an_and_narrows_each() {
        let e = col("author_id")
            .eq(lit(5i64))
            .or(col("author_id").eq(lit(6i64)))
            .and(col("pinned"));
        let c = cover(&e).expect("pushable");
        assert_eq!(c.len(), 2);
        assert!(c.iter().all(|b| b.pinned == Some(true) && b.is_selective()));
    }

    #[test]
    fn contradictions_leave_no_branch_and_unknown_filters_narrow_nothing() {
        let e = col("author_id")
            .eq(lit(5i64))
            .and(col("author_id").eq(lit(6i64)));
        assert_eq!(cover(&e), Some(vec![]));
        let like = col("content").like(lit("%deploy%"));
        assert_eq!(cover(&like), None, "LIKE would lose words inside words");
        assert_eq!(cover(&like.clone().or(col("pinned"))), None);
        assert_eq!(cover(&like.and(col("pinned"))).map(|c| c.len()), Some(1));
    }

    #[test]
    fn ranges_become_exclusive_snowflake_bounds() {
        let c = cover(&col("id").gt_eq(lit(100i64)).and(col("id").lt(lit(200i64)))).unwrap();
        assert_eq!((c[0].min_id, c[0].max_id), (Some(99), Some(200)));
        let at = ScalarValue::TimestampMillisecond(Some(1_700_000_000_000), None);
        let c = cover(&col("created_at").gt(Expr::Literal(at, None))).unwrap();
        assert_eq!(
            c[0].min_id,
            Some(Snowflake::from_unix_ms(1_700_000_000_000).0 - 1)
        );
    }
}
