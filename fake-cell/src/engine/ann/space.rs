//! What the HNSW graph stores and how it measures: sparse chunk vectors as [`Feat`] lists, the
//! index's `annParameters` ([`Params`]: `m`, `efConstruction`, `spaceType`) and the distance each
//! space type walks by ([`SparseDist`]). A query is handed to the graph in dense form (see
//! [`dense_query`]) so each distance is one gather per stored non-zero instead of a merge.

use anndists::dist::Distance;
use serde_json::Value;

/// One non-zero of a stored vector: `(dimension, weight)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Feat(pub u32, pub f32);

/// First entry of a dense query: this dimension marks it, the weight is the query's squared norm.
const DENSE: u32 = u32::MAX;

/// Vectors per index the graph holds at most; beyond it approximate search answers exactly.
/// An HNSW point costs about 1–2 KiB (links plus the sparse vector), so this bounds the graph
/// of one index to well under 1 GiB.
pub const MAX_POINTS: usize = 500_000;

/// Marqo's `annParameters.spaceType`. The float embeddings here have no meaning for `hamming`
/// or `geodegrees`; they walk by angle and by euclidean distance respectively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    PrenormalizedAngular,
    Angular,
    Euclidean,
    DotProduct,
}

impl Space {
    pub fn parse(s: &str) -> Space {
        match s {
            "angular" | "hamming" => Space::Angular,
            "euclidean" | "geodegrees" => Space::Euclidean,
            "dotproduct" => Space::DotProduct,
            _ => Space::PrenormalizedAngular,
        }
    }

    /// A distance that never goes below 0 (the graph requires it), ordered like the space's.
    fn distance(self, dot: f32, na2: f32, nb2: f32) -> f32 {
        match self {
            Space::PrenormalizedAngular => (1.0 - dot).max(0.0),
            Space::Angular => {
                let n = (na2 * nb2).sqrt();
                if n > 0.0 {
                    (1.0 - dot / n).max(0.0)
                } else {
                    1.0
                }
            }
            Space::Euclidean => (na2 + nb2 - 2.0 * dot).max(0.0).sqrt(),
            // Larger dot products are nearer; this keeps that order with positive values.
            Space::DotProduct => {
                if dot < 1.0 {
                    2.0 - dot
                } else {
                    1.0 / dot
                }
            }
        }
    }
}

/// The graph's build parameters, from the index's `annParameters`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub m: usize,
    pub ef_construction: usize,
    pub space: Space,
    pub max_points: usize,
}

impl Default for Params {
    fn default() -> Self {
        // Marqo's defaults.
        Params {
            m: 16,
            ef_construction: 512,
            space: Space::PrenormalizedAngular,
            max_points: MAX_POINTS,
        }
    }
}

impl Params {
    /// From the stored settings JSON (validated at index creation).
    pub fn from_settings(json: &Value) -> Params {
        let ann = &json["annParameters"];
        let p = &ann["parameters"];
        let d = Params::default();
        let num = |v: &Value, dflt: usize| v.as_u64().map_or(dflt, |n| n as usize);
        Params {
            // hnsw_rs needs at least 2 links per node; very large values only cost memory.
            m: num(&p["m"], d.m).clamp(2, 256),
            ef_construction: num(&p["efConstruction"], d.ef_construction).clamp(1, 4096),
            space: ann["spaceType"].as_str().map_or(d.space, Space::parse),
            max_points: d.max_points,
        }
    }
}

/// The graph's distance over [`Feat`] lists for one space type.
#[derive(Clone, Copy, Debug)]
pub struct SparseDist(pub Space);

impl Distance<Feat> for SparseDist {
    fn eval(&self, a: &[Feat], b: &[Feat]) -> f32 {
        if let Some(Feat(DENSE, qn2)) = a.first() {
            let dense = &a[1..];
            let (mut dot, mut nb2) = (0.0f32, 0.0f32);
            for f in b {
                if let Some(x) = dense.get(f.0 as usize) {
                    dot += x.1 * f.1;
                }
                nb2 += f.1 * f.1;
            }
            return self.0.distance(dot, *qn2, nb2);
        }
        let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        let norm2 = |v: &[Feat]| v.iter().map(|f| f.1 * f.1).sum::<f32>();
        self.0.distance(dot, norm2(a), norm2(b))
    }
}

/// A stored vector in the graph's form.
pub fn feats(v: &[(u32, f32)]) -> Vec<Feat> {
    v.iter().map(|(d, w)| Feat(*d, *w)).collect()
}

/// The query in dense form: a marker holding its squared norm, then one entry per dimension
/// (`dim` at least, more if the query names a higher dimension).
pub fn dense_query(q: &[(u32, f32)], dim: usize, out: &mut Vec<Feat>) {
    let top = q.last().map_or(0, |(d, _)| *d as usize + 1).max(dim);
    out.clear();
    out.resize(top + 1, Feat(0, 0.0));
    out[0] = Feat(DENSE, q.iter().map(|(_, w)| w * w).sum());
    for (d, w) in q {
        out[*d as usize + 1] = Feat(*d, *w);
    }
}

/// The exact dot product of a stored vector with a dense query (same sum, in the same order,
/// as `embed::dot`, so scores match the exact path).
pub fn dense_dot(dense: &[Feat], v: &[(u32, f32)]) -> f32 {
    let dense = dense.get(1..).unwrap_or_default();
    let mut s = 0.0f32;
    for (d, w) in v {
        if let Some(x) = dense.get(*d as usize) {
            s += x.1 * w;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::embed;

    #[test]
    fn dense_and_sparse_distances_agree_and_order_by_closeness() {
        let q = embed::embed_text("red leather shoes", 64);
        let near = embed::embed_text("red leather boots", 64);
        let far = embed::embed_text("kitchen lamp", 64);
        let mut dq = Vec::new();
        dense_query(&q, 64, &mut dq);
        for space in [
            Space::PrenormalizedAngular,
            Space::Angular,
            Space::Euclidean,
            Space::DotProduct,
        ] {
            let d = SparseDist(space);
            let (a, b) = (
                d.eval(&dq, &feats(&near)),
                d.eval(&feats(&q), &feats(&near)),
            );
            assert!((a - b).abs() < 1e-5, "{space:?}: {a} vs {b}");
            assert!(a < d.eval(&dq, &feats(&far)), "{space:?}");
            assert!(a >= 0.0);
        }
        assert_eq!(dense_dot(&dq, &near), embed::dot(&q, &near));
    }

    #[test]
    fn params_follow_ann_parameters() {
        let j = serde_json::json!({"annParameters": {"spaceType": "euclidean",
            "parameters": {"efConstruction": 128, "m": 8}}});
        let p = Params::from_settings(&j);
        assert_eq!(
            (p.m, p.ef_construction, p.space),
            (8, 128, Space::Euclidean)
        );
        assert_eq!(Params::from_settings(&Value::Null), Params::default());
    }
}
