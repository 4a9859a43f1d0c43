//! How Marqo combines several vectors into one query vector (`core/utils/vector_interpolation.py`):
//! `lerp`, `nlerp` and hierarchical pairwise `slerp` as current Marqo has them (weights scaled by
//! the sum of their absolute values, so only all-zero weights are refused), and the query
//! vector of a search (`tensor_search.get_query_vectors_from_jobs`): the texts of a weighted `q`
//! in order, then `context.tensor` vectors, then a `customVector` (appended to the context as
//! weight 1), all raw (not normalised) and combined by `interpolationMethod`, by default `nlerp`
//! for an index with `normalizeEmbeddings` and `lerp` otherwise (`get_default_interpolation_method`
//! without context documents). Recommend's default is `slerp` / `lerp`.

use serde_json::Value;

use crate::engine::embed::{self, SparseVec};
use crate::engine::settings::Settings;
use crate::error::{CellError, CellResult};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interp {
    Lerp,
    Nlerp,
    Slerp,
}

/// Why Marqo's interpolation refuses its input (its exception classes).
#[derive(Debug, Clone, PartialEq)]
pub enum InterpError {
    /// `AllZeroWeightsError`; `true` for SLERP.
    AllZero(bool),
    /// `ZeroMagnitudeVectorError` (NLERP).
    ZeroMagnitude,
    /// SLERP's `ValueError` for a zero-length vector.
    ZeroLength,
}

impl Interp {
    /// `InterpolationMethod` is a case-insensitive enum; the model check already accepted it.
    pub fn parse(v: Option<&Value>) -> Option<Interp> {
        match v?.as_str()?.to_ascii_lowercase().as_str() {
            "lerp" => Some(Interp::Lerp),
            "nlerp" => Some(Interp::Nlerp),
            "slerp" => Some(Interp::Slerp),
            _ => None,
        }
    }

    /// Search without context documents.
    pub fn search_default(normalize: bool) -> Interp {
        if normalize {
            Interp::Nlerp
        } else {
            Interp::Lerp
        }
    }

    /// Recommend (context documents always exist).
    pub fn recommend_default(normalize: bool) -> Interp {
        if normalize {
            Interp::Slerp
        } else {
            Interp::Lerp
        }
    }
}

impl InterpError {
    /// The message a search answers (the core's `InvalidArgumentError` text, 400).
    pub fn search_error(&self) -> CellError {
        CellError::InvalidArgument(match self {
            InterpError::AllZero(slerp) => format!(
                "All weights are zero. {} cannot interpolate vectors with all zero weights.",
                if *slerp { "SLERP" } else { "LERP" }
            ),
            InterpError::ZeroMagnitude => {
                "Interpolated vector has zero magnitude. Cannot normalize a vector with zero magnitude"
                    .into()
            }
            InterpError::ZeroLength => zero_length(),
        })
    }

    /// The message recommend answers (`Recommender.recommend` rewrites the first two).
    pub fn recommend_error(&self) -> CellError {
        CellError::InvalidArgument(match self {
            InterpError::AllZero(_) => "Cannot interpolate vectors with all zero weights. \
                 Please ensure at least one weight is non-zero."
                .into(),
            InterpError::ZeroMagnitude => {
                "Linear interpolation of embeddings led to a zero-magnitude \
                 vector. NLERP cannot normalize a vector with zero magnitude"
                    .into()
            }
            InterpError::ZeroLength => zero_length(),
        })
    }
}

fn zero_length() -> String {
    "One or more vectors had zero length. SLERP cannot interpolate vectors with zero length".into()
}

/// `a·x + b·y` of two sorted sparse vectors, in f64.
fn lincomb(x: &[(u32, f64)], a: f64, y: &[(u32, f64)], b: f64) -> Vec<(u32, f64)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(x.len() + y.len());
    while i < x.len() || j < y.len() {
        let (d, v) = match (x.get(i), y.get(j)) {
            (Some(p), Some(q)) if p.0 == q.0 => {
                i += 1;
                j += 1;
                (p.0, a * p.1 + b * q.1)
            }
            (Some(p), Some(q)) if p.0 < q.0 => {
                i += 1;
                (p.0, a * p.1)
            }
            (Some(p), None) => {
                i += 1;
                (p.0, a * p.1)
            }
            (_, Some(q)) => {
                j += 1;
                (q.0, b * q.1)
            }
            (None, None) => break,
        };
        if v != 0.0 {
            out.push((d, v));
        }
    }
    out
}

