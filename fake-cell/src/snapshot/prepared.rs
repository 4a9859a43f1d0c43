//! The prepared form a snapshot carries beside each index's documents (format 2): every chunk's
//! field, text and vector, so a restore only loads them instead of chunking and embedding every
//! document again (the slow part of a restore). Lexical tokens are not carried: tokenising is
//! cheap next to embedding. Vectors travel as base64 of little-endian `(u32 dimension, f32
//! weight)` pairs, a third of the size of JSON float arrays and far quicker to read.
//!
//! Documents and their prepared entries are matched by `_id` in order; a document without a
//! matching entry (a snapshot edited by hand, or a format-1 one) is prepared from scratch, so the
//! result is always the same index, only slower.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::embed::SparseVec;
use crate::engine::settings::Settings;
use crate::engine::store::{self, DocRecord, Prepared};
use crate::state::Index;

/// One document's chunks, in the order the store holds them.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreparedDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub chunks: Vec<ChunkRec>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkRec {
    pub field: String,
    /// Left out when it is the field's whole string value (most chunks of short fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// base64 of little-endian `(u32, f32)` pairs, dimensions ascending.
    pub vector: String,
}

/// Every document's chunks, in the store's slot order (the order `Store::records` lists them).
/// Called with writers held back by the restore gate, so documents and chunks agree.
pub fn capture(index: &Index) -> Vec<PreparedDoc> {
    let data = index.data.read();
    data.iter()
        .map(|(_, doc)| PreparedDoc {
            id: doc.rec.id.clone(),
            chunks: data
                .chunks_of(doc)
                .map(|c| ChunkRec {
                    text: (doc.rec.fields.get(&c.field).and_then(Value::as_str)
                        != Some(c.text.as_str()))
                    .then(|| c.text.clone()),
                    field: c.field.clone(),
                    vector: encode(&c.vec),
                })
                .collect(),
        })
        .collect()
}

fn encode(v: &SparseVec) -> String {
    let mut bytes = Vec::with_capacity(v.len() * 8);
    for (d, w) in v {
        bytes.extend_from_slice(&d.to_le_bytes());
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    STANDARD.encode(bytes)
}

/// A vector read back, checked against the index's dimension (a vector past it would break
/// search), or why it cannot be one.
fn decode(text: &str, dim: usize) -> Result<SparseVec, String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| format!("not base64: {e}"))?;
    if bytes.len() % 8 != 0 {
        return Err(format!(
            "{} bytes is not a whole number of pairs",
            bytes.len()
        ));
    }
    let mut v = SparseVec::with_capacity(bytes.len() / 8);
    for pair in bytes.chunks_exact(8) {
        let (d, w) = pair.split_at(4);
        let d = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
        let w = f32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        if d as usize >= dim || !w.is_finite() {
            return Err(format!(
                "entry ({d}, {w}) is outside the index's {dim} dimensions"
            ));
        }
        if v.last().is_some_and(|(last, _)| *last >= d) {
            return Err("dimensions are not ascending".into());
        }
        v.push((d, w));
    }
    Ok(v)
}

/// The documents ready to insert: from their carried chunks where there are some, prepared
/// from scratch otherwise. An entry that does not decode is an error naming it.
pub fn load(
    index: &str,
    settings: &Settings,
    docs: Vec<DocRecord>,
    carried: Vec<PreparedDoc>,
) -> Result<Vec<Prepared>, String> {
    let mut carried = carried.into_iter().peekable();
    let mut out = Vec::with_capacity(docs.len());
    let mut recomputed = 0usize;
    for rec in docs {
        let Some(entry) = carried.next_if(|p| p.id == rec.id) else {
            recomputed += 1;
            out.push(store::prepare(rec, settings));
            continue;
        };
        let mut chunks = Vec::with_capacity(entry.chunks.len());
        for c in entry.chunks {
            let vec = decode(&c.vector, settings.dim)
                .map_err(|e| format!("index {index}, document {}: a chunk vector {e}", rec.id))?;
            let text = match c.text {
                Some(t) => t,
                None => rec
                    .fields
                    .get(&c.field)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| {
                        format!(
                            "index {index}, document {}: a chunk of {} has no text",
                            rec.id, c.field
                        )
                    })?,
            };
            chunks.push((c.field, text, vec));
        }
        out.push(store::prepare_with_chunks(rec, settings, chunks));
    }
    if recomputed > 0 {
        tracing::info!(
            index,
            documents = recomputed,
            "snapshot documents without a prepared form were prepared again"
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_and_bad_ones_are_named() {
        let v: SparseVec = vec![(0, 0.5), (7, -0.25), (383, 1.0)];
        assert_eq!(decode(&encode(&v), 384).unwrap(), v);
        assert!(decode(&encode(&v), 100).unwrap_err().contains("outside"));
        assert!(decode("***", 384).unwrap_err().contains("base64"));
        assert!(
            decode(&STANDARD.encode([1u8, 2, 3]), 384)
                .unwrap_err()
                .contains("pairs")
        );
        let unsorted: SparseVec = vec![(7, 0.5), (2, 0.5)];
        assert!(
            decode(&encode(&unsorted), 384)
                .unwrap_err()
                .contains("ascending")
        );
    }
}
