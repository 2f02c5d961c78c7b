//! Application state and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{App, HttpServer};
use handlebars::Handlebars;
use tracing_actix_web::TracingLogger;

use secrecy::ExposeSecret;

use crate::config::{resource_path, Settings};
use crate::db::{build_pool, PgPool};
use crate::i18n::I18n;
use crate::identity::rate_limit::Limits;
use crate::identity::sessions::JwtKeys;
use crate::search::Engine;
use crate::web;
use crate::web::metrics::Metrics;
use crate::web::tenant::TenantCache;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: PgPool,
    pub templates: Handlebars<'static>,
    pub i18n: Arc<I18n>,
    pub jwt: JwtKeys,
    pub limits: Limits,
    pub tenants: TenantCache,
    pub metrics: Metrics,
    pub search: Engine,
    pub media: crate::catalog::media::Media,
    pub caches: Arc<crate::cache::Caches>,
    /// The card processor: Stripe, or the labelled test gateway without Stripe keys.
    pub cards: crate::finance::card::gateway::Gateway,
    /// Running, or shutting down after SIGTERM (`/readyz` 503, the worker claims nothing).
    pub lifecycle: Lifecycle,
    /// `server.trusted_proxies`, parsed: whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// Whether the process is shutting down. Set once by the signal handler of `serve` and
/// `worker`; read by `/readyz` and the job worker, which can also wait for it.
pub struct Lifecycle {
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle { stopping: tokio::sync::watch::Sender::new(false) }
    }
}

impl Lifecycle {
    pub fn begin_shutdown(&self) {
        self.stopping.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once shutdown has begun.
    pub async fn stopped(&self) {
        let mut rx = self.stopping.subscribe();
        // The sender lives as long as `self`, so this only returns once the flag is set.
        let _ = rx.wait_for(|stopping| *stopping).await;
    }
}

impl AppState {
    /// Builds the state; the pool connects lazily, so this works with the database down.
    pub fn build(settings: Settings, pool: Option<PgPool>) -> anyhow::Result<AppState> {
        let pool = pool.unwrap_or_else(|| build_pool(&settings.database, None));
        let templates_dir = resource_path(&settings.server.templates_dir);
        let i18n = Arc::new(I18n::load(&templates_dir.join("locales"))?);
        let templates = web::render::build_templates(&templates_dir, i18n.clone(), settings.profile == "dev")?;
        let auth = &settings.auth;
        let search = match settings.meili.url.as_ref() {
            Some(url) => Engine::Meili(crate::search::meili::MeiliEngine::new(
                url.expose_secret(),
                settings.meili.key.as_ref().map(|k| k.expose_secret().to_owned()),
                pool.clone(),
            )?),
            None => Engine::Pg(crate::search::pg::PgEngine::new(pool.clone())),
        };
        let media = crate::catalog::media::Media::local(&resource_path(&settings.server.media_dir))?;
        let cards = crate::finance::card::gateway::Gateway::from_settings(&settings.stripe)?;
        Ok(AppState {
            cards,
            search,
            media,
            jwt: JwtKeys::new(auth),
            limits: Limits::new(
                auth.login_attempts,
                Duration::from_secs(auth.login_window_secs),
                settings.redis.prefix.as_deref().unwrap_or("tp"),
            ),
            tenants: TenantCache::new(Duration::from_secs(2)),
            caches: Arc::new(crate::cache::Caches::new(settings.server.cache)),
            metrics: Metrics::new(&settings)?,
            lifecycle: Lifecycle::default(),
            trusted_proxies: crate::web::client_addr::parse_trusted(&settings.server.trusted_proxies)?,
            settings: Arc::new(settings),
            pool,
            templates,
            i18n,
        })
    }
}

/// Starts the HTTP server on `listener` (port 0 in tests). Signals are handled by the caller
/// (`cli::serve`), which drains before it stops the server through its handle.
pub fn build_server(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let workers = state.settings.server.workers.max(1);
    let shutdown = state.settings.server.shutdown_timeout_secs;
    if let Some(url) = state.settings.redis.url.as_ref().map(|u| u.expose_secret().to_owned()) {
        let st = state.clone();
        actix_web::rt::spawn(async move { connect_redis(st, url).await });
    }
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(web::configure)
            .wrap(from_fn(web::tenant::resolve))
            .wrap(from_fn(web::auth::renew_session))
            .wrap(from_fn(web::csrf::protect))
            .wrap(from_fn(web::errors::render_error_pages))
            .wrap(from_fn(web::metrics::track))
            .wrap(security_headers())
            .wrap(TracingLogger::<web::telemetry::RootSpan>::new())
    })
    .workers(workers)
    .shutdown_timeout(shutdown)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// The probe and metrics endpoint of `tradeport worker` (`worker.bind`) and of `serve` when
/// `server.metrics_bind` is set: `/healthz`, `/readyz`, `/metrics` and nothing else.
pub fn build_probe_server(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let server = HttpServer::new(move || App::new().app_data(state.clone()).configure(web::health::configure_probe))
        .workers(1)
        .shutdown_timeout(5)
        .disable_signals()
        .listen(listener)?
        .run();
    Ok(server)
}

/// Connects to Redis in the background, retrying until it answers; until then (and
/// whenever it fails later) the in-process fallbacks serve.
async fn connect_redis(state: web::Data<AppState>, url: String) {
    let client = match redis::Client::open(url) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "REDIS_URL is not a valid Redis address; using in-process rate limits");
            return;
        }
    };
    loop {
        let attempt = actix_web::rt::time::timeout(Duration::from_secs(2), client.get_connection_manager()).await;
        match attempt {
            Ok(Ok(conn)) => {
                state.limits.use_redis(conn);
                tracing::info!("connected to Redis");
                return;
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "Redis is not answering; retrying in 5 s"),
            Err(_) => tracing::warn!("Redis did not answer within 2 s; retrying in 5 s"),
        }
        actix_web::rt::time::sleep(Duration::from_secs(5)).await;
    }
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
