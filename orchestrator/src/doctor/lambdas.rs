//! `[[lambdas]]`: each function's target is a service `up` will start (not a skipped one), and,
//! while the stack runs, something answers at its URL — otherwise every Invoke of it fails with
//! `ResourceNotReadyException`.

use std::time::Duration;

use super::{Check, Inputs};
use crate::services::lambda_url;

const FIX: &str = "see TROUBLESHOOTING.md#lambda-invoke-fails";

pub async fn check(i: &Inputs) -> Vec<Check> {
    let lambdas = &i.config().lambdas;
    if lambdas.is_empty() {
        return Vec::new();
    }
    let running = i.run.as_ref().is_some_and(|r| r.orchestrator_alive());
    let mut out = Vec::new();
    for l in lambdas {
        let url = match lambda_url(l, &i.plan) {
            Ok(u) => u,
            Err(e) => {
                out.push(Check::fail("lambdas", e, FIX));
                continue;
            }
        };
        if let Some(service) = &l.service
            && let Some(reason) = i
                .plan
                .iter()
                .find(|s| &s.name == service)
                .and_then(|s| s.skip.as_deref())
        {
            out.push(Check::warn(
                "lambdas",
                format!(
                    "{}: its service {service} is skipped ({reason}), so every Invoke of it fails",
                    l.name
                ),
                FIX,
            ));
            continue;
        }
        if !running {
            out.push(Check::ok(
                "lambdas",
                format!(
                    "{} → {url} (reachability checked while the stack runs)",
                    l.name
                ),
            ));
        } else if answers(&url).await {
            out.push(Check::ok("lambdas", format!("{} → {url} answers", l.name)));
        } else {
            out.push(Check::fail(
                "lambdas",
                format!("{}: nothing answers at {url}", l.name),
                format!("start the function's process or fix its url/port; {FIX}"),
            ));
        }
    }
    out
}

/// A TCP connect to the URL's host and port within a second.
async fn answers(url: &str) -> bool {
    let Some(rest) = url.split("://").nth(1) else {
        return false;
    };
    let host_port = rest.split('/').next().unwrap_or(rest);
    let addr = if host_port.contains(':') {
        host_port.to_owned()
    } else if url.starts_with("https://") {
        format!("{host_port}:443")
    } else {
        format!("{host_port}:80")
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}
