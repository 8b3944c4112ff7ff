//! Partial updates of JSON documents, as SQL functions:
//! `json_merge_patch(doc, patch)` (RFC 7396: the patch's members replace
//! the document's, a `null` removes one, objects merge member by member)
//! and `json_set(doc, path, value)` (as SQLite's: `path` is `$.a.b`, a text
//! value is set as a JSON string; missing objects on the way are made).
//!
//! Only what the patch names changes: every other byte of the document
//! (its members' order, their values' text, the spacing) stays as it was,
//! so `UPDATE docs SET doc = json_merge_patch(doc, '{"role":"admin"}')`
//! leaves the rest of each document byte for byte. The document's members
//! are found with serde_json's borrowed `RawValue`s, whose text is a slice
//! of the document: their offsets say what to splice.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value as Json;
use serde_json::value::RawValue;

/// `doc` with `patch` merged in (RFC 7396), everything it does not name
/// kept byte for byte. `doc` that is not JSON is an error; a `doc` that is
/// not an object is replaced, as the RFC says.
pub fn merge_patch(doc: &str, patch: &str) -> Result<String, String> {
    let patch: Json =
        serde_json::from_str(patch).map_err(|e| format!("the patch is not JSON ({e})"))?;
    serde_json::from_str::<&RawValue>(doc)
        .map_err(|e| format!("the document is not JSON ({e})"))?;
    Ok(merge(doc, &patch))
}

/// `doc` with the member at `path` (`$.a.b`) set to `value`.
pub fn set_path(doc: &str, path: &str, value: &Json) -> Result<String, String> {
    serde_json::from_str::<&RawValue>(doc)
        .map_err(|e| format!("the document is not JSON ({e})"))?;
    let keys: Vec<&str> = match path.strip_prefix('$') {
        Some(rest) if rest.starts_with('.') => rest[1..].split('.').collect(),
        _ => {
            return Err(format!(
                "path {path:?}: write it as $.member or $.member.member"
            ));
        }
    };
    if keys.iter().any(|k| k.is_empty()) {
        return Err(format!("path {path:?} names an empty member"));
    }
    Ok(set(doc, &keys, value))
}

fn merge(target: &str, patch: &Json) -> String {
    let Json::Object(members) = patch else {
        return patch.to_string();
    };
    let Some(mut object) = Object::parse(target) else {
        return merge("{}", patch);
    };
    for (key, value) in members {
        if value.is_null() {
            object.remove(key);
        } else if !object.replace(key, |old| merge(old, value)) {
            object.add(key, &merge("{}", value));
        }
    }
    object.render()
}

fn set(target: &str, keys: &[&str], value: &Json) -> String {
    let Some((first, rest)) = keys.split_first() else {
        return value.to_string();
    };
    let Some(mut object) = Object::parse(target) else {
        return set("{}", keys, value);
    };
    if !object.replace(first, |old| set(old, rest, value)) {
        object.add(first, &set("{}", rest, value));
    }
    object.render()
}

/// A JSON object's text cut into its members: `{` then, per member, the
/// text from the end of the member before (or the brace) to the end of its
/// value, then what follows the last value (spacing and `}`).
struct Object {
    members: Vec<Member>,
    tail: String,
}

struct Member {
    key: String,
    /// `, "key": value` (or `"key": value` for the first, with the spacing
    /// after the brace).
    text: String,
    /// Where the value is in `text`.
    value: Range<usize>,
}

impl Object {
    fn parse(text: &str) -> Option<Object> {
        let raw: Members = serde_json::from_str(text).ok()?;
        let base = text.as_ptr() as usize;
        let brace = text.find('{')?;
        let mut start = brace + 1;
        let mut members = Vec::new();
        for (key, value) in raw.0 {
            let at = value.get().as_ptr() as usize - base;
            let end = at + value.get().len();
            members.push(Member {
                key,
                text: text[start..end].to_string(),
                value: at - start..end - start,
            });
            start = end;
        }
        Some(Object {
            members,
            tail: text[start..].to_string(),
        })
    }

    /// Replace the value of every member named `key`; false if none is.
    fn replace(&mut self, key: &str, new: impl Fn(&str) -> String) -> bool {
        let mut found = false;
        for m in self.members.iter_mut().filter(|m| m.key == key) {
            let value = new(&m.text[m.value.clone()]);
            m.text.replace_range(m.value.clone(), &value);
            m.value = m.value.start..m.value.start + value.len();
            found = true;
        }
        found
    }

