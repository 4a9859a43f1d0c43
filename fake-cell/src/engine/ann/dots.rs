//! The walk's two dot products with a dense query, in AVX2 where the CPU has it and in a scalar
//! loop that adds the same products in the same order elsewhere (so a walk explores the same
//! nodes, and a hit gets the same score bits, on every machine):
//! - [`nav`]: a navigation form's 16 products, about 700 per search: two gathers and a
//!   handful of vector instructions instead of 16 scalar gather-multiply-adds (a fifth of a
//!   HYBRID search's instructions); [`navs`] takes an expansion's fresh neighbours in one call;
//! - [`sparse`]: a whole stored vector's, as the exact path sums it, for the ~50 hits a walk
//!   rescores: its products eight at a time, then the non-zero ones added in order.
//!
//! [`prefetch`] is here too: the walk's other intrinsic.
#![allow(unsafe_code)]

use super::space::{Feat, NAV, Nav};

/// `Σ dense[dims[i]] · weights[i]` (a dimension outside `dense` counts 0), summed as eight
/// lanes `i` and `i + 8`, then halves folded (lane `k` + lane `k + 4`, then `+ 2`, then `+ 1`).
#[inline]
pub fn nav(dense: &[f32], dims: &[u16; NAV], weights: &[i8; NAV]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU has AVX2 (checked just above); `nav_avx2` reads nothing outside its
        // arguments (see its own comments).
        return unsafe { nav_avx2(dense, dims, weights) };
    }
    nav_scalar(dense, dims, weights)
}

/// `finish(`[`nav`]`, form)` for the form of each of `nodes` into `out` (a node past `forms`
/// counts as [`Nav::WHOLE`]): one call for an expansion's fresh neighbours, so the CPU check,
/// the call and the query's bounds are paid once rather than per form (they were half of a
/// walk's distance instructions), and the forms' loads of one expansion overlap.
pub fn navs(
    dense: &[f32],
    forms: &[Nav],
    nodes: &[u32],
    out: &mut [f32],
    finish: impl Fn(f32, &Nav) -> f32,
) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { navs_avx2(dense, forms, nodes, out, finish) };
        return;
    }
    for (o, &n) in out.iter_mut().zip(nodes) {
        let b = forms.get(n as usize).unwrap_or(&Nav::WHOLE);
        *o = finish(nav_scalar(dense, &b.dims, &b.weights), b);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn navs_avx2(
    dense: &[f32],
    forms: &[Nav],
    nodes: &[u32],
    out: &mut [f32],
    finish: impl Fn(f32, &Nav) -> f32,
) {
    for (o, &n) in out.iter_mut().zip(nodes) {
        let b = forms.get(n as usize).unwrap_or(&Nav::WHOLE);
        *o = finish(nav_avx2(dense, &b.dims, &b.weights), b);
    }
}

/// Asks the CPU to start loading `r`'s cache line (a hint: nothing observable changes).
#[inline]
pub fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch loads nothing into the program and cannot fault, and `r` is a
        // live reference (SSE, which has it, is part of every x86_64 CPU).
        unsafe { _mm_prefetch::<_MM_HINT_T0>((r as *const T).cast()) };
    }
}

fn nav_scalar(dense: &[f32], dims: &[u16; NAV], weights: &[i8; NAV]) -> f32 {
    let x = |i: usize| dense.get(usize::from(dims[i])).copied().unwrap_or(0.0);
    let mut lanes = [0.0f32; 8];
    for (k, lane) in lanes.iter_mut().enumerate() {
        *lane = x(k) * f32::from(weights[k]) + x(k + 8) * f32::from(weights[k + 8]);
    }
    let four = [0, 1, 2, 3].map(|k| lanes[k] + lanes[k + 4]);
    let two = [four[0] + four[2], four[1] + four[3]];
    two[0] + two[1]
}

#[cfg(target_arch = "x86_64")]
fn avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn nav_avx2(dense: &[f32], dims: &[u16; NAV], weights: &[i8; NAV]) -> f32 {
    use std::arch::x86_64::*;
    // SAFETY: `dims` is 32 bytes and `weights` 16: exactly what the two loads read.
    let (d, w) = unsafe {
        (
            _mm256_loadu_si256(dims.as_ptr().cast()),
            _mm_loadu_si128(weights.as_ptr().cast()),
        )
    };
    let lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(d));
    let hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256::<1>(d));
    // Dimensions are below 2^16, so a length clamped there compares correctly as i32.
    let len = _mm256_set1_epi32(dense.len().min(1 << 16) as i32);
    let in_lo = _mm256_castsi256_ps(_mm256_cmpgt_epi32(len, lo));
    let in_hi = _mm256_castsi256_ps(_mm256_cmpgt_epi32(len, hi));
    let zero = _mm256_setzero_ps();
    // SAFETY: a lane is read only where its mask is set, that is where `dim < dense.len()`.
    let (x_lo, x_hi) = unsafe {
        (
            _mm256_mask_i32gather_ps::<4>(zero, dense.as_ptr(), lo, in_lo),
            _mm256_mask_i32gather_ps::<4>(zero, dense.as_ptr(), hi, in_hi),
        )
    };
    let w_lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(w));
    let w_hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128::<8>(w)));
    // Multiply, then add: no fused multiply-add, which would round differently from the
    // scalar path.
    let lanes = _mm256_add_ps(_mm256_mul_ps(x_lo, w_lo), _mm256_mul_ps(x_hi, w_hi));
    let four = _mm_add_ps(
        _mm256_castps256_ps128(lanes),
        _mm256_extractf128_ps::<1>(lanes),
    );
    let two = _mm_add_ps(four, _mm_movehl_ps(four, four));
    let one = _mm_add_ss(two, _mm_shuffle_ps::<0b01>(two, two));
    _mm_cvtss_f32(one)
}

