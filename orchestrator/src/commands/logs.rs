//! `logs SERVICE [-f] [--tail N]`: prints `.hippodrome/logs/latest/<service>.log` (works after the
//! stack is gone too); `-f` keeps following the file until Ctrl+C or its reader goes away.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::LogsArgs;
use crate::config::{Paths, project};
use crate::term::{self, Stream};

pub async fn run(root: Option<&Path>, args: LogsArgs) -> anyhow::Result<ExitCode> {
    let paths = Paths::new(project::project_root(root));
    let file = paths
        .logs_dir
        .join("latest")
        .join(format!("{}.log", args.service));
    let Ok(mut f) = std::fs::File::open(&file) else {
        eprintln!(
            "no log for {:?} at {} (service names are like fake_cell, fake_cognito, webhook_router, moto)",
            args.service,
            file.display()
        );
        return Ok(ExitCode::FAILURE);
    };
    let mut text = String::new();
    f.read_to_string(&mut text)?;
    let lines: Vec<&str> = text.lines().collect();
    for l in &lines[lines.len().saturating_sub(args.tail)..] {
        println!("{l}");
    }
    // `logs -f | head`: once the reader is gone there is nobody left to follow for.
    if !args.follow || term::gone(Stream::Out) {
        return Ok(ExitCode::SUCCESS);
    }
    let mut pos = f.seek(SeekFrom::End(0))?;
    let stop = service_kit::shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(ExitCode::SUCCESS),
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if len < pos {
            pos = 0; // truncated or replaced
        }
        if len > pos {
            let mut f = std::fs::File::open(&file)?;
            f.seek(SeekFrom::Start(pos))?;
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)?;
            pos += buf.len() as u64;
            if !term::write_direct(Stream::Out, &buf) && term::gone(Stream::Out) {
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}
