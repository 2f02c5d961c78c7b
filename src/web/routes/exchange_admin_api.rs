//! The 1C exchange for staff over JSON: its settings (`PUT /api/v1/admin/exchange-1c`, as
//! CONTRACT.md gives it) and its log (sessions with files, counts, warnings and errors).

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::config::Settings;
use crate::db::{run_blocking, with_tenant};
use crate::error::{AppError, AppResult};
use crate::exchange::onec::setup::{self, SetupBody};
use crate::exchange::onec::{log, ExchangeOptions};
use crate::identity::staff::MANAGE_STAFF;
use crate::platform::features::Feature;
use crate::web::roles::StaffCtx;
use crate::web::routes::account_api::IdPath;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/admin/exchange-1c").route(web::get().to(show)).route(web::put().to(update)))
        .service(web::resource("/api/v1/admin/exchange-1c/sessions").route(web::get().to(sessions)))
        .service(web::resource("/api/v1/admin/exchange-1c/sessions/{id}").route(web::get().to(session)));
}

/// The addresses to enter in 1C: the store's own host and the path form.
pub fn urls(settings: &Settings, t: &TenantCtx) -> Vec<String> {
    let platform = settings.platform_url();
    let slug = &t.tenant.slug;
    let host = match platform.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{slug}.{rest}/1c/exchange"),
        None => format!("{slug}.{platform}/1c/exchange"),
    };
    vec![host, format!("{platform}/s/{slug}/1c/exchange")]
}

/// The exchange is on the store's plan and the staff member may manage it.
pub fn allowed(s: &StaffCtx) -> AppResult<()> {
    s.tenant.require(Feature::Exchange1c)?;
    s.require(MANAGE_STAFF)
}

/// The settings as staff see them.
pub async fn current(state: &AppState, s: &StaffCtx) -> AppResult<Value> {
    allowed(s)?;
    let opts = with_tenant(&state.pool, &s.tenant.tenant.schema, ExchangeOptions::load).await?;
    Ok(setup::view(&opts, &urls(&state.settings, &s.tenant)))
}

/// Checks and stores new settings (the password hashed); a refused change stores nothing.
pub async fn save(state: &AppState, s: &StaffCtx, body: SetupBody) -> AppResult<Value> {
    allowed(s)?;
    let schema = s.tenant.tenant.schema.clone();
    let cur = with_tenant(&state.pool, &schema, ExchangeOptions::load).await?;
    let (mut next, password) =
        setup::apply(&cur, &body, state.settings.exchange.file_limit).map_err(AppError::Validation)?;
    if let Some(p) = password {
        next.password_hash = Some(run_blocking(move || crate::identity::password::hash(&p)).await?);
    }
    let saved = next.clone();
    with_tenant(&state.pool, &schema, move |c| saved.save(c)).await?;
    Ok(setup::view(&next, &urls(&state.settings, &s.tenant)))
}

async fn show(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(current(&state, &s).await?))
}

async fn update(state: web::Data<AppState>, s: StaffCtx, body: web::Json<SetupBody>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(save(&state, &s, body.into_inner()).await?))
}

async fn sessions(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    allowed(&s)?;
    let items = with_tenant(&state.pool, &s.tenant.tenant.schema, |c| log::sessions(c, 100)).await?;
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

async fn session(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    allowed(&s)?;
    let id = path.id;
    let detail = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| log::session(c, id)).await?;
    Ok(HttpResponse::Ok().json(detail))
}
