//! Thin entry point: everything lives in the library so tests and the orchestrator run the same code.

/// mimalloc instead of glibc's malloc: a search allocates and frees many small buffers across
/// the index servers' threads, and glibc's arenas spent ~10% of a distinct search's CPU there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    fake_cell::cli_main(std::env::args_os())
}
