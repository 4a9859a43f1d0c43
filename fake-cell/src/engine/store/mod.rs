//! Storage: one index's documents plus the structures search reads (a BM25 inverted index per
//! lexical field, an inverted index over embedding dimensions for exact tensor search and the
//! HNSW graph for approximate search, [`Ann`]). Everything expensive (tokenising, chunking,
//! embedding) happens in [`prepare`], outside the index lock; [`Store::put`] only moves prepared
//! pieces into maps and queues vectors for the graph ([`write`]: inserts and removals that keep
//! every posting list exact without scanning it). Knows nothing about search or HTTP.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ann::Ann;
use super::ann::space::Params;
use super::embed::{self, SparseVec};
use super::linguistics;
use super::settings::Settings;

mod field_names;
mod write;

pub use field_names::FieldNames;

/// The persisted form of a document (journal records and snapshots).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocRecord {
    #[serde(rename = "_id")]
    pub id: String,
    pub fields: Map<String, Value>,
    #[serde(default, rename = "tensorFields")]
    pub tensor_fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mappings: Option<Map<String, Value>>,
    /// The add request's `textChunkPrefix`, kept so a replay embeds the chunks the same way.
    #[serde(
        default,
        rename = "textChunkPrefix",
        skip_serializing_if = "Option::is_none"
    )]
    pub chunk_prefix: Option<String>,
}

pub struct StoredDoc {
    pub rec: DocRecord,
    chunks: Vec<u32>,
    lex_fields: Vec<String>,
    /// Per entry of `lex_fields`: `(term hash, index of this document's entry in the term's
    /// posting list)`, sorted, so a removal goes straight to its entries.
    lex_pos: Vec<Vec<(u32, u32)>>,
}

impl StoredDoc {
    /// The text this document indexed for lexical field `field` (`None` when the field is not
    /// one of its lexical fields), for phrase checks: the same text its terms came from.
    pub fn lexical_text(&self, field: &str) -> Option<String> {
        if !self.lex_fields.iter().any(|f| f == field) {
            return None;
        }
        self.rec
            .fields
            .get(field)
            .and_then(|v| lexical_text(shown_value(v)))
    }
}

pub struct Chunk {
    pub slot: u32,
    pub field: String,
    pub text: String,
    pub vec: SparseVec,
    /// Per non-zero of `vec`: the index of this chunk's entry in that dimension's `vpost` list.
    pos: Vec<u32>,
}

/// One lexical field: postings `(slot, term frequency)` per term and token counts by slot. Dense
/// vectors by slot keep the BM25 loop to array reads.
#[derive(Default)]
pub struct FieldLex {
    /// foldhash: a query looks up each of its terms in each field, and SipHash was most of it.
    pub postings: foldhash::HashMap<String, Vec<(u32, u32)>>,
    len: Vec<u32>,
    pub count: usize,
    pub total: u64,
}

const ABSENT: u32 = u32::MAX;

impl FieldLex {
    /// Token count of the field in `slot`, if the document has the field.
    pub fn doc_len(&self, slot: u32) -> Option<u32> {
        self.len
            .get(slot as usize)
            .copied()
            .filter(|l| *l != ABSENT)
    }
}

/// A document ready to insert: the expensive work already done.
pub struct Prepared {
    pub rec: DocRecord,
    chunks: Vec<(String, String, SparseVec)>,
    lex: Vec<(String, Vec<String>)>,
    /// The index's `annParameters`, for the graph (settings never change after creation).
    ann: Params,
}

#[derive(Default)]
pub struct Store {
    ids: HashMap<String, u32>,
    slots: Vec<Option<StoredDoc>>,
    free: Vec<u32>,
    pub lex: HashMap<String, FieldLex>,
    pub chunks: Vec<Option<Chunk>>,
    chunk_free: Vec<u32>,
    /// embedding dimension → `(chunk id, weight)`
    pub vpost: HashMap<u32, Vec<(u32, f32)>>,
    pub n_vectors: usize,
    /// The approximate-search graph over `chunks`, kept in step by `put` and `remove`.
    pub ann: Ann,
    /// Bumped by every write; cached search structures are valid for one version.
    pub version: u64,
    /// The lexical and tensor fields the index has taken (semi-structured indexes' limits).
    pub fields: FieldNames,
}

