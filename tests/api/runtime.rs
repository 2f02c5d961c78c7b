//! The process as an operator runs it: graceful shutdown of `tradeport serve` and
//! `tradeport worker` on SIGTERM (the real binary, in its own database), the worker's probe
//! endpoint, metrics after traffic, and JSON logs parsed line by line.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{json, Value};

use tradeport::app::{build_server, AppState};
use tradeport::db::{build_pool, in_tenant};
use tradeport::web::Data;

use crate::catalog::api;
use crate::helpers::{database_url, prepare_database, settings, unique, TestApp, TestTenant};
use crate::identity::INNS;
use crate::ordering::{buyer, store};

// ---------------------------------------------------------------------------------------
// Harness: an own database, the binary as a child process, a table lock held elsewhere.

/// A database of its own (the binary's embedded worker claims every job in its database, so
/// it must not share one with other tests); dropped at the end.
struct OwnDb {
    url: String,
    name: String,
}

impl OwnDb {
    fn new() -> OwnDb {
        let name = unique("tradeport_rt_");
        let base = database_url();
        let (server, _) = base.rsplit_once('/').expect("database url has a path");
        let url = format!("{server}/{name}");
        prepare_database(&url);
        OwnDb { url, name }
    }
}

impl Drop for OwnDb {
    fn drop(&mut self) {
        let base = database_url();
        let (server, _) = base.rsplit_once('/').expect("database url has a path");
        if let Ok(mut c) = PgConnection::establish(&format!("{server}/postgres")) {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)).execute(&mut c);
        }
    }
}

/// An in-process app on `url` (like `TestApp::spawn`), to set up tenants and read results.
async fn app_on(url: &str) -> TestApp {
    tradeport::telemetry::init_for_test();
    prepare_database(url);
    let mut s = settings(url);
    s.server.workers = 1;
    s.database.pool_max_size = 4;
    let pool = build_pool(&s.database, None);
    let state = Data::new(AppState::build(s, Some(pool.clone())).expect("state"));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    actix_web::rt::spawn(build_server(state.clone(), listener).expect("server"));
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        state,
        pool,
        // As TestApp::spawn: a loaded machine can take longer than awc's default 5 s.
        client: awc::Client::builder().disable_redirects().timeout(Duration::from_secs(120)).finish(),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// `tradeport <args>` with JSON logs at info, nothing inherited from this environment.
struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    base: String,
}

impl Proc {
    fn spawn(args: &[&str], db: &str, port: u16, env: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tradeport"));
        cmd.args(args)
            .env_clear()
            .env("DATABASE_URL", db)
            .env("TRADEPORT_PROFILE", "test")
            .env("TRADEPORT_JWT_SECRET", tradeport::config::DEV_JWT_SECRET)
            .env("TRADEPORT_BIND", format!("127.0.0.1:{port}"))
            .env("TRADEPORT__WORKER__BIND", format!("127.0.0.1:{port}"))
            .env("TRADEPORT__LOG__FORMAT", "json")
            .env("TRADEPORT__LOG__FILTER", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("tradeport starts");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        Proc { child, lines, base: format!("http://127.0.0.1:{port}") }
    }

    fn sigterm(&self) {
        self.signal("TERM");
    }

    fn signal(&self, name: &str) {
        let ok =
            Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().expect("kill runs");
        assert!(ok.success());
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(Instant::now() < until, "tradeport did not exit within {within:?}:\n{}", self.stderr());
            sleep(Duration::from_millis(50)).await;
        }
    }