    fn remove(&mut self, key: &str) {
        let Some(first) = self.members.first() else {
            return;
        };
        // The spacing after the brace belongs to the first member's text.
        let lead = first.text[..first.text.find('"').unwrap_or(0)].to_string();
        let was_first = first.key == key;
        self.members.retain(|m| m.key != key);
        if was_first && let Some(m) = self.members.first_mut() {
            // `, "b": 2` becomes the first member: `"b": 2`, after the
            // spacing the removed one had.
            let quote = m.text.find('"').unwrap_or(0);
            m.text = format!("{lead}{}", &m.text[quote..]);
            m.value = m.value.start - quote + lead.len()..m.value.end - quote + lead.len();
        }
    }

    fn add(&mut self, key: &str, value: &str) {
        let name = Json::String(key.to_string()).to_string();
        let sep = if self.members.is_empty() { "" } else { "," };
        let text = format!("{sep}{name}:{value}");
        let at = text.len() - value.len();
        self.members.push(Member {
            key: key.to_string(),
            value: at..text.len(),
            text,
        });
    }

    fn render(&self) -> String {
        let mut out = String::from("{");
        for m in &self.members {
            out.push_str(&m.text);
        }
        if self.members.is_empty() {
            // An emptied object keeps only its closing brace.
            out.push('}');
        } else {
            out.push_str(&self.tail);
        }
        out
    }
}

/// An object's members in their order, each value's text borrowed.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    out.push(entry);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// `json_merge_patch(doc, patch)` as an expression, for plans built
/// without SQL text (the bot's updates).
pub fn merge_patch_expr(
    doc: datafusion::prelude::Expr,
    patch: datafusion::prelude::Expr,
) -> datafusion::prelude::Expr {
    ScalarUDF::from(JsonPatchFunction::new(Kind::MergePatch)).call(vec![doc, patch])
}

/// The two functions, on a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::from(JsonPatchFunction::new(Kind::MergePatch)));
    ctx.register_udf(ScalarUDF::from(JsonPatchFunction::new(Kind::Set)));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    MergePatch,
    Set,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonPatchFunction {
    kind: Kind,
    signature: Signature,
}

