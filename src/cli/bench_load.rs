//! `tradeport bench load`: realistic buyers across many tenants (issue 9, docs/BENCHMARKS.md
//! "Load test: buyers across 50 tenants").
//!
//! Sets up TENANTS stores with generated catalogs (the catalog bench's generator, in a
//! `tradeport_bench_load` database), BUYERS buyer accounts spread over them (members of each
//! store's dealer company, so they see dealer prices), starts `tradeport serve` on a free
//! loopback port (or targets `--url`, loopback only), and lets every virtual buyer repeat a
//! session until the duration is over: log in once, then open a category of the catalog,
//! search, open two or three products, add two or three of them to their cart (found or
//! made on the first session; the checkout empties it), check out by invoice with an
//! `Idempotency-Key`, with a small random think time after each step. It
//! stops by itself (no new step starts after the deadline; a request may take at most 30 s)
//! and prints per step the requests, errors, throughput and p50/p95/p99 latency, then the
//! PostgreSQL connections and memory in use and a check that every accepted checkout is an
//! order in the database.
//!
//! The load generator is our own, on reqwest 0.12 (already in the tree) and actix's tokio
//! runtime. goose (0.18, checked in its Cargo.toml) needs reqwest 0.13 with native TLS
//! (OpenSSL), rand 0.9, tokio-tungstenite, flume, gumdrop, simplelog, strum, itertools and
//! regex: a second HTTP client stack and a system TLS library in the one binary, for a
//! scenario this file states in a page.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use rand::Rng;
use serde_json::{json, Value};

use super::bench::{bench_settings, mem_summary, pct, proc_mem, round3, ProcMem};
use super::bench_catalog::{self, SeedArgs, BUYER_EMAIL};
use crate::config::Settings;
use crate::db::{in_tenant, TenantSchema};
use crate::identity::password;

/// Password of every load buyer (hashed once, stored for all of them).
const PASSWORD: &str = "load-buyer-password";
/// Search words a buyer of a window-parts store types (one with a typo).
const WORDS: &[&str] =
    &["профиль", "ручка", "стеклопакет", "подоконник", "rehau", "veka", "сетка", "герметик", "петля", "профль"];

pub struct LoadArgs {
    pub tenants: usize,
    pub buyers: usize,
    pub duration: u64,
    pub url: Option<String>,
    pub database: String,
    pub products: usize,
    pub think_ms: u64,
    pub reuse: bool,
}

/// The steps of a buyer's session, in order.
const STEPS: &[&str] = &["login", "catalog", "search", "product", "cart_open", "cart_create", "cart_add", "checkout"];

#[derive(Default)]
struct StepStats {
    requests: u64,
    errors: u64,
    latencies_ms: Vec<f64>,
    first_error: Option<String>,
}

#[derive(Default)]
struct BuyerResult {
    steps: BTreeMap<&'static str, StepStats>,
    sessions: u64,
    orders: u64,
}

impl BuyerResult {
    fn record(&mut self, step: &'static str, t: Instant, ok: Result<(), String>) {
        let s = self.steps.entry(step).or_default();
        s.requests += 1;
        s.latencies_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if let Err(e) = ok {
            s.errors += 1;
            if s.first_error.is_none() {
                s.first_error = Some(e);
            }
        }
    }
}

struct Store {
    slug: String,
    schema: TenantSchema,
}