    fn stderr(&self) -> String {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).join("\n")
    }

    /// Every stderr line, each of which must be one JSON object.
    fn json_lines(&self) -> Vec<Value> {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
            .collect()
    }

    /// Waits for `/readyz` to answer 200.
    async fn ready(&mut self) {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.exited() {
                panic!("tradeport exited early ({s}):\n{}", self.stderr());
            }
            if let Ok((200, _, _)) = get(&self.base, "/readyz", None).await {
                return;
            }
            assert!(Instant::now() < until, "never ready:\n{}", self.stderr());
            sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One request on its own connection: (status, x-request-id, body), or the connection error.
async fn get(base: &str, path: &str, token: Option<&str>) -> Result<(u16, String, String), String> {
    let client = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
    let mut req = client.get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let mut res = req.send().await.map_err(|e| e.to_string())?;
    let body = res.body().limit(8 * 1024 * 1024).await.map_err(|e| e.to_string())?;
    let id = res.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Ok((res.status().as_u16(), id, String::from_utf8_lossy(&body).into_owned()))
}

/// `ACCESS EXCLUSIVE` on `schema.table`, held by a connection of its own until released.
struct TableLock {
    release: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TableLock {
    fn take(url: &str, table: &str) -> TableLock {
        let (url, table) = (url.to_owned(), table.to_owned());
        let (locked_tx, locked_rx) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut c = PgConnection::establish(&url).expect("connect");
            c.batch_execute(&format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).expect("lock");
            locked_tx.send(()).expect("tell");
            let _ = release_rx.recv();
            c.batch_execute("COMMIT").expect("commit");
        });
        locked_rx.recv_timeout(Duration::from_secs(20)).expect("table locked");
        TableLock { release: Some(release), thread: Some(thread) }
    }

    fn release(&mut self) {
        self.release.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        self.release();
    }
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(c: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(c).map(|r| r.n).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Sessions of this database waiting for a lock.
async fn lock_waiters(app: &TestApp) -> i64 {
    app.db(|c| {
        count(
            c,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    })
    .await
}

async fn until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let end = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < end, "{what}: not within {within:?}");
        sleep(Duration::from_millis(50)).await;
    }
}

/// The value of the sample `name{labels}` (labels exactly as Prometheus prints them).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

fn access_lines(logs: &[Value]) -> Vec<&Value> {
    logs.iter().filter(|l| l["target"] == "tradeport::access" && l["message"] == "request").collect()
}

/// The reminder jobs these tests queue (in their own databases).
const MINE: &str = "SELECT count(*) AS n FROM public.jobs WHERE kind = 'reservation.remind'";

