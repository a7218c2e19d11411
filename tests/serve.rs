//! `simsum serve` run as a user would: a real server on port 0 over an index of the seeds,
//! spoken to over HTTP. The model-free `hash:64` embedder keeps these fast, except where the
//! real model is the point (embedding parity with `simsum embed`).

mod serve_support;

use serde_json::{json, Value};
use serve_support::{seed_index, simsum, Server, HASH};
use std::time::{Duration, Instant};

/// The CLI's `--json` output of a command over `dir/idx`.
fn cli_json(model: &str, dir: &std::path::Path, args: &[&str]) -> Value {
    let out = simsum(model, &dir.join("idx")).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn search_similar_and_links_answer_what_the_cli_prints() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &[]);
    assert_eq!(s.json("GET", "/health", None), json!({"status": "ok"}));

    let info = s.json("GET", "/v1/info", None);
    assert_eq!(info["model"]["name"], "simsum/hash-64");
    assert_eq!(info["dimension"], 64);
    assert!(
        info["counts"]["initiatives"].as_u64().unwrap() > 10,
        "{info}"
    );
    assert!(info["generation"].is_u64());

    let q = "international cooperation of chambers of commerce";
    let api = s.json("POST", "/v1/search", Some(json!({"query": q, "k": 5})));
    let cli = cli_json(HASH, dir.path(), &["search", q, "-k", "5", "--json"]);
    assert_eq!(api, cli, "search differs from `simsum search --json`");
    assert_eq!(api["results"].as_array().unwrap().len(), 5);
    assert!(api["results"][0]["best_sentence"]["text"].is_string());

    // Each mode, and query text other engines would parse as syntax, as the CLI answers it.
    for mode in ["hybrid", "dense", "lexical"] {
        let q = "\"chambers NEAR(commerce* -OR ((";
        let api = s.json(
            "POST",
            "/v1/search",
            Some(json!({"query": q, "k": 4, "mode": mode})),
        );
        let cli = cli_json(
            HASH,
            dir.path(),
            &["search", q, "-k", "4", "--mode", mode, "--json"],
        );
        assert_eq!(api, cli, "{mode}");
        assert_eq!(api["mode"], mode);
        let top = &api["results"][0];
        if mode != "dense" {
            let terms = top["why"]["terms"].as_array();
            assert!(terms.is_some_and(|t| !t.is_empty()), "{mode}: {top}");
        }
    }

    let sec = s.json(
        "POST",
        "/v1/search",
        Some(json!({"query": q, "k": 3, "level": "section", "exact": true})),
    );
    let cli = cli_json(
        HASH,
        dir.path(),
        &[
            "search", q, "-k", "3", "--level", "section", "--exact", "--json",
        ],
    );
    assert_eq!(sec, cli);

    let id = api["results"][0]["id"].as_str().unwrap().to_string();
    let path_id = id.replace('#', "%23");
    let item = s.json("GET", &format!("/v1/items/{path_id}"), None);
    assert_eq!(item["item"]["id"], id.as_str());
    assert!(!item["sentences"].as_array().unwrap().is_empty());

    let sim = s.json(
        "GET",
        &format!("/v1/items/{path_id}/similar?k=4&other_docs=true"),
        None,
    );
    let cli = cli_json(
        HASH,
        dir.path(),
        &["similar", &id, "-k", "4", "--other-docs", "--json"],
    );
    assert_eq!(sim, cli, "similar differs from `simsum similar --json`");
    let doc = api["results"][0]["doc"]["id"].as_str().unwrap();
    for h in sim["results"].as_array().unwrap() {
        assert_ne!(
            h["doc"]["id"], doc,
            "other_docs returned the item's own document"
        );
    }

    let links = s.json("GET", "/v1/links?threshold=0.3&per_item=2", None);
    let cli = cli_json(
        HASH,
        dir.path(),
        &["links", "--threshold", "0.3", "--per-item", "2", "--json"],
    );
    assert_eq!(links, cli, "links differ from `simsum links --json`");
}

