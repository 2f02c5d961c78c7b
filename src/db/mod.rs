//! The connection pool and the one way to run database work from async code.
//!
//! Pooled connections are wrapped in [`PgConn`], which remembers the tenants it has
//! served; once it has served `tenant_working_set` distinct tenants the pool
//! drops it (r2d2 asks `has_broken` on every return), which bounds the catalog cache a
//! backend accumulates across schemas (DESIGN.md, "Connections stay tenant-affine").

pub mod migrate;
pub mod schema_platform;
pub mod schema_tenant;
pub mod tenant;

use std::collections::HashSet;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, ManageConnection};
use diesel::sql_types::Text;
use secrecy::ExposeSecret;

use crate::config::DatabaseSettings;
use crate::error::{AppError, AppResult};

pub use tenant::{
    current_generations, in_tenant, read_generations, read_platform, with_platform, with_tenant, Generations,
    TenantSchema,
};

pub type PgPool = diesel::r2d2::Pool<TenantBoundedManager>;
pub type PooledConn = diesel::r2d2::PooledConnection<TenantBoundedManager>;

/// A PostgreSQL connection plus the set of tenant schemas it has been used for.
pub struct PgConn {
    conn: PgConnection,
    tenants: HashSet<String>,
    working_set: usize,
}

impl PgConn {
    /// Records that this connection is about to serve `schema`.
    pub fn note_tenant(&mut self, schema: &str) {
        if !self.tenants.contains(schema) {
            self.tenants.insert(schema.to_owned());
        }
    }

    /// Distinct tenants this physical connection has served.
    pub fn tenants_served(&self) -> usize {
        self.tenants.len()
    }

    fn over_working_set(&self) -> bool {
        self.tenants.len() >= self.working_set
    }
}

impl Deref for PgConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// Process-wide connection counters, exported on `/metrics`.
#[derive(Default, Debug)]
pub struct PoolCounters {
    pub opened: AtomicU64,
    pub recycled_for_tenants: AtomicU64,
    /// Checkouts that gave up after `connection_timeout_secs` (the request got a 503).
    pub checkout_timeouts: AtomicU64,
}

pub static POOL_COUNTERS: PoolCounters = PoolCounters {
    opened: AtomicU64::new(0),
    recycled_for_tenants: AtomicU64::new(0),
    checkout_timeouts: AtomicU64::new(0),
};

/// Seconds each checkout waited for a connection; set by `web::metrics` (process-wide, like
/// the pool it measures).
pub static POOL_WAIT: std::sync::OnceLock<prometheus::Histogram> = std::sync::OnceLock::new();

/// r2d2 events: how long checkouts wait, and how many time out.
#[derive(Debug)]
struct PoolEvents;

impl diesel::r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: diesel::r2d2::event::CheckoutEvent) {
        if let Some(h) = POOL_WAIT.get() {
            h.observe(event.duration().as_secs_f64());
        }
    }

    fn handle_timeout(&self, _event: diesel::r2d2::event::TimeoutEvent) {
        POOL_COUNTERS.checkout_timeouts.fetch_add(1, Ordering::Relaxed);
    }
}

/// r2d2 manager: opens connections with fail-closed session defaults and recycles
/// connections whose tenant working set is full.
pub struct TenantBoundedManager {
    inner: ConnectionManager<PgConnection>,
    statement_timeout_ms: u64,
    lock_timeout_ms: u64,
    working_set: usize,
}

impl std::fmt::Debug for TenantBoundedManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantBoundedManager").field("working_set", &self.working_set).finish()
    }
}

impl ManageConnection for TenantBoundedManager {
    type Connection = PgConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConn, Self::Error> {
        let mut conn = self.inner.connect()?;
        // Connection-wide defaults: no tenant on the path, bounded statements and locks.
        diesel::sql_query(
            "SELECT set_config('search_path', 'public', false), set_config('app.tenant_id', '', false), \
             set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false)",
        )
        .bind::<Text, _>(self.statement_timeout_ms.to_string())
        .bind::<Text, _>(self.lock_timeout_ms.to_string())
        .execute(&mut conn)
        .map_err(diesel::r2d2::Error::QueryError)?;
        POOL_COUNTERS.opened.fetch_add(1, Ordering::Relaxed);
        Ok(PgConn { conn, tenants: HashSet::new(), working_set: self.working_set })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), Self::Error> {
        self.inner.is_valid(&mut conn.conn)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        if conn.over_working_set() {
            POOL_COUNTERS.recycled_for_tenants.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        self.inner.has_broken(&mut conn.conn)
    }
}

/// Builds the pool; connections are opened lazily so the process starts without a database.
/// `a%b_c\` → `a\%b\_c\\`: text matched literally inside a LIKE pattern.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub fn build_pool(settings: &DatabaseSettings, max_size: Option<u32>) -> PgPool {
    let manager = TenantBoundedManager {
        inner: ConnectionManager::new(settings.url.expose_secret()),
        statement_timeout_ms: settings.statement_timeout_ms,
        lock_timeout_ms: settings.lock_timeout_ms,
        working_set: settings.tenant_working_set,
    };
    diesel::r2d2::Pool::builder()
        .max_size(max_size.unwrap_or(settings.pool_max_size))
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(settings.connection_timeout_secs))
        .max_lifetime(Some(Duration::from_secs(settings.max_lifetime_secs)))
        .idle_timeout(Some(Duration::from_secs(600)))
        .test_on_check_out(false)
        .event_handler(Box::new(PoolEvents))
        .build_unchecked(manager)
}

/// Runs blocking database work on actix's blocking pool, inside the caller's span.
pub async fn run_blocking<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        f()
    })
    .await
    .map_err(AppError::from)?
}

/// Is the database reachable? (`/readyz`)
pub fn ping(pool: &PgPool) -> bool {
    match pool.get() {
        Ok(mut conn) => diesel::sql_query("SELECT 1").execute(&mut **conn).is_ok(),
        Err(_) => false,
    }
}
