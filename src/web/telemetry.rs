//! The root span of every request: request id (from tracing-actix-web), tenant and user.

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
