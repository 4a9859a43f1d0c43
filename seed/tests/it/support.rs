//! Seed-specific helpers: configs in temp dirs, counting what a run created, recording progress.
//! Free ports and moto come from the `test-support` crate.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seed::{SeedConfig, Sizes};
pub use test_support::{Moto, free_port};

/// How many resources a seed run created, over every group.
pub fn created(report: &seed::Report) -> usize {
    report
        .groups
        .iter()
        .map(|g| match &g.outcome {
            seed::GroupOutcome::Ready(t) => t.created,
            _ => 0,
        })
        .sum()
}

pub fn config(seed: u64, out_dir: PathBuf) -> SeedConfig {
    SeedConfig {
        seed: Some(seed),
        out_dir,
        table_prefix: "dev-it-".into(),
        sizes: Sizes::default(),
        wait_timeout: Duration::from_secs(30),
        ..SeedConfig::default()
    }
}

/// A progress callback that records every line.
pub fn recorder() -> (Arc<Mutex<Vec<String>>>, impl Fn(&str) + Send + Sync) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    (lines, move |s: &str| {
        if let Ok(mut v) = l.lock() {
            v.push(s.to_owned());
        }
    })
}
