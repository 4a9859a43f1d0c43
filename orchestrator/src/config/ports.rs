//! Default ports and `--port-offset`: every port of a stack shifts by the same N, so a second stack
//! (or a test) runs beside a user's stack without touching it.

pub const DASHBOARD: u16 = 9000;
pub const FAKE_CELL: u16 = 9001;
/// The AWS endpoint everything uses (the port moto had, so a team's `.env` keeps working).
pub const AWS_GATEWAY: u16 = 9003;
/// moto itself, behind the gateway.
pub const MOTO: u16 = 9014;
pub const SEARCH_PROXY: u16 = 9005;
pub const FAKE_COGNITO: u16 = 9006;
pub const WEBHOOK_ROUTER: u16 = 9009;
pub const ECOM_SETTINGS_EXPORTER: u16 = 9010;
pub const MERCHANDISING_EXPORTER: u16 = 9011;

/// Default ports before the offset, by service name: every port a stack uses, built-in or the
/// team's well-known services (`[[services]]` without a `port` get theirs from here).
pub const DEFAULTS: &[(&str, u16)] = &[
    ("dashboard", DASHBOARD),
    ("fake_cell", FAKE_CELL),
    ("controller", 9002),
    ("aws_gateway", AWS_GATEWAY),
    ("admin_server", 9004),
    ("search_proxy", SEARCH_PROXY),
    ("fake_cognito", FAKE_COGNITO),
    ("agentic_search", 9007),
    ("console", 9008),
    ("webhook_router", WEBHOOK_ROUTER),
    ("ecom_settings_exporter", ECOM_SETTINGS_EXPORTER),
    ("merchandising_exporter", MERCHANDISING_EXPORTER),
    ("global_worker", 9012),
    ("moto", MOTO),
];

/// First and last port of the fake index servers' range.
pub const INDEX_RANGE: (u16, u16) = (9100, 9199);

#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Ports {
    pub offset: u16,
}

impl Ports {
    pub fn new(offset: u16) -> Self {
        Self { offset }
    }

    /// A default port shifted by the offset (saturating: a huge offset gives an error at bind time).
    pub fn shift(&self, port: u16) -> u16 {
        port.saturating_add(self.offset)
    }

    /// The shifted default port of a built-in or well-known service.
    pub fn of(&self, name: &str) -> Option<u16> {
        DEFAULTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| self.shift(*p))
    }

    pub fn dashboard(&self) -> u16 {
        self.shift(DASHBOARD)
    }
    pub fn fake_cell(&self) -> u16 {
        self.shift(FAKE_CELL)
    }
    pub fn moto(&self) -> u16 {
        self.shift(MOTO)
    }
    pub fn aws_gateway(&self) -> u16 {
        self.shift(AWS_GATEWAY)
    }
    pub fn search_proxy(&self) -> u16 {
        self.shift(SEARCH_PROXY)
    }
    pub fn fake_cognito(&self) -> u16 {
        self.shift(FAKE_COGNITO)
    }
    pub fn webhook_router(&self) -> u16 {
        self.shift(WEBHOOK_ROUTER)
    }
    pub fn ecom_settings_exporter(&self) -> u16 {
        self.shift(ECOM_SETTINGS_EXPORTER)
    }
    pub fn merchandising_exporter(&self) -> u16 {
        self.shift(MERCHANDISING_EXPORTER)
    }
    pub fn index_range(&self) -> (u16, u16) {
        (self.shift(INDEX_RANGE.0), self.shift(INDEX_RANGE.1))
    }
}

/// How far apart two stacks' offsets must be for their ports (9000 to the index range's end) to
/// be disjoint; a wider gap only wastes offsets (a test binary with ~40 stacks ran out at 300).
const SPAN: u16 = INDEX_RANGE.1 - DASHBOARD + 1;

/// A port offset under which every port a stack can use (9000–9019 and the index range) is free
/// right now, `None` if none was found. Offsets lie in 10,000–22,990, below the kernel's ephemeral
/// range, so no outgoing connection can take a stack port later. An offset within `SPAN` of one this
/// process already returned is never returned again: callers (parallel tests, the bench) bind their
/// ports only later, when the stack starts.
pub fn free_offset() -> Option<u16> {
    static GIVEN: parking_lot::Mutex<Vec<u16>> = parking_lot::Mutex::new(Vec::new());
    let ports: Vec<u16> = (9000..9020).chain(INDEX_RANGE.0..=INDEX_RANGE.1).collect();
    let mut x = u64::from(std::process::id())
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
    for _ in 0..500 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let offset = 10_000 + ((x >> 33) % 1300) as u16 * 10;
        // Claim it before probing (the probe binds sockets, never under the lock).
        {
            let mut given = GIVEN.lock();
            if given.iter().any(|g| g.abs_diff(offset) < SPAN) {
                continue;
            }
            given.push(offset);
        }
        if ports
            .iter()
            .all(|p| std::net::TcpListener::bind(("127.0.0.1", p + offset)).is_ok())
        {
            return Some(offset);
        }
        GIVEN.lock().retain(|g| *g != offset);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_shifts_every_port() {
        let p = Ports::new(1000);
        assert_eq!(p.dashboard(), 10000);
        assert_eq!(p.of("console"), Some(10008));
        assert_eq!(p.index_range(), (10100, 10199));
        assert_eq!(p.of("nope"), None);
    }

    #[test]
    fn named_ports_are_the_table_entries() {
        let p = Ports::new(7);
        for (name, port) in [
            ("dashboard", p.dashboard()),
            ("fake_cell", p.fake_cell()),
            ("moto", p.moto()),
            ("aws_gateway", p.aws_gateway()),
            ("search_proxy", p.search_proxy()),
            ("fake_cognito", p.fake_cognito()),
            ("webhook_router", p.webhook_router()),
            ("ecom_settings_exporter", p.ecom_settings_exporter()),
            ("merchandising_exporter", p.merchandising_exporter()),
        ] {
            assert_eq!(p.of(name), Some(port), "{name}");
        }
    }

    #[test]
    fn free_offsets_are_free_and_never_overlap() {
        let a = free_offset().expect("an offset");
        let b = free_offset().expect("another offset");
        assert!(a.abs_diff(b) >= SPAN, "{a} and {b} overlap");
        for offset in [a, b] {
            let p = Ports::new(offset);
            assert!(std::net::TcpListener::bind(("127.0.0.1", p.dashboard())).is_ok());
            assert!(std::net::TcpListener::bind(("127.0.0.1", p.index_range().1)).is_ok());
        }
    }
}
