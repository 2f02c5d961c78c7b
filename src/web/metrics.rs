//! Prometheus metrics: requests by route pattern (bounded cardinality), method and status,
//! latency histograms, and pool figures.

use std::sync::atomic::Ordering;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use crate::app::AppState;
use crate::db::POOL_COUNTERS;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    pool_opened: IntGauge,
    pool_recycled: IntGauge,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route pattern, method and status"),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route pattern")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["route", "method"],
        )?;
        let pool_size = IntGauge::new("db_pool_connections", "Open database connections")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")?;
        let pool_opened = IntGauge::new("db_connections_opened_total", "Database connections opened")?;
        let pool_recycled = IntGauge::new(
            "db_connections_recycled_tenant_working_set_total",
            "Connections closed because they had served the maximum number of tenants",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_size.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_opened.clone()))?;
        registry.register(Box::new(pool_recycled.clone()))?;
        Ok(Metrics { registry, requests, latency, pool_size, pool_idle, pool_opened, pool_recycled })
    }

    pub fn render(&self, state: &AppState) -> String {
        let pool = state.pool.state();
        self.pool_size.set(i64::from(pool.connections));
        self.pool_idle.set(i64::from(pool.idle_connections));
        self.pool_opened.set(POOL_COUNTERS.opened.load(Ordering::Relaxed) as i64);
        self.pool_recycled.set(POOL_COUNTERS.recycled_for_tenants.load(Ordering::Relaxed) as i64);
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let request_id = super::telemetry::request_id(&req);
    let mut res = next.call(req).await;
    if let (Ok(r), Ok(value)) = (&mut res, HeaderValue::from_str(&request_id)) {
        r.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    if let Some(state) = state {
        let status = match &res {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        let m = &state.metrics;
        m.requests.with_label_values(&[&route, &method, &status.to_string()]).inc();
        m.latency.with_label_values(&[&route, &method]).observe(started.elapsed().as_secs_f64());
    }
    res
}
