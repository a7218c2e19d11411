//! The web page in headless Chromium, driven by Playwright (`tests/browser/run.mjs`): search,
//! an initiative and its similar ones, the themes map, an upload found by a search.
//! Screenshots land in `target/serve-browser/`. Node, `npm ci` in tests/browser and Chromium
//! are installed by `.ci/run`; when one is missing the test fails and says which.

mod serve_support;

use std::path::Path;
use std::process::Command;

use serve_support::{seed_index, Server, HASH};

#[test]
fn the_web_page_searches_opens_similar_maps_themes_and_uploads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).is_file(),
        "this test needs Chromium at {chromium}: `apt-get install chromium` (see .ci/run)"
    );
    assert!(
        Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "this test needs node: `apt-get install nodejs npm` (see .ci/run)"
    );
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "this test needs playwright-core: `npm ci --prefix tests/browser` (see .ci/run)"
    );
    let dir = seed_index(HASH);
    let server = Server::start(HASH, dir.path(), &[]);
    let shots = root.join("target/serve-browser");
    let out = Command::new("node")
        .arg(browser_dir.join("run.mjs"))
        .arg(&server.base)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .output()
        .unwrap();
    let log = serve_support::support::log_of(&out);
    assert!(
        out.status.success(),
        "{log}\nscreenshots in {}",
        shots.display()
    );
    assert!(log.contains("browser test passed"), "{log}");
    for name in [
        "1-search",
        "2-initiative",
        "3-themes",
        "4-upload",
        "5-found",
        "6-document",
    ] {
        assert!(
            shots.join(format!("{name}.png")).is_file(),
            "no screenshot {name}"
        );
    }
}
