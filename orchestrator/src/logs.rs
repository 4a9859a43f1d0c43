//! Service output: each line goes to the terminal with a coloured `[service]` prefix, to
//! `.hippodrome/logs/<YYYYMMDD-HHMMSS>/<service>.log`, and into a bounded in-memory tail served by
//! `/api/logs/{service}`. `latest` points at the newest run folder; the last 20 runs are kept.
//!
//! A single writer task owns each log file, so no lock is ever held across file I/O. The terminal
//! copy goes through [`crate::term`], which never blocks or fails, so a closed or stuck terminal
//! cannot stop a service's output from reaching its log file and `/api/logs`.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::sync::{broadcast, mpsc, oneshot};

const KEEP_RUNS: usize = 20;
const TAIL_LINES: usize = 2000;
/// Longest line kept in one piece; longer output is split (bounded memory per pump).
const MAX_LINE: u64 = 64 * 1024;
const PALETTE: &[&str] = &["36", "35", "33", "32", "34", "96", "95", "93", "92", "94"];

/// This run's log folder.
#[derive(Clone, Debug)]
pub struct RunLogs {
    pub dir: PathBuf,
}

impl RunLogs {
    /// Create `<logs>/<timestamp>/`, point `latest` at it and prune old runs.
    pub fn create(logs_root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(logs_root)?;
        let now = time::OffsetDateTime::now_utc();
        let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
        let stamp = now.format(&fmt).unwrap_or_else(|_| "run".to_owned());
        let mut dir = logs_root.join(&stamp);
        let mut n = 1;
        while dir.exists() {
            n += 1;
            dir = logs_root.join(format!("{stamp}-{n}"));
        }
        std::fs::create_dir_all(&dir)?;
        let latest = logs_root.join("latest");
        let tmp = logs_root.join(format!(".latest-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(dir.file_name().unwrap_or_default(), &tmp)?;
        std::fs::rename(&tmp, &latest)?;
        prune(logs_root);
        Ok(Self { dir })
    }

    pub fn file_of(&self, service: &str) -> PathBuf {
        self.dir.join(format!("{service}.log"))
    }
}

fn prune(logs_root: &Path) {
    let Ok(entries) = std::fs::read_dir(logs_root) else {
        return;
    };
    let mut runs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|e| e.path())
        .collect();
    runs.sort();
    if runs.len() > KEEP_RUNS {
        for old in &runs[..runs.len() - KEEP_RUNS] {
            let _ = std::fs::remove_dir_all(old);
        }
    }
}

/// Where one service's lines go. Cheap to clone.
#[derive(Clone)]
pub struct LogSink {
    inner: Arc<SinkInner>,
}

/// What a sink's writer task is sent.
enum ToFile {
    Line(String),
    /// Answer once every line sent before this one is in the file.
    Flush(oneshot::Sender<()>),
}

struct SinkInner {
    service: String,
    prefix: String,
    file_tx: mpsc::UnboundedSender<ToFile>,
    tail: Mutex<VecDeque<String>>,
    live: broadcast::Sender<String>,
    echo: bool,
}

impl LogSink {
    /// A sink writing to `file`; `echo` prints prefixed lines to the terminal too.
    pub fn new(service: &str, file: PathBuf, echo: bool, width: usize) -> Self {
        let color = std::env::var_os("NO_COLOR").is_none()
            && std::io::IsTerminal::is_terminal(&std::io::stdout());
        let tag = format!("[{service}]");
        let prefix = if color {
            let c = PALETTE[service.bytes().map(usize::from).sum::<usize>() % PALETTE.len()];
            format!("\x1b[{c}m{tag:<width$}\x1b[0m ", width = width + 2)
        } else {
            format!("{tag:<width$} ", width = width + 2)
        };
        let (file_tx, mut rx) = mpsc::unbounded_channel::<ToFile>();
        tokio::spawn(async move {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&file);
            let Ok(f) = f else { return };
            let mut w = std::io::BufWriter::new(f);
            let mut flushed = Vec::new();
            while let Some(msg) = rx.recv().await {
                let mut next = Some(msg);
                // Flush whenever the queue is drained, so `logs -f` and crash tails are current.
                while let Some(msg) = next {
                    match msg {
                        ToFile::Line(line) => {
                            let _ = writeln!(w, "{line}");
                        }
                        ToFile::Flush(ack) => flushed.push(ack),
                    }
                    next = rx.try_recv().ok();
                }
                let _ = w.flush();
                for ack in flushed.drain(..) {
                    let _ = ack.send(());
                }
            }
        });
        let (live, _) = broadcast::channel(1024);
        Self {
            inner: Arc::new(SinkInner {
                service: service.to_owned(),
                prefix,
                file_tx,
                tail: Mutex::new(VecDeque::with_capacity(256)),
                live,
                echo,
            }),
        }
    }

