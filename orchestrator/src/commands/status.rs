//! `status [--json]`: reads `/api/status` from the running stack's dashboard; never starts anything.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::StatusArgs;
use crate::stack_client;

pub async fn run(root: Option<&Path>, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let l = stack_client::locate(root, args.offset.port_offset);
    let dash = l.dashboard();
    let unreachable = || {
        eprintln!("{}", l.not_running());
        Ok(ExitCode::FAILURE)
    };
    if args.json {
        // The answer as the dashboard gave it, not as this binary reads it.
        let Ok(v) = dash.get_json("/api/status").await else {
            return unreachable();
        };
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let services = match dash.status().await {
        Ok(s) => s,
        Err(e) if stack_client::is_bad_answer(&e) => return Err(e),
        Err(_) => return unreachable(),
    };
    // By layer, then by name (the map's order; the sort is stable).
    let mut rows: Vec<_> = services.iter().collect();
    rows.sort_by_key(|(_, s)| s.layer);
    println!(
        "{:<24} {:<14} {:>6} {:>8} {:>5} {:>8} {:>8}  REASON",
        "SERVICE", "STATUS", "PORT", "PID", "LAYER", "RESTARTS", "UPTIME"
    );
    let show = |x: Option<String>| x.unwrap_or_else(|| "-".to_owned());
    for (name, s) in rows {
        println!(
            "{:<24} {:<14} {:>6} {:>8} {:>5} {:>8} {:>8}  {}",
            name,
            s.status.as_str(),
            show(s.port.map(|p| p.to_string())),
            show(s.pid.map(|p| p.to_string())),
            s.layer,
            s.restarts,
            show(s.uptime_s.map(|u| format!("{u}s"))),
            [s.reason().map(str::to_owned), s.faults_note()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
