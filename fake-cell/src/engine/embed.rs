//! Deterministic local embeddings: no model download, same text → same vector on every machine.
//!
//! Method (feature hashing): the text is lower-cased and split into alphanumeric words. Features
//! are every word (weight 1.0), every adjacent word pair (0.5) and every character trigram of
//! `#word#` (0.25). Each feature is hashed with 64-bit FNV-1a; `hash % dim` picks the dimension and
//! the top bit the sign (so collisions cancel on average). The sum is L2-normalised, so cosine
//! similarity is a dot product. Texts sharing words or word pieces land close; unrelated texts sit
//! near cosine 0. Vectors stay sparse (a few hundred non-zeros), which lets search use an inverted
//! index over dimensions instead of scanning every document.
//!
//! A leading label — up to eight words before the first `": "`, such as the `query: ` and
//! `passage: ` prefixes Marqo puts before text for e5 models — weighs a tenth: it still tells a
//! query from a passage, but every passage sharing it does not pull all vectors together (which
//! blurred the nearest-neighbour ranking of large indexes).

use serde_json::Value;

/// Sorted-by-dimension sparse vector.
pub type SparseVec = Vec<(u32, f32)>;

/// FNV-1a 64 of the concatenation of `parts` (no joined string is built).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    // Two plain loops: a flattened iterator cost several times the two instructions a byte.
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Lower-cased alphanumeric words: what a text's features are made of (lexical search makes its
/// terms in `linguistics`).
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// One feature's signed weight in its dimension; the feature's text is `parts` concatenated.
fn add_feature(acc: &mut Vec<(u32, f32)>, parts: &[&[u8]], weight: f32, dim: usize) {
    let h = fnv1a(parts);
    let d = (h % dim as u64) as u32;
    let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
    acc.push((d, sign * weight));
}

/// Sum the weights per dimension (in the order they were added), drop zeros, L2-normalise
/// (the norm summed in dimension order, so the same text gives the same bits every time).
fn finish(mut acc: Vec<(u32, f32)>) -> SparseVec {
    acc.sort_by_key(|(d, _)| *d);
    let mut v: SparseVec = Vec::with_capacity(acc.len());
    for (d, w) in acc {
        match v.last_mut() {
            Some(last) if last.0 == d => last.1 += w,
            _ => v.push((d, w)),
        }
    }
    v.retain(|(_, w)| *w != 0.0);
    let norm: f32 = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, w)| *w /= norm);
    }
    v
}

/// How much a leading label's features weigh (see the module comment).
const LABEL_WEIGHT: f32 = 0.1;

/// The number of words of a leading label: the words before the first `": "`, when there are
/// one to eight of them and no sentence ends among them.
fn label_words(text: &str) -> usize {
    let Some(at) = text.get(..200).unwrap_or(text).find(": ") else {
        return 0;
    };
    let head = &text[..at];
    if head.contains(['.', '!', '?', '\n']) {
        return 0;
    }
    match tokenize(head).len() {
        n @ 1..=8 => n,
        _ => 0,
    }
}

/// Embed one text into `dim` dimensions.
pub fn embed_text(text: &str, dim: usize) -> SparseVec {
    let dim = dim.max(1);
    let words = tokenize(text);
    let label = label_words(text);
    let mut acc: Vec<(u32, f32)> = Vec::with_capacity(words.len() * 8);
    let mut padded = String::with_capacity(32);
    let mut at: Vec<usize> = Vec::with_capacity(32);
    for (i, w) in words.iter().enumerate() {
        let m = if i < label { LABEL_WEIGHT } else { 1.0 };
        add_feature(&mut acc, &[b"w:", w.as_bytes()], m, dim);
        if let Some(next) = words.get(i + 1) {
            let pair = [b"b:", w.as_bytes(), b" ", next.as_bytes()];
            add_feature(&mut acc, &pair, 0.5 * m, dim);
        }
        // Character trigrams of `#word#`.
        padded.clear();
        padded.push('#');
        padded.push_str(w);
        padded.push('#');
        at.clear();
        at.extend(padded.char_indices().map(|(i, _)| i));
        at.push(padded.len());
        for k in 0..at.len().saturating_sub(3) {
            let tri = &padded.as_bytes()[at[k]..at[k + 3]];
            add_feature(&mut acc, &[b"c:", tri], 0.25 * m, dim);
        }
    }
    finish(acc)
}

/// Weighted sum of vectors, re-normalised.
pub fn combine(parts: &[(&SparseVec, f32)]) -> SparseVec {
    let mut acc: Vec<(u32, f32)> = Vec::new();
    for (v, w) in parts {
        acc.extend(v.iter().map(|(d, x)| (*d, x * w)));
    }
    finish(acc)
}

/// The numbers of `v["vector"]` (custom vectors, context vectors, `customVector` queries), if
/// it is an array; non-numbers are skipped.
pub fn vector_field(v: &Value) -> Option<Vec<f32>> {
    let a = v.get("vector")?.as_array()?;
    Some(
        a.iter()
            .filter_map(Value::as_f64)
            .map(|x| x as f32)
            .collect(),
    )
}

