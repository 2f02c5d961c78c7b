//! `/healthz` (process up), `/readyz` (database reachable and not shutting down), `/metrics`
//! (Prometheus). The web server and `tradeport worker`'s probe endpoint serve the same three.

use actix_web::{web, HttpResponse};

use crate::app::AppState;
use crate::db;
use crate::error::{AppError, AppResult};

/// The public server's: `/metrics` answers 404 there when `server.metrics_bind` moves it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/readyz").route(web::get().to(readyz)))
        .service(web::resource("/metrics").route(web::get().to(public_metrics)));
}

/// The probe server's (`worker.bind`, `server.metrics_bind`): the three, always.
pub fn configure_probe(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/readyz").route(web::get().to(readyz)))
        .service(web::resource("/metrics").route(web::get().to(metrics)));
}

/// 404 like any unknown path (`web::not_found`) when `/metrics` lives on its own port.
async fn public_metrics(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    if state.settings.server.metrics_bind.is_some() {
        return Err(AppError::not_found("page"));
    }
    Ok(metrics(state).await)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // From SIGTERM on: load balancers stop sending requests while the ones they send are
    // still served (server.drain_secs).
    if state.lifecycle.is_stopping() {
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "shutting_down"}));
    }
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
    // The queue is read at scrape time, with one statement; without the database the other
    // metrics are still answered (and jobs_queue_up is 0).
    let queue = db::read_platform(&state.pool, crate::jobs::queue_stats).await;
    state.metrics.set_queue(queue.as_deref().ok());
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(&state))
}
