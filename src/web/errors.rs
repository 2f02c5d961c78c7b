//! Error responses for people: an `AppError` answered to a page request is re-rendered as
//! an HTML page (with the request id) in the tenant's branding; API, 1C and webhook paths
//! keep the JSON body of CONTRACT.md.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::app::AppState;
use crate::error::ErrorInfo;

fn wants_json(path: &str) -> bool {
    let inner = match path.strip_prefix("/s/") {
        Some(rest) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => path.trim_start_matches('/'),
    };
    inner.starts_with("api/")
        || inner.starts_with("1c/")
        || inner.starts_with("webhooks/")
        || matches!(inner, "healthz" | "readyz" | "metrics")
}

pub async fn render_error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    let json = wants_json(req.path());
    let res = next.call(req).await?;
    if json {
        return Ok(res.map_into_left_body());
    }
    let Some(info) = res.response().extensions().get::<ErrorInfo>().cloned() else {
        return Ok(res.map_into_left_body());
    };
    let (http_req, original) = res.into_parts();
    let Some(state) = http_req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(ServiceResponse::new(http_req, original).map_into_left_body());
    };
    let title_key = match info.status {
        404 => "error-not-found",
        403 if info.code == "tenant_suspended" => "error-suspended",
        403 => "error-forbidden",
        401 => "error-unauthorized",
        429 => "error-rate-limited",
        503 => "error-unavailable",
        s if s >= 500 => "error-internal",
        _ => "error-bad-request",
    };
    let title = super::render::tr(&state, &http_req, title_key);
    let text = super::render::tr(&state, &http_req, &format!("{title_key}-text"));
    // Validation and conflict messages say what to fix; other causes stay generic.
    let detail = matches!(info.status, 400 | 409 | 413 | 422).then_some(info.message.clone());
    let ctx = super::render::page(
        &http_req,
        &title,
        serde_json::json!({"status": info.status, "code": info.code, "text": text, "detail": detail}),
    );
    let page = match state.templates.render("error", &ctx) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            return Ok(ServiceResponse::new(http_req, original).map_into_left_body());
        }
    };
    let mut builder = HttpResponse::build(original.status());
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    let new = builder.content_type("text/html; charset=utf-8").body(page);
    Ok(ServiceResponse::new(http_req, new).map_into_right_body())
}