/// A dense vector (custom vectors, context vectors) in sparse form, normalised when asked.
pub fn from_dense(v: &[f32], normalize: bool) -> SparseVec {
    let acc: Vec<(u32, f32)> = v
        .iter()
        .enumerate()
        .filter(|(_, x)| **x != 0.0)
        .map(|(i, x)| (i as u32, *x))
        .collect();
    if normalize { finish(acc) } else { acc }
}

/// The dense form, for `_embedding` and the embed route.
pub fn dense(v: &SparseVec, dim: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; dim];
    for (d, x) in v {
        if let Some(slot) = out.get_mut(*d as usize) {
            *slot = *x;
        }
    }
    out
}

/// Dot product of two sorted sparse vectors.
pub fn dot(a: &SparseVec, b: &SparseVec) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// Split text per `textPreprocessing` (sentence / word / character / passage).
pub fn chunk_text(text: &str, method: &str, length: usize, overlap: usize) -> Vec<String> {
    let units: Vec<String> = match method {
        "character" => text.chars().map(|c| c.to_string()).collect(),
        "word" => text.split_whitespace().map(str::to_string).collect(),
        "passage" => text
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        _ => split_sentences(text),
    };
    if units.is_empty() {
        return vec![text.to_string()];
    }
    let sep = match method {
        "character" => "",
        "passage" => "\n\n",
        _ => " ",
    };
    let length = length.max(1);
    let step = length.saturating_sub(overlap).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < units.len() {
        let end = (start + length).min(units.len());
        out.push(units[start..end].join(sep));
        if end == units.len() {
            break;
        }
        start += step;
    }
    out
}

fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        cur.push(*c);
        let at_end =
            matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if at_end {
            let s = cur.trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
            cur.clear();
        }
    }
    let s = cur.trim();
    if !s.is_empty() {
        out.push(s.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_label_weighs_a_tenth() {
        let plain = embed_text("red running shoes", 384);
        let passage = embed_text("passage: red running shoes", 384);
        let query = embed_text("query: red running shoes", 384);
        assert_ne!(passage, plain);
        assert_ne!(passage, query);
        assert!(dot(&passage, &plain) > 0.99, "{}", dot(&passage, &plain));
        assert!(dot(&passage, &query) > 0.98);
        // Not a label: a sentence before the colon, or more than eight words.
        assert_eq!(label_words("It rained. Then: sun"), 0);
        assert_eq!(
            label_words("one two three four five six seven eight nine: x"),
            0
        );
        assert_eq!(
            label_words("Represent this sentence for searching relevant passages: x"),
            7
        );
    }

    #[test]
    fn same_text_same_vector_and_similar_text_closer() {
        let a = embed_text("fresh green apples", 768);
        assert_eq!(a, embed_text("fresh green apples", 768));
        let near = embed_text("green apple", 768);
        let far = embed_text("quantum chromodynamics lecture", 768);
        assert!((dot(&a, &a) - 1.0).abs() < 1e-4);
        assert!(dot(&a, &near) > dot(&a, &far));
    }

    /// The features as first written (one string per feature, a hash map per text): the
    /// streamed form must pick the same dimensions, signs and weights.
    #[test]
    fn streamed_features_match_the_string_built_ones() {
        fn old(text: &str, dim: usize) -> Vec<(u32, f32)> {
            let words = tokenize(text);
            let mut acc: std::collections::HashMap<u32, f32> = Default::default();
            let mut add = |f: String, w: f32| {
                let h = fnv1a(&[f.as_bytes()]);
                let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
                *acc.entry((h % dim as u64) as u32).or_insert(0.0) += sign * w;
            };
            for (i, w) in words.iter().enumerate() {
                add(format!("w:{w}"), 1.0);
                if let Some(next) = words.get(i + 1) {
                    add(format!("b:{w} {next}"), 0.5);
                }
                let padded: Vec<char> = format!("#{w}#").chars().collect();
                for tri in padded.windows(3) {
                    add(format!("c:{}", tri.iter().collect::<String>()), 0.25);
                }
            }
            let mut v: Vec<(u32, f32)> = acc.into_iter().filter(|(_, w)| *w != 0.0).collect();
            v.sort_unstable_by_key(|(d, _)| *d);
            let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            v.into_iter().map(|(d, w)| (d, w / norm)).collect()
        }
        for text in [
            "red leather running shoes",
            "Ünïcode wörds, 東京 tower!",
            "a",
            "x y x y",
        ] {
            let (new, old) = (embed_text(text, 768), old(text, 768));
            assert_eq!(new.len(), old.len(), "{text}");
            for (a, b) in new.iter().zip(&old) {
                assert_eq!(a.0, b.0, "{text}");
                assert!((a.1 - b.1).abs() < 1e-6, "{text}: {a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn sentence_chunks_with_overlap() {
        let c = chunk_text("One. Two! Three? Four.", "sentence", 2, 1);
        assert_eq!(c, vec!["One. Two!", "Two! Three?", "Three? Four."]);
        assert_eq!(chunk_text("a b c", "word", 2, 0), vec!["a b", "c"]);
    }
}
