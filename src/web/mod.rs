//! HTTP: routing, tenant resolution, authentication, CSRF, rendering, errors, health.

pub mod api_key;
pub mod auth;
pub mod client_addr;
pub mod csrf;
pub mod errors;
pub mod features;
pub mod health;
pub mod metrics;
pub mod render;
pub mod roles;
pub mod routes;
pub mod telemetry;
pub mod tenant;
pub mod upload;

pub use actix_web::web::Data;

use actix_web::{guard, web};

use crate::error::AppError;

/// Mounts every area. Tenant routes are mounted twice: under `/s/{tenant}` and, for
/// requests whose host resolved to a tenant, at the root.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json_config())
        .app_data(
            web::FormConfig::default()
                .limit(64 * 1024)
                .error_handler(|e, _| AppError::BadRequest(format!("the form could not be read: {e}")).into()),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| AppError::BadRequest(format!("invalid query: {e}")).into()),
        )
        .app_data(web::PathConfig::default().error_handler(|e, _| AppError::NotFound(format!("not found: {e}")).into()))
        .configure(health::configure)
        .configure(routes::assets::configure)
        .service(web::resource("/s/{tenant}").to(routes::storefront::add_slash))
        .service(web::scope("/s/{tenant}").configure(routes::tenant_routes))
        .service(web::scope("").guard(guard::fn_guard(tenant::resolved_by_host)).configure(routes::tenant_routes))
        .configure(routes::platform_routes)
        .default_service(web::to(not_found));
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(256 * 1024).error_handler(|err, _| {
        use actix_web::error::JsonPayloadError as J;
        match err {
            J::OverflowKnownLength { .. } | J::Overflow { .. } => {
                AppError::PayloadTooLarge("the request body is too large".into()).into()
            }
            J::ContentType => AppError::BadRequest("expected Content-Type: application/json".into()).into(),
            J::Deserialize(e) => AppError::BadRequest(format!("invalid JSON: {e}")).into(),
            other => AppError::BadRequest(format!("invalid JSON body: {other}")).into(),
        }
    })
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::not_found("page"))
}
