//! `tradeport bench`: the platform-core benchmarks recorded in docs/BENCHMARKS.md.
//!
//! Everything runs in a database of its own whose name must start with `tradeport_bench`
//! (default `tradeport_bench`), created and dropped here, so `tradeport` and
//! `tradeport_test` are never touched. Each figure is printed as one JSON line on stdout;
//! progress goes to stderr. The shell drivers in `bench/` run the raw/ceiling side
//! (psql, wrk, pg_dump) and compute the ratios.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::database;
use super::operator::describe;
use crate::config::Settings;
use crate::db::migrate::{migrate_platform, TENANT};
use crate::db::{build_pool, in_tenant, with_tenant, PgPool, TenantSchema, POOL_COUNTERS};
use crate::error::AppResult;
use crate::identity::accounts::{self, NewAccount};
use crate::platform::onboarding::{self, OnboardContext, OnboardRequest};

/// The one admin every bench tenant links to: created (and hashed) once, so the per-tenant
/// figure measures onboarding, not argon2.
pub const BENCH_ADMIN: &str = "bench-admin@tradeport.bench";
const BENCH_ADMIN_PASSWORD: &str = "bench-admin-password";

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Recreate the bench database, migrate `public`, then onboard COUNT tenants on one
    /// connection (slugs bench-0001…), timing each onboarding.
    Tenants {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value = "tradeport_bench")]
        database: String,
    },
    /// Apply a bench-only additive migration (ADD COLUMN, CREATE INDEX, ADD COLUMN) to every
    /// tenant through a mirror of `migrate_all_tenants` / `apply_tenant_migrations`.
    MigrateAdditive {
        #[arg(long, default_value = "tradeport_bench")]
        database: String,
        /// Parallel tenants (default: `database.migrate_workers`, as `tradeport migrate`).
        #[arg(long)]
        workers: Option<usize>,
        /// Suffix of the migration version and column names, so it can run more than once.
        #[arg(long, default_value = "a")]
        tag: String,
    },
    /// REQUESTS tenant-scoped reads on random tenants through the real pool and the
    /// `with_tenant` door, then the backend memory of every pooled connection.
    PoolMemory {
        #[arg(long, default_value = "tradeport_bench")]
        database: String,
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        /// Tenants to spread the requests over (the first N of `public.tenants`).
        #[arg(long, default_value_t = 1000)]
        tenants: usize,
        /// Overrides `database.tenant_working_set`.
        #[arg(long)]
        working_set: Option<usize>,
        /// Concurrent requests (default: the pool size).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Memory of the other client backends connected to the bench database (e.g. the
    /// pool of a running `tradeport serve`), from /proc.
    BackendMemory {
        #[arg(long, default_value = "tradeport_bench")]
        database: String,
        /// A label copied into the JSON line.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Create an empty bench database (dropping it first if it exists).
    Create {
        #[arg(long)]
        database: String,
    },
    /// Recreate a catalog bench database (default `tradeport_bench_catalog`): one tenant of
    /// PRODUCTS products and TENANTS tenants of PER_TENANT, priced for a `dealer` buyer
    /// (`bench_catalog.rs`, issue 4 in docs/BENCHMARKS.md).
    CatalogSeed {
        #[arg(long, default_value = "tradeport_bench_catalog")]
        database: String,
        #[arg(long, default_value_t = 100_000)]
        products: usize,
        #[arg(long, default_value_t = 50)]
        tenants: usize,
        #[arg(long, default_value_t = 2000)]
        per_tenant: usize,
    },
    /// Drop a bench database.
    Drop {
        #[arg(long, default_value = "tradeport_bench")]
        database: String,
    },
    /// Time drawing invoices (1, 20, 200 lines) and a reconciliation statement as PDF.
    Documents {
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
    /// Realistic buyers across TENANTS stores for DURATION seconds (catalog, search, products,
    /// cart, checkout by invoice), against a `tradeport serve` it starts (or --url, loopback
    /// only); per step requests, errors, throughput and p50/p95/p99 (`bench_load.rs`).
    Load {
        #[arg(long, default_value_t = 50)]
        tenants: usize,
        #[arg(long, default_value_t = 100)]
        buyers: usize,
        /// Seconds.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// A running server to load instead of starting one (http://127.0.0.1:PORT).
        #[arg(long)]
        url: Option<String>,
        #[arg(long, default_value = "tradeport_bench_load")]
        database: String,
        /// Products per store.
        #[arg(long, default_value_t = 2000)]
        products: usize,
        /// Mean think time after each step, in milliseconds (uniform from half to 1.5 times).
        #[arg(long, default_value_t = 200)]
        think_ms: u64,
        /// Keep the seeded database of an earlier run (stock is topped up, buyers added).
        #[arg(long)]
        reuse: bool,
    },
    /// Import a generated 1C CommerceML package (import.xml + offers.xml from
    /// scripts/gen_commerceml.py) into a fresh tenant; wall time per file and peak RSS.
    Exchange {
        #[arg(long, default_value_t = 50_000)]
        products: usize,
        /// Where the generated files are (written there when missing).
        #[arg(long, default_value = "target/commerceml-bench")]
        dir: std::path::PathBuf,
        #[arg(long, default_value = "tradeport_bench_exchange")]
        database: String,
    },
}

pub fn run(settings: &Settings, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Tenants { count, database } => tenants(settings, &database, count),
        BenchCommand::MigrateAdditive { database, workers, tag } => {
            migrate_additive(settings, &database, workers, &tag)
        }
        BenchCommand::PoolMemory { database, requests, tenants, working_set, concurrency } => {
            pool_memory(settings, &database, requests, tenants, working_set, concurrency)
        }
        BenchCommand::BackendMemory { database, label } => backend_memory(settings, &database, &label),
        BenchCommand::Create { database } => {
            recreate_database(settings, &database)?;
            eprintln!("bench: created database {database}");
            Ok(())
        }
        BenchCommand::CatalogSeed { database, products, tenants, per_tenant } => super::bench_catalog::seed(
            settings,
            super::bench_catalog::SeedArgs { database, products, tenants, per_tenant },
        ),
        BenchCommand::Drop { database } => drop_database(settings, &database),
        BenchCommand::Documents { runs } => super::bench_documents::run(settings, runs),
        BenchCommand::Load { tenants, buyers, duration, url, database, products, think_ms, reuse } => {
            super::bench_load::run(
                settings,
                super::bench_load::LoadArgs { tenants, buyers, duration, url, database, products, think_ms, reuse },
            )
        }
        BenchCommand::Exchange { products, dir, database } => {
            super::bench_exchange::run(settings, &database, products, &dir)
        }
    }
}

// ---------------------------------------------------------------------------------------
// The bench database

/// Refuses anything but `tradeport_bench…` names, so a typo cannot drop a real database.
fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = name.starts_with("tradeport_bench")
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        bail!("bench database names start with tradeport_bench and use a-z, 0-9 and _ (got {name:?})")
    }
}

