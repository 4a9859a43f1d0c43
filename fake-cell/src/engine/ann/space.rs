//! Vector spaces: the index's `annParameters` ([`Params`]: `m`, `efConstruction`, `spaceType`),
//! the distance the graph walks by and the score a hit gets for each space type ([`Space`]), and
//! a query in dense form ([`Query`]) so every distance is one gather per stored non-zero, and a
//! short vector's navigation form ([`Nav`]) that graph searches walk by.
//!
//! Scores are Vespa's `closeness` for the index's distance metric, as Marqo ranks tensor hits:
//! `1 / (1 + distance)` with distance `1 − q·v` (prenormalized-angular), the angle `acos(cos)`
//! in radians (angular), `|q − v|` (euclidean), the number of differing dimensions (hamming);
//! for dotproduct the closeness is `q·v` itself. The exact path and the graph path both score
//! through [`Query::score`], so a hit scores the same on either.

use serde_json::Value;

/// One non-zero of a stored vector: `(dimension, weight)` (the same pairs as `embed::SparseVec`).
pub type Feat = (u32, f32);

/// Vectors per index the graph holds at most; beyond it approximate search answers exactly.
/// A point costs about 0.6 KiB (its sparse vector, ~30 non-zeros for a short text, its 64-byte
/// navigation form and 20 layer-0 links), so this bounds one index's graph to a few hundred MiB.
pub const MAX_POINTS: usize = 500_000;

/// Marqo's `annParameters.spaceType`. `geodegrees` (latitude/longitude pairs) has no meaning for
/// text embeddings; it measures like euclidean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    PrenormalizedAngular,
    Angular,
    Euclidean,
    DotProduct,
    Hamming,
}

/// What a distance needs from one (query, vector) pair.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pair {
    pub dot: f32,
    pub qn2: f32,
    pub vn2: f32,
    /// Dimensions where the two differ (hamming only; 0 otherwise).
    pub differ: f32,
}

impl Space {
    pub fn parse(s: &str) -> Space {
        match s {
            "angular" => Space::Angular,
            "euclidean" | "geodegrees" => Space::Euclidean,
            "dotproduct" => Space::DotProduct,
            "hamming" => Space::Hamming,
            _ => Space::PrenormalizedAngular,
        }
    }

    /// The order the graph walks by (smaller is nearer): the space's distance, or something
    /// monotone in it that is cheaper (no `acos`, no square root).
    pub fn walk(self, p: Pair) -> f32 {
        match self {
            Space::PrenormalizedAngular => 1.0 - p.dot,
            Space::Angular => 1.0 - cosine(p),
            Space::Euclidean => p.qn2 + p.vn2 - 2.0 * p.dot,
            Space::DotProduct => -p.dot,
            Space::Hamming => p.differ,
        }
    }

    /// Vespa's `closeness` for this distance metric: the hit's score.
    pub fn closeness(self, p: Pair) -> f32 {
        let distance = match self {
            Space::PrenormalizedAngular => 1.0 - p.dot,
            Space::Angular => cosine(p).clamp(-1.0, 1.0).acos(),
            Space::Euclidean => (p.qn2 + p.vn2 - 2.0 * p.dot).max(0.0).sqrt(),
            Space::DotProduct => return p.dot,
            Space::Hamming => p.differ,
        };
        1.0 / (1.0 + distance)
    }

    /// Whether the score needs the stored vector's norm (not only the dot product).
    pub fn needs_norm(self) -> bool {
        matches!(self, Space::Angular | Space::Euclidean)
    }

    /// The walk distance between two stored vectors (sorted by dimension).
    pub fn sparse_distance(self, a: &[Feat], an2: f32, b: &[Feat], bn2: f32) -> f32 {
        self.walk(merge(a, an2, b, bn2))
    }

    /// The score of stored vector `v` for query `q`, both sparse: the same figure as
    /// [`Query::score`] (the dot product is summed in the same order).
    pub fn score_sparse(self, q: &[Feat], v: &[Feat]) -> f32 {
        self.closeness(merge(q, norm2(q), v, norm2(v)))
    }
}

