//! What every fault test stands on: its own database `tp_faults_<random>` (dropped at the
//! end, even when the test fails), the real `tradeport` binary started as a web server or a
//! worker on loopback ports with the services reached through fault proxies, an HTTP client,
//! SQL answers as JSON, and the one figure line each scenario prints.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::Value;

use crate::proxy::Proxy;

pub const PASSWORD: &str = "faults-password-1";

/// The PostgreSQL server the suite uses (never stopped; faults go through the proxy).
pub fn pg_server() -> String {
    std::env::var("FAULTS_PG_SERVER").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn pg_addr() -> SocketAddr {
    std::env::var("FAULTS_PG_ADDR").ok().and_then(|a| a.parse().ok()).unwrap_or(([127, 0, 0, 1], 5432).into())
}

pub fn redis_addr() -> SocketAddr {
    std::env::var("FAULTS_REDIS_ADDR").ok().and_then(|a| a.parse().ok()).unwrap_or(([127, 0, 0, 1], 6379).into())
}

/// A duration in seconds from the environment (for quick runs), else the default.
pub fn env_secs(name: &str, default: f64) -> Duration {
    let s = std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(default);
    Duration::from_secs_f64(s.max(0.0))
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}

/// A free loopback port (bound and released; the app binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port()
}

/// The test's own database, created fresh and migrated by `tradeport migrate`; dropped on
/// drop (with `FORCE`, so a crashed app cannot keep it).
pub struct FaultDb {
    pub name: String,
    /// Straight to PostgreSQL (the test's own checks never go through a proxy).
    pub url: String,
    pub dir: PathBuf,
}

impl FaultDb {
    pub fn create(scenario: &str) -> FaultDb {
        let name = format!("tp_faults_{}", random_suffix());
        let mut admin = PgConnection::establish(&format!("{}/postgres", pg_server())).expect("connect to PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).expect("work dir");
        let db = FaultDb { url: format!("{}/{name}", pg_server()), name, dir };
        let out = db.cli(&["migrate"]).output().expect("run tradeport migrate");
        assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
        println!("{scenario}: database {} in {}", db.name, db.dir.display());
        db
    }

    /// `tradeport <args>` against this database, directly (no proxy).
    pub fn cli(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tradeport"));
        c.args(args).envs(base_env(&self.dir)).env("DATABASE_URL", &self.url).current_dir(source_dir());
        c
    }

    /// The database URL through a proxy.
    pub fn url_via(&self, proxy: &Proxy) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", proxy.port, self.name)
    }

    /// Rows of `query` as JSON objects.
    pub fn rows(&self, query: &str) -> Vec<Value> {
        let v = self.json(&format!("SELECT coalesce(json_agg(t), '[]'::json)::text AS j FROM ({query}) t"));
        v.as_array().cloned().unwrap_or_default()
    }

    /// One value: the first column of the first row, as JSON (null when there is none).
    pub fn value(&self, query: &str) -> Value {
        self.json(&format!("SELECT coalesce((SELECT to_json(x) FROM ({query}) t(x) LIMIT 1), 'null'::json)::text AS j"))
    }

    pub fn int(&self, query: &str) -> i64 {
        let v = self.value(query);
        v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(0)
    }