/// `Σ dense[d] · w` over `v`'s `(d, w)` in order, adding only the products whose query value
/// is non-zero (a zero product leaves the sum as it is, so the sum is the one a plain loop
/// gives, and its chain of dependent additions is as long as the overlap, a handful, instead
/// of `v`'s length). A dimension outside `dense` counts 0.
#[inline]
pub fn sparse(dense: &[f32], v: &[Feat]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU has AVX2 (checked just above); `sparse_avx2` reads nothing outside
        // its arguments (see its own comments).
        return unsafe { sparse_avx2(dense, v) };
    }
    sparse_from(0.0, dense, v)
}

/// [`sparse`]'s scalar loop, continuing the sum `dot` (the AVX2 path ends with it).
fn sparse_from(mut dot: f32, dense: &[f32], v: &[Feat]) -> f32 {
    for (d, w) in v {
        let x = dense.get(*d as usize).copied().unwrap_or(0.0);
        if x != 0.0 {
            dot += x * w;
        }
    }
    dot
}

// `sparse_avx2` loads pairs as (dimension, weight) words: a tuple's layout is the compiler's
// choice, so the build checks it.
const _: () = assert!(
    std::mem::size_of::<Feat>() == 8
        && std::mem::offset_of!(Feat, 0) == 0
        && std::mem::offset_of!(Feat, 1) == 4
);

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sparse_avx2(dense: &[f32], v: &[Feat]) -> f32 {
    use std::arch::x86_64::*;
    let len = _mm256_set1_epi32(dense.len().min(i32::MAX as usize) as i32);
    let zero = _mm256_setzero_ps();
    // Pairs (d0, w0, d1, w1, …) → dims in lanes 0..4 of each half, weights in 4..8.
    let split = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    let mut dot = 0.0f32;
    let (eights, rest) = v.as_chunks::<8>();
    for e in eights {
        // SAFETY: `e` is 8 `(u32, f32)` pairs, 64 bytes: exactly the two loads.
        let (a, b) = unsafe {
            let p = e.as_ptr().cast::<__m256i>();
            (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
        };
        let a = _mm256_permutevar8x32_epi32(a, split);
        let b = _mm256_permutevar8x32_epi32(b, split);
        let dims = _mm256_permute2x128_si256::<0x20>(a, b);
        let weights = _mm256_castsi256_ps(_mm256_permute2x128_si256::<0x31>(a, b));
        // In range: not negative as i32 (2^31 and above) and below the query's length.
        let inside = _mm256_andnot_si256(
            _mm256_cmpgt_epi32(_mm256_setzero_si256(), dims),
            _mm256_cmpgt_epi32(len, dims),
        );
        // SAFETY: a lane is read only where its mask is set, where `0 <= dim < dense.len()`.
        let x = unsafe {
            _mm256_mask_i32gather_ps::<4>(zero, dense.as_ptr(), dims, _mm256_castsi256_ps(inside))
        };
        let mut bits = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(x, zero)) as u32;
        if bits == 0 {
            continue;
        }
        let mut products = [0.0f32; 8];
        // SAFETY: `products` is 8 f32s, 32 bytes: exactly the store.
        unsafe { _mm256_storeu_ps(products.as_mut_ptr(), _mm256_mul_ps(x, weights)) };
        while bits != 0 {
            dot += products[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
    }
    sparse_from(dot, dense, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_paths_give_the_same_bits_and_skip_dimensions_outside_the_query() {
        let dense: Vec<f32> = (0..300)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        for seed in 0..64u16 {
            let mut dims = [0u16; NAV];
            let mut weights = [0i8; NAV];
            for (i, (d, w)) in dims.iter_mut().zip(&mut weights).enumerate() {
                let i = i as u16 + seed * NAV as u16;
                *d = (i * 41 + 3) % 400; // some beyond the query's 300
                *w = (i as i8).wrapping_mul(29).wrapping_sub(100);
            }
            let scalar = nav_scalar(&dense, &dims, &weights);
            assert_eq!(nav(&dense, &dims, &weights).to_bits(), scalar.to_bits());
            let naive: f32 = (0..NAV)
                .map(|i| {
                    dense
                        .get(usize::from(dims[i]))
                        .map_or(0.0, |x| x * f32::from(weights[i]))
                })
                .sum();
            assert!((scalar - naive).abs() < 1e-3 * naive.abs().max(1.0));
            assert_eq!(nav(&[], &dims, &weights), 0.0);
        }
    }

    #[test]
    fn sparse_dot_is_the_in_order_sum_of_the_non_zero_products() {
        let dense: Vec<f32> = (0..500)
            .map(|i| {
                if i % 3 == 0 {
                    0.0
                } else {
                    ((i * 53 % 97) as f32 - 48.0) / 9.0
                }
            })
            .collect();
        for n in [0usize, 1, 7, 8, 9, 31, 45, 64, 100] {
            let v: Vec<Feat> = (0..n)
                .map(|i| {
                    // Some beyond the query, one at the top of the u32 range.
                    let d = if i == 5 {
                        u32::MAX
                    } else {
                        (i as u32 * 37 + 11) % 640
                    };
                    (d, ((i * 29 % 31) as f32 - 15.0) / 4.0)
                })
                .collect();
            let plain = v.iter().fold(0.0f32, |dot, (d, w)| {
                match dense.get(*d as usize).copied().filter(|x| *x != 0.0) {
                    Some(x) => dot + x * w,
                    None => dot,
                }
            });
            assert_eq!(
                sparse(&dense, &v).to_bits(),
                plain.to_bits(),
                "{n} features"
            );
            assert_eq!(sparse_from(0.0, &dense, &v).to_bits(), plain.to_bits());
        }
    }
}
