//! Prometheus metrics with bounded label cardinality: requests by route pattern (never a raw
//! path; unmatched paths share one label), method and status, latency histograms, requests per
//! tenant (the first `metrics.tenant_labels` tenants by name, the rest `other`), jobs run by
//! kind and outcome, the queue read at scrape time, pool figures and build info. Every metric
//! is described in docs/OBSERVABILITY.md.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::app::AppState;
use crate::config::Settings;
use crate::db::{POOL_COUNTERS, POOL_WAIT};
use crate::jobs::QueueStat;

/// The label of requests whose path matches no route.
pub const UNMATCHED: &str = "unmatched";
/// The label of tenants (or job kinds) beyond the label budget.
pub const OTHER: &str = "other";

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    tenant_requests: IntCounterVec,
    tenant_labels: BoundedLabels,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    pool_in_use: IntGauge,
    pool_max: IntGauge,
    pool_opened: IntGauge,
    pool_recycled: IntGauge,
    pool_timeouts: IntCounter,
    jobs_processed: IntCounterVec,
    job_duration: HistogramVec,
    jobs_released: IntCounterVec,
    kind_labels: BoundedLabels,
    queue_ready: IntGaugeVec,
    queue_scheduled: IntGaugeVec,
    queue_oldest: GaugeVec,
    queue_dead: IntGaugeVec,
    queue_up: IntGauge,
    queue_kinds: Mutex<HashSet<String>>,
    shutting_down: IntGauge,
}

/// Label values that pass through until `limit` distinct ones were seen, then `other`.
pub struct BoundedLabels {
    limit: usize,
    seen: Mutex<HashSet<String>>,
}

impl BoundedLabels {
    pub fn new(limit: usize) -> Self {
        BoundedLabels { limit, seen: Mutex::new(HashSet::new()) }
    }

