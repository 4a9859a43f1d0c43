//! What the test suites share, so no suite re-implements it: free ports ([`free_port`]), polling
//! with one patience setting ([`wait`]), and a real moto server on a free port ([`moto`]).
//! A dev-dependency only; nothing here is linked into a service.

pub mod moto;
pub mod wait;

pub use moto::Moto;
pub use wait::{deadline, patience, wait_for, wait_for_within, wait_http_ok};

/// Where [`free_port`] draws from: below every port a stack's offset can place (19,000 and up,
/// `orchestrator::config::ports::free_offset`) and below the kernel's ephemeral range (32,768 and
/// up), so neither a parallel test's stack nor an outgoing connection can take a port between the
/// moment it is handed out and the moment the child process (moto, a fixture) binds it.
const RANGE: std::ops::Range<u32> = 10_000..19_000;

/// A port free right now that no other caller in this process has been given: parallel tests each
/// start children that bind their port a second later, and a port asked of the OS (bind to 0)
/// could be handed to two of them in that second.
pub fn free_port() -> u16 {
    free_ports(1)
}

/// The first of `n` consecutive ports, all free right now and given to no other caller in this
/// process (for a server that takes ports from a range, like fake-cell's index servers).
pub fn free_ports(n: u16) -> u16 {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};
    static START: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let len = RANGE.end - RANGE.start;
    let n = u32::from(n.max(1));
    // Two test processes at once (rare: cargo runs test binaries one after another) start apart.
    let start = *START.get_or_init(|| std::process::id().wrapping_mul(7919) % len);
    for _ in 0..len {
        let first = RANGE.start + (start + NEXT.fetch_add(n, Ordering::Relaxed)) % len;
        if first + n <= RANGE.end
            && (first..first + n)
                .all(|p| std::net::TcpListener::bind(("127.0.0.1", p as u16)).is_ok())
        {
            return first as u16;
        }
    }
    panic!("no {n} free ports in {RANGE:?}");
}
