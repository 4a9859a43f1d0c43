//! Rules marked `persist`, kept in one JSON file beside the service's state so they survive a
//! restart. Writes go through [`crate::state_file::write_atomic`] on a writer thread of their own:
//! the registry's lock is never held across I/O, a burst of changes becomes one write of the
//! latest rules, and no async runtime is needed (fake-cell's index servers each run their own).

use std::path::{Path, PathBuf};
use std::sync::{OnceLock, mpsc};

use serde::{Deserialize, Serialize};

use super::Rule;
use crate::state_file::{Loaded, load_json, write_atomic};

#[derive(Serialize, Deserialize)]
struct File {
    rules: Vec<Rule>,
}

/// The persisted rules in `file`; none when it is missing or unreadable (moved aside then).
pub fn load(file: &Path) -> Vec<Rule> {
    match load_json::<File>(file) {
        Ok(Loaded::Found(f)) => f.rules.into_iter().filter(|r| r.spec.persist).collect(),
        Ok(Loaded::Missing | Loaded::MovedAside { .. }) => Vec::new(),
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "cannot read persisted fault rules; starting without them");
            Vec::new()
        }
    }
}

/// The writer of one rules file; its thread starts with the first save.
pub struct Store {
    file: PathBuf,
    tx: OnceLock<mpsc::Sender<Vec<Rule>>>,
}

impl Store {
    pub fn new(file: PathBuf) -> Self {
        Store {
            file,
            tx: OnceLock::new(),
        }
    }

    pub fn save(&self, rules: Vec<Rule>) {
        let tx = self.tx.get_or_init(|| spawn_writer(self.file.clone()));
        // The writer thread only stops with the process (or never started: logged there).
        let _ = tx.send(rules);
    }
}

/// A thread writing the latest rules it was sent (a burst of changes becomes one write).
fn spawn_writer(file: PathBuf) -> mpsc::Sender<Vec<Rule>> {
    let (tx, rx) = mpsc::channel::<Vec<Rule>>();
    let spawned = std::thread::Builder::new()
        .name("fault-rules".into())
        .spawn(move || {
            while let Ok(mut latest) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    latest = newer;
                }
                write(&file, latest);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the fault rules writer; persisted rules will not be saved");
    }
    tx
}

fn write(file: &Path, rules: Vec<Rule>) {
    let bytes = match serde_json::to_vec_pretty(&File { rules }) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "cannot encode fault rules");
            return;
        }
    };
    if let Err(e) = write_atomic(file, &bytes) {
        tracing::warn!(file = %file.display(), error = %e, "cannot save persisted fault rules");
    }
}