pub fn run(settings: &Settings, args: LoadArgs) -> anyhow::Result<()> {
    if args.tenants == 0 || args.buyers == 0 || args.duration == 0 {
        bail!("--tenants, --buyers and --duration must be at least 1");
    }
    if args.buyers > 10_000 || args.tenants > 1_000 || args.duration > 3_600 {
        bail!("at most 10,000 buyers, 1,000 tenants and 3,600 s");
    }
    if let Some(u) = &args.url {
        check_loopback(u)?;
    }
    let (bench, db_url) = bench_settings(settings, &args.database)?;
    let existing = if args.reuse { PgConnection::establish(&db_url).ok() } else { None };
    let mut conn = match existing {
        Some(c) => c,
        None => {
            eprintln!("bench: seeding {} tenants of {} products in {}", args.tenants, args.products, args.database);
            bench_catalog::seed(
                settings,
                SeedArgs {
                    database: args.database.clone(),
                    products: args.products,
                    tenants: args.tenants - 1,
                    per_tenant: args.products,
                },
            )?;
            PgConnection::establish(&db_url).map_err(|e| anyhow!("cannot connect to the bench database: {e}"))?
        }
    };
    let started = Instant::now();
    let stores = prepare(&mut conn, args.tenants, args.buyers)?;
    eprintln!(
        "bench: {} stores and {} buyers ready ({:.1} s)",
        stores.len(),
        args.buyers,
        started.elapsed().as_secs_f64()
    );
    let orders_before = count_orders(&mut conn, &stores)?;

    let mut server = None;
    let url = match &args.url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => {
            let (child, url, log) = start_server(&bench, &db_url)?;
            eprintln!("bench: tradeport serve (pid {}) on {url}, log {}", child.id(), log.display());
            server = Some(child);
            url
        }
    };
    let result = (|| {
        wait_ready(&url)?;
        let server_pid = server.as_ref().map(|c| c.id() as i32);
        measure(&mut conn, &db_url, &args, &stores, &url, server_pid, orders_before)
    })();
    if let Some(mut child) = server {
        let _ = child.kill();
        let _ = child.wait();
    }
    result
}

/// Refuses anything but loopback: this generator must never load a machine by mistake.
fn check_loopback(url: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).map_err(|e| anyhow!("--url {url}: {e}"))?;
    let ok = parsed.scheme() == "http" && matches!(parsed.host_str(), Some("127.0.0.1") | Some("localhost"));
    if !ok {
        bail!("--url must be http://127.0.0.1:PORT or http://localhost:PORT (got {url})");
    }
    Ok(())
}

#[derive(QueryableByName)]
struct TenantRow {
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = Text)]
    schema_name: String,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Every store: stock that will not run out, products orderable one by one, orders without
/// e-mail confirmation; `buyers` accounts `load-NNNNN@load.bench`, buyer `i` in store
/// `i mod tenants`, members of its dealer company.
fn prepare(conn: &mut PgConnection, tenants: usize, buyers: usize) -> anyhow::Result<Vec<Store>> {
    let rows: Vec<TenantRow> = diesel::sql_query("SELECT slug, schema_name FROM public.tenants ORDER BY id LIMIT $1")
        .bind::<BigInt, _>(tenants as i64)
        .load(conn)
        .context("cannot list the bench tenants")?;
    if rows.len() < tenants {
        bail!("the bench database has {} tenants, not {tenants}; run without --reuse", rows.len());
    }
    let hash = password::hash(PASSWORD).map_err(|e| anyhow!("{e}"))?;
    let mut stores = Vec::new();
    for (t, row) in rows.into_iter().enumerate() {
        let schema = TenantSchema::parse(&row.schema_name).map_err(|e| anyhow!(e))?;
        let mine: Vec<usize> = (0..buyers).filter(|i| i % tenants == t).collect();
        let hash = hash.clone();
        in_tenant(conn, &schema, |c| {
            c.batch_execute(
                "UPDATE products SET status = 'active', min_qty = 1, order_multiple = 1 \
                   WHERE status <> 'active' OR min_qty <> 1 OR order_multiple <> 1; \
                 INSERT INTO stock (product_id, warehouse_id, quantity) \
                   SELECT p.id, w.id, 1000000 FROM products p, (SELECT id FROM warehouses ORDER BY position, id LIMIT 1) w \
                   ON CONFLICT (product_id, warehouse_id) DO UPDATE SET quantity = 1000000, reserved = 0 \
                   WHERE stock.quantity < 500000; \
                 INSERT INTO settings (key, value) VALUES ('require_email_confirmation', 'false') \
                   ON CONFLICT (key) DO UPDATE SET value = 'false'",
            )?;
            let company: IdRow = diesel::sql_query(
                "SELECT c.id FROM companies c JOIN company_members m ON m.company_id = c.id \
                   JOIN public.accounts a ON a.id = m.account_id WHERE lower(a.email) = $1 LIMIT 1",
            )
            .bind::<Text, _>(BUYER_EMAIL)
            .get_result(c)?;
            for i in &mine {
                let email = format!("load-{i:05}@load.bench");
                let id: IdRow = diesel::sql_query(
                    "WITH n AS (INSERT INTO public.accounts (email, name, password_hash, email_confirmed_at) \
                       VALUES ($1, $2, $3, now()) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id) \
                     SELECT id FROM n UNION ALL SELECT id FROM public.accounts WHERE lower(email) = $1 LIMIT 1",
                )
                .bind::<Text, _>(&email)
                .bind::<Text, _>(format!("Load buyer {i}"))
                .bind::<Text, _>(&hash)
                .get_result(c)?;
                diesel::sql_query(
                    "INSERT INTO company_members (company_id, account_id, role) VALUES ($1, $2, 'buyer') \
                     ON CONFLICT DO NOTHING",
                )
                .bind::<BigInt, _>(company.id)
                .bind::<BigInt, _>(id.id)
                .execute(c)?;
            }
            Ok(())
        })
        .map_err(|e| anyhow!("cannot prepare {}: {e}", row.slug))?;
        stores.push(Store { slug: row.slug, schema });
    }
    conn.batch_execute("ANALYZE").context("ANALYZE failed")?;
    Ok(stores)
}