    pub fn label(&self, value: &str) -> String {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(value) {
            return value.to_owned();
        }
        if seen.len() < self.limit {
            seen.insert(value.to_owned());
            return value.to_owned();
        }
        OTHER.to_owned()
    }
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let g = IntGauge::new(name, help)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

fn gauge_vec(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGaugeVec> {
    let g = IntGaugeVec::new(Opts::new(name, help), &["kind"])?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

impl Metrics {
    pub fn new(settings: &Settings) -> anyhow::Result<Metrics> {
        let r = Registry::new();
        let requests = counter_vec(
            &r,
            "http_requests_total",
            "HTTP requests by route pattern, method and status",
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route pattern")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["route", "method"],
        )?;
        r.register(Box::new(latency.clone()))?;
        let tenant_requests = counter_vec(
            &r,
            "tenant_http_requests_total",
            "HTTP requests per tenant (the first metrics.tenant_labels tenants seen; the rest as other)",
            &["tenant"],
        )?;
        let pool_size = gauge(&r, "db_pool_connections", "Open database connections")?;
        let pool_idle = gauge(&r, "db_pool_idle_connections", "Idle database connections")?;
        let pool_in_use = gauge(&r, "db_pool_in_use_connections", "Database connections checked out now")?;
        let pool_max = gauge(&r, "db_pool_max_connections", "The pool's maximum size (database.pool_max_size)")?;
        let pool_opened = gauge(&r, "db_connections_opened_total", "Database connections opened")?;
        let pool_recycled = gauge(
            &r,
            "db_connections_recycled_tenant_working_set_total",
            "Connections closed because they had served the maximum number of tenants",
        )?;
        let pool_timeouts = IntCounter::new(
            "db_pool_checkout_timeouts_total",
            "Checkouts that waited database.connection_timeout_secs and gave up (answered 503)",
        )?;
        r.register(Box::new(pool_timeouts.clone()))?;
        let wait = Histogram::with_opts(
            HistogramOpts::new("db_pool_wait_seconds", "Time a checkout waited for a database connection")
                .buckets(vec![0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
        )?;
        let wait = POOL_WAIT.get_or_init(|| wait).clone();
        r.register(Box::new(wait))?;
        let jobs_processed = counter_vec(
            &r,
            "jobs_processed_total",
            "Job runs by kind and outcome (ok, failed: retried later, dead: moved to dead_jobs)",
            &["kind", "outcome"],
        )?;
        let job_duration = HistogramVec::new(
            HistogramOpts::new("job_duration_seconds", "Time one job run took, by kind")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]),
            &["kind"],
        )?;
        r.register(Box::new(job_duration.clone()))?;
        let jobs_released = counter_vec(
            &r,
            "jobs_released_total",
            "Jobs claimed but not started when the worker was stopped, returned to the queue",
            &["kind"],
        )?;
        let queue_ready = gauge_vec(&r, "jobs_ready", "Jobs ready to run now, by kind (read at scrape time)")?;
        let queue_scheduled = gauge_vec(
            &r,
            "jobs_scheduled",
            "Jobs waiting for their time: retries in back-off, delayed jobs and jobs leased by a worker now",
        )?;
        let queue_oldest = GaugeVec::new(
            Opts::new("jobs_oldest_ready_age_seconds", "How long the oldest ready job of a kind has been waiting"),
            &["kind"],
        )?;
        r.register(Box::new(queue_oldest.clone()))?;
        let queue_dead = gauge_vec(&r, "jobs_dead", "Jobs in public.dead_jobs, by kind")?;
        let queue_up = gauge(&r, "jobs_queue_up", "1 when the last scrape could read the job queue, else 0")?;
        let shutting_down = gauge(&r, "tradeport_shutting_down", "1 from SIGTERM until exit (/readyz answers 503)")?;
        let build = IntGaugeVec::new(
            Opts::new("tradeport_build_info", "Version and build of the running binary (always 1)"),
            &["version", "git_sha", "profile"],
        )?;
        r.register(Box::new(build.clone()))?;
        let sha = option_env!("TRADEPORT_GIT_SHA").unwrap_or("unknown");
        build.with_label_values(&[env!("CARGO_PKG_VERSION"), sha, settings.profile.as_str()]).set(1);
        let started = gauge(&r, "tradeport_start_time_seconds", "When the process started (Unix time)")?;
        started.set(chrono::Utc::now().timestamp());
        Ok(Metrics {
            registry: r,
            requests,
            latency,
            tenant_requests,
            tenant_labels: BoundedLabels::new(settings.metrics.tenant_labels),
            pool_size,
            pool_idle,
            pool_in_use,
            pool_max,
            pool_opened,
            pool_recycled,
            pool_timeouts,
            jobs_processed,
            job_duration,
            jobs_released,
            kind_labels: BoundedLabels::new(64),
            queue_ready,
            queue_scheduled,
            queue_oldest,
            queue_dead,
            queue_up,
            queue_kinds: Mutex::new(HashSet::new()),
            shutting_down,
        })
    }

    /// One job run: `outcome` is `ok`, `failed` or `dead`.
    pub fn job_finished(&self, kind: &str, outcome: &str, took: Duration) {
        let kind = self.kind_labels.label(kind);
        self.jobs_processed.with_label_values(&[kind.as_str(), outcome]).inc();
        self.job_duration.with_label_values(&[kind.as_str()]).observe(took.as_secs_f64());
    }

    /// A claimed job given back unstarted at shutdown.
    pub fn job_released(&self, kind: &str) {
        let kind = self.kind_labels.label(kind);
        self.jobs_released.with_label_values(&[kind.as_str()]).inc();
    }

    /// The queue as read at this scrape (`None`: the database did not answer).
    pub fn set_queue(&self, stats: Option<&[QueueStat]>) {
        let Some(stats) = stats else {
            self.queue_up.set(0);
            return;
        };
        self.queue_up.set(1);
        let mut kinds = self.queue_kinds.lock().unwrap_or_else(|e| e.into_inner());
        // Kinds seen before and absent now are zero, not stale.
        for k in kinds.iter() {
            for g in [&self.queue_ready, &self.queue_scheduled, &self.queue_dead] {
                g.with_label_values(&[k.as_str()]).set(0);
            }
            self.queue_oldest.with_label_values(&[k.as_str()]).set(0.0);
        }
        for s in stats {
            let kind = self.kind_labels.label(&s.kind);
            if s.dead {
                self.queue_dead.with_label_values(&[kind.as_str()]).add(s.ready);
            } else {
                self.queue_ready.with_label_values(&[kind.as_str()]).add(s.ready);
                self.queue_scheduled.with_label_values(&[kind.as_str()]).add(s.scheduled);
                let oldest = self.queue_oldest.with_label_values(&[kind.as_str()]);
                oldest.set(oldest.get().max(s.oldest_ready_secs));
            }
            kinds.insert(kind);
        }
    }

    pub fn render(&self, state: &AppState) -> String {
        let pool = state.pool.state();
        self.pool_size.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle_connections));
        self.pool_in_use.set(i64::from(pool.connections.saturating_sub(pool.idle_connections)));
        self.pool_max.set(i64::from(state.pool.max_size()));
        self.pool_opened.set(POOL_COUNTERS.opened.load(Ordering::Relaxed) as i64);
        self.pool_recycled.set(POOL_COUNTERS.recycled_for_tenants.load(Ordering::Relaxed) as i64);
        let timeouts = POOL_COUNTERS.checkout_timeouts.load(Ordering::Relaxed);
        self.pool_timeouts.inc_by(timeouts.saturating_sub(self.pool_timeouts.get()));
        self.shutting_down.set(i64::from(state.lifecycle.is_stopping()));
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Middleware: counts and times every request under its route pattern, sets `X-Request-Id`,
/// and logs one line per request (target `tradeport::access`).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.into());
    let method = req.method().as_str().to_owned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let request_id = super::telemetry::request_id(&req);
    let mut res = next.call(req).await;
    if let (Ok(r), Ok(value)) = (&mut res, HeaderValue::from_str(&request_id)) {
        r.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    let status = match &res {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let tenant = match &res {
        Ok(r) => r.request().extensions().get::<super::tenant::TenantCtx>().map(|t| t.tenant.slug.clone()),
        Err(_) => None,
    };
    let took = started.elapsed();
    if let Some(state) = state {
        let m = &state.metrics;
        m.requests.with_label_values(&[&route, &method, &status.to_string()]).inc();
        m.latency.with_label_values(&[&route, &method]).observe(took.as_secs_f64());
        if let Some(slug) = &tenant {
            m.tenant_requests.with_label_values(&[m.tenant_labels.label(slug).as_str()]).inc();
        }
    }
    super::telemetry::log_request(&request_id, tenant.as_deref(), &method, &route, status, took);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_beyond_the_budget_are_other_and_known_ones_stay() {
        let labels = BoundedLabels::new(2);
        assert_eq!(labels.label("a"), "a");
        assert_eq!(labels.label("b"), "b");
        assert_eq!(labels.label("c"), OTHER);
        assert_eq!(labels.label("a"), "a", "a tenant seen first keeps its label");
        assert_eq!(BoundedLabels::new(0).label("a"), OTHER);
    }
}
