//! Giving memory back after a burst. glibc keeps what it freed inside its per-thread arenas, so a
//! service that served 256 connections stays at its peak size forever even though nothing uses it.
//! A background thread asks glibc how much freed memory it holds and, when that is worth it,
//! returns it to the kernel with `malloc_trim(0)` (which also releases free pages in the middle of a
//! heap). Elsewhere than glibc this is a no-op.
#![allow(unsafe_code)]

use std::time::Duration;

/// How often the trimmer looks. Cheap: one `mallinfo2` walk of the free lists.
pub const TRIM_INTERVAL: Duration = Duration::from_secs(2);

/// Below this much freed-but-held memory a trim is not worth its page faults.
pub const TRIM_THRESHOLD: usize = 4 << 20;

/// Start the trimmer thread once per process; later calls are no-ops.
pub fn spawn_trimmer() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("malloc-trim".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(TRIM_INTERVAL);
                    trim_if_worthwhile(TRIM_THRESHOLD);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the malloc-trim thread; memory stays at its peak");
        }
    });
}

/// Return freed memory to the kernel when the allocator holds more than `threshold` bytes of it.
/// Returns the number of free bytes that were held (0 where this is not glibc).
pub fn trim_if_worthwhile(threshold: usize) -> usize {
    let held = held_free_bytes();
    if held > threshold {
        trim();
    }
    held
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn held_free_bytes() -> usize {
    // SAFETY: mallinfo2 takes no arguments and only reads the allocator's own statistics.
    let info = unsafe { libc::mallinfo2() };
    info.fordblks
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only releases memory the allocator already considers free.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn held_free_bytes() -> usize {
    0
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    fn resident_bytes() -> usize {
        // VmRSS is in kB whatever the page size.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb: usize = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        kb * 1024
    }

    #[test]
    fn a_freed_burst_goes_back_to_the_kernel() {
        // 64 MiB in small blocks (below the mmap threshold, so they live in the heap), with every
        // 64th block kept so the heap cannot simply shrink from its top on free.
        let blocks: Vec<Vec<u8>> = (0..64 * 1024).map(|i| vec![i as u8; 1000]).collect();
        let mut kept = Vec::new();
        for (i, b) in blocks.into_iter().enumerate() {
            if i % 64 == 63 {
                kept.push(b);
            }
        }
        let before = resident_bytes();
        let held = trim_if_worthwhile(TRIM_THRESHOLD);
        let after = resident_bytes();
        assert!(held > 32 << 20, "the allocator held only {held} free bytes");
        assert!(
            after + (32 << 20) < before,
            "trim returned too little: {before} -> {after} bytes resident"
        );
        assert_eq!(kept.len(), 1024);
    }
}
