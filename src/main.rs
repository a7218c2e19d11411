//! The `simsum` command line: parses arguments, resolves them into a configuration, calls the
//! library, and owns the exit-code policy (0 success, 1 some inputs skipped, 2 error; a broken
//! pipe exits 0).

mod cmd;

use std::process::ExitCode;

use clap::Parser;

/// The allocator, decided here for the whole binary. On Linux with glibc, glibc's own malloc:
/// `simsum serve` gives what a re-clustering or a store reopen freed back to the system with
/// `malloc_trim` (`simsum::serve`), which keeps a long run's memory flat; mimalloc kept those
/// pages on threads that then idled, and the soak's memory swung by a quarter
/// (BENCHMARKS.md, "the soak's memory"). Elsewhere (musl, macOS, Windows) mimalloc, faster than
/// musl's malloc, with freed memory purged at once in the server.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Makes mimalloc give freed memory back to the system at once rather than after a delay (a
/// long-running server's threads idle between the jobs that free memory).
#[cfg(all(feature = "server", not(all(target_os = "linux", target_env = "gnu"))))]
pub(crate) fn purge_freed_memory_at_once() {
    // `mi_option_purge_delay` is 15 in mimalloc 3's `mi_option_e` (the crate names no constant
    // for it); 0 purges at once.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets an option before the server's threads start (mimalloc's option setters are
    // not synchronised; the value is read on each purge decision).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, `context: cause: cause`, each said once: a cause whose
/// text its wrapper already printed is left out, and so is a context that names nothing its
/// cause does not name as well (`opening milvus://h:1/x` above `cannot reach the Milvus server
/// of milvus://h:1/x ...`: the library's errors name their store, file or server).
fn one_line(err: &anyhow::Error) -> String {
    let msgs: Vec<String> = err
        .chain()
        .map(|c| {
            c.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let mut parts: Vec<&str> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        if m.is_empty() || parts.last().is_some_and(|p| p.contains(m.as_str())) {
            continue;
        }
        let names = names(m);
        if let Some(next) = msgs.get(i + 1) {
            if !names.is_empty() && names.iter().all(|n| next.contains(n)) {
                continue;
            }
        }
        parts.push(m);
    }
    parts.join(": ")
}

/// The words of a message that name a place: URLs and paths (a `dir:` store URL by its path).
fn names(msg: &str) -> Vec<&str> {
    msg.split_whitespace()
        .map(|w| w.trim_matches(|c: char| "`'\"(),;".contains(c)))
        .map(|w| w.trim_end_matches([':', '.']))
        .map(|w| w.strip_prefix("dir:").unwrap_or(w))
        .filter(|w| w.contains('/') || w.contains("://"))
        .collect()
}

/// Whether the error is a write to a closed pipe (`simsum ... | head`), wherever it happened:
/// a plain `io::Error`, or one inside a `serde_json::Error` (whose `source` skips it).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

#[cfg(test)]
mod tests {
    use super::one_line;
    use anyhow::Context;

    #[test]
    fn a_context_naming_what_its_cause_names_is_left_out() {
        let err = Err::<(), _>(anyhow::anyhow!(
            "cannot reach the Milvus server of milvus://127.0.0.1:1/x (refused)"
        ))
        .context("opening milvus://127.0.0.1:1/x for writing")
        .unwrap_err();
        assert_eq!(
            one_line(&err),
            "cannot reach the Milvus server of milvus://127.0.0.1:1/x (refused)"
        );
    }

    #[test]
    fn causes_join_on_one_line_each_said_once() {
        let io = std::io::Error::other("disk full");
        let err = Err::<(), _>(io)
            .context("writing out/report.html")
            .context("keeping the theme report")
            .unwrap_err();
        assert_eq!(
            one_line(&err),
            "keeping the theme report: writing out/report.html: disk full"
        );
        #[derive(Debug, thiserror::Error)]
        #[error("embedding failed: {0}")]
        struct Wrapper(#[source] std::io::Error);
        let err = anyhow::Error::new(Wrapper(std::io::Error::other("bad\nmodel")));
        assert_eq!(one_line(&err), "embedding failed: bad model");
    }
}
