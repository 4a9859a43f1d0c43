//! The orchestrator's only way to the terminal. This module shadows `println!`, `eprintln!`,
//! `print!` and `eprint!` for the whole crate, so every terminal write goes through [`print`] and a
//! closed, full or vanished terminal can never panic the process (std's `println!` panics on EPIPE)
//! or block it.
//!
//! `up` switches to the *lossy* mode ([`init_lossy`]): lines go into a bounded queue drained by one
//! writer thread, so supervision, log files, the dashboard and shutdown never wait for a terminal.
//! When the queue is full (nobody reads the terminal) lines are dropped and counted; after EPIPE
//! nothing more is written to that stream. Service output is never lost that way: it is in the
//! run's log files and `/api/logs` whatever happens here. Other subcommands write directly (a slow
//! reader like `less` should throttle them) and go quiet on EPIPE; `logs -f` stops once
//! [`gone`] says its reader left.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe returns EPIPE instead of killing us.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

/// Lines queued for a terminal that does not keep up, before new ones are dropped.
const QUEUE_LINES: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

enum Msg {
    Text(Stream, String),
    Flush(std::sync::mpsc::Sender<()>),
}

struct Lossy {
    tx: SyncSender<Msg>,
    dropped: AtomicU64,
}

static LOSSY: OnceLock<Lossy> = OnceLock::new();
static OUT_GONE: AtomicBool = AtomicBool::new(false);
static ERR_GONE: AtomicBool = AtomicBool::new(false);

fn gone_flag(stream: Stream) -> &'static AtomicBool {
    match stream {
        Stream::Out => &OUT_GONE,
        Stream::Err => &ERR_GONE,
    }
}

/// True once a write to `stream` failed with EPIPE (its reader is gone).
pub fn gone(stream: Stream) -> bool {
    gone_flag(stream).load(Ordering::Relaxed)
}

/// From now on, queue lines for a writer thread instead of writing them in the caller.
/// Idempotent; if the thread cannot be started, writes stay direct.
pub fn init_lossy() {
    if LOSSY.get().is_some() {
        return;
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE_LINES);
    let spawned = std::thread::Builder::new()
        .name("terminal".into())
        .spawn(move || writer(rx));
    if spawned.is_ok() {
        let _ = LOSSY.set(Lossy {
            tx,
            dropped: AtomicU64::new(0),
        });
    }
}

fn writer(rx: Receiver<Msg>) {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Text(stream, text) => {
                let dropped = LOSSY
                    .get()
                    .map_or(0, |l| l.dropped.swap(0, Ordering::Relaxed));
                if dropped > 0 {
                    let note = format!(
                        "[hippodrome] {dropped} lines were not shown: the terminal did not keep up (every service line is in the log files)\n"
                    );
                    write_direct(stream, note.as_bytes());
                }
                write_direct(stream, text.as_bytes());
            }
            Msg::Flush(ack) => {
                let _ = ack.send(());
            }
        }
    }
}

/// Write `bytes` now. False when they could not be written (the reader is gone, or another error).
pub fn write_direct(stream: Stream, bytes: &[u8]) -> bool {
    if gone(stream) {
        return false;
    }
    let result = match stream {
        Stream::Out => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|()| out.flush())
        }
        Stream::Err => {
            let mut err = std::io::stderr().lock();
            err.write_all(bytes).and_then(|()| err.flush())
        }
    };
    match result {
        Ok(()) => true,
        Err(e) => {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                gone_flag(stream).store(true, Ordering::Relaxed);
            }
            false
        }
    }
}

/// Print `text` as is (add the newline yourself); never panics, and in lossy mode never blocks.
pub fn print(stream: Stream, text: String) {
    if gone(stream) {
        return;
    }
    match LOSSY.get() {
        Some(l) => match l.tx.try_send(Msg::Text(stream, text)) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                l.dropped.fetch_add(1, Ordering::Relaxed);
            }
        },
        None => {
            write_direct(stream, text.as_bytes());
        }
    }
}

/// Wait up to `within` for the queued lines to reach the terminal (before the process exits).
pub fn flush(within: Duration) {
    let Some(l) = LOSSY.get() else { return };
    let deadline = Instant::now() + within;
    let (ack_tx, ack_rx) = std::sync::mpsc::channel();
    let mut msg = Msg::Flush(ack_tx);
    loop {
        match l.tx.try_send(msg) {
            Ok(()) => break,
            Err(TrySendError::Disconnected(_)) => return,
            Err(TrySendError::Full(m)) => {
                if Instant::now() >= deadline {
                    return;
                }
                msg = m;
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    let _ = ack_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()));
}

// The four std printing macros, shadowed crate-wide (`#[macro_use] mod term` comes first in
// lib.rs): every `println!` in the orchestrator, including ones added later, goes through
// [`print`] and can neither panic on EPIPE nor block `up`.

/// `println!` through [`term::print`](crate::term::print).
macro_rules! println {
    () => {
        $crate::term::print($crate::term::Stream::Out, String::from("\n"))
    };
    ($($arg:tt)*) => {
        $crate::term::print($crate::term::Stream::Out, format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` through [`term::print`](crate::term::print).
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::term::print($crate::term::Stream::Err, format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` through [`term::print`](crate::term::print).
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::term::print($crate::term::Stream::Out, format!($($arg)*))
    };
}

/// `eprint!` through [`term::print`](crate::term::print).
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::term::print($crate::term::Stream::Err, format!($($arg)*))
    };
}
