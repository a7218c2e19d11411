//! A `simsum serve` process on port 0 for the server's tests, and a small HTTP client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_simsum");
/// The model-free embedder, where the real model is not the point.
pub const HASH: &str = "hash:64";

#[path = "../support/mod.rs"]
pub mod support;
pub use support::seeds::seed_dir;

pub fn simsum(model: &str, index: &Path) -> Command {
    let mut c = support::simsum();
    c.arg("--model").arg(model).arg("--index").arg(index);
    c
}

/// A fresh index of the seed reports.
pub fn seed_index(model: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    index(model, dir.path(), &seed_dir());
    dir
}

/// `simsum index INPUT` into `dir/idx`, which must succeed.
pub fn index(model: &str, dir: &Path, input: &Path) {
    let out = simsum(model, &dir.join("idx"))
        .arg("index")
        .arg(input)
        .output()
        .unwrap();
    support::assert_success(&out);
}

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: Arc<Mutex<String>>,
    pub key: Option<String>,
}

impl Server {
    /// Starts `simsum serve` on 127.0.0.1:0 over `dir/idx` and waits for its address.
    pub fn start(model: &str, dir: &Path, extra: &[&str]) -> Server {
        let mut child = simsum(model, &dir.join("idx"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let l = log.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut line = String::new();
            let mut sent = false;
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                l.lock().unwrap().push_str(&line);
                if !sent {
                    if let Some(a) = line.split("listening on http://").nth(1) {
                        let addr = a.split_whitespace().next().unwrap().to_string();
                        let _ = tx.send(addr);
                        sent = true;
                    }
                }
                line.clear();
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start: {}", log.lock().unwrap());
            }
        };
        let key = extra
            .windows(2)
            .find(|w| w[0] == "--api-key")
            .map(|w| w[1].to_string());
        Server {
            child,
            base: format!("http://{addr}"),
            log,
            key,
        }
    }

    /// Sends a request (with the key when the server has one); returns status, body and the
    /// Retry-After header.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let mut r = ureq::request(method, &format!("{}{path}", self.base))
            .timeout(Duration::from_secs(120));
        if let Some(k) = &self.key {
            r = r.set("Authorization", &format!("Bearer {k}"));
        }
        send(r, body)
    }

    /// Like [`Server::call`], without the key.
    pub fn call_anon(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let r =
            ureq::request(method, &format!("{}{path}", self.base)).timeout(Duration::from_secs(60));
        send(r, body)
    }

    /// A 200 answer's JSON (panics with the body otherwise).
    pub fn json(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let b = body.map(|b| b.to_string());
        let r = self.call(method, path, b.as_deref());
        assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", r.body))
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code();
            }
            if started.elapsed() > Duration::from_secs(30) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
    pub content_type: Option<String>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The error code of an error answer, checking the error shape on the way.
    pub fn error_code(&self) -> String {
        let v = self.json();
        assert!(v["error"]["message"].is_string(), "{}", self.body);
        v["error"]["code"].as_str().unwrap().to_string()
    }
}

fn send(r: ureq::Request, body: Option<&str>) -> Reply {
    let res = match body {
        Some(b) => r.set("Content-Type", "application/json").send_string(b),
        None => r.call(),
    };
    let resp = match res {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = resp.status();
    let retry_after = resp.header("Retry-After").map(str::to_string);
    let content_type = resp.header("Content-Type").map(str::to_string);
    let mut body = String::new();
    resp.into_reader().read_to_string(&mut body).unwrap();
    Reply {
        status,
        body,
        retry_after,
        content_type,
    }
}
