//! Shared helpers: a moto server on a free port, killed on drop; configs in temp dirs.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seed::{SeedConfig, Sizes};

pub fn moto_program() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("HIPPODROME_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let cache = std::env::var("HIPPODROME_CACHE_DIR")
        .map(PathBuf::from)
        .ok()
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| PathBuf::from(h).join(".cache/hippodrome"))
        })?;
    let p = cache.join("moto-5.2.5/bin/moto_server");
    // Locally a missing moto skips these tests; CI installs it, so there a skip would be a test
    // that passes without testing anything.
    assert!(
        p.exists() || std::env::var_os("CI").is_none(),
        "moto_server not found at {} under CI (tests/install-deps.sh installs it)",
        p.display()
    );
    p.exists().then_some(p)
}

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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port from the OS")
}

/// A moto_server child process; killed (by its own pid) on drop.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    /// Start moto on `port` (returns at once; moto needs a moment before it answers).
    pub fn start_on(port: u16) -> Option<Self> {
        let Some(program) = moto_program() else {
            eprintln!("skipping: moto_server not found (set HIPPODROME_MOTO_SERVER)");
            return None;
        };
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn moto_server");
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
