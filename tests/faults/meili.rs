//! A private Meilisearch for the suite (its own data folder, port and master key), when the
//! binary is there: `FAULTS_MEILI_BIN`, else `/work/meili-bin/meilisearch` (or the build's
//! `/work/meili-build/release/meilisearch`), else `meilisearch` on the PATH. Without one the tests that need it say so and skip.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::{free_port, random_suffix, FaultDb, Http};

pub struct Meili {
    child: Child,
    pub addr: SocketAddr,
    pub key: String,
    pub url: String,
}

pub fn binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("FAULTS_MEILI_BIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    for built in ["/work/meili-bin/meilisearch", "/work/meili-build/release/meilisearch"] {
        if PathBuf::from(built).is_file() {
            return Some(PathBuf::from(built));
        }
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("meilisearch")).find(|p| p.is_file()))
}

impl Meili {
    pub async fn start(db: &FaultDb, bin: &PathBuf) -> Meili {
        let port = free_port();
        let key = format!("faults-master-key-{}", random_suffix());
        let dir = db.dir.join("meili");
        let log = std::fs::File::create(db.dir.join("meili.log")).expect("meili log");
        let child = Command::new(bin)
            .arg("--db-path")
            .arg(dir.join("data.ms"))
            .arg("--dump-dir")
            .arg(dir.join("dumps"))
            .arg("--snapshot-dir")
            .arg(dir.join("snapshots"))
            .args(["--http-addr", &format!("127.0.0.1:{port}"), "--master-key", &key, "--no-analytics"])
            .args(["--max-indexing-threads", "1", "--env", "development"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start meilisearch");
        let m = Meili { child, addr: ([127, 0, 0, 1], port).into(), url: format!("http://127.0.0.1:{port}"), key };
        let http = Http::new(Duration::from_secs(5));
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if let Ok((200, _)) = http.get(&format!("{}/health", m.url), None).await {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("meilisearch did not start; see {}", db.dir.join("meili.log").display());
    }

    /// Every document of an index (id and price), straight from Meilisearch.
    pub async fn documents(&self, index: &str) -> Vec<Value> {
        let http = Http::new(Duration::from_secs(30));
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let url = format!("{}/indexes/{index}/documents?limit=1000&offset={offset}&fields=id,price,name", self.url);
            let r = http.get(&url, Some(&self.key)).await;
            let v = match r {
                Ok((200, v)) => v,
                Ok((404, _)) => return out,
                other => panic!("documents of {index}: {other:?}"),
            };
            let batch = v["results"].as_array().cloned().unwrap_or_default();
            let n = batch.len();
            out.extend(batch);
            if n < 1000 {
                return out;
            }
            offset += n;
        }
    }
}

impl Drop for Meili {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (count, checksum) of `id:price` pairs, sorted by id: the same for the index and the
/// database when they agree.
pub fn checksum(pairs: &mut [(i64, f64)]) -> (usize, String) {
    pairs.sort_by_key(|(id, _)| *id);
    let text: String = pairs.iter().map(|(id, p)| format!("{id}:{p:.2};")).collect();
    (pairs.len(), hex::encode(&Sha256::digest(text.as_bytes())[..8]))
}