/// The pair's figures by a merge of two sorted sparse vectors.
fn merge(a: &[Feat], an2: f32, b: &[Feat], bn2: f32) -> Pair {
    let (mut i, mut j) = (0, 0);
    let (mut dot, mut both, mut same) = (0.0f32, 0usize, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                both += 1;
                same += usize::from(a[i].1 == b[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    Pair {
        dot,
        qn2: an2,
        vn2: bn2,
        differ: (a.len() + b.len() - both - same) as f32,
    }
}

fn cosine(p: Pair) -> f32 {
    let n = (p.qn2 * p.vn2).sqrt();
    if n > 0.0 { p.dot / n } else { 0.0 }
}

pub fn norm2(v: &[Feat]) -> f32 {
    v.iter().map(|f| f.1 * f.1).sum()
}

/// `x`'s bits mapped to an unsigned order that is `f32::total_cmp`'s (so one integer compare
/// orders scores or distances); [`from_ordered`] maps back.
pub fn ordered(x: f32) -> u32 {
    let b = x.to_bits();
    if b >> 31 == 1 { !b } else { b | 1 << 31 }
}

pub fn from_ordered(key: u32) -> f32 {
    f32::from_bits(if key >> 31 == 1 {
        key & !(1 << 31)
    } else {
        !key
    })
}

/// Non-zeros of a navigation form.
pub const NAV: usize = 16;
/// Share of a vector's squared norm its `NAV` heaviest non-zeros must hold for it to get a
/// navigation form.
pub const NAV_MASS: f32 = 0.7;

/// A stored vector's navigation form, which the graph's searches walk by: its `NAV` heaviest
/// non-zeros with 16-bit dimensions and 8-bit weights, in one cache line. Walking by it instead
/// of the whole vector (30–500 non-zeros for a text, 8 bytes each) gathers 16 products per node
/// instead of all of them; the hits are scored exactly afterwards, so only the order the walk
/// explores nodes in is approximate.
///
/// Only vectors whose heaviest 16 hold [`NAV_MASS`] of their squared norm get one (a short
/// text: its words and word pairs); longer texts are walked whole, because a form that left
/// most of their words out cost recall@10 0.94 → 0.82 on 20-word texts. The form's dot product
/// is scaled up by the share it left out (`scale` holds `|v|² / |kept|²`): the left-out
/// non-zeros are mostly the same words' trigrams, which a query matches in proportion, and
/// without it a walk mixing forms and whole vectors ranked every form-walked node too far
/// (recall@10 0.99 → 0.85 on 5-word texts).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
pub struct Nav {
    pub dims: [u16; NAV],
    pub weights: [i8; NAV],
    scale: f32,
    /// The whole vector's squared norm, in the same line (a walk needs it for the euclidean
    /// and angular distances, and a second array would cost a second miss per node).
    vn2: f32,
}

impl Nav {
    /// The form of a vector walked whole.
    pub const WHOLE: Nav = Nav {
        dims: [0; NAV],
        weights: [0; NAV],
        scale: 0.0,
        vn2: 0.0,
    };

    /// Whether a walk may use this form instead of the whole vector.
    pub fn walks(&self) -> bool {
        self.scale > 0.0
    }

    /// `None` for a vector walked whole: a dimension above 16 bits, or too much of its norm
    /// outside its `NAV` heaviest non-zeros.
    pub fn of(v: &[Feat]) -> Option<Nav> {
        if v.iter().any(|f| f.0 > u32::from(u16::MAX)) {
            return None;
        }
        let mut heavy: Vec<Feat> = v.to_vec();
        heavy.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        heavy.truncate(NAV);
        heavy.sort_by_key(|f| f.0);
        let all = norm2(v);
        let kept: f32 = heavy.iter().map(|f| f.1 * f.1).sum();
        if kept < NAV_MASS * all {
            return None;
        }
        let top = heavy.iter().map(|f| f.1.abs()).fold(0.0f32, f32::max);
        let step = if top > 0.0 { top / 127.0 } else { 1.0 };
        let mut out = Nav {
            dims: [0; NAV],
            weights: [0; NAV],
            scale: if kept > 0.0 { step * all / kept } else { step },
            vn2: all,
        };
        for (i, (d, w)) in heavy.iter().enumerate() {
            out.dims[i] = *d as u16;
            out.weights[i] = (w / step).round().clamp(-127.0, 127.0) as i8;
        }
        Some(out)
    }
}

/// The walk distance from a form's raw dot product with the query (`b.scale` undoes its 8-bit
/// weights and the share of the norm it left out).
fn form_distance(space: Space, qn2: f32, dot: f32, b: &Nav) -> f32 {
    space.walk(Pair {
        dot: dot * b.scale,
        qn2,
        vn2: b.vn2,
        differ: 0.0,
    })
}

/// A query vector in dense form for one space.
#[derive(Default)]
pub struct Query {
    space: Option<Space>,
    dense: Vec<f32>,
    qn2: f32,
    nnz: usize,
}

impl Query {
    pub fn new(space: Space, q: &[Feat]) -> Query {
        let mut out = Query::default();
        out.set(space, q);
        out
    }

    /// Load `q` (reusing the buffer).
    pub fn set(&mut self, space: Space, q: &[Feat]) {
        for (d, _) in q {
            let d = *d as usize;
            if self.dense.len() <= d {
                self.dense.resize(d + 1, 0.0);
            }
        }
        self.dense.iter_mut().for_each(|x| *x = 0.0);
        for (d, w) in q {
            self.dense[*d as usize] = *w;
        }
        self.space = Some(space);
        self.qn2 = norm2(q);
        self.nnz = q.iter().filter(|(_, w)| *w != 0.0).count();
    }

    pub fn space(&self) -> Space {
        self.space.unwrap_or(Space::PrenormalizedAngular)
    }

    /// The pair's figures by one gather over `v` (dot in `v`'s dimension order, the same sum
    /// as `embed::dot` and as the inverted index accumulates).
    fn pair(&self, v: &[Feat], vn2: Option<f32>) -> Pair {
        let dot = self.dot(v);
        let differ = if self.space() == Space::Hamming {
            let (mut both, mut same) = (0usize, 0usize);
            for (d, w) in v {
                if let Some(x) = self.dense.get(*d as usize).filter(|x| **x != 0.0) {
                    both += 1;
                    same += usize::from(x == w);
                }
            }
            // Union of non-zeros minus the dimensions where both hold the same value.
            (self.nnz + v.len() - both) - same
        } else {
            0
        };
        Pair {
            dot,
            qn2: self.qn2,
            vn2: vn2.unwrap_or_else(|| {
                if self.space().needs_norm() {
                    norm2(v)
                } else {
                    0.0
                }
            }),
            differ: differ as f32,
        }
    }

    /// The dot product with a stored vector, summed in `v`'s dimension order (as the exact
    /// path's inverted index sums it, so both paths give the same bits). Only the dimensions the
    /// query has are added: a zero product leaves the sum as it is, so the sum is the same,
    /// and its chain of dependent additions is as long as the overlap (a handful) instead of
    /// `v` (a few dozen), which was most of rescoring a walk's hits.
    fn dot(&self, v: &[Feat]) -> f32 {
        super::dots::sparse(&self.dense, v)
    }

    /// The graph's walk distance to a stored vector with squared norm `vn2`. The walk only
    /// orders nodes (hits are scored again by [`Query::score`]), so the dot product is summed
    /// in four lanes: the hot loop of every search, and no longer one chain of dependent adds.
    pub fn distance(&self, v: &[Feat], vn2: f32) -> f32 {
        let space = self.space();
        if space == Space::Hamming {
            return space.walk(self.pair(v, Some(vn2)));
        }
        let at = |f: &Feat| self.dense.get(f.0 as usize).map_or(0.0, |x| x * f.1);
        let mut lanes = [0.0f32; 4];
        let mut quads = v.chunks_exact(4);
        for q in &mut quads {
            for (lane, f) in lanes.iter_mut().zip(q) {
                *lane += at(f);
            }
        }
        for (lane, f) in lanes.iter_mut().zip(quads.remainder()) {
            *lane += at(f);
        }
        space.walk(Pair {
            dot: (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]),
            qn2: self.qn2,
            vn2,
            differ: 0.0,
        })
    }

    /// [`Query::distance`] estimated from a stored vector's navigation form (hamming walks by
    /// the whole vector: the graph keeps no navigation forms for it).
    pub fn nav_distance(&self, b: &Nav) -> f32 {
        let dot = super::dots::nav(&self.dense, &b.dims, &b.weights);
        form_distance(self.space(), self.qn2, dot, b)
    }

    /// [`Query::nav_distance`] to the form of each of `nodes` (indexes into `forms`), into
    /// `out`: the same bits, in one call for a whole expansion ([`super::dots::navs`]).
    pub fn nav_distances(&self, forms: &[Nav], nodes: &[u32], out: &mut Vec<f32>) {
        out.clear();
        out.resize(nodes.len(), 0.0);
        let (space, qn2) = (self.space(), self.qn2);
        super::dots::navs(&self.dense, forms, nodes, out, |dot, b| {
            form_distance(space, qn2, dot, b)
        });
    }

    /// The score of a stored vector (exact; both search paths use it).
    pub fn score(&self, v: &[Feat]) -> f32 {
        self.space().closeness(self.pair(v, None))
    }

    /// The score from a dot product already summed in `v`'s dimension order (the exact path's
    /// inverted index), for every space but hamming (which needs the whole vector).
    pub fn score_dot(&self, dot: f32, v: &[Feat]) -> f32 {
        if self.space() == Space::Hamming {
            return self.score(v);
        }
        let vn2 = if self.space().needs_norm() {
            norm2(v)
        } else {
            0.0
        };
        self.space().closeness(Pair {
            dot,
            qn2: self.qn2,
            vn2,
            differ: 0.0,
        })
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
            // At least 2 links per node; very large values only cost memory.
            m: num(&p["m"], d.m).clamp(2, 256),
            ef_construction: num(&p["efConstruction"], d.ef_construction).clamp(1, 4096),
            space: ann["spaceType"].as_str().map_or(d.space, Space::parse),
            max_points: d.max_points,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::embed;

    const ALL: [Space; 5] = [
        Space::PrenormalizedAngular,
        Space::Angular,
        Space::Euclidean,
        Space::DotProduct,
        Space::Hamming,
    ];

    #[test]
    fn dense_and_sparse_distances_agree_and_order_by_closeness() {
        let q = embed::embed_text("red leather shoes", 64);
        let near = embed::embed_text("red leather boots", 64);
        let far = embed::embed_text("kitchen lamp", 64);
        for space in ALL {
            let dq = Query::new(space, &q);
            let a = dq.distance(&near, norm2(&near));
            let b = space.sparse_distance(&q, norm2(&q), &near, norm2(&near));
            assert!((a - b).abs() < 1e-5, "{space:?}: {a} vs {b}");
            assert!(a < dq.distance(&far, norm2(&far)), "{space:?}");
            assert!(dq.score(&near) > dq.score(&far), "{space:?}");
            assert_eq!(dq.score_dot(embed::dot(&q, &near), &near), dq.score(&near));
            assert_eq!(space.score_sparse(&q, &near), dq.score(&near));
        }
    }

    #[test]
    fn the_dot_of_the_overlap_is_every_product_summed_in_order_to_the_bit() {
        let texts = [
            "red leather running shoes",
            "A office classic garden for sport and running days, item 2528",
            "kitchen lamp",
            "shoes shoes shoes red red leather leather running walking hiking boots sandals \
             jacket shirt trousers dress hat scarf gloves socks bag wallet belt watch",
            "",
        ];
        for dim in [8, 64, 768] {
            for qt in texts {
                let q = Query::new(Space::PrenormalizedAngular, &embed::embed_text(qt, dim));
                for vt in texts {
                    let v = embed::embed_text(vt, dim);
                    let mut every = 0.0f32;
                    for (d, w) in &v {
                        every += q.dense.get(*d as usize).copied().unwrap_or(0.0) * w;
                    }
                    assert_eq!(
                        q.dot(&v).to_bits(),
                        every.to_bits(),
                        "{dim} {qt:?} · {vt:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn navigation_forms_keep_the_heaviest_non_zeros_and_their_order() {
        let q = embed::embed_text("red leather shoes", 768);
        let near = embed::embed_text("red leather boots for the evening", 768);
        let far = embed::embed_text("kitchen lamp", 768);
        for space in [
            Space::PrenormalizedAngular,
            Space::Euclidean,
            Space::DotProduct,
        ] {
            let dq = Query::new(space, &q);
            let nav = |v: &[Feat]| {
                let b = Nav::of(v).expect("a short text has a form");
                dq.nav_distance(&b)
            };
            assert!(nav(&near) < nav(&far), "{space:?}");
        }
        // Up to NAV non-zeros the form is the whole vector, up to 8-bit weights.
        let short = [(3, 0.5), (700, -0.25), (9, 1.0)];
        let dq = Query::new(Space::DotProduct, &[(3, 1.0), (9, 1.0), (700, 1.0)]);
        let b = Nav::of(&short).expect("fits");
        let exact = dq.distance(&short, norm2(&short));
        assert!((dq.nav_distance(&b) - exact).abs() < 0.01);
        // The heaviest are kept: a vector of many light and one heavy non-zero.
        let mut wide: Vec<Feat> = (0..40).map(|d| (d, 0.01)).collect();
        wide[30].1 = 0.9;
        let b = Nav::of(&wide).expect("fits");
        assert!(b.dims.contains(&30));
        // A dimension above 16 bits has no navigation form (the graph walks by whole vectors),
        // nor has a text whose 16 heaviest non-zeros leave out most of its words.
        assert!(Nav::of(&[(70_000, 1.0)]).is_none());
        let long = "a long text of thirty words that no sixteen of its heaviest non-zeros could \
            ever hold since every one of its many distinct words weighs the same as the others";
        assert!(Nav::of(&embed::embed_text(long, 768)).is_none());
        assert!(!Nav::WHOLE.walks());
    }

    #[test]
    fn an_expansion_of_forms_gives_each_forms_distance_bits() {
        let texts = [
            "red leather boots",
            "kitchen lamp",
            "blue silk scarf for the evening",
        ];
        let forms: Vec<Nav> = texts
            .iter()
            .map(|t| Nav::of(&embed::embed_text(t, 768)).expect("a short text has a form"))
            .collect();
        let q = embed::embed_text("red leather shoes", 768);
        // Node 7 is past the forms: it counts as a form of nothing.
        let nodes = [2, 0, 7, 1, 0];
        for space in ALL {
            let dq = Query::new(space, &q);
            let mut out = vec![f32::NAN; 9];
            dq.nav_distances(&forms, &nodes, &mut out);
            let one = |n: u32| dq.nav_distance(forms.get(n as usize).unwrap_or(&Nav::WHOLE));
            let want: Vec<u32> = nodes.iter().map(|&n| one(n).to_bits()).collect();
            let got: Vec<u32> = out.iter().map(|d| d.to_bits()).collect();
            assert_eq!(got, want, "{space:?}");
        }
    }

    #[test]
    fn a_reused_query_forgets_the_last_ones_non_zeros() {
        let first = embed::embed_text("red leather shoes for the evening", 768);
        let second = embed::embed_text("kitchen lamp", 768);
        let v = embed::embed_text("a red kitchen lamp", 768);
        let form = Nav::of(&v).expect("a short text has a form");
        for space in ALL {
            let mut reused = Query::new(space, &first);
            reused.set(space, &second);
            let fresh = Query::new(space, &second);
            let same = |a: f32, b: f32| assert_eq!(a.to_bits(), b.to_bits(), "{space:?}");
            same(
                reused.distance(&v, norm2(&v)),
                fresh.distance(&v, norm2(&v)),
            );
            same(reused.nav_distance(&form), fresh.nav_distance(&form));
            same(reused.score(&v), fresh.score(&v));
        }
        // A far dimension grows the dense form; the next query clears it again.
        let mut q = Query::new(Space::DotProduct, &[(70_000, 1.0)]);
        assert_eq!(q.score(&[(70_000, 0.5)]), 0.5);
        q.set(Space::DotProduct, &[(3, 1.0)]);
        assert_eq!(q.score(&[(70_000, 0.5)]), 0.0);
    }

    #[test]
    fn scores_follow_vespa_closeness() {
        // q = (1, 0), v = (0.6, 0.8): cos 0.6, |q − v|² = 0.8, both dimensions differ.
        let q = [(0, 1.0)];
        let v = [(0, 0.6), (1, 0.8)];
        let s = |space| Query::new(space, &q).score(&v);
        let close = |d: f32| 1.0 / (1.0 + d);
        assert!((s(Space::PrenormalizedAngular) - close(0.4)).abs() < 1e-6);
        assert!((s(Space::Angular) - close(0.6f32.acos())).abs() < 1e-6);
        assert!((s(Space::Euclidean) - close(0.8f32.sqrt())).abs() < 1e-6);
        assert!((s(Space::DotProduct) - 0.6).abs() < 1e-6);
        assert!((s(Space::Hamming) - close(2.0)).abs() < 1e-6);
        // Identical vectors: distance 0 everywhere.
        assert!((Query::new(Space::Hamming, &v).score(&v) - 1.0).abs() < 1e-6);
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
        let h = serde_json::json!({"annParameters": {"spaceType": "hamming"}});
        assert_eq!(Params::from_settings(&h).space, Space::Hamming);
    }
}
