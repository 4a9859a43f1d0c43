//! Lexical search: BM25 (k1 = 1.2, b = 0.75) summed over the searched fields, read from the
//! per-field inverted index built at write time. Query syntax as Marqo: `"quoted phrases"` are
//! required, other terms optional (at least one must match when present); `*` matches everything.

use super::embed::tokenize;
use crate::index_server::store::IndexData;

const K1: f32 = 1.2;
const B: f32 = 0.75;

pub struct LexQuery {
    pub required: Vec<Vec<String>>,
    pub optional: Vec<String>,
    pub match_all: bool,
}

pub fn parse_query(q: &str) -> LexQuery {
    if q.trim() == "*" {
        return LexQuery {
            required: Vec::new(),
            optional: Vec::new(),
            match_all: true,
        };
    }
    let chars: Vec<char> = q.chars().collect();
    let mut required = Vec::new();
    let mut rest = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1) == Some(&'"') {
            rest.push(' ');
            i += 2;
            continue;
        }
        let opens = c == '"' && (i == 0 || chars[i - 1].is_whitespace());
        if opens {
            // Find a closing quote followed by the end or whitespace.
            let close = (i + 1..chars.len()).find(|&j| {
                chars[j] == '"'
                    && chars[j - 1] != '\\'
                    && chars.get(j + 1).is_none_or(|n| n.is_whitespace())
            });
            if let Some(j) = close {
                let phrase: String = chars[i + 1..j].iter().collect();
                let toks = tokenize(&phrase);
                if !toks.is_empty() {
                    required.push(toks);
                }
                i = j + 1;
                continue;
            }
        }
        rest.push(if c == '"' { ' ' } else { c });
        i += 1;
    }
    LexQuery {
        required,
        optional: tokenize(&rest),
        match_all: false,
    }
}

fn contains_phrase(tokens: &[String], phrase: &[String]) -> bool {
    phrase.len() <= tokens.len() && tokens.windows(phrase.len()).any(|w| w == phrase)
}

/// Score documents; `fields` are the searched lexical fields, `text_of(slot, field)` gives the
/// stored text for phrase checks. Returns `(slot, score)` for every matching document.
pub fn score(
    data: &IndexData,
    q: &LexQuery,
    fields: &[String],
    text_of: impl Fn(u32, &str) -> Option<String>,
) -> Vec<(u32, f32)> {
    if q.match_all {
        return data
            .iter()
            .filter(|(slot, _)| {
                fields.iter().any(|f| {
                    data.lex
                        .get(f)
                        .is_some_and(|fl| fl.doc_len(*slot).is_some())
                })
            })
            .map(|(slot, _)| (slot, 1.0))
            .collect();
    }
    let mut terms: Vec<&String> = q
        .optional
        .iter()
        .chain(q.required.iter().flatten())
        .collect();
    terms.sort();
    terms.dedup();
    // Dense accumulators by slot: far cheaper than hash maps on the hot path.
    let cap = data.slot_capacity();
    let mut scores = vec![0.0f32; cap];
    // bit 1: touched, bit 2: an optional term matched
    let mut flags = vec![0u8; cap];
    let mut touched: Vec<u32> = Vec::new();
    for f in fields {
        let Some(fl) = data.lex.get(f) else { continue };
        let n = fl.count as f32;
        if n == 0.0 {
            continue;
        }
        let avg = (fl.total as f32 / n).max(1.0);
        for t in &terms {
            let Some(post) = fl.postings.get(*t) else {
                continue;
            };
            let df = post.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let bit = if q.optional.contains(t) { 3 } else { 1 };
            for &(slot, tf) in post {
                let tf = tf as f32;
                let dl = fl.doc_len(slot).unwrap_or(0) as f32;
                let i = slot as usize;
                scores[i] += idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * dl / avg));
                if flags[i] == 0 {
                    touched.push(slot);
                }
                flags[i] |= bit;
            }
        }
    }
    let need_optional = !q.optional.is_empty() && !q.required.is_empty();
    touched
        .into_iter()
        .filter(|slot| !need_optional || flags[*slot as usize] & 2 != 0)
        .filter(|slot| {
            q.required.iter().all(|phrase| {
                fields.iter().any(|f| {
                    text_of(*slot, f).is_some_and(|t| contains_phrase(&tokenize(&t), phrase))
                })
            })
        })
        .map(|slot| (slot, scores[slot as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_required() {
        let q = parse_query(r#"green "red apple" pie"#);
        assert_eq!(
            q.required,
            vec![vec!["red".to_string(), "apple".to_string()]]
        );
        assert_eq!(q.optional, vec!["green", "pie"]);
        let q = parse_query(r#"unpaired "quote"#);
        assert!(q.required.is_empty());
        assert_eq!(q.optional, vec!["unpaired", "quote"]);
        assert!(parse_query("*").match_all);
    }
}