/// (`…/postgres?q`, `…/<name>?q`) from the configured `DATABASE_URL`.
fn urls(settings: &Settings, name: &str) -> anyhow::Result<(String, String)> {
    check_name(name)?;
    let url = settings.database.url.expose_secret();
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (server, _) = base
        .rsplit_once('/')
        .filter(|(s, _)| s.contains("://") && !s.ends_with('/'))
        .ok_or_else(|| anyhow!("DATABASE_URL must name a database"))?;
    Ok((format!("{server}/postgres{query}"), format!("{server}/{name}{query}")))
}

/// Settings whose database is the bench database.
pub(super) fn bench_settings(settings: &Settings, name: &str) -> anyhow::Result<(Settings, String)> {
    let (_, url) = urls(settings, name)?;
    let mut s = settings.clone();
    s.database.url = SecretString::from(url.clone());
    Ok((s, url))
}

fn admin_connection(settings: &Settings, name: &str) -> anyhow::Result<PgConnection> {
    let (admin, _) = urls(settings, name)?;
    PgConnection::establish(&admin).map_err(|e| anyhow!("cannot connect to {admin}: {e}"))
}

pub(super) fn recreate_database(settings: &Settings, name: &str) -> anyhow::Result<String> {
    let mut conn = admin_connection(settings, name)?;
    // Two statements: neither may run inside a (multi-statement) transaction block.
    for sql in [format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"), format!("CREATE DATABASE \"{name}\"")] {
        conn.batch_execute(&sql).with_context(|| format!("cannot recreate database {name}"))?;
    }
    Ok(urls(settings, name)?.1)
}

