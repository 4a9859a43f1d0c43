//! Checks made before anything is spawned: is a program on PATH, is a port free, and if not, who
//! holds it (pid and command line read from `/proc`) and what command frees it.

use std::path::{Path, PathBuf};

/// Resolve a program like a shell would: a path with a `/` as is, otherwise through `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// One line on how to get a missing program.
pub fn install_hint(program: &str) -> &'static str {
    match program {
        "python3" | "python" => "install Python 3: apt-get install python3 python3-venv",
        "node" | "npm" | "npx" => "install Node.js 20+: apt-get install nodejs npm",
        "wrangler" => {
            "install it in the service: npm install --save-dev wrangler (then use npx wrangler)"
        }
        "cloudflared" => "install cloudflared from Cloudflare's package repository",
        "git" => "install git: apt-get install git",
        _ => "install it and make sure it is on PATH",
    }
}

/// A process listening on a port.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Holder {
    pub pid: u32,
    pub cmdline: String,
}

/// True when nothing listens on `127.0.0.1:port` (we can bind it ourselves).
pub fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Who listens on `port`, from `/proc/net/tcp{,6}` and the processes' fd tables. `None` when the
/// port is free or the holder is not visible to us.
pub fn port_holder(port: u16) -> Option<Holder> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return None;
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                let t = target.to_string_lossy();
                if let Some(inode) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']'))
                    && inodes.iter().any(|i| i == inode)
                {
                    return Some(Holder {
                        pid,
                        cmdline: cmdline(pid),
                    });
                }
            }
        }
    }
    None
}

/// The command line of a process, space-joined; empty if it is gone.
pub fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn listening_inodes(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is "HEXIP:HEXPORT", st 0A = LISTEN, inode is column 9
            if cols.len() > 9
                && cols[3] == "0A"
                && let Some((_, p)) = cols[1].rsplit_once(':')
                && u16::from_str_radix(p, 16).ok() == Some(port)
            {
                out.push(cols[9].to_owned());
            }
        }
    }
    out
}

/// A human message for a taken port, with the command that frees it.
pub fn port_in_use_message(service: &str, port: u16) -> String {
    match port_holder(port) {
        Some(h) => format!(
            "port {port} for {service} is in use by pid {} ({}); free it with `kill {}` (or `orchestrator kill` if it is a leftover Hippodrome process) — see TROUBLESHOOTING.md#port-already-in-use",
            h.pid,
            if h.cmdline.is_empty() {
                "?".to_owned()
            } else {
                h.cmdline.clone()
            },
            h.pid
        ),
        None => format!(
            "port {port} for {service} is in use by a process we cannot see; find it with `ss -ltnp 'sport = :{port}'` or use `--port-offset` — see TROUBLESHOOTING.md#port-already-in-use"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_holder_of_a_port() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(!port_free(port));
        let h = port_holder(port).expect("holder visible");
        assert_eq!(h.pid, std::process::id());
        assert!(port_in_use_message("x", port).contains(&format!("pid {}", std::process::id())));
        drop(l);
        assert!(port_free(port));
    }

    #[test]
    fn which_finds_sh_and_not_nonsense() {
        assert!(which("sh").is_some());
        assert!(which("definitely-not-a-program-xyz").is_none());
    }
}
