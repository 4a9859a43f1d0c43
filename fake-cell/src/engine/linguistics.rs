//! The terms lexical search indexes and looks up, made as Vespa makes them for Marqo's lexical
//! fields (`indexing: index`, no `stemming` or `normalizing` setting, so Vespa's defaults): the
//! text split into words, lower-cased, accents removed, and each word stemmed. Documents and
//! queries go through the same steps, so "Running Shoes" is found by `shoe`, `run` or `shoes`, and
//! "Café" by `cafe`, as in Marqo.
//!
//! The stemmer is Snowball's English (Porter2), where Vespa's English default is kStem: both
//! reduce plurals and verb endings the same way (shoes → shoe, running → run, boxes → box), but
//! Porter2 also strips some derivational endings kStem keeps (university and universe meet).
//! Every text is treated as English, Vespa's fallback when it cannot tell a short text's language.
//!
//! Embeddings keep their own words (`embed::tokenize`): changing them would move every vector.

use std::cell::RefCell;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// The lexical terms of `text`, in order (a word can give one term more than once). A word is
/// a run of letters, digits and combining marks (so a decomposed accent or an Indic vowel sign
/// stays inside its word).
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && !is_combining_mark(c))
        .filter(|w| !w.is_empty())
        .map(term)
        .collect()
}

/// Words whose term each thread remembers (a few hundred KiB): stemming a word costs ~3,000
/// instructions, a fifth of a short lexical query's cost before any document is scored, and
/// queries and documents repeat a small vocabulary. Forgotten all at once when full.
const REMEMBERED_TERMS: usize = 4096;

thread_local! {
    static TERMS: RefCell<foldhash::HashMap<Box<str>, Box<str>>> = RefCell::default();
}

/// One word's term, in Vespa's order: folded ([`fold`]), then stemmed.
fn term(word: &str) -> String {
    TERMS.with(|terms| {
        let Ok(mut terms) = terms.try_borrow_mut() else {
            return make_term(word);
        };
        if let Some(t) = terms.get(word) {
            // (Not `to_string`: on a `Box<str>` that goes through `Display` and grows the string.)
            return String::from(&**t);
        }
        let t = make_term(word);
        if terms.len() >= REMEMBERED_TERMS {
            terms.clear();
        }
        terms.insert(word.into(), t.as_str().into());
        t
    })
}

fn make_term(word: &str) -> String {
    ENGLISH.stem(&fold(word)).into_owned()
}

/// Text as Vespa folds it before stemming: NFKC (so a ligature or a full-width letter is its
/// plain form), lower-cased, accents dropped.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_lowercase();
    }
    let lower = text.nfkc().collect::<String>().to_lowercase();
    // Decomposed, an accented letter is its base letter and a mark from the Combining
    // Diacritical Marks block, the only marks Vespa drops (other scripts' marks are letters'
    // parts there).
    lower
        .nfd()
        .filter(|c| !COMBINING_DIACRITICS.contains(c))
        .collect()
}

/// Unicode's Combining Diacritical Marks block.
const COMBINING_DIACRITICS: std::ops::RangeInclusive<char> = '\u{300}'..='\u{36f}';

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_verb_endings_meet_their_stem() {
        for (a, b) in [
            ("shoes", "shoe"),
            ("Running", "run"),
            ("boxes", "box"),
            ("walked", "walking"),
            ("dresses", "dress"),
        ] {
            assert_eq!(terms(a), terms(b), "{a} / {b}");
        }
        assert_ne!(terms("red"), terms("read"));
    }

    #[test]
    fn accents_and_case_are_dropped_before_stemming() {
        assert_eq!(terms("Café CAFÉS"), terms("cafe cafes"));
        assert_eq!(terms("naïve Ångström"), terms("naive angstrom"));
        assert_eq!(terms("crème-brûlée"), terms("creme brulee"));
    }

    #[test]
    fn compatibility_forms_fold_and_other_scripts_keep_their_marks() {
        assert_eq!(terms("ﬁne ＳＨＯＥＳ"), terms("fine shoes"));
        // "e" and a combining acute, as a decomposed text writes "é".
        assert_eq!(terms("cafe\u{301} au lait"), terms("cafe au lait"));
        // A Devanagari vowel sign is part of its word, and stays.
        assert_eq!(terms("नमस्ते दुनिया").len(), 2);
        assert_eq!(terms("नमस्ते"), vec!["नमस्ते".to_string()]);
    }

    #[test]
    fn words_split_at_anything_not_a_letter_or_digit() {
        assert_eq!(
            terms("  e-mail, item 42!  zq0x1 "),
            vec!["e", "mail", "item", "42", "zq0x1"]
        );
        assert!(terms(" -- ").is_empty());
    }
}
