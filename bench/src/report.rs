//! Collects figures, prints them as a table and writes them as JSON.

use std::path::Path;

use serde::Serialize;

use crate::wrk::WrkResult;

/// One figure with, where it has one, the baseline it is compared with.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub section: String,
    pub figure: String,
    pub value: f64,
    pub unit: String,
    pub baseline: Option<String>,
    pub baseline_value: Option<f64>,
    /// value / baseline_value.
    pub ratio: Option<f64>,
    pub goal: Option<String>,
    pub errors: Option<u64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub baseline_p99_ms: Option<f64>,
    pub note: Option<String>,
}

impl Row {
    pub fn new(section: &str, figure: impl Into<String>, value: f64, unit: &str) -> Self {
        Row {
            section: section.to_owned(),
            figure: figure.into(),
            value,
            unit: unit.to_owned(),
            baseline: None,
            baseline_value: None,
            ratio: None,
            goal: None,
            errors: None,
            p50_ms: None,
            p99_ms: None,
            baseline_p99_ms: None,
            note: None,
        }
    }

    /// A load point: requests/s, with its latency and error counts.
    pub fn load(section: &str, figure: impl Into<String>, r: &WrkResult) -> Self {
        let mut row = Row::new(section, figure, r.rps, "req/s").errors(r.errors());
        row.p50_ms = Some(r.p50_ms);
        row.p99_ms = Some(r.p99_ms);
        if r.requests == 0 {
            row = row.note("no request completed within the load point");
        }
        row
    }

    /// Compares a load point with a baseline load point.
    pub fn vs_load(mut self, baseline: impl Into<String>, b: &WrkResult) -> Self {
        self.baseline_p99_ms = Some(b.p99_ms);
        self.vs(baseline, b.rps)
    }

    pub fn vs(mut self, baseline: impl Into<String>, baseline_value: f64) -> Self {
        self.baseline = Some(baseline.into());
        self.baseline_value = Some(baseline_value);
        if baseline_value != 0.0 {
            self.ratio = Some(self.value / baseline_value);
        }
        self
    }

    pub fn goal(mut self, goal: &str) -> Self {
        self.goal = Some(goal.to_owned());
        self
    }

    pub fn errors(mut self, errors: u64) -> Self {
        self.errors = Some(errors);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub date: String,
    pub command: String,
    pub quick: bool,
    pub load_seconds: u64,
    pub cores: usize,
    pub rows: Vec<Row>,
    /// Sections that failed, with why.
    pub failures: Vec<(String, String)>,
}

impl Report {
    /// Records a row and prints it at once, so a long run shows progress.
    pub fn push(&mut self, row: Row) {
        println!("  {}", line(&row));
        self.rows.push(row);
    }

    pub fn fail(&mut self, section: &str, why: String) {
        eprintln!("  section {section} FAILED: {why}");
        self.failures.push((section.to_owned(), why));
    }

    /// The whole table, Markdown-formatted (it reads fine in a terminal too).
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| section | figure | value | baseline | ratio | p50 / p99 (baseline p99) | goal | errors |\n|---|---|---:|---|---:|---|---|---:|\n",
        );
        for r in &self.rows {
            let baseline = match (&r.baseline, r.baseline_value) {
                (Some(b), Some(v)) => format!("{b} = {}", num(v, &r.unit)),
                _ => String::new(),
            };
            let figure = match &r.note {
                Some(n) => format!("{} ({n})", r.figure),
                None => r.figure.clone(),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.section,
                figure,
                num(r.value, &r.unit),
                baseline,
                r.ratio.map(|x| format!("{x:.2}×")).unwrap_or_default(),
                latency(r),
                r.goal.clone().unwrap_or_default(),
                r.errors.map(|e| e.to_string()).unwrap_or_default(),
            ));
        }
        for (section, why) in &self.failures {
            out.push_str(&format!(
                "| {section} | FAILED: {} | | | | | | |\n",
                why.replace('\n', " ").replace('|', "/")
            ));
        }
        out
    }

    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

fn latency(r: &Row) -> String {
    let mut s = match (r.p50_ms, r.p99_ms) {
        (Some(a), Some(b)) => format!("{a:.2} / {b:.2} ms"),
        _ => String::new(),
    };
    if let Some(b) = r.baseline_p99_ms {
        s.push_str(&format!(" ({b:.2} ms)"));
    }
    s
}

fn line(r: &Row) -> String {
    let mut s = format!(
        "{:<10} {:<48} {:>14}",
        r.section,
        r.figure,
        num(r.value, &r.unit)
    );
    if let (Some(b), Some(v)) = (&r.baseline, r.baseline_value) {
        s.push_str(&format!("  vs {b} {}", num(v, &r.unit)));
    }
    if let Some(x) = r.ratio {
        s.push_str(&format!("  = {x:.2}×"));
    }
    let lat = latency(r);
    if !lat.is_empty() {
        s.push_str(&format!("  p50/p99 {lat}"));
    }
    if let Some(e) = r.errors {
        s.push_str(&format!("  errors {e}"));
    }
    if let Some(n) = &r.note {
        s.push_str(&format!("  ({n})"));
    }
    s
}

/// A number with its unit, rounded for reading.
fn num(v: f64, unit: &str) -> String {
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_ratio_latency_and_failures() {
        let base = WrkResult {
            requests: 10,
            rps: 200.0,
            p50_ms: 1.0,
            p99_ms: 2.0,
            ..WrkResult::default()
        };
        let point = WrkResult {
            requests: 5,
            rps: 100.0,
            p50_ms: 2.0,
            p99_ms: 4.0,
            ..WrkResult::default()
        };
        let mut report = Report::default();
        report.push(Row::load("cell", "search @64", &point).vs_load("hello @64", &base));
        report.fail("stack", "orchestrator | not built".into());
        let table = report.table();
        assert!(table.contains("| cell | search @64 | 100 req/s | hello @64 = 200 req/s | 0.50× | 2.00 / 4.00 ms (2.00 ms) |  | 0 |"), "{table}");
        assert!(
            table.contains("FAILED: orchestrator / not built"),
            "{table}"
        );
    }
}
