//! Harness for the cross-service suites: a real stack (the real `orchestrator` binary, real moto)
//! in a temp project root at a free port offset, stopped — and checked for leftovers — on drop.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The orchestrator binary next to this test executable (`target/<profile>/orchestrator`), built
/// on demand when a filtered test run did not build it.
pub fn orchestrator_bin() -> PathBuf {
    if let Ok(p) = std::env::var("HIPPODROME_ORCHESTRATOR") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("orchestrator");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-p", "orchestrator"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cargo build -p orchestrator failed");
    }
    bin
}

/// A port offset whose every Hippodrome port is free right now, never overlapping one already
/// given to another test in this process.
pub fn free_offset() -> u16 {
    orchestrator::config::ports::free_offset().expect("no free port offset")
}

/// A running stack, brought up with `up --detach`.
pub struct Stack {
    pub root: tempfile::TempDir,
    pub offset: u16,
}

impl Stack {
    /// `up --detach` with `args` (e.g. `--profile full`), a fixed seed, in a temp project root.
    pub fn up(seed: u64, args: &[&str]) -> anyhow::Result<Stack> {
        Self::up_in(tempfile::tempdir()?, seed, args)
    }

    /// The same in a project root the caller prepared (a snapshot copied in, a config…).
    pub fn up_in(root: tempfile::TempDir, seed: u64, args: &[&str]) -> anyhow::Result<Stack> {
        let offset = free_offset();
        let out = Command::new(orchestrator_bin())
            .args([
                "up",
                "--detach",
                "--table-prefix",
                "smoke-",
                "--port-offset",
                &offset.to_string(),
                "--project-root",
            ])
            .arg(root.path())
            .args(args)
            .env("HIPPODROME_RANDOM_SEED", seed.to_string())
            .env("NO_COLOR", "1")
            .output()?;
        let stack = Stack { root, offset };
        if !out.status.success() {
            let log = std::fs::read_to_string(
                stack
                    .root
                    .path()
                    .join(".hippodrome/logs/orchestrator-detached.log"),
            )
            .unwrap_or_default();
            anyhow::bail!(
                "up failed: {}{}\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(stack)
    }

    pub fn dashboard_url(&self) -> String {
        format!("http://127.0.0.1:{}", 9000 + self.offset)
    }

    pub fn manifest(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_slice(&std::fs::read(
            self.root.path().join(".hippodrome/seed.json"),
        )?)?)
    }

    /// Run another orchestrator command against this stack.
    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new(orchestrator_bin())
            .args(args)
            .arg("--project-root")
            .arg(self.root.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run orchestrator")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let out = self.cmd(&["stop"]);
        if !out.status.success() {
            let _ = self.cmd(&["kill"]);
        }
        // Nothing of ours may be left on the stack's ports.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        for base in [9000u16, 9001, 9003, 9006, 9009, 9014] {
            while std::net::TcpListener::bind(("127.0.0.1", base + self.offset)).is_err()
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
