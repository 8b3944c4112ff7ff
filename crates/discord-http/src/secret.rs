//! The bot token: a secret that never prints.

use std::fmt;

/// Holds the bot token. `Debug` and `Display` show `[redacted]`, so the
/// token cannot reach output, logs or errors by formatting; the only way to
/// read it is [`Secret::expose`], used where the Authorization header is built.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(token: impl Into<String>) -> Self {
        Secret(
            token
                .into()
                .trim()
                .trim_start_matches("Bot ")
                .trim()
                .to_string(),
        )
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Remove the token from a text that might contain it (an error from a
    /// library, say) before the text goes anywhere.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "[redacted]")
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_token() {
        let s = Secret::new("Bot abc.def.ghi");
        assert_eq!(s.expose(), "abc.def.ghi");
        assert!(!format!("{s:?} {s}").contains("abc"));
        assert_eq!(
            s.scrub("bad token abc.def.ghi here"),
            "bad token [redacted] here"
        );
    }
}
