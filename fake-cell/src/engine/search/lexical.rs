//! Lexical search: BM25 (k1 = 1.2, b = 0.75) summed over the searched fields, read from the
//! per-field inverted index built at write time. Query syntax as Marqo: `"quoted phrases"` are
//! required, other terms optional (at least one must match when present); `*` matches everything.

use std::cell::Cell;

use super::impacts::{Impacts, impacts};
use super::index_data::IndexData;
use super::topk::{Scratch, with_scratch};
use crate::engine::embed::tokenize;
use crate::engine::settings::Settings;
use crate::engine::store::FieldLex;
use crate::error::{CellError, CellResult};

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

/// Where a wanted list comes from: the field, its postings `(slot, tf)` for the term, and the
/// flag bit a match sets.
type Source<'a> = (&'a FieldLex, &'a [(u32, u32)], u8);

/// The searched lexical fields: the requested ones (checked against a structured index's
/// lexical fields) or every lexical field.
pub fn lexical_fields(
    data: &IndexData,
    s: &Settings,
    requested: Option<&Vec<String>>,
) -> CellResult<Vec<String>> {
    if !s.structured {
        return Ok(requested
            .cloned()
            .unwrap_or_else(|| data.lex.keys().cloned().collect()));
    }
    let all: Vec<String> = s
        .fields
        .iter()
        .filter(|f| f.lexical)
        .map(|f| f.name.clone())
        .collect();
    if all.is_empty() {
        return Err(CellError::InvalidArgument(
            "Index has no lexically searchable fields".into(),
        ));
    }
    match requested {
        Some(r) => {
            if let Some(bad) = r.iter().find(|f| !all.contains(f)) {
                return Err(CellError::InvalidArgument(format!(
                    "{bad} is not a lexically searchable field"
                )));
            }
            Ok(r.clone())
        }
        None => Ok(all),
    }
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
        match_all(data, fields, emit);
        return;
    }
    let (lists, sources) = term_lists(data, q, fields);
    let cap = data.slot_capacity();
    let mut emit = |slot: u32, s: f32| {
        if s >= floor.get() {
            emit(slot, s);
        }
    };
    // Dense accumulators by slot (reused per thread): far cheaper than hash maps on the hot path.
    with_scratch(0, cap, |sc| {
        if !q.required.is_empty() {
            with_phrases(sc, q, fields, &lists, &sources, text_of, &mut emit);
            return;
        }
        let total: usize = lists.iter().map(|l| l.len()).sum();
        if total * 4 < cap {
            or_sparse(sc, &lists, &mut emit);
        } else {
            or_dense(sc, cap, &lists, &mut emit);
        }
    });
}

/// `*`: every document that has one of the searched fields, with score 1.
fn match_all(data: &IndexData, fields: &[String], mut emit: impl FnMut(u32, f32)) {
    for (slot, _) in data.iter() {
        let has_field = fields
            .iter()
            .any(|f| data.lex.get(f).is_some_and(|fl| fl.doc_len(slot).is_some()));
        if has_field {
            emit(slot, 1.0);
        }
    }
}

/// The impact list of every (searched field, query term) pair the index has, with where each
/// came from.
fn term_lists<'a>(
    data: &'a IndexData,
    q: &LexQuery,
    fields: &'a [String],
) -> (Vec<Impacts>, Vec<Source<'a>>) {
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
    (lists, sources)
}

/// Plain OR query with few postings: every impact is positive, so a non-zero score marks a
/// match; remember the matches instead of scanning every slot.
fn or_sparse(sc: &mut Scratch, lists: &[Impacts], emit: &mut impl FnMut(u32, f32)) {
    let Scratch {
        scores, touched, ..
    } = sc;
    for list in lists {
        for &(slot, x) in list.iter() {
            let s = &mut scores[slot as usize];
            if *s == 0.0 {
                touched.push(slot);
            }
            *s += x;
        }
    }
    for &slot in touched.iter() {
        emit(slot, scores[slot as usize]);
    }
}

/// Plain OR query with many postings: add, then scan the slots in order (cleared as it goes).
fn or_dense(sc: &mut Scratch, cap: usize, lists: &[Impacts], emit: &mut impl FnMut(u32, f32)) {
    sc.dense_begin(cap);
    let scores = &mut sc.scores[..cap];
    for list in lists {
        for &(slot, x) in list.iter() {
            if let Some(s) = scores.get_mut(slot as usize) {
                *s += x;
            }
        }
    }
    for (slot, s) in scores.iter_mut().enumerate() {
        if *s > 0.0 {
            emit(slot as u32, *s);
            *s = 0.0;
        }
    }
    sc.dense_done();
}

/// A query with quoted phrases: every phrase must occur in one of the fields, and at least one
/// optional term must match when there are any.
fn with_phrases(
    sc: &mut Scratch,
    q: &LexQuery,
    fields: &[String],
    lists: &[Impacts],
    sources: &[Source],
    text_of: impl Fn(u32, &str) -> Option<String>,
    emit: &mut impl FnMut(u32, f32),
) {
    let Scratch {
        scores,
        flags,
        touched,
        ..
    } = sc;
    for (list, (_, _, bit)) in lists.iter().zip(sources) {
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
            fields
                .iter()
                .any(|f| text_of(slot, f).is_some_and(|t| contains_phrase(&tokenize(&t), phrase)))
        });
        if phrases_ok {
            emit(slot, scores[i]);
        }
    }
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
