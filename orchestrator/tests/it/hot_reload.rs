//! Hot reload (`watch` / `ignore` on `[[services]]`) with real file changes against the real
//! binary: a matching write restarts the service and says why in its log and `/api/status`, an
//! ignored path restarts nothing, and a burst of saves restarts it once.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::harness::*;

fn web(stack: &mut Stack, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let v = stack.wait_status(what, |v| v["web"]["status"] == "running" && pred(&v["web"]));
    v["web"].clone()
}

fn log_text(status: &Value) -> String {
    std::fs::read_to_string(status["log_file"].as_str().unwrap()).unwrap_or_default()
}

fn write(dir: &Path, rel: &str, text: &str) {
    std::fs::write(dir.join(rel), text).unwrap();
}

#[test]
fn watched_changes_restart_once_per_burst_and_ignored_paths_do_not() {
    let app = tempfile::tempdir().unwrap();
    let dir = app.path();
    std::fs::create_dir_all(dir.join("src/generated")).unwrap();
    write(dir, "src/app.py", "v = 0\n");
    let toml = format!(
        r#"
[[services]]
name = "web"
port = 9060
cwd = "{cwd}"
health_url = "/health"
command = ["python3", "{svc}", "{{port}}"]
watch = ["src/**/*.py"]
ignore = ["src/generated"]
"#,
        cwd = dir.display(),
        svc = fixture("service.py").display()
    );
    let mut stack = Stack::up(
        Some(&toml),
        &["--profile", "core", "--no-seed", "--only", "web"],
    );
    let first = web(&mut stack, "web running", |_| true);
    let pid0 = first["pid"].as_u64().unwrap();
    assert_eq!(first["restarts"], 0);
    assert!(
        log_text(&first).contains("hot reload: restarting on changes to src/**/*.py"),
        "{}",
        log_text(&first)
    );

    // One matching write: a new process, and the cause in the log and the status.
    write(dir, "src/app.py", "v = 1\n");
    let s = web(&mut stack, "a restart after src/app.py changed", |w| {
        w["restarts"] == 1 && w["pid"].as_u64().is_some_and(|p| p != pid0)
    });
    assert_eq!(s["last_reload"]["cause"], "src/app.py changed", "{s}");
    eventually("the restart line in web's log", || {
        log_text(&s).contains("restarted: src/app.py changed")
    });
    assert!(
        !pid_alive(pid0 as u32),
        "the old process {pid0} is still alive"
    );

    // An ignored path restarts nothing: the next restart names only the watched file, and counts
    // one more restart, not two.
    write(dir, "src/generated/models.py", "x = 1\n");
    std::thread::sleep(Duration::from_millis(1500));
    write(dir, "src/b.py", "b = 1\n");
    let s = web(&mut stack, "a restart after src/b.py changed", |w| {
        w["last_reload"]["cause"] == "src/b.py changed"
    });
    assert_eq!(s["restarts"], 2, "the ignored write restarted web: {s}");

    // A burst of saves to two files: one restart naming both.
    for i in 0..12 {
        let f = if i % 2 == 0 { "src/app.py" } else { "src/c.py" };
        write(dir, f, &format!("v = {i}\n"));
        std::thread::sleep(Duration::from_millis(40));
    }
    let s = web(&mut stack, "one restart for the burst", |w| {
        w["restarts"].as_u64() >= Some(3)
    });
    assert_eq!(
        s["last_reload"]["cause"], "src/app.py, src/c.py changed",
        "{s}"
    );
    // Nothing more follows from the same burst.
    std::thread::sleep(Duration::from_millis(1500));
    let s = web(&mut stack, "web still running", |_| true);
    assert_eq!(
        s["restarts"], 3,
        "the burst restarted web more than once: {s}"
    );
    let text = log_text(&s);
    assert_eq!(
        text.matches("restarted: ").count(),
        3,
        "expected 3 restart lines:\n{text}"
    );
}
