//! Background threads that must not compete with request handling: a thread that does catch-up
//! work (fake-cell's HNSW insertions) lowers its own scheduling priority, so under a burst of
//! requests the kernel gives the cores to the request threads and the background work catches up
//! once the burst ends. Elsewhere than Linux this is a no-op.
#![allow(unsafe_code)]

/// The nice value a background thread takes: the kernel weighs a nice-10 thread at about a tenth
/// of a normal one, so it still runs whenever a core is idle.
pub const BACKGROUND_NICE: i32 = 10;

/// Lower the calling thread's priority to [`BACKGROUND_NICE`]; whether the OS allowed it.
pub fn lower_this_thread() -> bool {
    lower(BACKGROUND_NICE)
}

#[cfg(target_os = "linux")]
fn lower(nice: i32) -> bool {
    // SAFETY: gettid has no arguments; setpriority on our own thread id only changes this
    // thread's nice value (Linux applies PRIO_PROCESS to a single thread given its tid).
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, nice) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn lower(_nice: i32) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// This thread's nice value, from `/proc/thread-self/stat` (the 19th field).
    fn nice_now() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let rest = stat.rsplit_once(')').unwrap().1;
        rest.split_whitespace().nth(16).unwrap().parse().unwrap()
    }

    #[test]
    fn only_the_calling_thread_is_lowered() {
        let before = nice_now();
        let lowered = std::thread::spawn(|| (lower_this_thread(), nice_now()))
            .join()
            .unwrap();
        assert_eq!(lowered, (true, BACKGROUND_NICE.max(before)));
        assert_eq!(nice_now(), before, "the spawning thread keeps its priority");
    }
}