/// Queues `n` reservation reminders; each reads the tenant's `reservations` table (and finds
/// no such reservation, which is a success).
async fn insert_reminders(app: &TestApp, tenant_id: i64, n: i64) {
    app.db(move |c| {
        for i in 0..n {
            diesel::sql_query("INSERT INTO public.jobs (kind, tenant_id, payload) VALUES ($1, $2, $3)")
                .bind::<Text, _>(tradeport::ordering::reservations::REMIND_JOB)
                .bind::<BigInt, _>(tenant_id)
                .bind::<diesel::sql_types::Jsonb, _>(json!({"reservation_id": 900_000 + i}))
                .execute(c)
                .expect("job");
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// tradeport serve

#[actix_web::test]
async fn sigterm_drains_then_finishes_slow_requests_refuses_new_ones_and_exits_0() {
    let db = OwnDb::new();
    let app = app_on(&db.url).await;
    let (t, _) = store(&app).await;
    let (token, _, _) = buyer(&app, &t, INNS[0]).await;
    // Three reminders for the embedded worker, the first of which waits on a second lock.
    let mut jobs_lock = TableLock::take(&db.url, &format!("{}.reservations", t.tenant.schema.as_str()));
    insert_reminders(&app, t.tenant.id, 3).await;
    let port = free_port();
    let mut proc = Proc::spawn(
        &["serve"],
        &db.url,
        port,
        &[
            ("TRADEPORT__SERVER__DRAIN_SECS", "4"),
            ("TRADEPORT__SERVER__SHUTDOWN_TIMEOUT_SECS", "20"),
            ("TRADEPORT__DATABASE__LOCK_TIMEOUT_MS", "60000"),
            ("TRADEPORT__DATABASE__POOL_MAX_SIZE", "16"),
        ],
    );
    proc.ready().await;

    // Six requests that wait on a lock the test holds: slow requests in flight.
    let mut lock = TableLock::take(&db.url, &format!("{}.products", t.tenant.schema.as_str()));
    let slow: Vec<_> = (0..6)
        .map(|_| {
            let (base, path, token) = (proc.base.clone(), api(&t, "/products"), token.clone());
            actix_web::rt::spawn(async move { get(&base, &path, Some(&token)).await })
        })
        .collect();
    until("six requests and a job waiting", Duration::from_secs(20), async || lock_waiters(&app).await == 7).await;
    assert_eq!(app.db(|c| count(c, &format!("{MINE} AND attempts = 1"))).await, 3, "the worker claimed all three");

    let term = Instant::now();
    proc.sigterm();
    // Draining: not ready, still serving.
    until(
        "readyz 503",
        Duration::from_secs(2),
        async || matches!(get(&proc.base, "/readyz", None).await, Ok((503, _, ref b)) if b.contains("shutting_down")),
    )
    .await;
    let ready_off = term.elapsed();
    let (status, _, _) = get(&proc.base, "/healthz", None).await.expect("served while draining");
    assert_eq!(status, 200);
    assert!(term.elapsed() < Duration::from_secs(4), "checked within the drain");
    // The embedded worker hands back the two reminders it has not started, at once.
    until("two released", Duration::from_secs(3), async || {
        app.db(|c| count(c, &format!("{MINE} AND attempts = 0 AND run_at <= now()"))).await == 2
    })
    .await;

    // After the drain (4 s): new connections are refused, the slow ones are still waiting.
    until("connections refused", Duration::from_secs(6), async || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
    })
    .await;
    let refused_after = term.elapsed();
    assert!(refused_after >= Duration::from_millis(3900), "refused only after the drain: {refused_after:?}");
    assert!(proc.exited().is_none(), "still finishing in-flight requests");
    assert!(slow.iter().all(|h| !h.is_finished()), "the slow requests are still waiting");

    sleep(Duration::from_millis(500)).await;
    lock.release();
    jobs_lock.release();
    let released = term.elapsed();
    let mut ids = HashSet::new();
    for h in slow {
        let (status, id, body) = h.await.expect("join").expect("a complete answer");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("whole JSON body");
        assert!(v["items"].as_array().is_some_and(|i| !i.is_empty()), "{v}");
        ids.insert(id);
    }
    let status = proc.wait_exit(Duration::from_secs(15)).await;
    let exited = term.elapsed();
    assert!(status.success(), "exit status {status}:\n{}", proc.stderr());
    eprintln!(
        "serve shutdown: readyz 503 after {ready_off:?}, connections refused after {refused_after:?}, \
         lock released at {released:?}, 6/6 slow requests answered 200, exit 0 after {exited:?}"
    );

    // JSON logs: one access line per request with its id, tenant, route pattern and duration.
    let logs = proc.json_lines();
    let access = access_lines(&logs);
    for id in &ids {
        let line = access.iter().find(|l| l["request_id"] == id.as_str()).unwrap_or_else(|| panic!("no line for {id}"));
        assert_eq!(line["tenant"], t.slug.as_str(), "{line}");
        assert_eq!(
            (line["method"].as_str(), line["route"].as_str()),
            (Some("GET"), Some("/s/{tenant}/api/v1/products"))
        );
        assert_eq!((line["status"].as_u64(), line["level"].as_str()), (Some(200), Some("INFO")));
        assert!(line["duration_ms"].as_f64().is_some_and(|d| d >= 4000.0), "waited for the lock: {line}");
    }
    let readyz = access.iter().find(|l| l["route"] == "/readyz" && l["status"] == 503).expect("readyz line");
    assert_eq!(readyz["tenant"], "platform");
    assert!(logs.iter().any(|l| l["signal"] == "SIGTERM" && l["drain_secs"] == 4), "the shutdown is logged");
    assert!(logs.iter().any(|l| l["message"] == "tradeport stopped"));

    // The embedded worker finished its reminder and stopped, leaving no job leased.
    let leased =
        app.db(|c| count(c, "SELECT count(*) AS n FROM public.jobs WHERE run_at > now() AND attempts > 0")).await;
    let left = app.db(|c| count(c, &format!("{MINE} AND attempts = 0"))).await;
    assert_eq!((leased, left), (0, 2));
    assert!(logs.iter().any(|l| l["message"] == "job" && l["kind"] == "reservation.remind" && l["outcome"] == "ok"));
}

#[actix_web::test]
async fn a_request_that_fails_logs_its_error_with_the_request_id() {
    // The shared test database; --no-worker, so no job of another test is touched.
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (token, _, _) = buyer(&app, &t, INNS[1]).await;
    let port = free_port();
    let mut proc = Proc::spawn(
        &["serve", "--no-worker"],
        &database_url(),
        port,
        &[("TRADEPORT__DATABASE__LOCK_TIMEOUT_MS", "300")],
    );
    proc.ready().await;
    let mut lock = TableLock::take(&database_url(), &format!("{}.products", t.tenant.schema.as_str()));
    let (status, id, body) = get(&proc.base, &api(&t, "/products"), Some(&token)).await.expect("answer");
    lock.release();
    assert_eq!(status, 503, "{body}");
    assert!(!id.is_empty());
    // Ctrl-C stops it the same way.
    proc.signal("INT");
    assert!(proc.wait_exit(Duration::from_secs(15)).await.success(), "{}", proc.stderr());

    let logs = proc.json_lines();
    assert!(logs.iter().any(|l| l["signal"] == "SIGINT"), "the shutdown is logged");
    let error = logs
        .iter()
        .find(|l| l["message"] == "statement cancelled by a timeout")
        .unwrap_or_else(|| panic!("the cause is logged:\n{}", proc.stderr()));
    assert_eq!(error["level"], "WARN");
    assert_eq!(error["spans"][0]["request_id"], id.as_str(), "{error}");
    assert_eq!(error["spans"][0]["tenant"], t.slug.as_str(), "{error}");
    let access = access_lines(&logs);
    let line = access.iter().find(|l| l["request_id"] == id.as_str()).expect("access line");
    assert_eq!((line["status"].as_u64(), line["level"].as_str()), (Some(503), Some("WARN")), "{line}");
}

#[actix_web::test]
async fn a_hundred_checkouts_with_sigterm_in_the_middle_leave_only_whole_orders() {
    let db = OwnDb::new();
    let app = app_on(&db.url).await;
    let (t, staff) = store(&app).await;
    for sku in ["PCS-1", "M-1"] {
        let r = app
            .json_request(
                awc::http::Method::PUT,
                &api(&t, &format!("/admin/products/{sku}/stock")),
                &json!([{"warehouse": "main", "quantity": "1000"}]),
                Some(&staff),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let mut buyers = Vec::new();
    for inn in INNS.iter().take(5) {
        buyers.push(buyer(&app, &t, inn).await.0);
    }
    let port = free_port();
    let mut proc = Proc::spawn(
        &["serve"],
        &db.url,
        port,
        &[("TRADEPORT__SERVER__DRAIN_SECS", "1"), ("TRADEPORT__DATABASE__POOL_MAX_SIZE", "12")],
    );
    proc.ready().await;

    // 100 checkouts, one every 40 ms, each on its own connection; SIGTERM after one second, so
    // about half are sent before the listener closes (1 s of drain) and half after.
    let started = Instant::now();
    let mut handles = Vec::new();
    for i in 0..100u64 {
        let (base, token, path) = (proc.base.clone(), buyers[i as usize % 5].clone(), api(&t, "/orders"));
        handles.push(actix_web::rt::spawn(async move {
            sleep(Duration::from_millis(40 * i)).await;
            let client = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
            let key = format!("rt-{i}");
            let sent = client
                .post(format!("{base}{path}"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Idempotency-Key", key.clone()))
                .send_json(&json!({"lines": [{"sku": "PCS-1", "qty": 2}, {"sku": "M-1", "qty": "1.5"}]}))
                .await;
            let mut r = match sent {
                Ok(r) => r,
                Err(e) => return Err(format!("not sent: {e}")),
            };
            match r.body().await {
                Ok(body) => match serde_json::from_slice::<Value>(&body) {
                    Ok(v) => Ok((key, r.status().as_u16(), v)),
                    Err(e) => Err(format!("body not JSON: {e}")),
                },
                Err(e) => Err(format!("body cut: {e}")),
            }
        }));
    }
    sleep(Duration::from_millis(1000)).await;
    let term = Instant::now();
    proc.sigterm();
    let mut answered: HashMap<String, (u16, Value)> = HashMap::new();
    let mut not_sent = 0;
    for h in handles {
        match h.await.expect("join") {
            Ok((key, status, v)) => {
                answered.insert(key, (status, v));
            }
            Err(e) => {
                assert!(e.starts_with("not sent"), "an answer was cut short: {e}");
                not_sent += 1;
            }
        }
    }
    let status = proc.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "exit {status}:\n{}", proc.stderr());
    let exit_after = term.elapsed();
    let created: HashMap<&String, &Value> =
        answered.iter().filter(|(_, (s, _))| *s == 201).map(|(k, (_, v))| (k, v)).collect();
    let other: Vec<_> = answered.iter().filter(|(_, (s, _))| *s != 201).collect();
    assert!(other.is_empty(), "every answer is 201 or no answer at all: {other:?}");
    assert!(
        !created.is_empty() && not_sent > 0,
        "SIGTERM fell in the middle: {} created, {not_sent} refused",
        created.len()
    );

    // Every order in the database is whole, and it is exactly those the clients were told of.
    #[derive(QueryableByName, Debug)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        number: String,
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = Text)]
        total: String,
        #[diesel(sql_type = Text)]
        lines: String,
        #[diesel(sql_type = Text)]
        line_sum: String,
        #[diesel(sql_type = Text)]
        allocated: String,
        #[diesel(sql_type = BigInt)]
        events: i64,
        #[diesel(sql_type = BigInt)]
        mails: i64,
    }
    let schema = t.tenant.schema.clone();
    let tenant_id = t.tenant.id;
    let rows: Vec<Row> = app
        .db(move |c| {
            in_tenant(c, &schema, |c| {
                Ok(diesel::sql_query(
                    "SELECT o.id, o.number, o.idempotency_key AS key, o.total::text AS total, \
                       (SELECT string_agg(l.sku || ':' || l.qty::numeric(14,1)::text, ',' ORDER BY l.sku) \
                          FROM order_lines l WHERE l.order_id = o.id) AS lines, \
                       (SELECT coalesce(sum(l.amount), 0)::text FROM order_lines l WHERE l.order_id = o.id) AS line_sum, \
                       (SELECT coalesce(sum(a.qty), 0)::numeric(14,1)::text FROM order_allocations a WHERE a.order_id = o.id) AS allocated, \
                       (SELECT count(*) FROM order_events e WHERE e.order_id = o.id) AS events, \
                       (SELECT count(*) FROM public.mail_outbox m WHERE (m.tenant_id = $1 OR m.tenant_id IS NULL) \
                          AND m.subject LIKE '%' || o.number || '%') AS mails \
                     FROM orders o ORDER BY o.id",
                )
                .bind::<BigInt, _>(tenant_id)
                .load(c)?)
            })
            .expect("orders")
        })
        .await;
    assert_eq!(rows.len(), created.len(), "an order exists exactly for each 201 ({not_sent} not sent)");
    let total = created.values().next().and_then(|v| v["total"].as_str()).expect("total").to_owned();
    for r in &rows {
        let answer = created.get(&r.key).unwrap_or_else(|| panic!("order {r:?} was never confirmed to its client"));
        assert_eq!(answer["number"].as_str(), Some(r.number.as_str()), "{r:?}");
        assert_eq!((r.lines.as_str(), r.allocated.as_str()), ("M-1:1.5,PCS-1:2.0", "3.5"), "{r:?}");
        assert_eq!((r.total.as_str(), r.line_sum.as_str()), (total.as_str(), total.as_str()), "{r:?}");
        assert!(r.events >= 1 && r.mails >= 1, "history and mail written with the order: {r:?}");
        assert!(r.id > 0);
    }
    let n = rows.len() as f64;
    let stock = |sku: &'static str| {
        let app = &app;
        let t = &t;
        async move { crate::ordering::stock_of(app, t, sku).await.parse::<f64>().expect("stock") }
    };
    assert_eq!(stock("PCS-1").await, 1000.0 - 2.0 * n, "stock taken once per order, never for a half order");
    assert_eq!(stock("M-1").await, 1000.0 - 1.5 * n);
    let leased =
        app.db(|c| count(c, "SELECT count(*) AS n FROM public.jobs WHERE run_at > now() AND attempts > 0")).await;
    assert_eq!(leased, 0, "the embedded worker left no job leased");
    eprintln!(
        "100 checkouts over 4 s, SIGTERM at {:?}: {} orders created and confirmed, {not_sent} refused before \
         sending, 0 half-written, 0 lost answers; exit 0 {exit_after:?} after SIGTERM",
        term.duration_since(started),
        rows.len()
    );
}

// ---------------------------------------------------------------------------------------
// tradeport worker

#[actix_web::test]
async fn the_worker_serves_probes_returns_unstarted_jobs_at_once_and_finishes_the_running_one() {
    let db = OwnDb::new();
    let app = app_on(&db.url).await;
    let t: TestTenant = app.new_tenant().await;
    let kind = tradeport::ordering::reservations::REMIND_JOB;
    // Five reminders, each of which reads the reservations table the test keeps locked.
    let mut lock = TableLock::take(&db.url, &format!("{}.reservations", t.tenant.schema.as_str()));
    insert_reminders(&app, t.tenant.id, 5).await;
    let port = free_port();
    let mut proc = Proc::spawn(&["worker"], &db.url, port, &[("TRADEPORT__DATABASE__LOCK_TIMEOUT_MS", "60000")]);
    proc.ready().await;
    assert_eq!(get(&proc.base, "/healthz", None).await.map(|r| r.0), Ok(200));
    assert_eq!(get(&proc.base, "/nothing-else", None).await.map(|r| r.0), Ok(404));
    // A second worker on the same probe address says so and stops.
    let mut second = Proc::spawn(&["worker"], &db.url, port, &[]);
    let status = second.wait_exit(Duration::from_secs(15)).await;
    assert!(!status.success());
    assert!(
        second.stderr().contains(&format!("tradeport: cannot listen on 127.0.0.1:{port} (worker.bind, for probes)")),
        "{}",
        second.stderr()
    );
    until("all five claimed, one running", Duration::from_secs(20), async || {
        let claimed = app.db(|c| count(c, &format!("{MINE} AND attempts = 1"))).await;
        claimed == 5 && lock_waiters(&app).await == 1
    })
    .await;
    let (_, _, m) = get(&proc.base, "/metrics", None).await.expect("metrics");
    assert_eq!(sample(&m, &format!("jobs_scheduled{{kind=\"{kind}\"}}")), Some(5.0), "{m}");
    assert_eq!(sample(&m, &format!("jobs_ready{{kind=\"{kind}\"}}")), Some(0.0), "{m}");
    assert_eq!(sample(&m, "jobs_queue_up"), Some(1.0));
    assert_eq!(sample(&m, "tradeport_shutting_down"), Some(0.0));
    assert!(m.contains("tradeport_build_info{git_sha="), "{m}");

    let term = Instant::now();
    proc.sigterm();
    until(
        "readyz 503",
        Duration::from_secs(2),
        async || matches!(get(&proc.base, "/readyz", None).await, Ok((503, _, ref b)) if b.contains("shutting_down")),
    )
    .await;
    // The four not started are back in the queue at once (lease cleared, attempt given back)
    // while the running one still waits on the lock.
    until("four released", Duration::from_secs(3), async || {
        app.db(|c| count(c, &format!("{MINE} AND attempts = 0 AND run_at <= now()"))).await == 4
    })
    .await;
    let released_after = term.elapsed();
    let (_, _, m) = get(&proc.base, "/metrics", None).await.expect("metrics while stopping");
    assert_eq!(sample(&m, &format!("jobs_released_total{{kind=\"{kind}\"}}")), Some(4.0), "{m}");
    assert_eq!(sample(&m, "tradeport_shutting_down"), Some(1.0));
    let running: i64 = app
        .db(|c| count(c, "SELECT min(id) AS n FROM public.jobs WHERE kind = 'reservation.remind' AND attempts = 1"))
        .await;
    sleep(Duration::from_millis(1000)).await;
    assert!(proc.exited().is_none(), "it waits for the running job");

    lock.release();
    let status = proc.wait_exit(Duration::from_secs(15)).await;
    let exited = term.elapsed();
    assert!(status.success(), "exit {status}:\n{}", proc.stderr());
    let (left, leased, gone) = app
        .db(move |c| {
            (
                count(c, MINE),
                count(c, &format!("{MINE} AND run_at > now()")),
                count(c, &format!("SELECT count(*) AS n FROM public.jobs WHERE id = {running}")),
            )
        })
        .await;
    assert_eq!((left, leased, gone), (4, 0, 0), "the running job is done, the others wait unleased");
    eprintln!("worker shutdown: 4 unstarted jobs released after {released_after:?}, running job finished, exit 0 after {exited:?}");

    let logs = proc.json_lines();
    let line = logs
        .iter()
        .find(|l| l["target"] == "tradeport::jobs" && l["message"] == "job")
        .unwrap_or_else(|| panic!("a job line:\n{}", proc.stderr()));
    assert_eq!(line["job_id"].as_i64(), Some(running), "{line}");
    assert_eq!((line["kind"].as_str(), line["tenant"].as_str()), (Some(kind), Some(t.slug.as_str())));
    assert_eq!((line["outcome"].as_str(), line["tenant_id"].as_i64()), (Some("ok"), Some(t.tenant.id)));
    assert!(line["duration_ms"].as_f64().is_some_and(|d| d >= 1000.0), "{line}");
    assert!(logs.iter().any(|l| l["count"] == 4 && l["message"].as_str().is_some_and(|m| m.contains("unstarted"))));

    // A job that outlives worker.shutdown_timeout_secs: the worker does not wait for ever; it
    // exits 1 and the job's transaction dies with its connection (it runs again later).
    let mut lock = TableLock::take(&db.url, &format!("{}.reservations", t.tenant.schema.as_str()));
    let mut proc = Proc::spawn(
        &["worker"],
        &db.url,
        port,
        &[("TRADEPORT__DATABASE__LOCK_TIMEOUT_MS", "60000"), ("TRADEPORT__WORKER__SHUTDOWN_TIMEOUT_SECS", "1")],
    );
    proc.ready().await;
    until("a job running", Duration::from_secs(20), async || lock_waiters(&app).await == 1).await;
    let term = Instant::now();
    proc.sigterm();
    let status = proc.wait_exit(Duration::from_secs(10)).await;
    let stopped = term.elapsed();
    assert_eq!(status.code(), Some(1), "{}", proc.stderr());
    assert!(stopped >= Duration::from_millis(900) && stopped < Duration::from_secs(5), "{stopped:?}");
    assert!(proc
        .json_lines()
        .iter()
        .any(|l| l["level"] == "ERROR"
            && l["message"].as_str().is_some_and(|m| m.contains("worker.shutdown_timeout_secs"))));
    lock.release();
    until("its transaction gone", Duration::from_secs(10), async || lock_waiters(&app).await == 0).await;
    assert_eq!(app.db(|c| count(c, MINE)).await, 4, "no job lost: the unfinished one is still queued");
}

// ---------------------------------------------------------------------------------------
// Metrics after traffic (in process)

#[actix_web::test]
async fn metrics_count_routes_tenants_jobs_the_queue_and_the_pool() {
    let app = TestApp::spawn_with(|s| s.metrics.tenant_labels = 1).await;
    let (a, b) = (app.new_tenant().await, app.new_tenant().await);
    for _ in 0..3 {
        assert_eq!(app.get(&format!("/s/{}/", a.slug), None).await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(app.get(&format!("/s/{}/", b.slug), None).await.status, 200);
    }
    let marker = unique("zzraw");
    for i in 0..2 {
        assert_eq!(app.get(&format!("/{marker}/{i}"), None).await.status, 404);
    }
    // Inside a tenant too: an unknown path is not a label (and counts for the tenant).
    assert_eq!(app.get(&format!("/s/{}/{marker}/x", b.slug), None).await.status, 404);

    // Jobs of kinds of this test only: 3 that fail for good, 1 that will retry, 1 later.
    let (dead, retry) = (unique("zzdead"), unique("zzretry"));
    let tenant = a.tenant.id;
    let (d, r) = (dead.clone(), retry.clone());
    app.db(move |c| {
        let mut insert = |kind: &str, max: i32, at: &str| {
            diesel::sql_query(format!(
                "INSERT INTO public.jobs (kind, tenant_id, max_attempts, run_at) VALUES ($1, $2, $3, {at})"
            ))
            .bind::<Text, _>(kind.to_owned())
            .bind::<BigInt, _>(tenant)
            .bind::<diesel::sql_types::Int4, _>(max)
            .execute(c)
            .expect("job")
        };
        for _ in 0..3 {
            insert(&d, 1, "now() - interval '90 seconds'");
        }
        insert(&r, 5, "now() - interval '1 second'");
        insert(&r, 5, "now() + interval '1 hour'");
    })
    .await;
    let m = app.get("/metrics", None).await.body;
    assert_eq!(sample(&m, &format!("jobs_ready{{kind=\"{dead}\"}}")), Some(3.0), "{m}");
    assert_eq!(sample(&m, &format!("jobs_ready{{kind=\"{retry}\"}}")), Some(1.0));
    assert_eq!(sample(&m, &format!("jobs_scheduled{{kind=\"{retry}\"}}")), Some(1.0));
    let age = sample(&m, &format!("jobs_oldest_ready_age_seconds{{kind=\"{dead}\"}}")).expect("age");
    assert!((90.0..300.0).contains(&age), "the oldest ready job waits since 90 s: {age}");

    let ran = tradeport::jobs::worker::run_once(&app.state, Some(tenant)).await.expect("run");
    assert!(ran >= 4, "{ran}");
    let m = app.get("/metrics", None).await.body;
    let has = |series: String, v: f64| assert_eq!(sample(&m, &series), Some(v), "{series} in\n{m}");
    has(format!("jobs_processed_total{{kind=\"{dead}\",outcome=\"dead\"}}"), 3.0);
    has(format!("jobs_processed_total{{kind=\"{retry}\",outcome=\"failed\"}}"), 1.0);
    has(format!("job_duration_seconds_count{{kind=\"{dead}\"}}"), 3.0);
    has(format!("jobs_dead{{kind=\"{dead}\"}}"), 3.0);
    has(format!("jobs_ready{{kind=\"{dead}\"}}"), 0.0);
    has(format!("jobs_oldest_ready_age_seconds{{kind=\"{dead}\"}}"), 0.0);
    has(format!("jobs_scheduled{{kind=\"{retry}\"}}"), 2.0);

    // Per tenant: the first one seen has its label, the other is `other`.
    has(format!("tenant_http_requests_total{{tenant=\"{}\"}}", a.slug), 3.0);
    has("tenant_http_requests_total{tenant=\"other\"}".into(), 3.0);
    assert!(!m.contains(&b.slug), "the second tenant has no label of its own");
    // Routes: patterns; unknown paths are one label and never show up raw.
    has("http_requests_total{method=\"GET\",route=\"/s/{tenant}/\",status=\"200\"}".into(), 5.0);
    has("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}".into(), 3.0);
    assert!(!m.contains(&marker), "raw paths never become labels");
    // Pool and build.
    has("db_pool_max_connections".into(), 4.0);
    assert!(sample(&m, "db_pool_wait_seconds_count").is_some_and(|n| n >= 1.0), "checkouts are timed");
    assert!(sample(&m, "db_pool_in_use_connections").is_some());
    assert!(
        m.contains(&format!(
            "tradeport_build_info{{git_sha=\"unknown\",profile=\"test\",version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{m}"
    );
    has("jobs_queue_up".into(), 1.0);

    let (d, r) = (dead, retry);
    app.db(move |c| {
        for k in [d, r] {
            diesel::sql_query("DELETE FROM public.jobs WHERE kind = $1")
                .bind::<Text, _>(k.clone())
                .execute(c)
                .expect("clean");
            diesel::sql_query("DELETE FROM public.dead_jobs WHERE kind = $1")
                .bind::<Text, _>(k)
                .execute(c)
                .expect("clean");
        }
    })
    .await;
}

/// `server.metrics_bind` moves `/metrics` off the public port (which the Ingress exposes) to a
/// port of its own, where the probes answer too.
#[actix_web::test]
async fn metrics_can_live_on_their_own_port_away_from_the_public_one() {
    let db = OwnDb::new();
    let (port, metrics_port) = (free_port(), free_port());
    let bind = format!("127.0.0.1:{metrics_port}");
    let mut serve = Proc::spawn(&["serve"], &db.url, port, &[("TRADEPORT__SERVER__METRICS_BIND", bind.as_str())]);
    serve.ready().await;
    assert_eq!(get(&serve.base, "/", None).await.map(|r| r.0), Ok(200));
    let public = get(&serve.base, "/metrics", None).await.expect("public port answers");
    assert_eq!(public.0, 404, "{}", public.2);
    assert!(!public.2.contains("http_requests_total"));
    let private = format!("http://{bind}");
    let scraped = get(&private, "/metrics", None).await.expect("metrics port answers");
    assert_eq!(scraped.0, 200);
    assert!(scraped.2.contains("http_requests_total"), "{}", scraped.2);
    assert_eq!(get(&private, "/healthz", None).await.map(|r| r.0), Ok(200));
    // Nothing else is served there.
    assert_eq!(get(&private, "/", None).await.map(|r| r.0), Ok(404));
    serve.sigterm();
    assert!(serve.wait_exit(Duration::from_secs(30)).await.success(), "{}", serve.stderr());
}
