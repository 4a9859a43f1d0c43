//! Services that would collide with each other although each looks fine alone. Today: `wrangler
//! dev` opens a debugger inspector on `--inspector-port` (9229 when not given), so two workers
//! without distinct values fight over it and the second one fails to start.

use std::collections::BTreeMap;

use super::{Check, Inputs};
use crate::services::ServiceSpec;

/// wrangler's inspector port when `--inspector-port` is not given.
pub const DEFAULT_INSPECTOR_PORT: u16 = 9229;

pub fn check(i: &Inputs) -> Vec<Check> {
    let workers: Vec<(&ServiceSpec, u16)> = i
        .planned()
        .filter_map(|s| inspector_port(&s.argv).map(|p| (s, p)))
        .collect();
    if workers.is_empty() {
        return Vec::new();
    }
    let mut by_port: BTreeMap<u16, Vec<&ServiceSpec>> = BTreeMap::new();
    for (s, p) in &workers {
        by_port.entry(*p).or_default().push(s);
    }
    let mut taken: Vec<u16> = by_port.keys().copied().collect();
    let mut out = Vec::new();
    for (port, users) in &by_port {
        if users.len() < 2 {
            continue;
        }
        let names: Vec<&str> = users.iter().map(|s| s.name.as_str()).collect();
        let default_note = if *port == DEFAULT_INSPECTOR_PORT {
            " (wrangler's default when --inspector-port is not given)"
        } else {
            ""
        };
        // Keep the first where it is; give each other one the next port nobody uses.
        let mut moves = Vec::new();
        for s in &users[1..] {
            let mut next = DEFAULT_INSPECTOR_PORT + 1;
            while taken.contains(&next) {
                next += 1;
            }
            taken.push(next);
            moves.push(format!(
                "add \"--inspector-port\", \"{next}\" to the command of {}",
                s.name
            ));
        }
        out.push(Check::affecting(
            "conflicts",
            users.iter().any(|s| s.blocking),
            format!(
                "{} run `wrangler dev` with the same inspector port {port}{default_note}: only the first can open it, the others fail to start",
                names.join(", ")
            ),
            format!(
                "give each worker its own inspector port in hippodrome.toml: {} (see fixtures/hippodrome.example.toml and TROUBLESHOOTING.md#wrangler-inspector-port-in-use)",
                moves.join("; ")
            ),
        ));
    }
    if out.is_empty() {
        let list: Vec<String> = workers
            .iter()
            .map(|(s, p)| format!("{} {p}", s.name))
            .collect();
        out.push(Check::ok(
            "conflicts",
            format!(
                "wrangler dev inspector ports are distinct: {}",
                list.join(", ")
            ),
        ));
    }
    out
}

/// The inspector port of a `wrangler dev` command, `None` for any other command.
pub fn inspector_port(argv: &[String]) -> Option<u16> {
    let at = argv
        .iter()
        .position(|a| a == "wrangler" || a.ends_with("/wrangler"))?;
    let rest = &argv[at + 1..];
    if !rest.iter().any(|a| a == "dev") {
        return None;
    }
    let mut port = DEFAULT_INSPECTOR_PORT;
    for (n, a) in rest.iter().enumerate() {
        let value = match a.strip_prefix("--inspector-port") {
            Some("") => rest.get(n + 1).map(String::as_str),
            Some(v) => v.strip_prefix('='),
            None => None,
        };
        if let Some(p) = value.and_then(|v| v.parse().ok()) {
            port = p;
        }
    }
    Some(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn inspector_ports_are_read() {
        assert_eq!(
            inspector_port(&argv("npx wrangler dev --port 9005")),
            Some(9229)
        );
        assert_eq!(
            inspector_port(&argv("npx wrangler dev --inspector-port 9230")),
            Some(9230)
        );
        assert_eq!(
            inspector_port(&argv(
                "node_modules/.bin/wrangler dev --inspector-port=9231"
            )),
            Some(9231)
        );
        assert_eq!(inspector_port(&argv("npx wrangler deploy")), None);
        assert_eq!(inspector_port(&argv("npm run dev")), None);
    }
}
