//! `/healthz` (process up), `/readyz` (database reachable), `/metrics` (Prometheus).

use actix_web::{web, HttpResponse};

use crate::app::AppState;
use crate::db;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/readyz").route(web::get().to(readyz)))
        .service(web::resource("/metrics").route(web::get().to(metrics)));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let ready = web::block(move || db::ping(&pool)).await.unwrap_or(false);
    if ready {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready", "database": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .json(serde_json::json!({"status": "unavailable", "database": "unreachable"}))
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(&state))
}