    /// Wait (up to `within`) until every line sent so far is in the log file: the last lines of a
    /// stop ("setup cancelled", "stopped") would otherwise die with the runtime, unwritten.
    pub async fn flush(&self, within: std::time::Duration) {
        let (tx, rx) = oneshot::channel();
        if self.inner.file_tx.send(ToFile::Flush(tx)).is_ok() {
            let _ = tokio::time::timeout(within, rx).await;
        }
    }

    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// Record one line of output.
    pub fn line(&self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        if self.inner.echo {
            println!("{}{line}", self.inner.prefix);
        }
        let _ = self.inner.file_tx.send(ToFile::Line(line.to_owned()));
        let mut tail = self.inner.tail.lock();
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line.to_owned());
        // Sent under the tail lock (a non-blocking send, no I/O), so [`Self::follow`] sees every
        // line exactly once: in the tail it returns or on its receiver.
        let _ = self.inner.live.send(line.to_owned());
    }

    /// The last `n` lines (at most the bounded tail).
    pub fn tail(&self, n: usize) -> Vec<String> {
        let tail = self.inner.tail.lock();
        tail.iter()
            .skip(tail.len().saturating_sub(n))
            .cloned()
            .collect()
    }

    /// The last `n` lines and a receiver of every later line, with no gap and no overlap between
    /// the two (for the dashboard's live tail).
    pub fn follow(&self, n: usize) -> (Vec<String>, broadcast::Receiver<String>) {
        let tail = self.inner.tail.lock();
        let rx = self.inner.live.subscribe();
        let lines = tail
            .iter()
            .skip(tail.len().saturating_sub(n))
            .cloned()
            .collect();
        (lines, rx)
    }

    /// Copy a child's stdout or stderr into this sink, line by line, until it closes. Nothing in
    /// [`Self::line`] waits for a reader (the terminal writer drops what it cannot show), so the
    /// pump keeps draining and the child never blocks on a full pipe; a line longer than
    /// `MAX_LINE` is cut into pieces so one runaway line cannot exhaust memory.
    pub fn pump<R: AsyncRead + Unpin + Send + 'static>(
        &self,
        reader: R,
    ) -> tokio::task::JoinHandle<()> {
        let sink = self.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(reader);
            let mut buf = Vec::with_capacity(256);
            loop {
                buf.clear();
                match (&mut reader)
                    .take(MAX_LINE)
                    .read_until(b'\n', &mut buf)
                    .await
                {
                    Ok(0) => break,
                    Ok(_) => sink.line(&String::from_utf8_lossy(&buf)),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        sink.line(&format!(
                            "[hippodrome] cannot read this service's output: {e}"
                        ));
                        break;
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stop's last line is in the file once `flush` returns, even on a runtime with no spare
    /// turn for the writer task (a current-thread runtime only runs it while we await).
    #[tokio::test(flavor = "current_thread")]
    async fn a_line_is_in_the_file_once_flush_returns() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("svc.log");
        let sink = LogSink::new("svc", file.clone(), false, 3);
        for i in 0..100 {
            sink.line(&format!("line {i}"));
        }
        sink.line("[hippodrome] setup cancelled after 1 s");
        sink.flush(std::time::Duration::from_secs(5)).await;
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 101, "{text}");
        assert!(text.ends_with("setup cancelled after 1 s\n"), "{text}");
    }
}
