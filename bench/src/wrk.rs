//! Runs `wrk --latency` and parses what it prints.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;

/// One load point as wrk reported it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WrkResult {
    pub connections: u32,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Socket errors (connect + read + write + timeout).
    pub socket_errors: u64,
    /// Answers outside 2xx/3xx.
    pub non_2xx: u64,
}

impl WrkResult {
    pub fn errors(&self) -> u64 {
        self.socket_errors + self.non_2xx
    }

    /// Two runs of the same point as one: their mean rate and latencies, their summed counts.
    pub fn mean(a: &WrkResult, b: &WrkResult) -> WrkResult {
        WrkResult {
            connections: a.connections,
            requests: a.requests + b.requests,
            rps: (a.rps + b.rps) / 2.0,
            p50_ms: (a.p50_ms + b.p50_ms) / 2.0,
            p99_ms: (a.p99_ms + b.p99_ms) / 2.0,
            socket_errors: a.socket_errors + b.socket_errors,
            non_2xx: a.non_2xx + b.non_2xx,
        }
    }
}

/// Installs wrk with apt-get when it is not on PATH.
pub fn ensure_installed() -> anyhow::Result<()> {
    if which("wrk") {
        return Ok(());
    }
    println!("wrk not found: installing it with apt-get (Debian package `wrk`)");
    let ok = |args: &[&str]| {
        std::process::Command::new("apt-get")
            .args(args)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let installed =
        ok(&["install", "-y", "wrk"]) || (ok(&["update"]) && ok(&["install", "-y", "wrk"]));
    if !installed {
        bail!("could not install wrk; install it yourself (`apt-get install wrk`) and retry");
    }
    Ok(())
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// Loads `url` with `connections` connections for `duration`, optionally through a Lua script.
pub async fn run(
    url: &str,
    connections: u32,
    duration: Duration,
    script: Option<&Path>,
) -> anyhow::Result<WrkResult> {
    let threads = connections.clamp(1, 2);
    let mut cmd = tokio::process::Command::new("wrk");
    cmd.arg("--latency")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--timeout")
        .arg("5s");
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    cmd.arg(url).kill_on_drop(true);
    let out = cmd.output().await.context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut result = parse(&text).with_context(|| format!("parsing wrk output:\n{text}"))?;
    result.connections = connections;
    Ok(result)
}

/// Parses the text of `wrk --latency`.
pub fn parse(text: &str) -> anyhow::Result<WrkResult> {
    let mut r = WrkResult::default();
    let mut seen_rps = false;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => r.p50_ms = duration_ms(v)?,
            ["99%", v] => r.p99_ms = duration_ms(v)?,
            [n, "requests", "in", ..] => r.requests = n.parse()?,
            ["Requests/sec:", v] => {
                r.rps = v.parse()?;
                seen_rps = true;
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => r.non_2xx = n.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                r.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    if !seen_rps {
        bail!("no Requests/sec line");
    }
    Ok(r)
}

/// "381.00us", "2.03ms", "1.20s", "1.00m" → milliseconds.
fn duration_ms(v: &str) -> anyhow::Result<f64> {
    let (num, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        bail!("unknown duration {v}")
    };
    Ok(num.parse::<f64>()? * scale)
}

/// A Lua script that POSTs one fixed JSON body with extra headers.
pub fn post_script(body: &str, headers: &[(&str, &str)]) -> String {
    let mut s = String::from("wrk.method = \"POST\"\n");
    s.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
    for (k, v) in headers {
        s.push_str(&format!("wrk.headers[{}] = {}\n", lua_str(k), lua_str(v)));
    }
    s.push_str(&format!("wrk.body = {}\n", lua_str(body)));
    s
}

/// A JSON POST whose body is built per request by `request_lua`, the body of Lua's `request()`.
/// It sees `tid` (0, 1, … per wrk thread), `n` (the request's number in its thread) and whatever
/// `prelude` defines once per thread, and returns `wrk.format(...)`.
pub fn per_request_script(prelude: &str, request_lua: &str) -> String {
    format!(
        r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{prelude}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local n = 0
function request()
  n = n + 1
{request_lua}
end
"#
    )
}

/// A Lua string literal.
pub fn lua_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_latency_output() {
        let text = "Running 2s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Latency Distribution\n     50%  381.00us\n     75%  600.00us\n     90%    1.00ms\n     99%    2.03ms\n  263868 requests in 2.10s, 32.21MB read\n  Socket errors: connect 0, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 12\nRequests/sec: 125646.40\nTransfer/sec:     15.34MB\n";
        let r = parse(text).unwrap();
        assert_eq!(r.requests, 263868);
        assert!((r.p50_ms - 0.381).abs() < 1e-9);
        assert!((r.p99_ms - 2.03).abs() < 1e-9);
        assert_eq!(r.socket_errors, 5);
        assert_eq!(r.non_2xx, 12);
        assert!((r.rps - 125646.4).abs() < 1e-6);
        assert_eq!(duration_ms("1.20s").unwrap(), 1200.0);
    }

    #[test]
    fn lua_strings_are_escaped() {
        assert_eq!(lua_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
