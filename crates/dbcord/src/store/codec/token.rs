//! Search tokens: how a row is found by `column = value` through Discord's
//! word search, whatever the value holds.
//!
//! Each non-NULL cell contributes one token: the letter `q` followed by 14
//! letters a-z that spell a 64-bit FNV-1a hash of (column name, type class,
//! canonical value). A lookup searches for the same token.
//!
//! Why search can only add false candidates, never lose a true one:
//! - the token is one plain word of lower-case ASCII letters, so no
//!   tokenizer splits it, and case folding leaves it as it is;
//! - stemming and phrase slop transform the query word and the stored word
//!   by the same rules, so identical words still match; what they add is
//!   matches between *different* words (a stem shared by two tokens), and a
//!   hash collision likewise only adds a row whose value differs;
//! - values with spaces, punctuation, unicode, case differences or great
//!   length never reach the tokenizer: only their hash does, and distinct
//!   values (`Admin` and `admin`) get distinct tokens.
//!
//! So the candidates always include every row with the value that search has
//! indexed; the SQL layer re-checks each candidate, which removes the extras.
//! Rows search has not indexed yet are the business of the freshness mode.

use super::value::Value;

/// The search token for `column = value`, or `None` for NULL (which `=` never matches).
pub fn token(column: &str, value: &Value) -> Option<String> {
    let canonical = value.canonical()?;
    let mut h = Fnv::new();
    h.write(column.as_bytes());
    h.write(&[0xff]);
    h.write(canonical.as_bytes());
    Some(letters(h.0))
}

/// One token for a whole composite key (`a = x AND b = y`), so that a key
/// lookup is a single word: Discord matches several words only as a phrase,
/// so two tokens in one search would find nothing. Each part is length-
/// prefixed, so no two distinct keys hash the same text. `None` if a part is NULL.
pub fn key_token(parts: &[(&str, &Value)]) -> Option<String> {
    let mut h = Fnv::new();
    h.write(b"\0key");
    for (column, value) in parts {
        let canonical = value.canonical()?;
        for text in [column.as_bytes(), canonical.as_bytes()] {
            h.write(&(text.len() as u64).to_le_bytes());
            h.write(text);
        }
    }
    Some(letters(h.0))
}

/// `q` and 14 letters: 26^14 > 2^64, so every hash has its own word.
fn letters(mut h: u64) -> String {
    let mut out = String::with_capacity(15);
    out.push('q');
    for _ in 0..14 {
        out.push((b'a' + (h % 26) as u8) as char);
        h /= 26;
    }
    out
}

/// FNV-1a, 64-bit: stable across processes and versions, unlike `std`'s hasher.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_single_lower_case_words_that_distinguish_values() {
        let a = token("role", &Value::Text("Admin".into())).unwrap();
        let b = token("role", &Value::Text("admin".into())).unwrap();
        let c = token("name", &Value::Text("admin".into())).unwrap();
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_eq!(a.len(), 15);
        assert!(a.chars().all(|ch| ch.is_ascii_lowercase()));
        assert_eq!(
            token("x", &Value::Float(0.0)),
            token("x", &Value::Float(-0.0))
        );
        assert_eq!(token("x", &Value::Null), None);
        let (x, y) = (Value::Text("x".into()), Value::Text("y".into()));
        let k = key_token(&[("a", &x), ("b", &y)]).unwrap();
        assert_ne!(Some(k.clone()), key_token(&[("a", &y), ("b", &x)]));
        assert_ne!(Some(k), token("a", &x));
        assert_eq!(key_token(&[("a", &x), ("b", &Value::Null)]), None);
    }
}
