//! Search and recommend answers serialised straight from the index while the caller holds its
//! read lock: each hit's fields are written from the stored document instead of being copied
//! into a temporary JSON tree first (that copy was most of a small search's cost).

use serde::Serialize;
use serde_json::Value;

use super::index_data::IndexData;
use super::request::{Method, SearchReq};
use super::topk::Cand;
use crate::error::{CellError, CellResult};

/// Keys the hit itself writes; a document field of the same name would duplicate them.
const RESERVED: [&str; 5] = [
    "_id",
    "_highlights",
    "_score",
    "_lexical_score",
    "_tensor_score",
];

/// The page of hits, in order.
pub struct Hits<'a> {
    pub data: &'a IndexData,
    pub page: &'a [Cand],
    pub req: &'a SearchReq,
}

/// Writes `[hit, …]` into `out` by hand: a page is mostly strings, and serde_json checks every
/// byte of a string against its escape table one at a time (a fifth of a search's answer);
/// here a string with nothing to escape (nearly all) is checked in vector-wide steps and
/// copied whole. Numbers and non-string values still go through serde_json, so the bytes are
/// the ones it writes.
fn write_hits(out: &mut Vec<u8>, hits: &Hits) -> serde_json::Result<()> {
    out.push(b'[');
    let mut first = true;
    for c in hits.page {
        let Some(doc) = hits.data.slot(c.slot) else {
            continue;
        };
        if !first {
            out.push(b',');
        }
        first = false;
        let req = hits.req;
        out.extend_from_slice(b"{\"_id\":");
        write_str(out, &doc.rec.id)?;
        for (k, v) in &doc.rec.fields {
            // (Every reserved key starts with `_`: most fields skip the five comparisons.)
            if k.starts_with('_') && RESERVED.contains(&k.as_str()) {
                continue;
            }
            if req.retrieve.as_ref().is_none_or(|r| r.contains(k)) {
                out.push(b',');
                write_str(out, k)?;
                out.push(b':');
                match crate::engine::store::shown_value(v) {
                    Value::String(s) => write_str(out, s)?,
                    v => serde_json::to_writer(&mut *out, v)?,
                }
            }
        }
        if req.highlights {
            out.extend_from_slice(b",\"_highlights\":");
            let chunk = c
                .chunk
                .and_then(|cid| hits.data.chunks.get(cid as usize))
                .and_then(Option::as_ref);
            match (chunk, req.method) {
                // `[{field: text}]`: the best tensor chunk.
                (Some(ch), Method::Tensor | Method::Hybrid) => {
                    out.extend_from_slice(b"[{");
                    write_str(out, &ch.field)?;
                    out.push(b':');
                    write_str(out, &ch.text)?;
                    out.extend_from_slice(b"}]");
                }
                _ => out.extend_from_slice(b"[]"),
            }
        }
        if req.method == Method::Hybrid {
            if let Some(l) = c.lexical {
                out.extend_from_slice(b",\"_lexical_score\":");
                serde_json::to_writer(&mut *out, &f64::from(l))?;
            }
            if let Some(t) = c.tensor {
                out.extend_from_slice(b",\"_tensor_score\":");
                serde_json::to_writer(&mut *out, &f64::from(t))?;
            }
        }
        out.extend_from_slice(b",\"_score\":");
        serde_json::to_writer(&mut *out, &c.score)?;
        out.push(b'}');
    }
    out.push(b']');
    Ok(())
}

