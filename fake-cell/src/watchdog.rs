//! The watchdog: a dedicated OS thread (so it keeps running when the async runtime is stuck) that
//! probes the main `/healthz` and every index server's `GET /` each interval. After the configured
//! number of consecutive failed rounds it saves a snapshot and exits with code 1, so the
//! orchestrator restarts the cell. Probes are plain HTTP/1.1 over a std `TcpStream` with timeouts.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use service_kit::Shutdown;

use crate::persist;
use crate::state::Cell;

/// One HTTP GET; true on a 200 status line.
pub fn probe(addr: SocketAddr, path: &str, timeout: Duration) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 32];
    let mut got = 0;
    while got < 12 {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got += n,
        }
    }
    buf.starts_with(b"HTTP/1.1 200") || buf.starts_with(b"HTTP/1.0 200")
}

fn loopback_if_unspecified(ip: IpAddr) -> IpAddr {
    if ip.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        ip
    }
}

/// Start the watchdog thread for a cell whose main API listens on `main`.
pub fn spawn(cell: Arc<Cell>, main: SocketAddr, stop: Shutdown) -> std::io::Result<()> {
    let interval = Duration::from_millis(cell.cfg.watchdog_interval_ms.max(10));
    let timeout = interval.clamp(Duration::from_millis(500), Duration::from_secs(5));
    let threshold = cell.cfg.watchdog_failures.max(1);
    let main = SocketAddr::new(loopback_if_unspecified(main.ip()), main.port());
    std::thread::Builder::new().name("watchdog".into()).spawn(move || {
        let mut failures = 0u32;
        loop {
            let mut slept = Duration::ZERO;
            while slept < interval {
                if stop.is_triggered() {
                    return;
                }
                let step = Duration::from_millis(50).min(interval - slept);
                std::thread::sleep(step);
                slept += step;
            }
            let mut failed: Vec<String> = Vec::new();
            if !probe(main, "/healthz", timeout) {
                failed.push(format!("main API {main}"));
            }
            let targets: Vec<(String, u16)> = cell
                .indexes
                .read()
                .values()
                .map(|i| (i.name.clone(), i.meta.read().port))
                .collect();
            let ip = loopback_if_unspecified(cell.cfg.listen.bind);
            for (name, port) in targets {
                // An index deleted between listing and probing is not a failure.
                if !probe(SocketAddr::new(ip, port), "/", timeout) && cell.indexes.read().contains_key(&name) {
                    failed.push(format!("index {name} on port {port}"));
                }
            }
            if stop.is_triggered() {
                return;
            }
            if failed.is_empty() {
                failures = 0;
                continue;
            }
            failures += 1;
            tracing::warn!(failures, threshold, failed = ?failed, "watchdog probe failed");
            if failures >= threshold {
                tracing::error!(failed = ?failed, "watchdog: {failures} consecutive failed probes; saving state and exiting with code 1 so the orchestrator restarts the cell");
                if let Err(e) = persist::compact_blocking(&cell) {
                    tracing::error!(error = %e, "watchdog could not write a snapshot; the journal still holds every acknowledged write");
                }
                std::process::exit(1);
            }
        }
    })?;
    Ok(())
}