/// Text a structured or unstructured field contributes to lexical search.
/// A field as documents and hits show it: Marqo stores a custom vector field's `content` as the
/// field's value (the vector lives only in the tensor facets). Only custom vectors are objects
/// holding a `vector` array (map fields hold numbers), so the value alone tells.
pub fn shown_value(v: &Value) -> &Value {
    match v.get("vector") {
        Some(Value::Array(_)) => v.get("content").unwrap_or(&Value::Null),
        _ => v,
    }
}

fn lexical_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) if a.iter().all(Value::is_string) && !a.is_empty() => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

/// The lexical fields' tokens (cheap next to chunking and embedding).
fn lexical_tokens(rec: &DocRecord, s: &Settings) -> Vec<(String, Vec<String>)> {
    let mut lex = Vec::new();
    for (k, v) in &rec.fields {
        let shown = shown_value(v);
        // A semi-structured index keeps a list of strings for filtering only (Marqo files it
        // under `marqo__string_array`, an attribute, not a lexical field); a structured index's
        // `array<text>` field with `lexical_search` is searched like text.
        let lexical = if s.structured {
            s.field(k).is_some_and(|f| f.lexical)
        } else {
            !shown.is_array()
        };
        if lexical && let Some(text) = lexical_text(shown) {
            lex.push((k.clone(), linguistics::terms(&text)));
        }
    }
    lex
}

/// A document whose chunks `(field, text, vector)` were computed before (a cell snapshot
/// carries them): only the lexical tokens are computed again.
pub fn prepare_with_chunks(
    rec: DocRecord,
    s: &Settings,
    chunks: Vec<(String, String, SparseVec)>,
) -> Prepared {
    Prepared {
        lex: lexical_tokens(&rec, s),
        rec,
        chunks,
        ann: Params::from_settings(&s.json),
    }
}

impl Prepared {
    /// Whether the document has vectors (a tensor field with content).
    pub fn has_chunks(&self) -> bool {
        !self.chunks.is_empty()
    }

    /// The fields the document has vectors for, one entry per chunk.
    pub fn tensor_field_names(&self) -> impl Iterator<Item = &str> {
        self.chunks.iter().map(|(field, _, _)| field.as_str())
    }
}

/// `key` of the add request's mapping for `field` (`mappings: {field: {"type": …, …}}`).
fn mapping<'a>(rec: &'a DocRecord, field: &str, key: &str) -> Option<&'a Value> {
    rec.mappings.as_ref()?.get(field)?.get(key)
}

/// `prefix` then `text` (the text alone without a prefix).
fn prefixed<'a>(prefix: &str, text: &'a str) -> std::borrow::Cow<'a, str> {
    if prefix.is_empty() {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(format!("{prefix}{text}"))
    }
}

/// Whether a field's value is media Marqo downloads (no text prefix): a structured media
/// field, or a URL in an unstructured index that treats URLs as images or media.
fn is_media(s: &Settings, field: &str, value: &str) -> bool {
    if s.structured {
        s.field(field).is_some_and(|f| f.kind.ends_with("_pointer"))
    } else {
        s.media_urls && (value.starts_with("http://") || value.starts_with("https://"))
    }
}

/// The fields a document is embedded by: the index's tensor fields (structured) or the add
/// request's.
pub fn tensor_fields_of<'a>(rec: &'a DocRecord, s: &'a Settings) -> &'a [String] {
    if s.structured {
        &s.tensor_fields
    } else {
        &rec.tensor_fields
    }
}

/// A tensor field's kind: the index's field type (structured) or the add request's mapping
/// type (`None` for plain text).
pub fn field_kind<'a>(rec: &'a DocRecord, s: &'a Settings, tf: &str) -> Option<&'a str> {
    if s.structured {
        s.field(tf).map(|f| f.kind.as_str())
    } else {
        mapping(rec, tf, "type").and_then(Value::as_str)
    }
}

