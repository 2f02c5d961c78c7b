//! Operator API: `/api/v1/platform/tenants…` and `/api/v1/platform/mail`.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::schema_platform::audit_log;
use crate::db::with_platform;
use crate::error::{AppError, AppResult};
use crate::platform::mail;
use crate::platform::onboarding::{self, OnboardContext, OnboardRequest};
use crate::platform::tenants::{self, TenantPatch};
use crate::web::auth::Operator;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/platform/tenants")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/api/v1/platform/tenants/{slug}")
            .route(web::get().to(show))
            .route(web::patch().to(patch)),
    )
    .service(web::resource("/api/v1/platform/mail").route(web::get().to(mail_list)));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
    to: Option<String>,
}

impl PageQuery {
    /// (page, per_page, offset) with page ≥ 1 and 1 ≤ per_page ≤ 100.
    fn window(&self) -> AppResult<(i64, i64, i64)> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if !(1..=1_000_000).contains(&page) {
            return Err(AppError::field("page", "must be a positive number"));
        }
        if !(1..=100).contains(&per_page) {
            return Err(AppError::field("per_page", "must be between 1 and 100"));
        }
        Ok((page, per_page, (page - 1) * per_page))
    }
}

async fn list(
    state: web::Data<AppState>,
    _op: Operator,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let (page, per_page, offset) = q.window()?;
    let all = with_platform(&state.pool, tenants::list_all).await?;
    let total = all.len();
    let items: Vec<_> = all
        .iter()
        .skip(offset as usize)
        .take(per_page as usize)
        .map(|t| t.to_json())
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({"items": items, "total": total, "page": page, "per_page": per_page})))
}

async fn create(
    state: web::Data<AppState>,
    op: Operator,
    body: web::Json<OnboardRequest>,
) -> AppResult<HttpResponse> {
    let platform_url = state.settings.platform_url();
    let actor = op.0.account.id;
    let req = body.into_inner();
    let tenant = with_platform(&state.pool, move |conn| {
        onboarding::onboard(
            conn,
            &req,
            None,
            &OnboardContext {
                platform_url: &platform_url,
                actor_account_id: Some(actor),
                fail_at: None,
            },
        )
    })
    .await?;
    state.tenants.invalidate();
    Ok(HttpResponse::Created().json(tenant.to_json()))
}

async fn show(
    state: web::Data<AppState>,
    _op: Operator,
    slug: web::Path<String>,
) -> AppResult<HttpResponse> {
    let slug = slug.into_inner();
    let tenant = with_platform(&state.pool, move |conn| tenants::find_by_slug(conn, &slug))
        .await?
        .ok_or_else(|| AppError::not_found("tenant"))?;
    Ok(HttpResponse::Ok().json(tenant.to_json()))
}

/// Applies an operator's change to a tenant and records it in the audit log.
pub async fn apply_patch(
    state: &AppState,
    actor: i64,
    slug: String,
    patch: TenantPatch,
) -> AppResult<tenants::Tenant> {
    let details = json!({
        "status": patch.status.map(|s| s.as_str()),
        "mode": patch.mode.map(|m| m.as_str()),
        "plan": patch.plan.map(|p| p.as_str()),
        "features": patch.features,
        "branding": patch.branding.is_some(),
        "name": patch.name,
    });
    let tenant = with_platform(&state.pool, move |conn| {
        let tenant = tenants::update(conn, &slug, patch)?;
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::tenant_id.eq(tenant.id),
                audit_log::account_id.eq(actor),
                audit_log::action.eq("tenant.updated"),
                audit_log::details.eq(details),
            ))
            .execute(conn)?;
        Ok(tenant)
    })
    .await?;
    state.tenants.invalidate();
    Ok(tenant)
}

async fn patch(
    state: web::Data<AppState>,
    op: Operator,
    slug: web::Path<String>,
    body: web::Json<TenantPatch>,
) -> AppResult<HttpResponse> {
    let tenant = apply_patch(
        &state,
        op.0.account.id,
        slug.into_inner(),
        body.into_inner(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(tenant.to_json()))
}

async fn mail_list(
    state: web::Data<AppState>,
    _op: Operator,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let (page, per_page, offset) = q.window()?;
    let to = q.to.clone();
    let (items, total) = with_platform(&state.pool, move |conn| {
        mail::list(conn, to.as_deref(), offset, per_page)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .json(json!({"items": items, "total": total, "page": page, "per_page": per_page})))
}
