//! The API fuzzed from its own `/openapi.json` by schemathesis (PyPI): every operation gets
//! generated valid and invalid requests, and none may be answered with a server error (5xx).
//! `.ci/run` installs schemathesis into target/venv-schemathesis; when it is missing the test
//! fails and says how to install it.

mod serve_support;

use std::path::Path;
use std::process::Command;

use serve_support::{seed_index, Server, HASH};

#[test]
fn schemathesis_finds_no_server_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let st = std::env::var("SCHEMATHESIS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target/venv-schemathesis/bin/schemathesis"));
    assert!(
        st.is_file(),
        "this test needs schemathesis at {}: `python3 -m venv target/venv-schemathesis && target/venv-schemathesis/bin/pip install schemathesis` (see .ci/run)",
        st.display()
    );
    let dir = seed_index(HASH);
    // A low maximum k keeps generated "large but valid" requests quick.
    let server = Server::start(HASH, dir.path(), &["--max-k", "100"]);
    // schemathesis keeps its example database in the working directory: the temp dir.
    let out = Command::new(&st)
        .current_dir(dir.path())
        .arg("run")
        .arg(format!("{}/openapi.json", server.base))
        .args([
            "--checks",
            "not_a_server_error",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--seed",
            "18",
            // One worker: CPython 3.11's `ast.parse` is not thread-safe, and hypothesis calls it
            // while describing strategies ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--request-timeout",
            "60",
            "--no-color",
        ])
        .output()
        .unwrap();
    let log = serve_support::support::log_of(&out);
    assert!(
        out.status.success(),
        "schemathesis reported failures:\n{log}\nserver log:\n{}",
        server.log.lock().unwrap()
    );
    assert!(
        !server.log.lock().unwrap().contains("panicked"),
        "{}",
        server.log.lock().unwrap()
    );
}