/// A multimodal combination's parts with their weights: the index's dependent fields
/// (structured) or the add request's mapping weights.
pub fn multimodal_weights<'a>(
    rec: &'a DocRecord,
    s: &'a Settings,
    tf: &str,
) -> Option<&'a Map<String, Value>> {
    if s.structured {
        s.field(tf).and_then(|f| f.dependent.as_ref())
    } else {
        mapping(rec, tf, "weights").and_then(Value::as_object)
    }
}

/// Tokenise, chunk and embed a document for `settings`.
pub fn prepare(rec: DocRecord, s: &Settings) -> Prepared {
    let lex = lexical_tokens(&rec, s);
    // Text is embedded with the chunk prefix (the request's, else the index's); the chunk
    // stored and shown stays the text itself.
    let prefix = rec.chunk_prefix.as_deref().unwrap_or(&s.chunk_prefix);
    let mut chunks = Vec::new();
    for tf in tensor_fields_of(&rec, s) {
        match field_kind(&rec, s, tf) {
            Some("multimodal_combination") => {
                let mut parts = Vec::new();
                let mut texts = Vec::new();
                for (child, w) in multimodal_weights(&rec, s, tf).into_iter().flatten() {
                    if let Some(text) = rec.fields.get(child).and_then(Value::as_str) {
                        let prefix = if is_media(s, child, text) { "" } else { prefix };
                        parts.push((
                            embed::embed_text(&prefixed(prefix, text), s.dim),
                            w.as_f64().unwrap_or(1.0) as f32,
                        ));
                        texts.push(text.to_string());
                    }
                }
                if !parts.is_empty() {
                    let refs: Vec<(&SparseVec, f32)> = parts.iter().map(|(v, w)| (v, *w)).collect();
                    chunks.push((tf.clone(), texts.join(" "), embed::combine(&refs)));
                }
            }
            Some("custom_vector") => {
                if let Some(field) = rec.fields.get(tf).filter(|v| v.is_object()) {
                    let vector = embed::vector_field(field).unwrap_or_default();
                    let content = field
                        .get("content")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    chunks.push((
                        tf.clone(),
                        content.to_string(),
                        embed::from_dense(&vector, s.normalize),
                    ));
                }
            }
            _ => {
                if let Some(text) = rec.fields.get(tf).and_then(Value::as_str) {
                    let prefix = if is_media(s, tf, text) { "" } else { prefix };
                    for c in
                        embed::chunk_text(text, &s.split_method, s.split_length, s.split_overlap)
                    {
                        let v = embed::embed_text(&prefixed(prefix, &c), s.dim);
                        chunks.push((tf.clone(), c, v));
                    }
                }
            }
        }
    }
    Prepared {
        rec,
        chunks,
        lex,
        ann: Params::from_settings(&s.json),
    }
}

impl Store {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    pub fn get(&self, id: &str) -> Option<&StoredDoc> {
        self.ids.get(id).and_then(|s| self.slot(*s))
    }

    /// One past the highest slot ever used (size for dense per-slot arrays).
    pub fn slot_capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn slot_of(&self, id: &str) -> Option<u32> {
        self.ids.get(id).copied()
    }

    pub fn slot(&self, slot: u32) -> Option<&StoredDoc> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    /// Live documents with their slots, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &StoredDoc)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.as_ref().map(|d| (i as u32, d)))
    }

    pub fn chunks_of(&self, doc: &StoredDoc) -> impl Iterator<Item = &Chunk> {
        doc.chunks
            .iter()
            .filter_map(|c| self.chunks.get(*c as usize).and_then(Option::as_ref))
    }

    pub fn chunk_ids_of<'a>(&self, doc: &'a StoredDoc) -> impl Iterator<Item = u32> + 'a {
        doc.chunks.iter().copied()
    }

    /// Every document's persisted form.
    pub fn records(&self) -> Vec<DocRecord> {
        self.iter().map(|(_, d)| d.rec.clone()).collect()
    }
}

#[cfg(test)]
mod tests;