fn count_orders(conn: &mut PgConnection, stores: &[Store]) -> anyhow::Result<i64> {
    let parts: Vec<String> =
        stores.iter().map(|s| format!("(SELECT count(*) FROM {}.orders)", s.schema.quoted())).collect();
    let n: IdRow = diesel::sql_query(format!("SELECT ({})::int8 AS id", parts.join(" + "))).get_result(conn)?;
    Ok(n.id)
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(l.local_addr()?.port())
}

/// `tradeport serve` (this binary) on a free loopback port against the bench database, in
/// the prod profile with a random JWT secret, logging to a file in the temp directory.
fn start_server(settings: &Settings, db_url: &str) -> anyhow::Result<(Child, String, PathBuf)> {
    let exe = std::env::current_exe().context("cannot find this program to run `serve`")?;
    let port = free_port()?;
    let log = std::env::temp_dir().join("tradeport-bench-load-serve.log");
    let file = std::fs::File::create(&log).with_context(|| format!("cannot write {}", log.display()))?;
    let secret: String =
        (0..48).map(|_| rand::thread_rng().sample(rand::distributions::Alphanumeric) as char).collect();
    let child = Command::new(exe)
        .arg("serve")
        .env("TRADEPORT_PROFILE", "prod")
        .env("TRADEPORT_JWT_SECRET", secret)
        .env("DATABASE_URL", db_url)
        .env("TRADEPORT_BIND", format!("127.0.0.1:{port}"))
        .env("TRADEPORT__SERVER__WORKERS", settings.server.workers.to_string())
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()
        .context("cannot start `tradeport serve`")?;
    Ok((child, format!("http://127.0.0.1:{port}"), log))
}

