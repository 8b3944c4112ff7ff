//! `has_word(text, word)` and `mentions_user(mentions, user)`: the two
//! predicates on `discord.messages` that search can answer, with the same
//! meaning whether search answers them or every message is read.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

pub const HAS_WORD: &str = "has_word";
pub const MENTIONS_USER: &str = "mentions_user";

/// A text's words as search reads them: maximal runs of letters and
/// digits, lower-cased. `has_word` holds when one of them is the word.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn has_word(text: &str, word: &str) -> bool {
    let want = word.to_lowercase();
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| !w.is_empty() && w.to_lowercase() == want)
}

/// Whether a `mentions` column value (a JSON array of user IDs as text)
/// names `user`.
fn mentions_user(mentions: &str, user: &str) -> bool {
    let user = user.trim();
    !user.is_empty() && mentions.contains(&format!("\"{user}\""))
}

pub fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::from(TextPredicate::new(HAS_WORD)));
    ctx.register_udf(ScalarUDF::from(TextPredicate::new(MENTIONS_USER)));
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TextPredicate {
    name: &'static str,
    signature: Signature,
}

impl TextPredicate {
    fn new(name: &'static str) -> Self {
        TextPredicate {
            name,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for TextPredicate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let text = |v: &ColumnarValue| -> Result<ArrayRef> {
            let a = v.to_array(rows)?;
            Ok(datafusion::arrow::compute::cast(&a, &DataType::Utf8)?)
        };
        let (left, right) = (text(&args.args[0])?, text(&args.args[1])?);
        let (left, right) = (left.as_string::<i32>(), right.as_string::<i32>());
        let mut out = BooleanBuilder::with_capacity(rows);
        for row in 0..rows {
            if left.is_null(row) || right.is_null(row) {
                out.append_null();
                continue;
            }
            let (l, r) = (left.value(row), right.value(row));
            out.append_value(if self.name == HAS_WORD {
                has_word(l, r)
            } else {
                mentions_user(l, r)
            });
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_whole_and_case_blind() {
        assert!(has_word("Deploy done", "deploy"));
        assert!(has_word("re-deploy!", "DEPLOY"));
        assert!(!has_word("redeploy", "deploy"));
        assert!(!has_word("deployment", "deploy"));
        assert_eq!(words("Ünïcode, 2 words"), vec!["ünïcode", "2", "words"]);
        assert!(mentions_user(r#"["12","345"]"#, "345"));
        assert!(!mentions_user(r#"["12","345"]"#, "34"));
    }
}
