//! JSON written in ASCII alone: every other character as a `\uXXXX` escape
//! (a surrogate pair beyond the Basic Multilingual Plane). Discord may
//! strip or alter characters it dislikes in message content; escaped, a
//! value's text reaches Discord as plain ASCII and comes back unchanged.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// `value` as compact JSON, ASCII only.
pub fn to_string(value: &impl Serialize) -> String {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, AsciiOnly);
    value
        .serialize(&mut ser)
        .expect("serialising JSON into memory does not fail");
    String::from_utf8(out).expect("the output is ASCII")
}

struct AsciiOnly;

impl Formatter for AsciiOnly {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                writer.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn non_ascii_is_escaped_and_reads_back() {
        let v = json!({"t": "Zoë 😀 \u{202e} \"q\" \n"});
        let text = to_string(&v);
        assert!(text.is_ascii(), "{text}");
        assert!(
            text.contains("\\u00eb") && text.contains("\\ud83d\\ude00"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
    }
}
