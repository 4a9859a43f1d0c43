//! Paired load points: the direct call and the call through the gateway, alternated in rounds.
//!
//! moto's own latency moves by milliseconds from one load point to the next, far more than the
//! gateway adds; alternating the two paths and taking the median of the per-round differences
//! keeps that drift out of the figure, and the range shows how large it was.

use std::path::Path;

use crate::Ctx;
use crate::report::Row;
use crate::wrk::{self, WrkResult};

/// What one comparison measures and the goals the issue gives it.
pub struct Pair<'a> {
    pub what: &'a str,
    pub direct_url: &'a str,
    pub direct_script: &'a Path,
    pub gateway_url: &'a str,
    pub gateway_script: &'a Path,
    pub added_p50_goal: Option<&'a str>,
    pub added_p99_goal: Option<&'a str>,
    pub throughput_goal: Option<&'a str>,
}

/// How many rounds of (direct, gateway) each point runs.
fn rounds(ctx: &Ctx) -> usize {
    if ctx.quick { 3 } else { 5 }
}

/// Measures `pair` at `conns` connections and reports it.
pub async fn measure(ctx: &mut Ctx, pair: &Pair<'_>, conns: u32) -> anyhow::Result<()> {
    let mut direct = Vec::new();
    let mut through = Vec::new();
    for _ in 0..rounds(ctx) {
        direct.push(wrk::run(pair.direct_url, conns, ctx.dur, Some(pair.direct_script)).await?);
        through.push(wrk::run(pair.gateway_url, conns, ctx.dur, Some(pair.gateway_script)).await?);
    }
    report(ctx, pair, conns, &direct, &through);
    Ok(())
}

fn report(ctx: &mut Ctx, pair: &Pair<'_>, conns: u32, direct: &[WrkResult], through: &[WrkResult]) {
    let n = direct.len();
    let diffs = |f: fn(&WrkResult) -> f64| -> Vec<f64> {
        direct
            .iter()
            .zip(through)
            .map(|(d, t)| f(t) - f(d))
            .collect()
    };
    let ratios: Vec<f64> = direct
        .iter()
        .zip(through)
        .map(|(d, t)| if d.rps > 0.0 { t.rps / d.rps } else { 0.0 })
        .collect();
    let d = median_run(direct);
    let t = median_run(through);
    let what = pair.what;
    ctx.report
        .push(Row::load("gateway", format!("{what} direct @{conns}"), &d));
    let mut row = Row::load(
        "gateway",
        format!("{what} through the gateway @{conns}"),
        &t,
    )
    .vs_load("direct", &d)
    .note(format!(
        "ratio: median of {n} alternating pairs, range {}",
        range(&ratios, "×")
    ));
    row.ratio = Some(median(&ratios));
    if let Some(goal) = pair.throughput_goal {
        row = row.goal(goal);
    }
    ctx.report.push(row);
    for (label, values, goal) in [
        ("p50", diffs(|r| r.p50_ms), pair.added_p50_goal),
        ("p99", diffs(|r| r.p99_ms), pair.added_p99_goal),
    ] {
        let mut row = Row::new(
            "gateway",
            format!("{what} added {label} @{conns}"),
            median(&values),
            "ms",
        )
        .note(format!(
            "median of {n} pairs, range {}",
            range(&values, " ms")
        ));
        if let Some(goal) = goal {
            row = row.goal(goal);
        }
        ctx.report.push(row);
    }
}

/// The run with the median requests/s.
fn median_run(runs: &[WrkResult]) -> WrkResult {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    sorted.get(sorted.len() / 2).cloned().unwrap_or_default()
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn range(values: &[f64], unit: &str) -> String {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.2}..{hi:.2}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_ranges() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        assert_eq!(range(&[0.5, -1.25, 2.0], " ms"), "-1.25..2.00 ms");
        let runs: Vec<WrkResult> = [5.0, 1.0, 3.0]
            .iter()
            .map(|&rps| WrkResult {
                rps,
                ..WrkResult::default()
            })
            .collect();
        assert_eq!(median_run(&runs).rps, 3.0);
    }
}
