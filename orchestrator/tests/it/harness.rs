//! Test harness: a stack in a temp dir at a free port offset, driven through the real binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_orchestrator");

/// How long to wait for things that should happen "soon"; slow CI machines can raise it.
pub fn patience() -> Duration {
    let ms = std::env::var("HIPPODROME_TEST_PATIENCE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60_000);
    Duration::from_millis(ms)
}

/// A port offset whose every Hippodrome port is free right now, never overlapping one already
/// given to another test in this process.
pub fn free_offset() -> u16 {
    orchestrator::config::ports::free_offset().expect("no free port offset")
}

pub struct Stack {
    pub root: tempfile::TempDir,
    pub offset: u16,
    pub child: Option<Child>,
}

impl Stack {
    /// Write `hippodrome.toml` (if given) into a new temp root and run `up` with `args`.
    pub fn up(toml: Option<&str>, args: &[&str]) -> Stack {
        Stack::up_with_env(toml, args, &[])
    }

    /// [`Stack::up`] with extra environment variables for the orchestrator (and its children).
    pub fn up_with_env(toml: Option<&str>, args: &[&str], env: &[(&str, String)]) -> Stack {
        let root = tempfile::tempdir().unwrap();
        if let Some(t) = toml {
            std::fs::write(root.path().join("hippodrome.toml"), t).unwrap();
        }
        let offset = free_offset();
        let child = Command::new(BIN)
            .arg("up")
            .arg("--project-root")
            .arg(root.path())
            .arg("--port-offset")
            .arg(offset.to_string())
            .args(args)
            .env("NO_COLOR", "1")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Stack {
            root,
            offset,
            child: Some(child),
        }
    }

    pub fn port(&self, base: u16) -> u16 {
        base + self.offset
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port(9000))
    }

    pub fn status(&self) -> Option<Value> {
        get_json(&self.url("/api/status"))
    }

    /// Wait until `pred(status)` holds; panics with the last status and the orchestrator's output.
    pub fn wait_status(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + patience();
        let mut last = None;
        while Instant::now() < deadline {
            if let Some(v) = self.status() {
                if pred(&v) {
                    return v;
                }
                last = Some(v);
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(code)) = c.try_wait()
            {
                let out = self.output();
                panic!(
                    "orchestrator exited ({code}) while waiting for {what}; last status {last:?}\n{out}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = self.output();
        panic!("timed out waiting for {what}; last status {last:?}\n{out}");
    }

    /// Run another orchestrator command against this stack.
    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .args(args)
            .arg("--project-root")
            .arg(self.root.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    /// Send a signal to the `up` process and wait for it to exit; returns its exit code.
    pub fn signal_and_wait(&mut self, sig: nix::sys::signal::Signal) -> Option<i32> {
        let child = self.child.as_mut()?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
        wait_exit(child, patience())
    }

    /// Whatever the orchestrator printed (only once it exited).
    pub fn output(&mut self) -> String {
        let Some(mut c) = self.child.take() else {
            return String::new();
        };
        if c.try_wait().ok().flatten().is_none() {
            let _ = c.kill();
        }
        match c.wait_with_output() {
            Ok(o) => format!(
                "--- stdout\n{}\n--- stderr\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => format!("(no output: {e})"),
        }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut()
            && c.try_wait().ok().flatten().is_none()
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            if wait_exit(c, Duration::from_secs(15)).is_none() {
                let _ = c.kill();
            }
        }
        // Whatever survived (it should not), kill by the run file.
        let _ = Command::new(BIN)
            .arg("kill")
            .arg("--project-root")
            .arg(self.root.path())
            .output();
    }
}

pub fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A command's stdout then stderr, as one text for messages and assertions.
pub fn combined(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn get_json(url: &str) -> Option<Value> {
    let out = http(url, "GET")?;
    serde_json::from_str(&out.1).ok()
}

/// Minimal blocking HTTP/1.0 client for tests (status, body): keeps the test crate free of a
/// second runtime.
pub fn http(url: &str, method: &str) -> Option<(u16, String)> {
    http_with_body(url, method, "")
}

/// [`http`] with a request body.
pub fn http_with_body(url: &str, method: &str, body: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, body.to_owned()))
}

pub fn pid_alive(pid: u32) -> bool {
    // A zombie is dead for our purposes.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

pub fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

pub fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + patience();
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out: {what}");
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}