fn drop_database(settings: &Settings, name: &str) -> anyhow::Result<()> {
    let mut conn = admin_connection(settings, name)?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .with_context(|| format!("cannot drop database {name}"))?;
    eprintln!("bench: dropped database {name}");
    Ok(())
}

fn connect(url: &str) -> anyhow::Result<PgConnection> {
    PgConnection::establish(url).map_err(|e| anyhow!("cannot connect to the bench database: {e}"))
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn tenant_schemas(conn: &mut PgConnection, limit: usize) -> anyhow::Result<Vec<TenantSchema>> {
    let rows: Vec<Name> = diesel::sql_query("SELECT schema_name AS name FROM public.tenants ORDER BY id LIMIT $1")
        .bind::<BigInt, _>(i64::try_from(limit).unwrap_or(i64::MAX))
        .load(conn)
        .context("cannot list tenants (run `tradeport bench tenants` first)")?;
    rows.iter().map(|r| TenantSchema::parse(&r.name).map_err(|e| anyhow!(e))).collect()
}

// ---------------------------------------------------------------------------------------
// Figures

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(super) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Percentile of sorted values (nearest rank).
pub(super) fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn print_line(v: serde_json::Value) {
    println!("{v}");
}

// ---------------------------------------------------------------------------------------
// bench tenants

fn tenants(settings: &Settings, name: &str, count: usize) -> anyhow::Result<()> {
    let url = recreate_database(settings, name)?;
    let mut conn = connect(&url)?;
    migrate_platform(&mut conn).map_err(|e| anyhow!("{e}"))?;
    accounts::create(
        &mut conn,
        NewAccount {
            email: BENCH_ADMIN,
            name: "Bench admin",
            password: Some(BENCH_ADMIN_PASSWORD),
            is_operator: false,
        },
    )
    .map_err(|e| anyhow!("cannot create the bench admin: {}", describe(e)))?;
    let platform_url = settings.platform_url();
    let ctx = OnboardContext { platform_url: &platform_url, actor_account_id: None, fail_at: None };
    let mut times = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 1..=count {
        let req = OnboardRequest {
            slug: format!("bench-{i:04}"),
            name: format!("Bench supplier {i}"),
            admin_email: BENCH_ADMIN.into(),
            ..Default::default()
        };
        let t = Instant::now();
        onboarding::onboard(&mut conn, &req, None, &ctx)
            .map_err(|e| anyhow!("cannot onboard {}: {}", req.slug, describe(e)))?;
        times.push(ms(t.elapsed()));
        if i % 100 == 0 {
            eprintln!("bench: {i} tenants onboarded ({:.1} s)", started.elapsed().as_secs_f64());
        }
    }
    let total = started.elapsed().as_secs_f64();
    let first: Vec<f64> = times.iter().take(100).copied().collect();
    let last: Vec<f64> = times.iter().rev().take(100).copied().collect();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    print_line(json!({
        "figure": "onboard_tenant",
        "database": name,
        "tenants": count,
        "total_s": round3(total),
        "mean_ms": round3(mean(&times)),
        "p50_ms": round3(pct(&sorted, 50.0)),
        "p95_ms": round3(pct(&sorted, 95.0)),
        "p99_ms": round3(pct(&sorted, 99.0)),
        "max_ms": round3(pct(&sorted, 100.0)),
        "first_100_mean_ms": round3(mean(&first)),
        "last_100_mean_ms": round3(mean(&last)),
        "admin": "one existing account linked to every tenant (no password hashing)",
    }));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// bench migrate-additive: a mirror of db::migrate with one extra, bench-only migration

struct ExtraMigration {
    version: String,
    up: String,
}

/// The embedded `TENANT` list with `extra` appended, through the real runner.
fn apply_with_extra(conn: &mut PgConnection, schema: &TenantSchema, extra: &[ExtraMigration]) -> AppResult<usize> {
    let steps =
        TENANT.iter().map(|m| (m.version, m.up)).chain(extra.iter().map(|m| (m.version.as_str(), m.up.as_str())));
    crate::db::migrate::apply_list(conn, schema, steps)
}

fn migrate_additive(settings: &Settings, name: &str, workers: Option<usize>, tag: &str) -> anyhow::Result<()> {
    if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_lowercase()) || tag.len() > 8 {
        bail!("--tag is 1 to 8 letters a-z");
    }
    let (s, _) = bench_settings(settings, name)?;
    let extra = [ExtraMigration {
        version: format!("9001_bench_additive_{tag}"),
        up: format!(
            "ALTER TABLE settings ADD COLUMN bench_note_{tag} text; \
             CREATE INDEX ON settings (bench_note_{tag}); \
             ALTER TABLE staff ADD COLUMN bench_title_{tag} text;"
        ),
    }];
    let workers = workers.unwrap_or(s.database.migrate_workers).max(1);
    // As `tradeport migrate`: a pool of workers + 1, one transaction per tenant.
    let pool = database::pool(&s.database, workers as u32 + 1)?;
    let schemas: Vec<TenantSchema> = {
        let mut conn = pool.get().context("no connection")?;
        tenant_schemas(&mut conn, usize::MAX)?
    };
    let total = schemas.len();
    let queue = Mutex::new(schemas.into_iter().collect::<VecDeque<_>>());
    let finished = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let applied = AtomicUsize::new(0);
    let lines = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, 32) {
            scope.spawn(|| {
                while let Some(schema) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                    let t = Instant::now();
                    let result = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
                        conn.note_tenant(schema.as_str());
                        in_tenant(&mut conn, &schema, |c| apply_with_extra(c, &schema, &extra))
                            .map_err(|e| e.to_string())
                    });
                    let seconds = t.elapsed().as_secs_f64();
                    let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                    // The same per-tenant line `tradeport migrate` prints, built but not shown.
                    let line = match &result {
                        Ok(k) => {
                            applied.fetch_add(*k, Ordering::Relaxed);
                            format!("[{n}/{total}] {schema}: {k} applied ({seconds:.2} s)")
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            eprintln!("bench: {schema}: FAILED: {e}");
                            format!("[{n}/{total}] {schema}: FAILED: {e}")
                        }
                    };
                    lines.fetch_add(line.len(), Ordering::Relaxed);
                }
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let failed = failed.load(Ordering::Relaxed);
    print_line(json!({
        "figure": "additive_migration",
        "database": name,
        "tenants": total,
        "workers": workers,
        "migration": extra[0].version,
        "applied": applied.load(Ordering::Relaxed),
        "failed": failed,
        "total_s": round3(seconds),
        "per_tenant_ms": round3(if total > 0 { seconds * 1000.0 / total as f64 } else { 0.0 }),
    }));
    if failed > 0 {
        bail!("{failed} tenant(s) failed");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Backend memory

#[derive(QueryableByName)]
struct BackendMem {
    #[diesel(sql_type = Integer)]
    pid: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    total_bytes: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    cache_bytes: Option<i64>,
}

/// The backend's own memory contexts, as `ceilings/tenants/relcache_mem.sh` sums them.
const OWN_MEMORY: &str = "SELECT pg_backend_pid() AS pid, sum(total_bytes)::int8 AS total_bytes, \
     (sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext' \
     OR parent = 'CachedPlan'))::int8 AS cache_bytes FROM pg_backend_memory_contexts";

/// kB figures of a process from /proc: RssAnon (status) and Rss/Pss/Private_* (smaps_rollup).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ProcMem {
    pub(super) rss_kb: u64,
    rss_anon_kb: u64,
    pss_kb: u64,
    private_kb: u64,
}

fn proc_field(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

pub(super) fn proc_mem(pid: i32) -> Option<ProcMem> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    Some(ProcMem {
        rss_kb: proc_field(&status, "VmRSS:"),
        rss_anon_kb: proc_field(&status, "RssAnon:"),
        pss_kb: proc_field(&smaps, "Pss:"),
        private_kb: proc_field(&smaps, "Private_Clean:") + proc_field(&smaps, "Private_Dirty:"),
    })
}

pub(super) fn mem_summary(mems: &[ProcMem]) -> serde_json::Value {
    let mb = |kb: u64| round3(kb as f64 / 1024.0);
    let sum = |f: fn(&ProcMem) -> u64| mems.iter().map(f).sum::<u64>();
    let max = |f: fn(&ProcMem) -> u64| mems.iter().map(f).max().unwrap_or(0);
    json!({
        "backends": mems.len(),
        "rss_mb_sum": mb(sum(|m| m.rss_kb)),
        "rss_anon_mb_sum": mb(sum(|m| m.rss_anon_kb)),
        "rss_anon_mb_max": mb(max(|m| m.rss_anon_kb)),
        "pss_mb_sum": mb(sum(|m| m.pss_kb)),
        "private_mb_sum": mb(sum(|m| m.private_kb)),
        "private_mb_max": mb(max(|m| m.private_kb)),
    })
}

fn backend_memory(settings: &Settings, name: &str, label: &str) -> anyhow::Result<()> {
    let (_, url) = urls(settings, name)?;
    let mut conn = connect(&url)?;
    #[derive(QueryableByName)]
    struct Pid {
        #[diesel(sql_type = Integer)]
        pid: i32,
    }
    // diesel sets no application_name; psql and pg_dump do.
    let pids: Vec<Pid> = diesel::sql_query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
         AND backend_type = 'client backend' AND pid <> pg_backend_pid() \
         AND coalesce(application_name, '') = '' ORDER BY pid",
    )
    .load(&mut conn)?;
    let mems: Vec<ProcMem> = pids.iter().filter_map(|p| proc_mem(p.pid)).collect();
    let mut line = json!({"figure": "backend_memory", "database": name, "label": label});
    merge(&mut line, mem_summary(&mems));
    print_line(line);
    Ok(())
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(a), serde_json::Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

// ---------------------------------------------------------------------------------------
// bench pool-memory

/// A tenant-scoped read that touches every table of the tenant schema (as the ceilings'
/// relcache_mem.sh does), built from the tables of the first tenant.
fn tenant_read(conn: &mut PgConnection, schema: &TenantSchema) -> anyhow::Result<String> {
    let tables: Vec<Name> =
        diesel::sql_query("SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename")
            .bind::<Text, _>(schema.as_str())
            .load(conn)?;
    if tables.is_empty() {
        bail!("tenant schema {schema} has no tables");
    }
    let parts: Vec<String> =
        tables.iter().map(|t| format!("(SELECT count(*) FROM \"{}\")", t.name.replace('"', "\"\""))).collect();
    Ok(format!("SELECT {} AS n", parts.join(" + ")))
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn pool_memory(
    settings: &Settings,
    name: &str,
    requests: usize,
    tenant_count: usize,
    working_set: Option<usize>,
    concurrency: Option<usize>,
) -> anyhow::Result<()> {
    let (mut s, url) = bench_settings(settings, name)?;
    if let Some(ws) = working_set {
        s.database.tenant_working_set = ws.max(1);
    }
    let mut conn = connect(&url)?;
    let schemas = tenant_schemas(&mut conn, tenant_count)?;
    let Some(first) = schemas.first() else {
        bail!("the bench database has no tenants; run `tradeport bench tenants` first");
    };
    let read = tenant_read(&mut conn, first)?;
    drop(conn);
    let pool = build_pool(&s.database, None);
    let concurrency = concurrency.unwrap_or(s.database.pool_max_size as usize).max(1);
    let started = Instant::now();
    let (done, errors, latencies) =
        actix_web::rt::System::new().block_on(drive(pool.clone(), schemas.clone(), read, requests, concurrency));
    let seconds = started.elapsed().as_secs_f64();
    if errors > 0 {
        eprintln!("bench: {errors} request(s) failed");
    }
    let mut sorted = latencies;
    sorted.sort_by(f64::total_cmp);
    let measured = measure_pool(&pool)?;
    let mut line = json!({
        "figure": "pool_memory",
        "database": name,
        "requests": done,
        "errors": errors,
        "tenants": schemas.len(),
        "working_set": s.database.tenant_working_set,
        "pool_max_size": s.database.pool_max_size,
        "concurrency": concurrency,
        "seconds": round3(seconds),
        "p50_ms": round3(pct(&sorted, 50.0)),
        "p99_ms": round3(pct(&sorted, 99.0)),
        "connections_opened": POOL_COUNTERS.opened.load(Ordering::Relaxed),
        "connections_recycled_working_set": POOL_COUNTERS.recycled_for_tenants.load(Ordering::Relaxed),
    });
    merge(&mut line, measured);
    print_line(line);
    Ok(())
}

/// `requests` reads (`read`) on uniformly random tenants, `concurrency` at a time, each through
/// `with_tenant` (pool checkout, note the tenant, tenant transaction, return).
async fn drive(
    pool: PgPool,
    schemas: Vec<TenantSchema>,
    read: String,
    requests: usize,
    concurrency: usize,
) -> (usize, usize, Vec<f64>) {
    let next = std::sync::Arc::new(AtomicUsize::new(0));
    let schemas = std::sync::Arc::new(schemas);
    let read = std::sync::Arc::new(read);
    let mut handles = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (pool, schemas, next, read) = (pool.clone(), schemas.clone(), next.clone(), read.clone());
        handles.push(actix_web::rt::spawn(async move {
            let (mut ok, mut err, mut lat) = (0usize, 0usize, Vec::new());
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let i = rand::thread_rng().gen_range(0..schemas.len());
                let t = Instant::now();
                let sql = read.clone();
                let r = with_tenant(&pool, &schemas[i], move |c| {
                    Ok(diesel::sql_query(sql.as_str()).get_result::<Count>(c)?.n)
                })
                .await;
                lat.push(ms(t.elapsed()));
                match r {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        if err == 0 {
                            eprintln!("bench: request failed: {e}");
                        }
                        err += 1;
                    }
                }
            }
            (ok, err, lat)
        }));
    }
    let (mut ok, mut err, mut lat) = (0, 0, Vec::with_capacity(requests));
    for h in handles {
        match h.await {
            Ok((o, e, l)) => {
                ok += o;
                err += e;
                lat.extend(l);
            }
            Err(_) => err += 1,
        }
    }
    (ok, err, lat)
}