fn dot(x: &[(u32, f64)], y: &[(u32, f64)]) -> f64 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < x.len() && j < y.len() {
        match x[i].0.cmp(&y[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += x[i].1 * y[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// `Slerp._slerp(v0, v1, t)` without `prenormalized`.
fn slerp_pair(
    v0: &[(u32, f64)],
    v1: &[(u32, f64)],
    t: f64,
) -> Result<Vec<(u32, f64)>, InterpError> {
    let (n0, n1) = (dot(v0, v0).sqrt(), dot(v1, v1).sqrt());
    if n0 == 0.0 || n1 == 0.0 {
        return Err(InterpError::ZeroLength);
    }
    let cos = (dot(v0, v1) / (n0 * n1)).clamp(-1.0, 1.0);
    let theta = cos.acos();
    let sin_theta = theta.sin();
    if sin_theta == 0.0 {
        // Co-linear vectors: linear interpolation.
        return Ok(lincomb(v0, 1.0 - t, v1, t));
    }
    Ok(lincomb(
        v0,
        ((1.0 - t) * theta).sin() / sin_theta,
        v1,
        (t * theta).sin() / sin_theta,
    ))
}

/// Interpolate `vectors` with `weights` as Marqo's `VectorInterpolation.interpolate` does.
pub fn interpolate(
    method: Interp,
    vectors: &[SparseVec],
    weights: &[f64],
) -> Result<SparseVec, InterpError> {
    let mut vs: Vec<Vec<(u32, f64)>> = vectors
        .iter()
        .map(|v| v.iter().map(|(d, x)| (*d, f64::from(*x))).collect())
        .collect();
    let mut ws: Vec<f64> = weights.to_vec();
    let out = match method {
        Interp::Lerp | Interp::Nlerp => {
            let sum: f64 = ws.iter().map(|w| w.abs()).sum();
            if sum == 0.0 {
                return Err(InterpError::AllZero(false));
            }
            let mut acc: Vec<(u32, f64)> = Vec::new();
            for (v, w) in vs.iter().zip(&ws) {
                acc = lincomb(&acc, 1.0, v, w / sum);
            }
            if method == Interp::Nlerp {
                let len = dot(&acc, &acc).sqrt();
                if len == 0.0 {
                    return Err(InterpError::ZeroMagnitude);
                }
                acc.iter_mut().for_each(|(_, x)| *x /= len);
            }
            acc
        }
        // `_interpolate_hierarchical`: neighbours pairwise at t = w1 / (|w0| + |w1|), each pair
        // weighted (|w0| + |w1|) / 2, an odd last vector carried up unchanged, until one is left.
        Interp::Slerp => {
            if ws.iter().all(|w| *w == 0.0) {
                return Err(InterpError::AllZero(true));
            }
            while vs.len() > 1 {
                let (mut next_v, mut next_w) = (Vec::new(), Vec::new());
                for i in (0..vs.len()).step_by(2) {
                    if i + 1 == vs.len() {
                        next_v.push(std::mem::take(&mut vs[i]));
                        next_w.push(ws[i]);
                        continue;
                    }
                    let (w0, w1) = (ws[i], ws[i + 1]);
                    let sum = w0.abs() + w1.abs();
                    if sum == 0.0 {
                        return Err(InterpError::AllZero(true));
                    }
                    next_v.push(slerp_pair(&vs[i], &vs[i + 1], w1 / sum)?);
                    next_w.push(sum / 2.0);
                }
                vs = next_v;
                ws = next_w;
            }
            vs.pop().unwrap_or_default()
        }
    };
    Ok(out.into_iter().map(|(d, x)| (d, x as f32)).collect())
}

/// A context or custom vector: Marqo's dimension check (its words, `tensor_search.py`), raw.
fn dense_raw(v: &[f32], s: &Settings) -> CellResult<SparseVec> {
    if v.len() != s.dim {
        return Err(CellError::InvalidArgument(format!(
            "The dimension of the vectors returned by the model or given by the context vectors \
             does not match the expected dimension. Expected dimension {} but got {}",
            s.dim,
            v.len()
        )));
    }
    Ok(embed::from_dense(v, false))
}

/// The query vector of a TENSOR/HYBRID search from `q` (text, weighted map or `customVector`)
/// and `context`, combined by `method` (or the index's default).
pub fn query_vector(
    q: &Value,
    context: &[(Vec<f32>, f32)],
    method: Option<Interp>,
    s: &Settings,
) -> CellResult<SparseVec> {
    let (mut vectors, mut weights): (Vec<SparseVec>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut custom = None;
    if let Value::String(t) = q {
        if context.is_empty() {
            return Ok(embed::embed_text(t, s.dim));
        }
        // A text with context vectors (HYBRID; TENSOR refuses it): the text is the first
        // vector, weight 1.
        vectors.push(embed::embed_text(t, s.dim));
        weights.push(1.0);
    }
    if let Value::Object(m) = q {
        match m.get("customVector") {
            Some(cv) if cv.is_object() => {
                let v = embed::vector_field(cv).ok_or_else(|| {
                    CellError::InvalidArgument("customVector needs a vector".into())
                })?;
                custom = Some(dense_raw(&v, s)?);
            }
            _ => {
                for (text, w) in m {
                    let w = w.as_f64().ok_or_else(|| {
                        CellError::InvalidArgument("query weights must be numbers".into())
                    })?;
                    vectors.push(embed::embed_text(text, s.dim));
                    weights.push(w);
                }
            }
        }
    }
    for (v, w) in context {
        vectors.push(dense_raw(v, s)?);
        weights.push(f64::from(*w));
    }
    if let Some(v) = custom {
        vectors.push(v);
        weights.push(1.0);
    }
    if vectors.is_empty() {
        return Err(CellError::InvalidArgument(
            "Marqo could not collect any vectors from the search query but the retrieval or \
             ranking method requires at least one valid vector. Please check the provided query, \
             context (if any), or queryTensor(for Hybrid search) "
                .into(),
        ));
    }
    let method = method.unwrap_or(Interp::search_default(s.normalize));
    interpolate(method, &vectors, &weights).map_err(|e| e.search_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[(u32, f32)]) -> SparseVec {
        x.to_vec()
    }

    fn close(a: &SparseVec, b: &[(u32, f32)]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x.0, y.0);
            assert!((x.1 - y.1).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }

    // Values worked out by hand from vector_interpolation.py with e0 = [1,0], e1 = [0,1].
    #[test]
    fn lerp_and_nlerp_as_marqo() {
        let (e0, e1) = (v(&[(0, 1.0)]), v(&[(1, 1.0)]));
        // Lerp: Σ (w/Σ|w|)·v = (1/4)e0 + (3/4)e1.
        let l = interpolate(Interp::Lerp, &[e0.clone(), e1.clone()], &[1.0, 3.0]).unwrap();
        close(&l, &[(0, 0.25), (1, 0.75)]);
        // Nlerp divides by |(0.25, 0.75)| = 0.790569.
        let n = interpolate(Interp::Nlerp, &[e0.clone(), e1.clone()], &[1.0, 3.0]).unwrap();
        close(&n, &[(0, 0.316_227_8), (1, 0.948_683_3)]);
        // Weights of opposite signs are scaled by Σ|w| (no zero-sum error any more).
        let l = interpolate(Interp::Lerp, &[e0.clone(), e1.clone()], &[1.0, -1.0]).unwrap();
        close(&l, &[(0, 0.5), (1, -0.5)]);
        assert_eq!(
            interpolate(Interp::Lerp, &[e0.clone(), e1.clone()], &[0.0, 0.0]),
            Err(InterpError::AllZero(false))
        );
        // (1/2)e0 + (1/2)(-e0) = 0: Nlerp cannot normalise it.
        let neg = v(&[(0, -1.0)]);
        assert_eq!(
            interpolate(Interp::Nlerp, &[e0, neg], &[1.0, 1.0]),
            Err(InterpError::ZeroMagnitude)
        );
    }

    #[test]
    fn slerp_is_hierarchical_and_pairwise() {
        let (e0, e1, e2) = (v(&[(0, 1.0)]), v(&[(1, 1.0)]), v(&[(2, 1.0)]));
        // One pair, t = w1/(w0+w1) = 3/4, θ = π/2: sin(π/8)·e0 + sin(3π/8)·e1.
        let s = interpolate(Interp::Slerp, &[e0.clone(), e1.clone()], &[1.0, 3.0]).unwrap();
        close(&s, &[(0, 0.382_683_43), (1, 0.923_879_5)]);
        // Three vectors: (e0,e1) at t = 1/2 → (√½, √½) with weight 1; e2 carried with weight 1;
        // then slerp of those two at t = 1/2, θ = π/2: (√½·√½, √½·√½, √½) = (0.5, 0.5, 0.7071).
        let s3 = interpolate(
            Interp::Slerp,
            &[e0.clone(), e1.clone(), e2],
            &[1.0, 1.0, 1.0],
        )
        .unwrap();
        close(
            &s3,
            &[(0, 0.5), (1, 0.5), (2, std::f32::consts::FRAC_1_SQRT_2)],
        );
        // t = w1 / (|w0| + |w1|) = -1/2: sin(3π/4)·e0 + sin(-π/4)·e1.
        let s = interpolate(Interp::Slerp, &[e0.clone(), e1.clone()], &[2.0, -2.0]).unwrap();
        let h = std::f32::consts::FRAC_1_SQRT_2;
        close(&s, &[(0, h), (1, -h)]);
        assert_eq!(
            interpolate(Interp::Slerp, &[e0.clone(), e1.clone()], &[0.0, 0.0]),
            Err(InterpError::AllZero(true))
        );
        let msg = InterpError::AllZero(true).search_error().to_string();
        assert_eq!(
            msg,
            "All weights are zero. SLERP cannot interpolate vectors with all zero weights."
        );
        // A single vector comes back unchanged whatever its non-zero weight.
        close(
            &interpolate(Interp::Slerp, std::slice::from_ref(&e0), &[-2.0]).unwrap(),
            &[(0, 1.0)],
        );
        assert_eq!(
            interpolate(Interp::Slerp, &[e0, Vec::new()], &[1.0, 1.0]),
            Err(InterpError::ZeroLength)
        );
    }

    #[test]
    fn defaults_follow_normalize_embeddings() {
        assert_eq!(Interp::search_default(true), Interp::Nlerp);
        assert_eq!(Interp::search_default(false), Interp::Lerp);
        assert_eq!(Interp::recommend_default(true), Interp::Slerp);
        assert_eq!(
            Interp::parse(Some(&Value::from("SLERP"))),
            Some(Interp::Slerp)
        );
    }
}
