//! Lexical search: BM25 (k1 = 1.2, b = 0.75) summed over the searched fields, read from the
//! per-field inverted index built at write time. Query syntax as Marqo: `"quoted phrases"` are
//! required, other terms optional (at least one must match when present); `*` matches everything.

use super::embed::tokenize;
use super::topk::{Scratch, with_scratch};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::index_server::store::{FieldLex, IndexData};

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

/// Most postings the impact cache holds (8 bytes each, so 8 MB per index) before it starts over:
/// a memory bound (one query's lists may overshoot it once).
const MAX_CACHED_POSTINGS: usize = 1_000_000;

/// BM25 contributions `(slot, idf·tf·(k1+1)/(tf+k1·(1−b+b·dl/avg)))` per (field, term), computed
/// on first use and kept until the index's next write (any write changes N, df or the average
/// length). A read-heavy index then scores a query with one addition per posting. The lock is
/// only held to look up or insert a list, never while computing one.
/// `(slot, BM25 contribution)` for every document of one field that has one term.
type Impacts = Arc<[(u32, f32)]>;

#[derive(Default)]
pub struct ImpactCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    version: u64,
    lists: HashMap<String, HashMap<String, Impacts>>,
    postings: usize,
}

impl ImpactCache {
    /// The lists for `wanted` (field, term) pairs at `version`; `compute(i)` builds the i-th on a
    /// miss. The lock is taken once to look up and once to insert, never while computing.
    fn get_all(
        &self,
        version: u64,
        wanted: &[(&str, &str)],
        compute: impl Fn(usize) -> Vec<(u32, f32)>,
    ) -> Vec<Impacts> {
        let mut found: Vec<Option<Impacts>> = {
            let inner = self.inner.lock();
            wanted
                .iter()
                .map(|(f, t)| {
                    (inner.version == version)
                        .then(|| inner.lists.get(*f).and_then(|m| m.get(*t)).cloned())
                        .flatten()
                })
                .collect()
        };
        let missing: Vec<(usize, Impacts)> = found
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_none())
            .map(|(i, _)| (i, compute(i).into()))
            .collect();
        if !missing.is_empty() {
            let mut inner = self.inner.lock();
            let adding: usize = missing.iter().map(|(_, l)| l.len()).sum();
            if inner.version != version || inner.postings + adding > MAX_CACHED_POSTINGS {
                inner.lists.clear();
                inner.postings = 0;
                inner.version = version;
            }
            inner.postings += adding;
            for (i, list) in missing {
                let (f, t) = wanted[i];
                inner
                    .lists
                    .entry(f.to_string())
                    .or_default()
                    .insert(t.to_string(), list.clone());
                found[i] = Some(list);
            }
        }
        found.into_iter().flatten().collect()
    }
}

/// Where a wanted list comes from: the field, its postings `(slot, tf)` for the term, and the
/// flag bit a match sets.
type Source<'a> = (&'a FieldLex, &'a [(u32, u32)], u8);

fn impacts(fl: &FieldLex, post: &[(u32, u32)]) -> Vec<(u32, f32)> {
    let n = fl.count as f32;
    let avg = (fl.total as f32 / n).max(1.0);
    let df = post.len() as f32;
    let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
    post.iter()
        .map(|&(slot, tf)| {
            let tf = tf as f32;
            let dl = fl.doc_len(slot).unwrap_or(0) as f32;
            (
                slot,
                idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * dl / avg)),
            )
        })
        .collect()
}

/// Score documents; `fields` are the searched lexical fields, `text_of(slot, field)` gives the
/// stored text for phrase checks. Calls `emit(slot, score)` for every matching document whose
/// score is at least `floor` (which the caller raises as its best-k fills up, so most of a large
/// result set is dropped with one comparison).
pub fn score(
    data: &IndexData,
    q: &LexQuery,
    fields: &[String],
    text_of: impl Fn(u32, &str) -> Option<String>,
    floor: &Cell<f32>,
    mut emit: impl FnMut(u32, f32),
) {
    if q.match_all {
        for (slot, _) in data.iter() {
            let has_field = fields
                .iter()
                .any(|f| data.lex.get(f).is_some_and(|fl| fl.doc_len(slot).is_some()));
            if has_field {
                emit(slot, 1.0);
            }
        }
        return;
    }
    let mut terms: Vec<&String> = q
        .optional
        .iter()
        .chain(q.required.iter().flatten())
        .collect();
    terms.sort();
    terms.dedup();
    // (field list, postings, flag bit) for every searched field that has the term.
    // flag bit 1: matched a term, bit 2: matched an optional term
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    let mut sources: Vec<Source> = Vec::new();
    for f in fields {
        let Some(fl) = data.lex.get(f) else { continue };
        if fl.count == 0 {
            continue;
        }
        for t in &terms {
            if let Some(post) = fl.postings.get(*t) {
                wanted.push((f, t));
                let bit = if q.optional.contains(t) { 3 } else { 1 };
                sources.push((fl, post, bit));
            }
        }
    }
    let lists = data.impacts.get_all(data.version, &wanted, |i| {
        impacts(sources[i].0, sources[i].1)
    });
    let cap = data.slot_capacity();
    let total: usize = lists.iter().map(|l| l.len()).sum();
    // Dense accumulators by slot (reused per thread): far cheaper than hash maps on the hot path.
    with_scratch(0, cap, |sc| {
        if q.required.is_empty() {
            // Plain OR query (the common case): every impact is positive, so a non-zero score
            // marks a match.
            if total * 4 < cap {
                // Few postings: remember the matches instead of scanning every slot.
                let Scratch {
                    scores, touched, ..
                } = sc;
                for list in &lists {
                    for &(slot, x) in list.iter() {
                        let s = &mut scores[slot as usize];
                        if *s == 0.0 {
                            touched.push(slot);
                        }
                        *s += x;
                    }
                }
                for &slot in touched.iter() {
                    let s = scores[slot as usize];
                    if s >= floor.get() {
                        emit(slot, s);
                    }
                }
                return;
            }
            // Many postings: add, then scan the slots in order (cleared as it goes).
            sc.dense_begin(cap);
            let scores = &mut sc.scores[..cap];
            for list in &lists {
                for &(slot, x) in list.iter() {
                    if let Some(s) = scores.get_mut(slot as usize) {
                        *s += x;
                    }
                }
            }
            for (slot, s) in scores.iter_mut().enumerate() {
                if *s > 0.0 {
                    if *s >= floor.get() {
                        emit(slot as u32, *s);
                    }
                    *s = 0.0;
                }
            }
            sc.dense_done();
            return;
        }
        let Scratch {
            scores,
            flags,
            touched,
            ..
        } = sc;
        for (list, (_, _, bit)) in lists.iter().zip(&sources) {
            for &(slot, x) in list.iter() {
                let i = slot as usize;
                scores[i] += x;
                if flags[i] == 0 {
                    touched.push(slot);
                }
                flags[i] |= bit;
            }
        }
        let need_optional = !q.optional.is_empty();
        for &slot in touched.iter() {
            let i = slot as usize;
            if need_optional && flags[i] & 2 == 0 {
                continue;
            }
            let phrases_ok = q.required.iter().all(|phrase| {
                fields.iter().any(|f| {
                    text_of(slot, f).is_some_and(|t| contains_phrase(&tokenize(&t), phrase))
                })
            });
            if phrases_ok && scores[i] >= floor.get() {
                emit(slot, scores[i]);
            }
        }
    });
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