/// A JSON string: copied between quotes when nothing in it needs escaping (what serde_json
/// escapes: `"`, `\\` and control characters), else written by serde_json.
fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    if needs_escape(s.as_bytes()) {
        return serde_json::to_writer(out, s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Whether `s` holds a byte JSON escapes. A page is ~100 strings, most of them keys, ids and
/// titles under 32 bytes: those are tested eight bytes at a time in a `u64` (the last word
/// overlapping the one before, or padded), where a byte loop cost ~150 instructions a string;
/// longer ones by a fold without an early exit, which compiles to 16-byte vector compares.
fn needs_escape(s: &[u8]) -> bool {
    if s.len() >= 32 {
        return s
            .iter()
            .fold(false, |e, &b| e | (b < 0x20) | (b == b'"') | (b == b'\\'));
    }
    let (words, rest) = s.as_chunks::<8>();
    let mut any = words
        .iter()
        .any(|w| word_needs_escape(u64::from_le_bytes(*w)));
    if !rest.is_empty() {
        // Overlapping bytes already tested cannot turn a "no" into a "yes" wrongly.
        let tail = s.last_chunk::<8>().copied().unwrap_or_else(|| {
            let mut w = [b'a'; 8];
            w[..rest.len()].copy_from_slice(rest);
            w
        });
        any |= word_needs_escape(u64::from_le_bytes(tail));
    }
    any
}

/// Whether one of `w`'s eight bytes is below 0x20, `"` or `\\` (Hacker's Delight's "has a byte
/// less than n" and "has a zero byte", exact as yes/no answers).
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let control = below(w, 0x20);
    let quote = below(w ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(w ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash != 0
}

/// The answer's keys after `hits` (the hits are written, or taken from the cache, apart).
#[derive(Serialize)]
pub struct Envelope<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<&'a Value>,
    pub limit: usize,
    pub offset: usize,
    #[serde(rename = "processingTimeMs")]
    pub processing_time_ms: u64,
    /// HYBRID `facets`: `{field: …}` (see `facets.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<&'a Value>,
    /// HYBRID `trackTotalHits: true`: every document the retrieval matched.
    #[serde(rename = "totalHits", skip_serializing_if = "Option::is_none")]
    pub total_hits: Option<usize>,
}

/// Serialise a page of hits (call while holding the index's read lock; no I/O happens here).
pub fn hits_bytes(hits: &Hits) -> CellResult<Vec<u8>> {
    // Sized for a page of short documents up front: growing from empty copied the page ~6 times.
    let mut out = Vec::with_capacity(64 + 384 * hits.page.len());
    write_hits(&mut out, hits).map_err(cannot)?;
    Ok(out)
}

/// The whole answer, `{"hits": …, "query": …, "limit": …, …}`, from serialised hits.
pub fn answer_bytes(hits: &[u8], envelope: &Envelope) -> CellResult<Vec<u8>> {
    let tail = serde_json::to_vec(envelope).map_err(cannot)?;
    let mut out = Vec::with_capacity(hits.len() + tail.len() + 10);
    out.extend_from_slice(b"{\"hits\":");
    out.extend_from_slice(hits);
    // `tail` is `{…}` (never empty: `limit` is always there); its members follow the hits.
    match tail.get(1..) {
        Some(members) if members != b"}" => {
            out.push(b',');
            out.extend_from_slice(members);
        }
        _ => out.push(b'}'),
    }
    Ok(out)
}

fn cannot(e: serde_json::Error) -> CellError {
    CellError::Internal(format!("cannot serialise search answer: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for s in [
            "",
            "plain text, item 42",
            "quote \" and backslash \\ inside",
            "tab\there, newline\n, bell\u{7}, delete\u{7f}",
            "ünïcode wörds, 漢字 and 🎉",
            "\u{1f}",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn the_word_test_finds_every_escaped_byte_at_every_place_and_length() {
        let naive = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        for len in 0..40 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut s = vec![b'x'; len];
                    s[at] = b;
                    // A neighbour that could borrow into the byte under test.
                    if at > 0 {
                        s[at - 1] = 0x80;
                    }
                    assert_eq!(needs_escape(&s), naive(&s), "{s:?}");
                }
            }
            assert!(!needs_escape(&vec![b'x'; len]));
        }
        // Random strings over every byte value, most of them bytes that need no escape.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s: Vec<u8> = (0..(x % 40) as usize)
                .map(|i| {
                    let b = (x >> (i % 8 * 8)) as u8 ^ (i as u8).wrapping_mul(97);
                    if b.is_multiple_of(7) { b } else { b | 0x20 }
                })
                .collect();
            assert_eq!(needs_escape(&s), naive(&s), "{s:?}");
        }
    }
}