#[test]
fn documents_themes_and_summaries() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &[]);
    let docs = s.json("GET", "/v1/documents", None);
    let docs = docs["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2);
    let id = docs[0]["id"].as_str().unwrap();

    // The tree has the shape of `simsum sections --json` and the same sections and texts.
    let tree = s.json("GET", &format!("/v1/documents/{id}"), None);
    let out = simsum(HASH, &dir.path().join("idx"))
        .args(["sections", "--json"])
        .arg(docs[0]["path"].as_str().unwrap())
        .output()
        .unwrap();
    let cli: Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(tree["id"], cli["id"]);
    assert_eq!(tree["title"], cli["title"]);
    let ids = |v: &Value| -> Vec<(String, String)> {
        v["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| {
                s["initiatives"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| {
                        (
                            i["id"].as_str().unwrap().to_string(),
                            i["text"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert_eq!(ids(&tree), ids(&cli));
    assert_eq!(s.call("GET", "/v1/documents/nope", None).status, 404);

    // No report yet: 404; then cluster, read it back, map it, summarize a theme.
    let r = s.call("GET", "/v1/themes", None);
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    let made = s.json("POST", "/v1/themes", Some(json!({"themes": 3, "seed": 7})));
    let themes = made["themes"].as_array().unwrap();
    assert!(!themes.is_empty() && themes.len() <= 3, "{made}");
    assert_eq!(s.json("GET", "/v1/themes", None), made);
    // Clustering the same items again carries every theme on under its id and title; `fresh`
    // starts from scratch, which with the same settings is the first report again.
    let again = s.json("POST", "/v1/themes", Some(json!({"themes": 3, "seed": 7})));
    assert!(again["lineage"]["compared_with"].is_u64(), "{again}");
    let named = |r: &Value| {
        let mut v: Vec<(u64, String)> = r["themes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["id"].as_u64().unwrap(), t["title"].to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(named(&again), named(&made));
    assert!(
        again["themes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["change"] == "kept" || t["change"] == "grown"),
        "{again}"
    );
    let fresh = s.json(
        "POST",
        "/v1/themes",
        Some(json!({"themes": 3, "seed": 7, "fresh": true})),
    );
    assert_eq!(fresh, made);
    let map = s.json("GET", "/v1/themes/map", None);
    let points = map["points"].as_array().unwrap();
    assert_eq!(points.len(), map["ids"].as_array().unwrap().len());
    assert!(points
        .iter()
        .all(|p| p[0].as_f64().unwrap().abs() <= 1.0 && p[1].as_f64().unwrap().abs() <= 1.0));
    assert_eq!(map["themes"].as_array().unwrap().len(), themes.len());

    let t = s.json(
        "POST",
        "/v1/summarize",
        Some(json!({"theme": 1, "sentences": 2})),
    );
    assert_eq!(t["summary"].as_array().unwrap().len(), 2, "{t}");
    assert_eq!(
        s.call("POST", "/v1/summarize", Some(r#"{"theme": 99}"#))
            .status,
        404
    );

    // A document's summary equals `simsum summarize --doc --json`.
    let api = s.json(
        "POST",
        "/v1/summarize",
        Some(json!({"doc": id, "sentences": 3})),
    );
    let cli = cli_json(
        HASH,
        dir.path(),
        &["summarize", "--doc", id, "--sentences", "3", "--json"],
    );
    // The same document; numbers compared as the f32 values both print.
    assert_eq!(as_f32(&api), as_f32(&cli));
    // And with the earlier scorer, named the same way in both faces.
    let api = s.json(
        "POST",
        "/v1/summarize",
        Some(json!({"doc": id, "words": 75, "scorer": "blend"})),
    );
    let cli = cli_json(
        HASH,
        dir.path(),
        &[
            "summarize",
            "--doc",
            id,
            "--words",
            "75",
            "--scorer",
            "blend",
            "--json",
        ],
    );
    assert_eq!(as_f32(&api), as_f32(&cli));
    let q = s.json(
        "POST",
        "/v1/summarize",
        Some(json!({"query": "environmental protection", "words": 60})),
    );
    assert!(!q["summary"].as_array().unwrap().is_empty());
    let text = "The council met on Monday. It approved the new budget for parks. \
                Parks will get more money for trees. The mayor thanked the volunteers.";
    let p = s.json(
        "POST",
        "/v1/summarize",
        Some(json!({"text": text, "sentences": 1})),
    );
    assert_eq!(p["summary"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_gets_a_4xx_in_the_error_shape_never_a_500() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &["--max-k", "50", "--max-body", "4096"]);
    let cases: &[(&str, &str, Option<&str>, u16, &str)] = &[
        ("POST", "/v1/search", Some("{not json"), 400, "bad_request"),
        (
            "POST",
            "/v1/search",
            Some(r#"{"k": 3}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": 5}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "k": 0}"#),
            422,
            "out_of_range",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "k": 51}"#),
            422,
            "out_of_range",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "k": -1}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "ef": 0}"#),
            422,
            "out_of_range",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "ef": 5000}"#),
            422,
            "out_of_range",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "level": "sentence"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": ""}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": " ?! () " * -"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "mode": "bm25"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/summarize",
            Some(r#"{"query": "..."}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "since": "last year"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "doc": "[oops"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "surprise": 1}"#),
            400,
            "bad_request",
        ),
        ("GET", "/v1/items/no-such-item", None, 404, "not_found"),
        (
            "GET",
            "/v1/items/no-such-item/similar",
            None,
            404,
            "not_found",
        ),
        ("GET", "/v1/items/x/similar?k=abc", None, 400, "bad_request"),
        ("GET", "/v1/links?threshold=2", None, 422, "out_of_range"),
        ("GET", "/v1/nothing-here", None, 404, "not_found"),
        (
            "DELETE",
            "/v1/documents/no-such-doc",
            None,
            404,
            "not_found",
        ),
        (
            "POST",
            "/v1/documents",
            Some(r#"{"name": "../../etc/passwd", "text": "x"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/documents",
            Some(r#"{"name": "a.txt", "text": "x", "format": "docx"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/documents",
            Some(r#"{"name": "a.txt", "text": ""}"#),
            400,
            "bad_request",
        ),
        ("POST", "/v1/summarize", Some(r#"{}"#), 400, "bad_request"),
        (
            "POST",
            "/v1/summarize",
            Some(r#"{"doc": "a", "scorer": "best"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/summarize",
            Some(r#"{"doc": "a", "query": "b"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/summarize",
            Some(r#"{"doc": "nope"}"#),
            404,
            "not_found",
        ),
        (
            "POST",
            "/v1/summarize",
            Some(r#"{"text": "x", "words": 0}"#),
            422,
            "out_of_range",
        ),
        (
            "POST",
            "/v1/themes",
            Some(r#"{"themes": 0}"#),
            422,
            "out_of_range",
        ),
        (
            "POST",
            "/v1/themes",
            Some(r#"{"themes": "many"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/themes",
            Some(r#"{"resolution": -1}"#),
            422,
            "out_of_range",
        ),
        (
            "POST",
            "/v1/themes",
            Some(r#"{"fresh": "yes"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/embeddings",
            Some(r#"{"input": []}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/embeddings",
            Some(r#"{"input": [[1, 2, 3]]}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/embeddings",
            Some(r#"{"input": "x", "encoding_format": "hex"}"#),
            400,
            "bad_request",
        ),
        (
            "POST",
            "/v1/embeddings",
            Some(r#"{"input": "x", "input_type": "search_query"}"#),
            400,
            "bad_request",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let r = s.call(method, path, *body);
        assert_eq!(r.status, *status, "{method} {path} {body:?}: {}", r.body);
        assert_eq!(r.error_code(), *code, "{method} {path} {body:?}");
    }
    let big = json!({"query": "x".repeat(10_000)}).to_string();
    let r = s.call("POST", "/v1/search", Some(&big));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (413, "payload_too_large")
    );
    // Still serving after all of that.
    assert_eq!(s.call("GET", "/health", None).status, 200);
    assert!(!s.log.lock().unwrap().contains("panicked"));
}

#[test]
fn an_upload_becomes_searchable_and_a_delete_removes_it() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &[]);
    let text = "# Zebra crossings\n\nThe city paints zebra crossings near every primary school \
                so that pupils cross safely.\n\nVolunteers guide the zebra crossings at rush hour.\n";
    let up = s.json(
        "POST",
        "/v1/documents",
        Some(json!({"name": "zebra-plan.md", "text": text})),
    );
    assert_eq!(up["documents"], json!(["zebra-plan"]));
    assert!(
        up["stats"]["initiatives"]["added"].as_u64().unwrap() >= 2,
        "{up}"
    );
    let hits = s.json(
        "POST",
        "/v1/search",
        Some(json!({"query": "zebra crossings near primary school", "k": 1})),
    );
    assert_eq!(hits["results"][0]["doc"]["id"], "zebra-plan", "{hits}");
    let docs = s.json("GET", "/v1/documents", None);
    assert_eq!(docs["documents"].as_array().unwrap().len(), 3);

    // The same upload again changes nothing; a changed one replaces it.
    let again = s.json(
        "POST",
        "/v1/documents",
        Some(json!({"name": "zebra-plan.md", "text": text})),
    );
    assert_eq!(again["stats"]["initiatives"]["added"], 0, "{again}");
    assert_eq!(again["counts"], up["counts"]);

    let del = s.json("DELETE", "/v1/documents/zebra-plan", None);
    assert_eq!(del["counts"]["documents"], 2, "{del}");
    let hits = s.json(
        "POST",
        "/v1/search",
        Some(json!({"query": "zebra crossings near primary school", "k": 3})),
    );
    assert!(hits["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["doc"]["id"] != "zebra-plan"));
    assert_eq!(s.call("GET", "/v1/documents/zebra-plan", None).status, 404);
}

#[test]
fn a_read_only_server_refuses_writes() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &["--read-only"]);
    let r = s.call(
        "POST",
        "/v1/documents",
        Some(r#"{"name": "a.txt", "text": "Some text here."}"#),
    );
    assert_eq!((r.status, r.error_code().as_str()), (403, "read_only"));
    assert_eq!(
        s.json("GET", "/v1/documents", None)["documents"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_index_run_in_another_process_becomes_visible_without_a_restart() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &[]);
    let before = s.json("GET", "/v1/info", None)["generation"]
        .as_u64()
        .unwrap();
    let extra = dir.path().join("harbour.txt");
    std::fs::write(
        &extra,
        "Harbour ferries\n\nThe harbour ferries run every ten minutes across the bay.\n",
    )
    .unwrap();
    serve_support::index(HASH, dir.path(), &extra);
    let started = Instant::now();
    loop {
        let info = s.json("GET", "/v1/info", None);
        if info["generation"].as_u64().unwrap() != before {
            assert_eq!(info["counts"]["documents"], 3);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server never saw the new generation"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let hits = s.json(
        "POST",
        "/v1/search",
        Some(json!({"query": "harbour ferries across the bay", "k": 1})),
    );
    assert_eq!(hits["results"][0]["doc"]["id"], "harbour", "{hits}");
}

#[test]
fn with_a_key_every_route_but_health_needs_it_and_the_key_is_not_logged() {
    let dir = seed_index(HASH);
    let key = "s3cret-key-for-test";
    let s = Server::start(HASH, dir.path(), &["--api-key", key]);
    assert_eq!(s.call_anon("GET", "/health", None).status, 200);
    for (m, p, b) in [
        ("GET", "/v1/info", None),
        ("POST", "/v1/search", Some(r#"{"query": "x"}"#)),
        ("GET", "/v1/documents", None),
        ("POST", "/v1/embeddings", Some(r#"{"input": "x"}"#)),
        ("GET", "/metrics", None),
        ("GET", "/openapi.json", None),
    ] {
        let r = s.call_anon(m, p, b);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (401, "unauthorized"),
            "{m} {p}"
        );
        assert_eq!(s.call(m, p, b).status, 200, "{m} {p} with the key");
    }
    let wrong = ureq::get(&format!("{}/v1/info", s.base))
        .set("Authorization", "Bearer s3cret-key-for-tesX")
        .call();
    assert!(matches!(wrong, Err(ureq::Error::Status(401, _))));
    let log = s.log.lock().unwrap().clone();
    assert!(log.contains("API key required"), "{log}");
    assert!(!log.contains(key), "the key appears in the log: {log}");
}

#[test]
fn a_public_address_without_a_key_is_refused_at_start() {
    let dir = seed_index(HASH);
    let out = simsum(HASH, &dir.path().join("idx"))
        .env_remove("SIMSUM_API_KEY")
        .args(["serve", "--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("without an API key") && err.contains("--api-key"),
        "{err}"
    );
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &[]);
    assert_eq!(s.call("GET", "/health", None).status, 200);
    let log = s.log.clone();
    assert_eq!(s.terminate(), Some(0), "{}", log.lock().unwrap());
}

#[test]
fn metrics_and_openapi_describe_the_server() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &[]);
    let first = s.json("POST", "/v1/search", Some(json!({"query": "trade"})));
    s.json(
        "POST",
        "/v1/embeddings",
        Some(json!({"input": ["a", "b", "c"]})),
    );
    // A repeated query is answered from the query cache, with the same answer.
    let again = s.json("POST", "/v1/search", Some(json!({"query": "trade"})));
    assert_eq!(first, again);
    let _ = s.call("GET", "/v1/items/none", None);
    let m = s.call("GET", "/metrics", None);
    assert!(m.content_type.unwrap().starts_with("text/plain"));
    for needle in [
        "simsum_http_requests_total{method=\"POST\",route=\"/v1/search\",status=\"200\"} 2",
        "simsum_http_requests_total{method=\"GET\",route=\"/v1/items/{id}\",status=\"404\"} 1",
        "simsum_http_request_duration_seconds_bucket{route=\"/v1/search\",le=\"+Inf\"} 2",
        "simsum_embed_cache_total{result=\"hit\"} 1",
        "simsum_embed_cache_total{result=\"miss\"} 4",
        "simsum_embed_batch_size_count",
        "simsum_embed_queue_depth 0",
    ] {
        assert!(m.body.contains(needle), "no `{needle}` in\n{}", m.body);
    }
    let api = s.json("GET", "/openapi.json", None);
    assert!(api["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/v1/search",
        "/v1/embeddings",
        "/v1/documents/{id}",
        "/v1/themes",
        "/v1/summarize",
    ] {
        assert!(
            api["paths"][p].is_object(),
            "{p} missing from /openapi.json"
        );
    }
    let page = s.call("GET", "/", None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<form id=\"search-form\""));
    for bad in ["http://", "https://", "//cdn"] {
        assert!(!page.body.contains(bad));
    }
}

fn embed_cli(model: &str, texts: &[&str]) -> Vec<(Vec<f64>, u64)> {
    let out = serve_support::support::output_with_stdin(
        std::process::Command::new(serve_support::BIN).args(["--model", model, "embed"]),
        texts.join("\n").as_bytes(),
    );
    assert!(
        out.status.success(),
        "simsum embed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let e = v["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            (e, v["n_tokens"].as_u64().unwrap())
        })
        .collect()
}

/// The OpenAI answer's vectors, decoded from float or base64.
fn vectors(v: &Value) -> Vec<Vec<f64>> {
    use base64::Engine as _;
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, d)| {
            assert_eq!(d["object"], "embedding");
            assert_eq!(d["index"], i);
            match &d["embedding"] {
                Value::String(b) => base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .unwrap()
                    .chunks(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                    .collect(),
                a => a
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect(),
            }
        })
        .collect()
}

fn assert_parity(model: &str, dir: &std::path::Path, tol: f64) {
    let texts = [
        "The city will build 500 homes for families.",
        "Chambers of commerce joined international organisations.",
        "short",
    ];
    let s = Server::start(model, dir, &[]);
    let cli = embed_cli(model, &texts);
    for (format, input_type) in [
        ("float", None),
        ("base64", None),
        ("float", Some("document")),
    ] {
        let mut req = json!({"input": texts, "model": "whatever", "encoding_format": format});
        if let Some(t) = input_type {
            // `document` is the passage prompt, `simsum embed`'s default.
            req["input_type"] = json!(t);
        }
        let r = s.json("POST", "/v1/embeddings", Some(req));
        assert_eq!(r["object"], "list");
        let got = vectors(&r);
        assert_eq!(got.len(), texts.len());
        for ((g, (want, _)), t) in got.iter().zip(&cli).zip(&texts) {
            let cos: f64 = g.iter().zip(want).map(|(a, b)| a * b).sum();
            let maxdiff = g
                .iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(
                maxdiff <= tol && cos > 0.9999,
                "{format} `{t}`: max diff {maxdiff}, cosine {cos}"
            );
        }
        let tokens: u64 = cli.iter().map(|c| c.1).sum();
        assert_eq!(
            r["usage"],
            json!({"prompt_tokens": tokens, "total_tokens": tokens})
        );
    }
    // A single string is one input.
    let one = s.json("POST", "/v1/embeddings", Some(json!({"input": texts[0]})));
    assert_eq!(vectors(&one).len(), 1);
}

#[test]
fn embeddings_equal_simsum_embed_with_the_hash_model() {
    let dir = seed_index(HASH);
    assert_parity(HASH, dir.path(), 1e-6);
}

/// The real default model (fetched by simsum's own acquisition code when absent, as the CLI
/// tests do): the server's batched vectors equal `simsum embed`'s.
#[test]
fn embeddings_equal_simsum_embed_with_the_real_model() {
    let model = simsum::model::DEFAULT_MODEL;
    let dir = seed_index(model);
    assert_parity(model, dir.path(), 1e-4);
}

/// The value with every number rounded to f32, so `0.2f32` printed through f64 equals `0.2`.
fn as_f32(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            json!(n.as_f64().map(|x| x as f32).unwrap_or_default())
        }
        serde_json::Value::Array(a) => a.iter().map(as_f32).collect(),
        serde_json::Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), as_f32(v))).collect(),
        other => other.clone(),
    }
}

#[test]
fn entity_filters_and_facets_answer_what_the_cli_prints_and_bad_names_are_400() {
    let dir = seed_index(HASH);
    let s = Server::start(HASH, dir.path(), &[]);
    let q = "training of local workers";
    let api = s.json(
        "POST",
        "/v1/search",
        Some(json!({"query": q, "k": 20, "filters": {"country": ["KE", "Angolan"], "year": []}})),
    );
    let cli = cli_json(
        HASH,
        dir.path(),
        &[
            "search",
            q,
            "-k",
            "20",
            "--json",
            "--country",
            "KE",
            "--country",
            "Angolan",
        ],
    );
    assert_eq!(api, cli);
    assert!(!api["results"].as_array().unwrap().is_empty());
    for h in api["results"].as_array().unwrap() {
        let codes: Vec<&str> = h["entities"]["countries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"KE") || codes.contains(&"AO"), "{h}");
    }
    let facets = s.json("GET", "/v1/facets", None);
    assert_eq!(facets, cli_json(HASH, dir.path(), &["facets", "--json"]));
    let orgs = s.json("GET", "/v1/facets?kind=org", None);
    assert!(orgs["countries"].as_array().unwrap().is_empty());
    assert!(!orgs["organisations"].as_array().unwrap().is_empty());
    let links = s.json("GET", "/v1/links?threshold=-1&year=2021", None);
    assert_eq!(
        links,
        cli_json(
            HASH,
            dir.path(),
            &["links", "--threshold=-1", "--year", "2021", "--json"]
        )
    );
    for (method, path, body, needle) in [
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "filters": {"country": ["Keyna"]}}"#),
            "Keyna",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "filters": {"org": ["NOPE"]}}"#),
            "NOPE",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "filters": {"year": [1700]}}"#),
            "1700",
        ),
        (
            "POST",
            "/v1/search",
            Some(r#"{"query": "x", "filters": {"city": ["Rome"]}}"#),
            "city",
        ),
        ("GET", "/v1/links?country=Atlantis", None, "Atlantis"),
        ("GET", "/v1/facets?kind=city", None, "city"),
        (
            "POST",
            "/v1/summarize",
            Some(r#"{"query": "x", "filters": {"org": ["NOPE"]}}"#),
            "NOPE",
        ),
    ] {
        let r = s.call(method, path, body);
        assert_eq!(r.status, 400, "{method} {path}: {}", r.body);
        assert_eq!(r.error_code(), "bad_request");
        assert!(r.body.contains(needle), "{}", r.body);
    }
    let themes = s.json("POST", "/v1/themes", Some(json!({"over": "document"})));
    for t in themes["themes"].as_array().unwrap() {
        let over = t["over"].as_array().unwrap();
        let sum: u64 = over.iter().map(|p| p["items"].as_u64().unwrap()).sum();
        assert_eq!(sum, t["size"].as_u64().unwrap(), "{t}");
    }
    let saved = s.json("GET", "/v1/themes", None);
    assert!(
        saved["themes"][0]["over"].is_array(),
        "the report is kept with its periods"
    );
    let r = s.call("POST", "/v1/themes", Some(r#"{"over": "week"}"#));
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("week"));
    let openapi = s.json("GET", "/openapi.json", None);
    assert!(openapi["paths"]["/v1/facets"].is_object());
    assert!(openapi["components"]["schemas"]["Filters"].is_object());
}
