//! How the emulator's search reads text: words, case folding, stemming, phrases.
//!
//! Discord's search is Elasticsearch behind the API: case-insensitive words,
//! phrases with slop, and stemming ("localization" also finds "local"). The
//! emulator is as fuzzy, so that dbcord never relies on search being exact.

/// Lower-cased words: maximal runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
        .collect()
}

/// A crude English stemmer: enough to make matches fuzzier than equality.
pub fn stem(word: &str) -> String {
    const SUFFIXES: [&str; 6] = ["ization", "ations", "ation", "ing", "ed", "s"];
    for suffix in SUFFIXES {
        if let Some(root) = word.strip_suffix(suffix)
            && root.chars().count() >= 3
        {
            return root.to_string();
        }
    }
    word.to_string()
}

/// A parsed search `content`: the terms that must all match, each a
/// phrase of words in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentQuery<W> {
    pub terms: Vec<Vec<W>>,
}

impl ContentQuery<String> {
    /// As Discord reads `content`: all its words are one phrase.
    pub fn phrase(content: &str) -> Self {
        let all = words(content);
        ContentQuery {
            terms: if all.is_empty() { vec![] } else { vec![all] },
        }
    }

    /// The kinder reading: every bare word anywhere, quoted phrases in order.
    pub fn all_words(content: &str) -> Self {
        let mut terms = Vec::new();
        for (i, part) in content.split('"').enumerate() {
            if i % 2 == 1 {
                let phrase = words(part);
                if !phrase.is_empty() {
                    terms.push(phrase);
                }
            } else {
                terms.extend(words(part).into_iter().map(|w| vec![w]));
            }
        }
        ContentQuery { terms }
    }

    /// The same query over interned words; `None` if a word was never seen
    /// (then nothing can match).
    pub fn intern(&self, id: impl Fn(&str) -> Option<u32>) -> Option<ContentQuery<u32>> {
        let terms = self
            .terms
            .iter()
            .map(|t| t.iter().map(|w| id(w)).collect::<Option<Vec<u32>>>())
            .collect::<Option<Vec<_>>>()?;
        Some(ContentQuery { terms })
    }
}

impl<W: PartialEq> ContentQuery<W> {
    /// Whether a document (its words in order) matches every term,
    /// phrases allowing `slop` skipped words in all.
    pub fn matches(&self, doc: &[W], slop: usize) -> bool {
        self.terms.iter().all(|t| phrase_in(doc, t, slop))
    }
}

fn phrase_in<W: PartialEq>(doc: &[W], phrase: &[W], slop: usize) -> bool {
    let Some(first) = phrase.first() else {
        return true;
    };
    doc.iter()
        .enumerate()
        .filter(|(_, w)| *w == first)
        .any(|(start, _)| rest_follows(doc, start + 1, &phrase[1..], slop))
}

/// Each remaining word must follow in order, with at most `slop` skipped words in all.
fn rest_follows<W: PartialEq>(doc: &[W], mut pos: usize, rest: &[W], mut slop: usize) -> bool {
    for w in rest {
        let Some(found) = doc[pos.min(doc.len())..].iter().position(|d| d == w) else {
            return false;
        };
        if found > slop {
            return false;
        }
        slop -= found;
        pos += found + 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_and_split_punctuation() {
        assert_eq!(words("Hello, WORLD!"), vec!["hello", "world"]);
        assert_eq!(words("Ünïcode-ß"), vec!["ünïcode", "ß"]);
    }

    #[test]
    fn stemming_widens_matches() {
        let q = ContentQuery::phrase("admin");
        assert!(q.matches(&words("the admins"), 2));
        assert!(q.matches(&words("ADMIN"), 2));
        assert!(!q.matches(&words("administrator"), 2));
    }

    #[test]
    fn several_words_are_a_phrase_in_order_within_slop() {
        let q = ContentQuery::phrase("red car");
        assert!(q.matches(&words("a red fast car"), 2));
        assert!(!q.matches(&words("a red very very fast car"), 2));
        assert!(!q.matches(&words("car red"), 2), "reversed is no match");
        let kind = ContentQuery::all_words("red car");
        assert!(
            kind.matches(&words("car red"), 2),
            "the kinder reading ANDs words"
        );
        assert!(ContentQuery::all_words("\"red car\"").terms.len() == 1);
    }
}
