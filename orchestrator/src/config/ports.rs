//! Default ports and `--port-offset`: every port of a stack shifts by the same N, so a second stack
//! (or a test) runs beside a user's stack without touching it.

/// Default ports before the offset, by service name.
pub const DEFAULTS: &[(&str, u16)] = &[
    ("dashboard", 9000),
    ("fake_cell", 9001),
    ("controller", 9002),
    ("moto", 9003),
    ("admin_server", 9004),
    ("search_proxy", 9005),
    ("fake_cognito", 9006),
    ("agentic_search", 9007),
    ("console", 9008),
    ("webhook_router", 9009),
    ("ecom_settings_exporter", 9010),
    ("merchandising_exporter", 9011),
    ("global_worker", 9012),
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
        self.shift(9000)
    }
    pub fn fake_cell(&self) -> u16 {
        self.shift(9001)
    }
    pub fn moto(&self) -> u16 {
        self.shift(9003)
    }
    pub fn fake_cognito(&self) -> u16 {
        self.shift(9006)
    }
    pub fn webhook_router(&self) -> u16 {
        self.shift(9009)
    }
    pub fn index_range(&self) -> (u16, u16) {
        (self.shift(INDEX_RANGE.0), self.shift(INDEX_RANGE.1))
    }
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
}
