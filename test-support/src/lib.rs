//! What the test suites share, so no suite re-implements it: free ports from the OS
//! ([`free_port`]), polling with one patience setting ([`wait`]), and a real moto server on a free
//! port ([`moto`]). A dev-dependency only; nothing here is linked into a service.

pub mod moto;
pub mod wait;

pub use moto::Moto;
pub use wait::{deadline, patience, wait_for, wait_for_within, wait_http_ok};

/// A port the OS says is free right now (bind `127.0.0.1:0`, read the port, release it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port from the OS")
}
