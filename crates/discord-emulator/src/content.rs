//! What Discord does to message content on the way in: "Discord may strip
//! certain characters from message content, like invalid unicode characters
//! or characters which cause unexpected message formatting" (Create
//! Message). Which ones is not documented; staff confirmed control
//! characters and U+202E, so the default strips C0/C1 controls (but tab,
//! newline and carriage return) and the bidirectional overrides.

use std::borrow::Cow;

/// The characters the emulator strips from message content.
#[derive(Clone, Debug, PartialEq)]
pub struct StripSet {
    /// U+0000-U+001F and U+007F-U+009F, except `\t`, `\n` and `\r`.
    pub controls: bool,
    /// U+202A-U+202E and U+2066-U+2069 (embedding, override and isolate marks).
    pub bidi: bool,
    /// Any others.
    pub extra: Vec<char>,
}

impl Default for StripSet {
    fn default() -> Self {
        StripSet {
            controls: true,
            bidi: true,
            extra: Vec::new(),
        }
    }
}

impl StripSet {
    /// Strip nothing.
    pub fn none() -> Self {
        StripSet {
            controls: false,
            bidi: false,
            extra: Vec::new(),
        }
    }

    fn strips(&self, c: char) -> bool {
        let control = matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
            && !matches!(c, '\t' | '\n' | '\r');
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        (self.controls && control) || (self.bidi && bidi) || self.extra.contains(&c)
    }

    /// The content as Discord would store it.
    pub fn apply<'a>(&self, content: &'a str) -> Cow<'a, str> {
        if content.chars().any(|c| self.strips(c)) {
            Cow::Owned(content.chars().filter(|c| !self.strips(*c)).collect())
        } else {
            Cow::Borrowed(content)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_and_bidi_overrides_but_keeps_newlines() {
        let s = StripSet::default();
        assert_eq!(s.apply("a\u{0}b\u{202e}c\n\td\u{7}"), "abc\n\td");
        assert!(matches!(s.apply("plain"), Cow::Borrowed(_)));
        assert_eq!(StripSet::none().apply("a\u{0}"), "a\u{0}");
        let tilde = StripSet {
            extra: vec!['~'],
            ..StripSet::default()
        };
        assert_eq!(tilde.apply("a~b"), "ab");
    }
}
