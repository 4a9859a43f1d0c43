//! A real moto server on a port of the test's choosing, killed on drop.
//!
//! The program is `$HIPPODROME_MOTO_SERVER` when set, else the pinned venv's interpreter
//! `${HIPPODROME_CACHE_DIR:-~/.cache/hippodrome}/moto-5.2.5/bin/python -m moto.server` (the venv's
//! `moto_server` script is not used: its `#!` line breaks when the venv is moved). Either way it gets
//! `-H 127.0.0.1 -p PORT`. A missing moto skips the test locally (the caller gets `None`) but fails
//! under CI, where a skip would be a test that passes without testing anything.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The pinned moto version's venv directory name.
const VENV: &str = "moto-5.2.5";

/// How to start moto on this machine; `None` when it is not installed (panics under CI).
pub fn command() -> Option<Command> {
    if let Some(p) = std::env::var_os("HIPPODROME_MOTO_SERVER") {
        return Some(Command::new(p));
    }
    let python = venv_python();
    if python.as_ref().is_some_and(|p| p.exists()) {
        let mut c = Command::new(python?);
        c.args(["-m", "moto.server"]);
        return Some(c);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "moto not found at {} under CI (tests/install-deps.sh installs it)",
        python.map(|p| p.display().to_string()).unwrap_or_default()
    );
    None
}

/// Whether moto can be started here (panics under CI when it cannot).
pub fn available() -> bool {
    command().is_some()
}

fn venv_python() -> Option<PathBuf> {
    let cache = std::env::var_os("HIPPODROME_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/hippodrome")))?;
    Some(cache.join(VENV).join("bin/python"))
}

/// A moto server child process; `restart` keeps the port and loses all state.
pub struct Moto {
    child: Option<Child>,
    pub port: u16,
    pub url: String,
    /// Extra environment for the moto process (e.g. `MOTO_PORT`, which moto's Step Functions
    /// engine calls back on); kept across `restart`.
    env: Vec<(String, String)>,
    /// moto's stderr (its request log and any traceback), printed when a test panics with moto up:
    /// a 500 from moto is otherwise a bare HTML page with no cause.
    log: PathBuf,
}

impl Moto {
    /// Start moto on a free port and wait until it answers; `None` (skip) when not installed.
    pub async fn start() -> Option<Moto> {
        let moto = Moto::spawn_on(crate::free_port())?;
        moto.wait_ready().await;
        Some(moto)
    }

    /// Like [`Moto::start`] for suites that cannot run without moto: a missing moto fails the test.
    pub async fn require() -> Moto {
        Moto::start().await.unwrap_or_else(|| {
            panic!(
                "moto not found: create the venv (see CONTRIBUTING.md) or set HIPPODROME_MOTO_SERVER"
            )
        })
    }

    /// [`Moto::start`] with extra environment variables for the moto process.
    pub async fn start_with_env(env: &[(&str, &str)]) -> Option<Moto> {
        let moto = Moto::spawn_with_env(crate::free_port(), env)?;
        moto.wait_ready().await;
        Some(moto)
    }

    /// Start moto on `port` and return at once (moto needs a moment before it answers).
    pub fn spawn_on(port: u16) -> Option<Moto> {
        Moto::spawn_with_env(port, &[])
    }

    /// [`Moto::spawn_on`] with extra environment variables for the moto process.
    pub fn spawn_with_env(port: u16, env: &[(&str, &str)]) -> Option<Moto> {
        let mut moto = Moto {
            child: None,
            port,
            url: format!("http://127.0.0.1:{port}"),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log: std::env::temp_dir().join(format!("moto-{}-{port}.log", std::process::id())),
        };
        if !moto.spawn() {
            eprintln!("skipping: moto not found (set HIPPODROME_MOTO_SERVER)");
            return None;
        }
        Some(moto)
    }

    fn spawn(&mut self) -> bool {
        let Some(mut cmd) = command() else {
            return false;
        };
        let stderr = std::fs::File::create(&self.log)
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null());
        let child = cmd
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto ({e}): {cmd:?}"));
        self.child = Some(child);
        true
    }

    /// Wait until moto answers on its port.
    pub async fn wait_ready(&self) {
        crate::wait_http_ok("moto /moto-api/", &format!("{}/moto-api/", self.url)).await;
    }

    /// Kill moto (by its own pid) and reap it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kill moto and start a fresh one on the same port (all state lost); waits until it answers.
    pub async fn restart(&mut self) {
        self.stop();
        assert!(self.spawn(), "moto disappeared between two starts");
        self.wait_ready().await;
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!(
                "--- last lines of moto's stderr ({}) ---",
                self.log.display()
            );
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        let _ = std::fs::remove_file(&self.log);
    }
}