    pub fn exec(&self, sql: &str) {
        let mut c = PgConnection::establish(&self.url).expect("connect");
        c.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn json(&self, sql: &str) -> Value {
        #[derive(QueryableByName)]
        struct J {
            #[diesel(sql_type = Text)]
            j: String,
        }
        let mut c = PgConnection::establish(&self.url).expect("connect");
        let row: J = diesel::sql_query(sql).get_result(&mut c).unwrap_or_else(|e| panic!("{sql}: {e}"));
        serde_json::from_str(&row.j).expect("json")
    }
}

impl Drop for FaultDb {
    fn drop(&mut self) {
        if std::env::var("FAULTS_KEEP_DB").is_ok() {
            println!("kept database {} (FAULTS_KEEP_DB)", self.name);
            return;
        }
        if let Ok(mut admin) = PgConnection::establish(&format!("{}/postgres", pg_server())) {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin);
        }
        // The processes' logs stay for a post-mortem when the test failed.
        if std::thread::panicking() {
            println!("logs kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn source_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What every process of the suite gets: the test profile (quiet logs, local webhook
/// receivers allowed), absolute resource paths, data under the run's own folder.
fn base_env(dir: &std::path::Path) -> Vec<(String, String)> {
    let src = source_dir();
    vec![
        ("TRADEPORT_PROFILE".into(), "test".into()),
        ("TRADEPORT_CONFIG_DIR".into(), src.join("config").display().to_string()),
        ("TRADEPORT__LOG__FILTER".into(), "warn,tradeport=info".into()),
        ("TRADEPORT__SERVER__MEDIA_DIR".into(), dir.join("media").display().to_string()),
        ("TRADEPORT__EXCHANGE__DIR".into(), dir.join("exchange").display().to_string()),
        ("TRADEPORT__DOCUMENTS__EDO_DIR".into(), dir.join("edo").display().to_string()),
        ("RUST_BACKTRACE".into(), "1".into()),
        // `tradeport worker`'s probe and metrics endpoint on a free port (several run at once).
        ("TRADEPORT__WORKER__BIND".into(), "127.0.0.1:0".into()),
    ]
}

/// A running `tradeport` process (web server or worker) with its log file.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
    pub base: String,
}

impl Proc {
    /// `tradeport <args>` with `env` on top of the suite's environment; the web server
    /// listens on `port` (0: no web server).
    pub fn spawn(db: &FaultDb, name: &str, args: &[&str], port: u16, env: &[(&str, String)]) -> Proc {
        let log = db.dir.join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("log file");
        let mut c = Command::new(env!("CARGO_BIN_EXE_tradeport"));
        c.args(args)
            .envs(base_env(&db.dir))
            .env("TRADEPORT_BIND", format!("127.0.0.1:{port}"))
            .current_dir(source_dir())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file);
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.spawn().expect("start tradeport");
        Proc { name: name.to_owned(), child: Some(child), log, base: format!("http://127.0.0.1:{port}") }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Waits until `/healthz` answers (the process is up; the database may not be).
    pub async fn wait_up(&self, http: &Http, timeout: Duration) {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Ok((200, _)) = http.get(&format!("{}/healthz", self.base), None).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} did not come up in {timeout:?}; log: {}", self.name, self.tail());
    }

    /// Sends a signal (`TERM`, `KILL`) by pid.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill").arg(format!("-{sig}")).arg(self.pid().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{sig} {}", self.pid());
    }

    /// Waits for the process to exit (`None` if it is still running after `timeout`).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// [`Proc::wait_exit`] without blocking the test's runtime.
    pub async fn exited(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(status) = self.wait_exit(Duration::ZERO) {
                return Some(status);
            }
            if Instant::now() >= until || self.child.is_none() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `kill -9` and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The last lines of the log.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// An HTTP client (optionally from a given loopback source address, so per-address rate
/// limits see distinct clients).
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

pub type Answer = Result<(u16, Value), String>;

impl Http {
    pub fn new(timeout: Duration) -> Http {
        Http::from(None, timeout)
    }

    pub fn from(source: Option<IpAddr>, timeout: Duration) -> Http {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(source)
            .pool_max_idle_per_host(4)
            .build()
            .expect("http client");
        Http { client }
    }

    pub async fn get(&self, url: &str, token: Option<&str>) -> Answer {
        self.send(self.client.get(url), token, &[], None).await
    }

    pub async fn post(&self, url: &str, body: &Value, token: Option<&str>, headers: &[(&str, String)]) -> Answer {
        self.send(self.client.post(url), token, headers, Some(body.to_string())).await
    }

    pub async fn patch(&self, url: &str, body: &Value, token: Option<&str>) -> Answer {
        self.send(self.client.patch(url), token, &[], Some(body.to_string())).await
    }

    async fn send(
        &self,
        mut req: reqwest::RequestBuilder,
        token: Option<&str>,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> Answer {
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        let res = req.send().await.map_err(|e| format!("{e}"))?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(|e| format!("body: {e}"))?;
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, v))
    }
}

/// Prints the scenario's figure line (SECURITY.md: one JSON line per scenario).
pub fn figure(v: &Value) {
    println!("{v}");
    if let Ok(path) = std::env::var("FAULTS_FIGURES") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{v}");
        }
    }
}

/// Seconds with one decimal, for figures.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

/// A runtime for one test (current thread; the proxies have their own).
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}
