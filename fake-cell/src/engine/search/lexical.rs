//! Lexical search: BM25 (k1 = 1.2, b = 0.75) summed over the searched fields, read from the
//! per-field inverted index built at write time. Query syntax as Marqo: `"quoted phrases"` are
//! required, other terms optional (at least one must match when present); `*` matches everything.

use std::cell::Cell;

use super::impacts::{Impacts, impacts};
use super::index_data::IndexData;
use super::request::Method;
use super::topk::{Scratch, with_scratch};
use crate::engine::linguistics;
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
    // Only quotes (and an escaped quote) change the text: without one, every word is optional.
    if !q.contains('"') {
        return LexQuery {
            required: Vec::new(),
            optional: linguistics::terms(q),
            match_all: false,
        };
    }
    parse_quoted(q)
}

/// [`parse_query`] for a query with a quote: phrases and escaped quotes.
fn parse_quoted(q: &str) -> LexQuery {
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
                let toks = linguistics::terms(&phrase);
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
        optional: linguistics::terms(&rest),
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
/// lexical fields, as Marqo's `_get_lexical_fields_to_search`) or every lexical field; an index
/// without any is Vespa's missing rank profile in Marqo's words for `method`.
pub fn lexical_fields(
    data: &IndexData,
    s: &Settings,
    requested: Option<&Vec<String>>,
    method: Method,
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
    if let Some(bad) = requested.and_then(|r| r.iter().find(|f| !all.contains(f))) {
        return Err(CellError::InvalidFieldName(format!(
            "Index {} has no lexically searchable field {bad}. Available lexically searchable fields are: {}",
            s.name,
            all.join(", ")
        )));
    }
    if all.is_empty() {
        return Err(super::no_fields(s, method));
    }
    Ok(requested.cloned().unwrap_or(all))
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
    floor: &Cell<f64>,
    mut emit: impl FnMut(u32, f32),
) {
    if q.match_all {
        match_all(data, emit);
        return;
    }
    let (lists, sources) = term_lists(data, q, fields);
    let cap = data.slot_capacity();
    let mut emit = |slot: u32, s: f32| {
        if f64::from(s) >= floor.get() {
            emit(slot, s);
        }
    };
    // Dense accumulators by slot (reused per thread): far cheaper than hash maps on the hot path.
    // Room for whole scan blocks (see `or_dense`).
    with_scratch(0, cap.div_ceil(SCAN_BLOCK) * SCAN_BLOCK, |sc| {
        if !q.required.is_empty() {
            with_phrases(sc, q, fields, &lists, &sources, text_of, &mut emit);
            return;
        }
        let total: usize = lists.iter().map(|l| l.len()).sum();
        if total * 4 < cap {
            or_sparse(sc, &lists, &mut emit);
        } else {
            or_dense(sc, cap, &lists, floor, &mut emit);
        }
    });
}

/// `*`: every document, whatever fields it has, with score 0. Marqo sends Vespa `where true`
/// for it, and its rank profile's BM25 sum over no query terms is 0 (score modifiers then only
/// add).
fn match_all(data: &IndexData, mut emit: impl FnMut(u32, f32)) {
    for (slot, _) in data.iter() {
        emit(slot, 0.0);
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
    let most = fields.len() * terms.len();
    let mut wanted: Vec<(&str, &str)> = Vec::with_capacity(most);
    let mut sources: Vec<Source> = Vec::with_capacity(most);
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

/// Slots per block of the dense scan: one block's maximum is a few vector instructions.
const SCAN_BLOCK: usize = 32;

/// Plain OR query with many postings: add, then scan the slots in order (cleared as it goes).
///
/// The scan passes over a block whose best sum is under `floor` with one comparison. Once the
/// caller's best-k has filled, that is nearly every block: testing each slot instead cost a
/// mispredicted branch per matching document (half of a common-word query's documents match),
/// 80% of a 100k-document lexical search. The accumulators are whole blocks (the scratch is
/// rounded up to a multiple of a block; slots past `cap` stay 0), so a block's maximum and its
/// clearing are fixed-size loops the compiler unrolls, not calls.
fn or_dense(
    sc: &mut Scratch,
    cap: usize,
    lists: &[Impacts],
    floor: &Cell<f64>,
    emit: &mut impl FnMut(u32, f32),
) {
    let cap = cap.div_ceil(SCAN_BLOCK) * SCAN_BLOCK;
    sc.dense_begin(cap);
    let scores = &mut sc.scores[..cap];
    for list in lists {
        list.add_to(scores);
    }
    let (blocks, _) = scores.as_chunks_mut::<SCAN_BLOCK>();
    for (b, block) in blocks.iter_mut().enumerate() {
        let top = block_max(block);
        if top > 0.0 && f64::from(top) >= floor.get() {
            for (i, s) in block.iter().enumerate() {
                if *s > 0.0 {
                    emit((b * SCAN_BLOCK + i) as u32, *s);
                }
            }
        }
        *block = [0.0; SCAN_BLOCK];
    }
    sc.dense_done();
}

/// The largest of `block`'s sums (0 when none is positive), in eight independent lanes so it
/// compiles to vector max instructions rather than one chain of dependent ones. Sums are never
/// NaN, so plain comparisons do (`f32::max` adds NaN handling to every step). Always inlined:
/// as a call it was a third of the scan's instructions.
#[inline(always)]
fn block_max(block: &[f32; SCAN_BLOCK]) -> f32 {
    let max = |a: f32, b: f32| if b > a { b } else { a };
    let mut lanes = [0.0f32; 8];
    for e in block.as_chunks::<8>().0 {
        for (m, &x) in lanes.iter_mut().zip(e) {
            *m = max(*m, x);
        }
    }
    let l = lanes;
    let four = [
        max(l[0], l[4]),
        max(l[1], l[5]),
        max(l[2], l[6]),
        max(l[3], l[7]),
    ];
    max(max(four[0], four[2]), max(four[1], four[3]))
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
            fields.iter().any(|f| {
                text_of(slot, f).is_some_and(|t| contains_phrase(&linguistics::terms(&t), phrase))
            })
        });
        if phrases_ok {
            emit(slot, scores[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Put `n` documents whose two fields hold words drawn from a small vocabulary, so a
    /// few-word query matches about half of them (the dense path).
    fn common_word_index(n: u32) -> IndexData {
        use crate::engine::settings;
        use crate::engine::store::{self, DocRecord};
        const WORDS: [&str; 12] = [
            "red", "blue", "shoe", "boot", "bag", "hat", "lamp", "chair", "silk", "wool", "kid",
            "men",
        ];
        let s = settings::derive(&serde_json::json!({"type": "unstructured"}));
        let mut data = IndexData::default();
        let mut x = 0x9e37_79b9u32;
        let mut word = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            WORDS[x as usize % WORDS.len()]
        };
        for i in 0..n {
            let title: Vec<&str> = (0..1 + i % 4).map(|_| word()).collect();
            let desc: Vec<&str> = (0..3 + i % 5).map(|_| word()).collect();
            let fields = serde_json::json!({"title": title.join(" "), "desc": desc.join(" ")});
            data.put(store::prepare(
                DocRecord {
                    id: format!("d{i}"),
                    fields: fields.as_object().cloned().unwrap_or_default(),
                    tensor_fields: Vec::new(),
                    mappings: None,
                    chunk_prefix: None,
                },
                &s,
            ));
        }
        for i in (0..n).step_by(7) {
            data.remove(&format!("d{i}"));
        }
        data
    }

    /// Every match of `q` with its score when `floor` is raised as a best-`k` fills up
    /// (as the search pipeline does), or with no floor at all.
    fn run(data: &IndexData, q: &str, k: Option<usize>) -> Vec<(u32, f32)> {
        use super::super::topk::{Cand, Collector};
        let fields = vec!["title".to_string(), "desc".to_string()];
        let floor = Cell::new(f64::MIN);
        let mut out = Collector::new(k);
        let mut emitted = Vec::new();
        score(
            data,
            &parse_query(q),
            &fields,
            |_, _| None,
            &floor,
            |slot, s| {
                emitted.push((slot, s));
                out.push(Cand {
                    slot,
                    score: f64::from(s),
                    chunk: None,
                    lexical: Some(s),
                    tensor: None,
                });
                if k.is_some() {
                    floor.set(out.floor());
                }
            },
        );
        match k {
            Some(_) => out
                .into_sorted()
                .iter()
                .map(|c| (c.slot, c.score as f32))
                .collect(),
            None => emitted,
        }
    }

    #[test]
    fn the_dense_scan_skips_only_what_cannot_make_the_best_k() {
        let data = common_word_index(5000);
        for q in [
            "red shoe",
            "blue boot bag hat",
            "lamp",
            "silk wool kid men red",
        ] {
            let all = run(&data, q, None);
            assert!(all.len() * 4 > data.slot_capacity(), "{q}: dense path");
            assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "{q}: slot order");
            let mut ranked = all.clone();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for k in [1, 10, 100] {
                assert_eq!(run(&data, q, Some(k)), ranked[..k].to_vec(), "{q} k={k}");
            }
            // A second query on the same thread sees clean accumulators.
            assert_eq!(run(&data, q, None), all, "{q}: again");
        }
    }

    #[test]
    fn phrases_are_required() {
        let q = parse_query(r#"green "red apple" pie"#);
        assert_eq!(q.required, vec![linguistics::terms("red apple")]);
        assert_eq!(q.optional, vec!["green", "pie"]);
        let q = parse_query(r#"unpaired "quote"#);
        assert!(q.required.is_empty());
        assert_eq!(q.optional, linguistics::terms("unpaired quote"));
        assert!(parse_query("*").match_all);
    }

    #[test]
    fn a_query_without_quotes_skips_the_phrase_parser_and_parses_the_same() {
        for q in [
            "red leather running shoes zq0x1",
            r"back\slash and\ more",
            "  Mixed-CASE, punct.uation!  ",
            "",
            "ünïcode wörds",
        ] {
            let (fast, slow) = (parse_query(q), parse_quoted(q));
            assert_eq!(fast.optional, slow.optional, "{q}");
            assert_eq!(fast.required, slow.required, "{q}");
            assert_eq!(fast.match_all, slow.match_all, "{q}");
        }
    }
}