impl JsonPatchFunction {
    fn new(kind: Kind) -> Self {
        let args = match kind {
            Kind::MergePatch => 2,
            Kind::Set => 3,
        };
        JsonPatchFunction {
            kind,
            signature: Signature::any(args, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JsonPatchFunction {
    fn name(&self) -> &str {
        match self.kind {
            Kind::MergePatch => "json_merge_patch",
            Kind::Set => "json_set",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let columns: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let text = |i: usize| datafusion::arrow::compute::cast(&columns[i], &DataType::Utf8);
        let doc = text(0)?;
        let doc = doc.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(rows, rows * 64);
        for row in 0..rows {
            if doc.is_null(row) {
                out.append_null();
                continue;
            }
            let done = match self.kind {
                Kind::MergePatch => {
                    let patch = text(1)?;
                    let patch = patch.as_string::<i32>();
                    if patch.is_null(row) {
                        Ok(Json::Null.to_string())
                    } else {
                        merge_patch(doc.value(row), patch.value(row))
                    }
                }
                Kind::Set => {
                    let path = text(1)?;
                    let path = path.as_string::<i32>();
                    let value = json_of(&ScalarValue::try_from_array(&columns[2], row)?);
                    set_path(doc.value(row), path.value(row), &value)
                }
            };
            match done {
                Ok(s) => out.append_value(s),
                Err(why) => return exec_err!("{}: {why}", self.name()),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// An SQL value as JSON: text is a string, numbers and booleans are
/// themselves, NULL is null.
fn json_of(v: &ScalarValue) -> Json {
    if v.is_null() {
        return Json::Null;
    }
    match v {
        ScalarValue::Boolean(Some(b)) => Json::Bool(*b),
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::UInt8(_)
        | ScalarValue::UInt16(_)
        | ScalarValue::UInt32(_)
        | ScalarValue::UInt64(_) => v
            .to_string()
            .parse::<i64>()
            .map(Json::from)
            .unwrap_or(Json::Null),
        ScalarValue::Float32(_) | ScalarValue::Float64(_) => v
            .to_string()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::Null, Json::Number),
        other => Json::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patch_changes_what_it_names_and_nothing_else() {
        let doc = r#"{ "id": "u_1",  "role": "student", "tags": [1, 2] ,"n": {"a": 1, "b": 2} }"#;
        assert_eq!(
            merge_patch(doc, r#"{"role":"admin"}"#).unwrap(),
            r#"{ "id": "u_1",  "role": "admin", "tags": [1, 2] ,"n": {"a": 1, "b": 2} }"#
        );
        assert_eq!(
            merge_patch(doc, r#"{"n":{"b":null,"c":3}}"#).unwrap(),
            r#"{ "id": "u_1",  "role": "student", "tags": [1, 2] ,"n": {"a": 1,"c":3} }"#
        );
        assert_eq!(
            merge_patch(doc, r#"{"id":null}"#).unwrap(),
            r#"{ "role": "student", "tags": [1, 2] ,"n": {"a": 1, "b": 2} }"#
        );
        assert_eq!(
            merge_patch(doc, r#"{"new":{"x":null,"y":[true]}}"#).unwrap(),
            r#"{ "id": "u_1",  "role": "student", "tags": [1, 2] ,"n": {"a": 1, "b": 2},"new":{"y":[true]} }"#
        );
        assert_eq!(merge_patch(r#"{"a":1}"#, r#"{"a":null}"#).unwrap(), "{}");
        assert_eq!(merge_patch("[1]", r#"{"a":1}"#).unwrap(), r#"{"a":1}"#);
        assert_eq!(merge_patch(r#"{"a":1}"#, "[2]").unwrap(), "[2]");
        assert!(
            merge_patch("{", "{}")
                .unwrap_err()
                .contains("document is not JSON")
        );
        assert!(
            merge_patch("{}", "{")
                .unwrap_err()
                .contains("patch is not JSON")
        );
    }

    /// The RFC's own examples (RFC 7396, appendix A), compared as values.
    #[test]
    fn the_rfc_examples_hold() {
        let cases = [
            (r#"{"a":"b"}"#, r#"{"a":"c"}"#, r#"{"a":"c"}"#),
            (r#"{"a":"b"}"#, r#"{"b":"c"}"#, r#"{"a":"b","b":"c"}"#),
            (r#"{"a":"b"}"#, r#"{"a":null}"#, r#"{}"#),
            (r#"{"a":"b","b":"c"}"#, r#"{"a":null}"#, r#"{"b":"c"}"#),
            (r#"{"a":["b"]}"#, r#"{"a":"c"}"#, r#"{"a":"c"}"#),
            (r#"{"a":"c"}"#, r#"{"a":["b"]}"#, r#"{"a":["b"]}"#),
            (
                r#"{"a":{"b":"c"}}"#,
                r#"{"a":{"b":"d","c":null}}"#,
                r#"{"a":{"b":"d"}}"#,
            ),
            (r#"{"a":[{"b":"c"}]}"#, r#"{"a":[1]}"#, r#"{"a":[1]}"#),
            (r#"["a","b"]"#, r#"["c","d"]"#, r#"["c","d"]"#),
            (r#"{"a":"b"}"#, r#"["c"]"#, r#"["c"]"#),
            (r#"{"a":"foo"}"#, "null", "null"),
            (r#"{"a":"foo"}"#, r#""bar""#, r#""bar""#),
            (r#"{"e":null}"#, r#"{"a":1}"#, r#"{"e":null,"a":1}"#),
            (r#"[1,2]"#, r#"{"a":"b","c":null}"#, r#"{"a":"b"}"#),
            (
                r#"{}"#,
                r#"{"a":{"bb":{"ccc":null}}}"#,
                r#"{"a":{"bb":{}}}"#,
            ),
        ];
        for (doc, patch, want) in cases {
            let got: Json = serde_json::from_str(&merge_patch(doc, patch).unwrap()).unwrap();
            let want: Json = serde_json::from_str(want).unwrap();
            assert_eq!(got, want, "{doc} + {patch}");
        }
    }

    #[test]
    fn json_set_sets_a_path_and_makes_what_is_missing() {
        let doc = r#"{"a": 1, "b": {"c": 2}}"#;
        let s = |path: &str, v: Json| set_path(doc, path, &v).unwrap();
        assert_eq!(s("$.a", Json::from(5)), r#"{"a": 5, "b": {"c": 2}}"#);
        assert_eq!(s("$.b.c", Json::from("x")), r#"{"a": 1, "b": {"c": "x"}}"#);
        assert_eq!(
            s("$.b.d", Json::Null),
            r#"{"a": 1, "b": {"c": 2,"d":null}}"#
        );
        assert_eq!(
            s("$.e.f", Json::from(true)),
            r#"{"a": 1, "b": {"c": 2},"e":{"f":true}}"#
        );
        assert!(
            set_path(doc, "a", &Json::Null)
                .unwrap_err()
                .contains("$.member")
        );
        assert!(
            set_path(doc, "$.a..b", &Json::Null)
                .unwrap_err()
                .contains("empty member")
        );
    }
}
