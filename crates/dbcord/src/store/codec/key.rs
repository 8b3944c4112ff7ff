//! Primary keys (and indexed values) as bytes whose order is the values'
//! order: segments are sorted by them, their batch directories name the
//! first key of each batch, and a lookup compares bytes.
//!
//! Each part: a type tag, then
//! - BIGINT, INT, TIMESTAMP: 8 bytes big-endian with the sign bit flipped;
//! - DOUBLE, REAL: the IEEE bits, all flipped for negatives, the sign bit
//!   flipped for the others (with -0.0 as 0.0 and every NaN as one NaN);
//! - BOOLEAN: one byte;
//! - TEXT: its bytes with 0x00 written 0x00 0xff, ended by 0x00 0x00, so a
//!   part ends unambiguously and a prefix sorts first.
//!
//! NULL has no encoding: a key part is never NULL, and a NULL indexed value
//! is never looked up by `=`.

use super::value::Value;
use crate::store::schema::TableDef;

/// Encoded key bytes; `Ord` is the key order.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(pub Vec<u8>);

impl Key {
    /// The key of these values, or `None` if one is NULL.
    pub fn of<'a>(values: impl IntoIterator<Item = &'a Value>) -> Option<Key> {
        let mut out = Vec::new();
        for v in values {
            encode(v, &mut out)?;
        }
        Some(Key(out))
    }

    /// Lower-case hex, for JSON.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// A key at most `max` bytes long that is at most this one: for the
    /// lower end of a range in a header that must stay short.
    pub fn lower_bound(&self, max: usize) -> Key {
        Key(self.0[..self.0.len().min(max)].to_vec())
    }

    /// A key at most `max` bytes long that is at least this one: a prefix
    /// with its last byte raised, which sorts after every key it starts.
    pub fn upper_bound(&self, max: usize) -> Key {
        if self.0.len() <= max {
            return self.clone();
        }
        let mut prefix = self.0[..max].to_vec();
        while let Some(last) = prefix.pop() {
            if last < u8::MAX {
                prefix.push(last + 1);
                return Key(prefix);
            }
        }
        self.clone() // all 0xff: no shorter bound exists
    }

    /// The shortest prefix of `first` that sorts after `before` (which
    /// sorts before `first`): a batch boundary as short as the keys allow,
    /// so that a lookup of any key between the two still finds its batch.
    pub fn separator(before: &Key, first: &Key) -> Key {
        let common = before
            .0
            .iter()
            .zip(&first.0)
            .take_while(|(a, b)| a == b)
            .count();
        Key(first.0[..(common + 1).min(first.0.len())].to_vec())
    }

    pub fn from_hex(text: &str) -> Option<Key> {
        hex::decode(text).ok().map(Key)
    }
}

/// The key of a row of `def` (values in column order), or `None` if a key
/// column is NULL: such a change names no row any read can reach.
pub fn row_key(def: &TableDef, values: &[Value]) -> Option<Key> {
    Key::of(
        def.primary_key
            .iter()
            .map(|k| def.column_index(k).map(|i| &values[i]))
            .collect::<Option<Vec<_>>>()?,
    )
}

fn encode(v: &Value, out: &mut Vec<u8>) -> Option<()> {
    match v {
        Value::Null => return None,
        Value::Int(i) => {
            out.push(1);
            out.extend_from_slice(&((*i as u64) ^ (1 << 63)).to_be_bytes());
        }
        Value::Timestamp(t) => {
            out.push(2);
            out.extend_from_slice(&((*t as u64) ^ (1 << 63)).to_be_bytes());
        }
        Value::Float(f) => {
            out.push(3);
            let f = if *f == 0.0 {
                0.0
            } else if f.is_nan() {
                f64::NAN
            } else {
                *f
            };
            let bits = f.to_bits();
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits ^ (1 << 63)
            };
            out.extend_from_slice(&ordered.to_be_bytes());
        }
        Value::Bool(b) => {
            out.push(4);
            out.push(u8::from(*b));
        }
        Value::Text(s) => {
            out.push(5);
            for b in s.bytes() {
                out.push(b);
                if b == 0 {
                    out.push(0xff);
                }
            }
            out.extend_from_slice(&[0, 0]);
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_bounds_and_separators_keep_the_order() {
        let long = |c: &str| Key::of([&Value::Text(c.repeat(100))]).unwrap();
        let (a, b) = (long("a"), long("b"));
        assert!(a.lower_bound(8) <= a && a.lower_bound(8).0.len() == 8);
        let up = a.upper_bound(8);
        assert!(up >= a && up < b && up.0.len() == 8, "{up:?}");
        let mut close = a.clone();
        close.0.push(1);
        let sep = Key::separator(&a, &close);
        assert!(a < sep && sep <= close);
        let sep = Key::separator(&a, &b);
        assert!(a < sep && sep <= b && sep.0.len() == 2, "{sep:?}");
    }

    fn key(v: Value) -> Key {
        Key::of([&v]).unwrap()
    }

    #[test]
    fn byte_order_is_value_order() {
        let ints = [-5i64, -1, 0, 1, 1 << 40];
        for w in ints.windows(2) {
            assert!(key(Value::Int(w[0])) < key(Value::Int(w[1])));
        }
        let floats = [
            f64::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1e-300,
            3.0,
            f64::INFINITY,
        ];
        for w in floats.windows(2) {
            assert!(key(Value::Float(w[0])) <= key(Value::Float(w[1])), "{w:?}");
        }
        assert_eq!(key(Value::Float(-0.0)), key(Value::Float(0.0)));
        let texts = ["", "a", "a\u{0}", "a\u{0}b", "ab", "b"];
        for w in texts.windows(2) {
            assert!(
                key(Value::Text(w[0].into())) < key(Value::Text(w[1].into())),
                "{w:?}"
            );
        }
    }

    #[test]
    fn composite_keys_never_run_together() {
        let a = Key::of(&[Value::Text("x\u{0}s".into()), Value::Text("y".into())]).unwrap();
        let b = Key::of(&[Value::Text("x".into()), Value::Text("\u{0}sy".into())]).unwrap();
        assert_ne!(a, b);
        assert!(Key::of(&[Value::Int(1), Value::Null]).is_none());
        assert_eq!(Key::from_hex(&a.to_hex()), Some(a));
    }
}