fn wait_ready(url: &str) -> anyhow::Result<()> {
    let u = format!("{url}/readyz");
    actix_web::rt::System::new().block_on(async move {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
        for _ in 0..600 {
            if let Ok(r) = client.get(&u).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{u} did not answer 200 within 60 s")
    })
}

/// Connections to the bench database (and how many are busy) and the server's memory, every
/// 0.5 s while the load runs.
#[derive(Default, Clone, Copy)]
struct Sample {
    connections_max: i64,
    active_max: i64,
    server_rss_kb_max: u64,
}

/// `own_pid`: the backend of this command's own connection, left out of the count.
fn sampler(
    db_url: String,
    own_pid: i32,
    server_pid: Option<i32>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Sample> {
    std::thread::spawn(move || {
        let mut s = Sample::default();
        let Ok(mut conn) = PgConnection::establish(&db_url) else { return s };
        #[derive(QueryableByName)]
        struct Conns {
            #[diesel(sql_type = BigInt)]
            total: i64,
            #[diesel(sql_type = BigInt)]
            active: i64,
        }
        while !stop.load(Ordering::Relaxed) {
            if let Ok(c) = diesel::sql_query(
                "SELECT count(*)::int8 AS total, (count(*) FILTER (WHERE state = 'active'))::int8 AS active \
                   FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() \
                   AND pid <> $1 AND backend_type = 'client backend'",
            )
            .bind::<diesel::sql_types::Integer, _>(own_pid)
            .get_result::<Conns>(&mut conn)
            {
                s.connections_max = s.connections_max.max(c.total);
                s.active_max = s.active_max.max(c.active);
            }
            if let Some(m) = server_pid.and_then(proc_mem) {
                s.server_rss_kb_max = s.server_rss_kb_max.max(m.rss_kb);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        s
    })
}

fn measure(
    conn: &mut PgConnection,
    db_url: &str,
    args: &LoadArgs,
    stores: &[Store],
    url: &str,
    server_pid: Option<i32>,
    orders_before: i64,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let own: Pid = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(conn)?;
    let sampling = sampler(db_url.to_owned(), own.pid, server_pid, stop.clone());
    let slugs: Vec<String> = stores.iter().map(|s| s.slug.clone()).collect();
    let started = Instant::now();
    let results = actix_web::rt::System::new().block_on(drive(
        url.to_owned(),
        slugs,
        args.buyers,
        Duration::from_secs(args.duration),
        args.think_ms,
    ))?;
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let sample = sampling.join().unwrap_or_default();

    // Merge the buyers' figures.
    let mut steps: BTreeMap<&'static str, StepStats> = BTreeMap::new();
    let (mut sessions, mut orders) = (0, 0);
    for r in results {
        sessions += r.sessions;
        orders += r.orders;
        for (name, s) in r.steps {
            let m = steps.entry(name).or_default();
            m.requests += s.requests;
            m.errors += s.errors;
            m.latencies_ms.extend(s.latencies_ms);
            if m.first_error.is_none() {
                m.first_error = s.first_error;
            }
        }
    }
    let orders_in_db = count_orders(conn, stores)? - orders_before;
    let backends = backend_memory(conn)?;
    eprintln!(
        "\n{:<12} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "step", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms"
    );
    let mut total_requests = 0;
    let mut total_errors = 0;
    for name in STEPS {
        let Some(s) = steps.get_mut(name) else { continue };
        s.latencies_ms.sort_by(f64::total_cmp);
        let l = &s.latencies_ms;
        let rps = s.requests as f64 / seconds;
        total_requests += s.requests;
        total_errors += s.errors;
        eprintln!(
            "{:<12} {:>9} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            name,
            s.requests,
            s.errors,
            rps,
            pct(l, 50.0),
            pct(l, 95.0),
            pct(l, 99.0)
        );
        println!(
            "{}",
            json!({
                "figure": "load_step",
                "step": name,
                "requests": s.requests,
                "errors": s.errors,
                "rps": round3(rps),
                "p50_ms": round3(pct(l, 50.0)),
                "p95_ms": round3(pct(l, 95.0)),
                "p99_ms": round3(pct(l, 99.0)),
                "max_ms": round3(pct(l, 100.0)),
                "first_error": s.first_error,
            })
        );
    }
    eprintln!(
        "{:<12} {:>9} {:>7} {:>9.1}\n\n{sessions} sessions, {orders} orders accepted, {orders_in_db} new orders in the database; \
         PostgreSQL connections of the bench database: at most {} ({} busy at once); server RSS at most {:.1} MB",
        "all",
        total_requests,
        total_errors,
        total_requests as f64 / seconds,
        sample.connections_max,
        sample.active_max,
        sample.server_rss_kb_max as f64 / 1024.0
    );
    let mut line = json!({
        "figure": "load_total",
        "tenants": stores.len(),
        "buyers": args.buyers,
        "duration_s": round3(seconds),
        "think_ms": args.think_ms,
        "requests": total_requests,
        "errors": total_errors,
        "rps": round3(total_requests as f64 / seconds),
        "sessions": sessions,
        "orders_accepted": orders,
        "orders_in_db": orders_in_db,
        "pg_connections_max": sample.connections_max,
        "pg_connections_active_max": sample.active_max,
        "server_rss_mb_max": round3(sample.server_rss_kb_max as f64 / 1024.0),
        "pg_backends_after": backends,
    });
    if let Some(pid) = server_pid {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            line["server_peak_rss_mb"] = json!(round3(hwm / 1024.0));
        }
    }
    println!("{line}");
    if orders_in_db != orders as i64 {
        bail!("{orders} checkouts were answered 201 but {orders_in_db} orders are in the database");
    }
    Ok(())
}

/// Memory of the client backends of the bench database (the server's pool), from /proc.
fn backend_memory(conn: &mut PgConnection) -> anyhow::Result<Value> {
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let pids: Vec<Pid> = diesel::sql_query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
         AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )
    .load(conn)?;
    let mems: Vec<ProcMem> = pids.iter().filter_map(|p| proc_mem(p.pid)).collect();
    Ok(mem_summary(&mems))
}

// ---------------------------------------------------------------------------------------
// The buyers

async fn drive(
    url: String,
    slugs: Vec<String>,
    buyers: usize,
    duration: Duration,
    think_ms: u64,
) -> anyhow::Result<Vec<BuyerResult>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(buyers)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let deadline = Instant::now() + duration;
    let slugs = Arc::new(slugs);
    // Keys are unique per buyer account across runs too (`--reuse` keeps the orders of the
    // last run, and a key sent again with another cart is rightly a 422).
    let run: u32 = rand::thread_rng().gen();
    let keys = Arc::new(AtomicI64::new(0));
    let mut handles = Vec::with_capacity(buyers);
    for i in 0..buyers {
        let (client, url, slugs, keys) = (client.clone(), url.clone(), slugs.clone(), keys.clone());
        let run = format!("{run:08x}");
        handles.push(actix_web::rt::spawn(async move {
            // Spread the logins over the first second instead of one burst.
            let stagger = Duration::from_millis((i as u64 * 1000) / buyers.max(1) as u64);
            actix_web::rt::time::sleep(stagger).await;
            let b = Buyer {
                client,
                base: format!("{url}/s/{}", slugs[i % slugs.len()]),
                email: format!("load-{i:05}@load.bench"),
                think_ms,
                deadline,
                keys,
                run,
            };
            b.run().await
        }));
    }
    let mut out = Vec::with_capacity(buyers);
    for h in handles {
        out.push(h.await.map_err(|e| anyhow!("a buyer task failed: {e}"))?);
    }
    Ok(out)
}

struct Buyer {
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT/s/<slug>`
    base: String,
    email: String,
    think_ms: u64,
    deadline: Instant,
    keys: Arc<AtomicI64>,
    /// This run's id, in every Idempotency-Key.
    run: String,
}

type Answer = Result<Value, String>;

impl Buyer {
    fn past_deadline(&self) -> bool {
        Instant::now() >= self.deadline
    }

    async fn think(&self) {
        if self.think_ms > 0 {
            let ms = rand::thread_rng().gen_range(self.think_ms / 2..=self.think_ms * 3 / 2);
            actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| format!("{path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {}", String::from_utf8_lossy(&bytes[..bytes.len().min(300)])));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{path}: not JSON: {e}"))
    }

    async fn run(self) -> BuyerResult {
        let mut r = BuyerResult::default();
        let get = reqwest::Method::GET;
        let post = reqwest::Method::POST;
        // Log in (a token lasts 15 minutes: longer than any run this command allows
        // without --duration over 900, when the buyer logs in again).
        let mut token = String::new();
        let mut logged_at = Instant::now();
        let mut cart: Option<i64> = None;
        let leaves = bench_catalog::leaf_codes();
        while !self.past_deadline() {
            if token.is_empty() || logged_at.elapsed() > Duration::from_secs(600) {
                let t = Instant::now();
                let a = self
                    .call(
                        post.clone(),
                        "/api/v1/auth/login",
                        None,
                        Some(json!({"email": self.email, "password": PASSWORD})),
                        None,
                    )
                    .await;
                let got = a.and_then(|v| {
                    v["access_token"].as_str().map(str::to_owned).ok_or_else(|| "login: no access_token".to_owned())
                });
                match got {
                    Ok(tk) => {
                        r.record("login", t, Ok(()));
                        token = tk;
                        logged_at = Instant::now();
                    }
                    Err(e) => {
                        r.record("login", t, Err(e));
                        self.think().await;
                        continue;
                    }
                }
                self.think().await;
            }
            let tk = Some(token.as_str());
            // The catalog: a random category, first page.
            if self.past_deadline() {
                break;
            }
            let leaf = leaves[rand::thread_rng().gen_range(0..leaves.len())];
            let t = Instant::now();
            let a = self
                .call(get.clone(), &format!("/api/v1/products?category={leaf}&page=1&per_page=20"), tk, None, None)
                .await;
            let mut skus = skus_of(&a);
            r.record("catalog", t, a.map(|_| ()));
            self.think().await;
            // A search.
            if self.past_deadline() {
                break;
            }
            let word = WORDS[rand::thread_rng().gen_range(0..WORDS.len())];
            let q: String = url::form_urlencoded::byte_serialize(word.as_bytes()).collect();
            let t = Instant::now();
            let a = self.call(get.clone(), &format!("/api/v1/search?q={q}&page=1"), tk, None, None).await;
            skus.extend(skus_of(&a));
            r.record("search", t, a.map(|_| ()));
            self.think().await;
            // Two or three products.
            let mut chosen = Vec::new();
            let n = rand::thread_rng().gen_range(2..=3);
            for _ in 0..n {
                if skus.is_empty() || self.past_deadline() {
                    break;
                }
                let sku = skus.swap_remove(rand::thread_rng().gen_range(0..skus.len()));
                let t = Instant::now();
                let a = self.call(get.clone(), &format!("/api/v1/products/{sku}"), tk, None, None).await;
                let orderable = a.as_ref().map(|v| v["available"].as_bool() != Some(false)).unwrap_or(false);
                r.record("product", t, a.map(|_| ()));
                if orderable {
                    chosen.push(sku);
                }
                self.think().await;
            }
            if chosen.is_empty() || self.past_deadline() {
                continue;
            }
            // The buyer's cart (the checkout empties it and it stays, as a person's cart does):
            // found among the carts they keep, or made, on the first session only. A new cart
            // per session would reach the 50 carts a buyer may keep.
            if cart.is_none() {
                let t = Instant::now();
                let a = self.call(get.clone(), "/api/v1/carts", tk, None, None).await;
                cart = a.as_ref().ok().and_then(|v| {
                    v["items"].as_array()?.iter().find(|c| c["mine"].as_bool() == Some(true))?["id"].as_i64()
                });
                r.record("cart_open", t, a.map(|_| ()));
                if cart.is_none() {
                    let t = Instant::now();
                    let a = self.call(post.clone(), "/api/v1/carts", tk, Some(json!({"name": "Load"})), None).await;
                    cart = a.as_ref().ok().and_then(|v| v["id"].as_i64());
                    r.record("cart_create", t, a.map(|_| ()));
                }
                self.think().await;
            }
            let Some(cart) = cart else { continue };
            let mut added = 0;
            for sku in &chosen {
                if self.past_deadline() {
                    break;
                }
                let qty = rand::thread_rng().gen_range(1..=3);
                let t = Instant::now();
                let a = self
                    .call(
                        post.clone(),
                        &format!("/api/v1/carts/{cart}/items"),
                        tk,
                        Some(json!({"sku": sku, "qty": qty})),
                        None,
                    )
                    .await;
                if a.is_ok() {
                    added += 1;
                }
                r.record("cart_add", t, a.map(|_| ()));
                self.think().await;
            }
            if added == 0 || self.past_deadline() {
                continue;
            }
            let key = format!("load-{}-{}", self.run, self.keys.fetch_add(1, Ordering::Relaxed));
            let t = Instant::now();
            let a = self
                .call(
                    post.clone(),
                    "/api/v1/orders",
                    tk,
                    Some(json!({"cart_id": cart, "payment_method": "invoice"})),
                    Some(&key),
                )
                .await;
            if a.is_ok() {
                r.orders += 1;
                r.sessions += 1;
            }
            r.record("checkout", t, a.map(|_| ()));
            self.think().await;
        }
        r
    }
}

/// The SKUs of a list or search answer.
fn skus_of(a: &Answer) -> Vec<String> {
    a.as_ref()
        .ok()
        .and_then(|v| v["items"].as_array())
        .map(|items| items.iter().filter_map(|i| i["sku"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_a_target() {
        assert!(check_loopback("http://127.0.0.1:8080").is_ok());
        assert!(check_loopback("http://localhost:18080/").is_ok());
        for bad in
            ["http://10.0.0.1:8080", "https://127.0.0.1:8080", "http://example.com", "http://127.0.0.2", "nonsense"]
        {
            assert!(check_loopback(bad).is_err(), "{bad} accepted");
        }
    }
}
