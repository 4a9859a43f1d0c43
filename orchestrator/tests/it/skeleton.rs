//! Issue 2's walking skeleton: `up` starts the three built-in services as separate processes,
//! `/api/status` shows them running, each answers `/healthz`, and SIGINT leaves no process and no
//! bound port behind.

use nix::sys::signal::Signal;

use crate::harness::*;

#[test]
fn up_serves_status_and_sigint_leaves_nothing_behind() {
    let mut stack = Stack::up(None, &["--profile", "core", "--no-seed"]);
    let services = ["fake_cell", "fake_cognito", "webhook_router"];
    // The dashboard reports running once every layer has started, a moment after the last service.
    let status = stack.wait_status("three services and the dashboard running", |v| {
        services.iter().all(|s| v[s]["status"] == "running")
            && v["dashboard"]["status"] == "running"
    });

    let mut pids = Vec::new();
    for s in services {
        let entry = &status[s];
        let pid = entry["pid"].as_u64().expect("pid") as u32;
        assert!(pid_alive(pid), "{s} pid {pid} alive");
        assert_ne!(
            pid,
            stack.child.as_ref().unwrap().id(),
            "{s} runs in its own process"
        );
        assert!(entry["layer"].is_u64());
        let port = entry["port"].as_u64().unwrap() as u16;
        let (code, body) =
            http(&format!("http://127.0.0.1:{port}/healthz"), "GET").expect("healthz answers");
        assert_eq!(code, 200, "{s} /healthz: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("healthz is JSON");
        assert_eq!(v["status"], "ok");
        pids.push((s, pid, port));
    }
    assert_eq!(status["dashboard"]["status"], "running");
    assert_eq!(
        status["moto"]["status"], "skipped",
        "core profile has no moto"
    );

    // Logs go to a per-run folder with a `latest` link.
    let latest = stack.root().join(".hippodrome/logs/latest");
    eventually("fake_cell log written", || {
        std::fs::read_to_string(latest.join("fake_cell.log")).is_ok_and(|t| !t.is_empty())
    });
    assert!(stack.root().join(".hippodrome/run.json").exists());

    let code = stack.signal_and_wait(Signal::SIGINT);
    assert_eq!(code, Some(0), "orchestrator exits 0 on SIGINT");
    for (s, pid, port) in pids {
        assert!(!pid_alive(pid), "{s} (pid {pid}) still alive after SIGINT");
        eventually(&format!("{s} port {port} free"), || port_free(port));
    }
    assert!(port_free(stack.port(9000)), "dashboard port free");
    assert!(
        !stack.root().join(".hippodrome/run.json").exists(),
        "run.json removed on clean stop"
    );
}

/// The AWS gateway is linked into the orchestrator like the other built-ins: `serve aws-gateway`
/// runs it, and with moto unreachable it still answers `/healthz`, as `degraded` naming moto.
#[test]
fn serve_runs_the_aws_gateway_and_it_reports_moto_unreachable() {
    let port = test_support::free_port();
    let moto = test_support::free_port();
    let mut child = std::process::Command::new(BIN)
        .args(["serve", "aws-gateway", "--port", &port.to_string()])
        .args(["--moto-url", &format!("http://127.0.0.1:{moto}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn orchestrator serve aws-gateway");
    let url = format!("http://127.0.0.1:{port}/healthz");
    eventually("the gateway says moto is unreachable", || {
        get_json(&url).is_some_and(|v| v["status"] == "degraded")
    });
    let v = get_json(&url).expect("healthz JSON");
    assert!(v.to_string().contains("moto"), "{v}");
    let _ = child.kill();
    let _ = child.wait();
}
