//! The root span of every request: request id (from tracing-actix-web), tenant and user;
//! and the access log line written for every request.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub struct RootSpan;

impl RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing_actix_web::root_span!(request, tenant = tracing::field::Empty, user_id = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Records a field on the request's root span (no-op outside a request).
pub fn record(req: &impl HttpMessage, field: &str, value: &str) {
    if let Some(span) = req.extensions().get::<tracing_actix_web::RootSpan>() {
        span.record(field, value);
    }
}

/// The request id tracing-actix-web assigned, as a string.
pub fn request_id(req: &impl HttpMessage) -> String {
    req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string()).unwrap_or_default()
}

/// The one line logged per request (target `tradeport::access`): request id, tenant slug (or
/// `platform`), method, route pattern, status and duration. 5xx answers log at WARN (the
/// cause is logged once, at ERROR, by `AppError`, with the same request id on its span).
pub fn log_request(request_id: &str, tenant: Option<&str>, method: &str, route: &str, status: u16, took: Duration) {
    let tenant = tenant.unwrap_or("platform");
    let duration_ms = (took.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    if status >= 500 {
        tracing::warn!(target: "tradeport::access", request_id, tenant, method, route, status, duration_ms, "request");
    } else {
        tracing::info!(target: "tradeport::access", request_id, tenant, method, route, status, duration_ms, "request");
    }
}