/// Checks out every open pooled connection at once and measures each backend.
fn measure_pool(pool: &PgPool) -> anyhow::Result<serde_json::Value> {
    let open = pool.state().connections as usize;
    let mut held = Vec::with_capacity(open);
    for _ in 0..open {
        held.push(pool.get().context("cannot check out a pooled connection")?);
    }
    let mut mems = Vec::new();
    let mut ctx_total = Vec::new();
    let mut ctx_cache = Vec::new();
    let mut served = Vec::new();
    for conn in held.iter_mut() {
        served.push(conn.tenants_served());
        let m = diesel::sql_query(OWN_MEMORY).get_result::<BackendMem>(&mut ***conn)?;
        ctx_total.push(m.total_bytes.unwrap_or(0));
        ctx_cache.push(m.cache_bytes.unwrap_or(0));
        if let Some(p) = proc_mem(m.pid) {
            mems.push(p);
        }
    }
    let mb = |b: i64| round3(b as f64 / 1_048_576.0);
    let mut v = json!({
        "pooled_connections": open,
        "tenants_served_per_connection": served,
        "contexts_mb_sum": mb(ctx_total.iter().sum()),
        "contexts_mb_max": mb(ctx_total.iter().copied().max().unwrap_or(0)),
        "cache_ctx_mb_sum": mb(ctx_cache.iter().sum()),
        "cache_ctx_mb_max": mb(ctx_cache.iter().copied().max().unwrap_or(0)),
    });
    merge(&mut v, mem_summary(&mems));
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bench_databases_are_accepted() {
        assert!(check_name("tradeport_bench").is_ok());
        assert!(check_name("tradeport_bench_raw").is_ok());
        for bad in ["tradeport", "tradeport_test", "bench", "tradeport_bench\"x", ""] {
            assert!(check_name(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(pct(&v, 50.0), 50.0);
        assert_eq!(pct(&v, 99.0), 99.0);
        assert_eq!(pct(&v, 100.0), 100.0);
        assert_eq!(pct(&[], 50.0), 0.0);
    }

    #[test]
    fn proc_fields_are_read_in_kb() {
        let text = "Name:\tpostgres\nVmRSS:\t   12345 kB\nRssAnon:\t  678 kB\n";
        assert_eq!(proc_field(text, "VmRSS:"), 12345);
        assert_eq!(proc_field(text, "RssAnon:"), 678);
        assert_eq!(proc_field(text, "Missing:"), 0);
    }
}
