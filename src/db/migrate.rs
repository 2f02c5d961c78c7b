//! Embedded SQL migrations: `migrations/platform` for `public`, `migrations/tenant` for
//! every tenant schema. Platform first under an advisory lock (abort on error), then each
//! tenant in its own transaction with bounded parallelism, reported one line per tenant.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::tenant::{in_tenant, TenantSchema};
use super::PgPool;
use crate::error::{AppError, AppResult};

pub struct Migration {
    pub version: &'static str,
    pub up: &'static str,
    pub down: &'static str,
}

macro_rules! migration {
    ($set:literal, $name:literal) => {
        Migration {
            version: $name,
            up: include_str!(concat!("../../migrations/", $set, "/", $name, "/up.sql")),
            down: include_str!(concat!("../../migrations/", $set, "/", $name, "/down.sql")),
        }
    };
}

/// Every migration of `public`, in order. A test checks this list against the folder.
pub const PLATFORM: &[Migration] = &[
    migration!("platform", "0001_platform"),
    migration!("platform", "0002_identity"),
    migration!("platform", "0003_jobs_catalog"),
    migration!("platform", "0004_marketplace_words"),
    migration!("platform", "0005_cache_generations"),
    migration!("platform", "0006_stripe"),
    migration!("platform", "0007_mail_delivery"),
];
/// Every migration of a tenant schema, in order.
pub const TENANT: &[Migration] = &[
    migration!("tenant", "0001_tenant_base"),
    migration!("tenant", "0002_customers"),
    migration!("tenant", "0003_no_account_fks"),
    migration!("tenant", "0004_catalog"),
    migration!("tenant", "0005_search_words"),
    migration!("tenant", "0006_product_order_indexes"),
    migration!("tenant", "0007_cache_generations"),
    migration!("tenant", "0008_ordering"),
    migration!("tenant", "0009_reservations_waitlist"),
    migration!("tenant", "0010_function_paths"),
    migration!("tenant", "0011_placement"),
    migration!("tenant", "0012_finance"),
    migration!("tenant", "0013_invoices"),
    migration!("tenant", "0014_bank_import"),
    migration!("tenant", "0015_card_payments"),
    migration!("tenant", "0016_documents"),
    migration!("tenant", "0017_returns"),
    migration!("tenant", "0018_contracts"),
    migration!("tenant", "0019_exchange_catalog"),
    migration!("tenant", "0020_exchange_sessions"),
    migration!("tenant", "0021_exchange_orders"),
    migration!("tenant", "0022_integrations"),
];

/// Key of the advisory lock that makes `migrate` single-runner.
const MIGRATE_LOCK: i64 = 0x7472_6164_6570;

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

/// Holds the session-level advisory lock for as long as it lives.
pub struct MigrationLock<'a>(&'a mut PgConnection);

impl<'a> MigrationLock<'a> {
    pub fn acquire(conn: &'a mut PgConnection) -> AppResult<Self> {
        diesel::sql_query("SELECT pg_advisory_lock($1)")
            .bind::<diesel::sql_types::Int8, _>(MIGRATE_LOCK)
            .execute(conn)?;
        Ok(MigrationLock(conn))
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        self.0
    }
}

impl Drop for MigrationLock<'_> {
    fn drop(&mut self) {
        let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
            .bind::<diesel::sql_types::Int8, _>(MIGRATE_LOCK)
            .execute(self.0);
    }
}

/// Applies pending platform migrations; returns the versions applied.
pub fn migrate_platform(conn: &mut PgConnection) -> AppResult<Vec<&'static str>> {
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS public.platform_migrations (
             version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    )?;
    let applied: HashSet<String> = diesel::sql_query("SELECT version FROM public.platform_migrations")
        .load::<Version>(conn)?
        .into_iter()
        .map(|v| v.version)
        .collect();
    let mut done = Vec::new();
    for m in PLATFORM.iter().filter(|m| !applied.contains(m.version)) {
        conn.transaction(|c| {
            c.batch_execute(m.up)?;
            diesel::sql_query("INSERT INTO public.platform_migrations (version) VALUES ($1)")
                .bind::<Text, _>(m.version)
                .execute(c)?;
            Ok::<_, AppError>(())
        })
        .map_err(|e| AppError::Internal(anyhow::anyhow!("platform migration {} failed: {e}", m.version)))?;
        done.push(m.version);
    }
    Ok(done)
}

/// Applies pending migrations to one tenant schema in one transaction.
pub fn migrate_tenant(conn: &mut PgConnection, schema: &TenantSchema) -> AppResult<usize> {
    in_tenant(conn, schema, |c| apply_tenant_migrations(c, schema))
}

