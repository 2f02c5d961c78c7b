//! Application state and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{App, HttpServer};
use handlebars::Handlebars;
use tracing_actix_web::TracingLogger;

use crate::config::{resource_path, Settings};
use crate::db::{build_pool, PgPool};
use crate::i18n::I18n;
use crate::identity::rate_limit::RateLimiter;
use crate::identity::sessions::JwtKeys;
use crate::web;
use crate::web::metrics::Metrics;
use crate::web::tenant::TenantCache;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: PgPool,
    pub templates: Handlebars<'static>,
    pub i18n: Arc<I18n>,
    pub jwt: JwtKeys,
    pub login_limiter: RateLimiter,
    pub tenants: TenantCache,
    pub metrics: Metrics,
}

impl AppState {
    /// Builds the state; the pool connects lazily, so this works with the database down.
    pub fn build(settings: Settings, pool: Option<PgPool>) -> anyhow::Result<AppState> {
        let pool = pool.unwrap_or_else(|| build_pool(&settings.database, None));
        let templates_dir = resource_path(&settings.server.templates_dir);
        let i18n = Arc::new(I18n::load(&templates_dir.join("locales"))?);
        let templates = web::render::build_templates(&templates_dir, i18n.clone(), settings.profile == "dev")?;
        let auth = &settings.auth;
        Ok(AppState {
            jwt: JwtKeys::new(auth),
            login_limiter: RateLimiter::new(auth.login_attempts, Duration::from_secs(auth.login_window_secs)),
            tenants: TenantCache::new(Duration::from_secs(2)),
            metrics: Metrics::new()?,
            settings: Arc::new(settings),
            pool,
            templates,
            i18n,
        })
    }
}

/// Starts the HTTP server on `listener` (port 0 in tests).
pub fn build_server(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let workers = state.settings.server.workers.max(1);
    let shutdown = state.settings.server.shutdown_timeout_secs;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(web::configure)
            .wrap(from_fn(web::tenant::resolve))
            .wrap(from_fn(web::csrf::protect))
            .wrap(from_fn(web::errors::render_error_pages))
            .wrap(from_fn(web::metrics::track))
            .wrap(security_headers())
            .wrap(TracingLogger::<web::telemetry::RootSpan>::new())
    })
    .workers(workers)
    .shutdown_timeout(shutdown)
    .listen(listener)?
    .run();
    Ok(server)
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
}
