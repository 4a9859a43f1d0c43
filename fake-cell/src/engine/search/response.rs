//! Search and recommend answers serialised straight from the index while the caller holds its
//! read lock: each hit's fields are written from the stored document instead of being copied
//! into a temporary JSON tree first (that copy was most of a small search's cost).

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
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

impl Serialize for Hits<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for c in self.page {
            if self.data.slot(c.slot).is_some() {
                seq.serialize_element(&Hit {
                    data: self.data,
                    c,
                    req: self.req,
                })?;
            }
        }
        seq.end()
    }
}

struct Hit<'a> {
    data: &'a IndexData,
    c: &'a Cand,
    req: &'a SearchReq,
}

/// `[{field: text}]`: the best tensor chunk.
struct Highlight<'a>(&'a str, &'a str);

impl Serialize for Highlight<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(1))?;
        seq.serialize_element(&Entry(self.0, self.1))?;
        seq.end()
    }
}

/// `{key: value}`.
struct Entry<'a>(&'a str, &'a str);

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, self.1)?;
        m.end()
    }
}

impl Serialize for Hit<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(doc) = self.data.slot(self.c.slot) else {
            return s.serialize_none();
        };
        let req = self.req;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("_id", &doc.rec.id)?;
        for (k, v) in &doc.rec.fields {
            if RESERVED.contains(&k.as_str()) {
                continue;
            }
            if req.retrieve.as_ref().is_none_or(|r| r.contains(k)) {
                m.serialize_entry(k, crate::engine::store::shown_value(v))?;
            }
        }
        if req.highlights {
            let chunk = self
                .c
                .chunk
                .and_then(|cid| self.data.chunks.get(cid as usize))
                .and_then(Option::as_ref);
            match (chunk, req.method) {
                (Some(ch), Method::Tensor | Method::Hybrid) => {
                    m.serialize_entry("_highlights", &Highlight(&ch.field, &ch.text))?
                }
                _ => m.serialize_entry("_highlights", &[(); 0])?,
            }
        }
        if req.method == Method::Hybrid {
            if let Some(l) = self.c.lexical {
                m.serialize_entry("_lexical_score", &f64::from(l))?;
            }
            if let Some(t) = self.c.tensor {
                m.serialize_entry("_tensor_score", &f64::from(t))?;
            }
        }
        m.serialize_entry("_score", &self.c.score)?;
        m.end()
    }
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
    serde_json::to_writer(&mut out, hits).map_err(cannot)?;
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