/// The body of [`migrate_tenant`], for callers already inside the tenant's transaction
/// (onboarding creates the schema and migrates it in one transaction).
pub fn apply_tenant_migrations(conn: &mut PgConnection, schema: &TenantSchema) -> AppResult<usize> {
    apply_list(conn, schema, TENANT.iter().map(|m| (m.version, m.up)))
}

/// Applies the `(version, up SQL)` steps a tenant schema has not recorded yet, in order.
/// `tradeport bench migrate-additive` passes the embedded list plus bench-only steps.
pub fn apply_list<'a>(
    conn: &mut PgConnection,
    schema: &TenantSchema,
    steps: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> AppResult<usize> {
    // DDL that references `public.accounts` takes a lock that concurrent onboardings queue
    // for: wait for it rather than fail at the request lock timeout.
    diesel::sql_query("SELECT set_config('lock_timeout', '60s', true), set_config('statement_timeout', '0', true)")
        .execute(conn)?;
    let table = format!("{}.tenant_migrations", schema.quoted());
    let exists = diesel::sql_query("SELECT to_regclass($1) IS NOT NULL AS exists")
        .bind::<Text, _>(&table)
        .get_result::<Exists>(conn)?
        .exists;
    if !exists {
        conn.batch_execute(&format!(
            "CREATE TABLE {table} (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        ))?;
    }
    let applied: HashSet<String> = diesel::sql_query(format!("SELECT version FROM {table}"))
        .load::<Version>(conn)?
        .into_iter()
        .map(|v| v.version)
        .collect();
    let mut count = 0;
    for (version, up) in steps.into_iter().filter(|(v, _)| !applied.contains(*v)) {
        conn.batch_execute(up)?;
        diesel::sql_query(format!("INSERT INTO {table} (version) VALUES ($1)"))
            .bind::<Text, _>(version)
            .execute(conn)?;
        count += 1;
    }
    Ok(count)
}

/// Outcome of migrating one tenant.
#[derive(Debug)]
pub struct TenantReport {
    pub schema: String,
    pub result: Result<usize, String>,
    pub seconds: f64,
}

/// Migrates every tenant schema known to `public.tenants` with `workers` threads,
/// calling `report` with one line per tenant as it finishes.
pub fn migrate_all_tenants(
    pool: &PgPool,
    workers: usize,
    report: &(dyn Fn(&str) + Sync),
) -> AppResult<Vec<TenantReport>> {
    let schemas: Vec<String> = {
        let mut conn = pool.get()?;
        diesel::sql_query("SELECT schema_name AS version FROM public.tenants ORDER BY id")
            .load::<Version>(&mut **conn)?
            .into_iter()
            .map(|v| v.version)
            .collect()
    };
    let total = schemas.len();
    let queue = Mutex::new(schemas.into_iter().collect::<VecDeque<_>>());
    let finished = AtomicUsize::new(0);
    let results = Mutex::new(Vec::with_capacity(total));
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, 32) {
            scope.spawn(|| {
                while let Some(name) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                    let started = Instant::now();
                    let result = TenantSchema::parse(&name).map_err(|e| e.to_string()).and_then(|schema| {
                        let mut conn = pool.get().map_err(|e| e.to_string())?;
                        conn.note_tenant(schema.as_str());
                        migrate_tenant(&mut conn, &schema).map_err(|e| format!("{e}"))
                    });
                    let seconds = started.elapsed().as_secs_f64();
                    let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                    report(&match &result {
                        Ok(applied) => {
                            format!("[{n}/{total}] {name}: {applied} applied ({seconds:.2} s)")
                        }
                        Err(e) => format!("[{n}/{total}] {name}: FAILED: {e}"),
                    });
                    if let Ok(mut r) = results.lock() {
                        r.push(TenantReport { schema: name, result, seconds });
                    }
                }
            });
        }
    });
    results.into_inner().map_err(|_| AppError::Internal(anyhow::anyhow!("migration worker panicked")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(dir: &str, set: &[Migration]) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
        let mut on_disk: Vec<String> = std::fs::read_dir(path)
            .expect("migrations folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = set.iter().map(|m| m.version).collect();
        assert_eq!(on_disk, listed, "every folder in migrations/{dir} must be listed, in order");
    }

    #[test]
    fn every_migration_folder_is_embedded_in_order() {
        listed("platform", PLATFORM);
        listed("tenant", TENANT);
    }

    #[test]
    fn tenant_migrations_never_name_public_tables_as_their_own() {
        for m in TENANT {
            assert!(!m.up.to_lowercase().contains("create table public."), "{} creates a table in public", m.version);
        }
    }
}
