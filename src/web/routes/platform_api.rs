//! Operator API: `/api/v1/platform/tenants…` and `/api/v1/platform/mail`.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::schema_platform::audit_log;
use crate::db::with_platform;
use crate::error::{AppError, AppResult};
use crate::platform::logo::{self, Logo};
use crate::platform::mail;
use crate::platform::onboarding::{self, OnboardContext, OnboardRequest};
use crate::platform::tenant_lifecycle;
use crate::platform::tenants::{self, TenantPatch};
use crate::web::auth::Operator;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/platform/tenants").route(web::get().to(list)).route(web::post().to(create)))
        .service(
            web::resource("/api/v1/platform/tenants/{slug}")
                .route(web::get().to(show))
                .route(web::patch().to(patch))
                .route(web::delete().to(delete_tenant)),
        )
        .service(web::resource("/api/v1/platform/tenants/{slug}/domains").route(web::post().to(add_domain)))
        .service(
            web::resource("/api/v1/platform/tenants/{slug}/domains/{domain}").route(web::delete().to(remove_domain)),
        )
        .service(
            web::resource("/api/v1/platform/tenants/{slug}/logo")
                .route(web::put().to(put_logo))
                .route(web::delete().to(delete_logo)),
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

async fn list(state: web::Data<AppState>, _op: Operator, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let (page, per_page, offset) = q.window()?;
    let all = with_platform(&state.pool, tenants::list_all).await?;
    let total = all.len();
    let items: Vec<_> = all.iter().skip(offset as usize).take(per_page as usize).map(|t| t.to_json()).collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "total": total, "page": page, "per_page": per_page})))
}

async fn create(state: web::Data<AppState>, op: Operator, body: web::Json<OnboardRequest>) -> AppResult<HttpResponse> {
    let platform_url = state.settings.platform_url();
    let actor = op.0.account.id;
    let req = body.into_inner();
    let tenant = with_platform(&state.pool, move |conn| {
        onboarding::onboard(
            conn,
            &req,
            None,
            &OnboardContext { platform_url: &platform_url, actor_account_id: Some(actor), fail_at: None },
        )
    })
    .await?;
    state.tenants.invalidate();
    Ok(HttpResponse::Created().json(tenant.to_json()))
}

async fn show(state: web::Data<AppState>, _op: Operator, slug: web::Path<String>) -> AppResult<HttpResponse> {
    let slug = slug.into_inner();
    let (tenant, domains) = with_platform(&state.pool, move |conn| {
        let tenant = tenants::find_by_slug(conn, &slug)?.ok_or_else(|| AppError::not_found("tenant"))?;
        let domains = tenants::list_domains(conn, tenant.id)?;
        Ok((tenant, domains))
    })
    .await?;
    let mut body = tenant.to_json();
    body["domains"] = json!(domains);
    Ok(HttpResponse::Ok().json(body))
}

/// The tenant's id for an operator action, or 404.
pub async fn tenant_id(state: &AppState, slug: String) -> AppResult<i64> {
    with_platform(&state.pool, move |conn| tenants::find_by_slug(conn, &slug))
        .await?
        .map(|t| t.id)
        .ok_or_else(|| AppError::not_found("tenant"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainBody {
    domain: String,
    #[serde(default)]
    verified: bool,
}

async fn add_domain(
    state: web::Data<AppState>,
    _op: Operator,
    slug: web::Path<String>,
    body: web::Json<DomainBody>,
) -> AppResult<HttpResponse> {
    let id = tenant_id(&state, slug.into_inner()).await?;
    let base = state.settings.server.base_domain.clone();
    let body = body.into_inner();
    let domain =
        with_platform(&state.pool, move |conn| tenants::add_domain(conn, id, &body.domain, &base, body.verified))
            .await?;
    state.tenants.invalidate();
    Ok(HttpResponse::Created().json(domain))
}

#[derive(Deserialize)]
pub struct DomainPath {
    slug: String,
    domain: String,
}

async fn remove_domain(
    state: web::Data<AppState>,
    _op: Operator,
    path: web::Path<DomainPath>,
) -> AppResult<HttpResponse> {
    let DomainPath { slug, domain } = path.into_inner();
    let id = tenant_id(&state, slug).await?;
    with_platform(&state.pool, move |conn| tenants::remove_domain(conn, id, &domain)).await?;
    state.tenants.invalidate();
    Ok(HttpResponse::NoContent().finish())
}

/// Reads a request body up to `limit` bytes; more is a 413.
pub async fn read_limited(mut payload: web::Payload, limit: usize) -> AppResult<Vec<u8>> {
    use futures_util::StreamExt;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("the upload was interrupted: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge(format!("the file must be at most {} KB", limit / 1024)));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `PUT …/logo` with the image as the body; its type is read from the bytes.
async fn put_logo(
    state: web::Data<AppState>,
    _op: Operator,
    slug: web::Path<String>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let id = tenant_id(&state, slug.into_inner()).await?;
    let bytes = read_limited(payload, logo::MAX_BYTES).await?;
    let logo = Logo::sniff(bytes).map_err(|e| AppError::field("logo", e))?;
    with_platform(&state.pool, move |conn| logo::set(conn, id, Some(&logo))).await?;
    state.tenants.invalidate();
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_logo(state: web::Data<AppState>, _op: Operator, slug: web::Path<String>) -> AppResult<HttpResponse> {
    let id = tenant_id(&state, slug.into_inner()).await?;
    with_platform(&state.pool, move |conn| logo::set(conn, id, None)).await?;
    state.tenants.invalidate();
    Ok(HttpResponse::NoContent().finish())
}

/// Applies an operator's change to a tenant and records it in the audit log.
pub async fn apply_patch(state: &AppState, actor: i64, slug: String, patch: TenantPatch) -> AppResult<tenants::Tenant> {
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
    let tenant = apply_patch(&state, op.0.account.id, slug.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(tenant.to_json()))
}

async fn mail_list(state: web::Data<AppState>, _op: Operator, q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let (page, per_page, offset) = q.window()?;
    let to = q.to.clone();
    let (items, total) =
        with_platform(&state.pool, move |conn| mail::list(conn, to.as_deref(), offset, per_page)).await?;
    Ok(HttpResponse::Ok().json(json!({"items": items, "total": total, "page": page, "per_page": per_page})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteTenant {
    /// The slug again.
    confirm: String,
}

/// Deletes a suspended tenant and all of its data (platform::tenant_lifecycle): the
/// database in one transaction, then its files and search indexes. A repeated request after
/// an interruption finishes the rest.
async fn delete_tenant(
    state: web::Data<AppState>,
    op: Operator,
    path: web::Path<String>,
    body: web::Json<DeleteTenant>,
) -> AppResult<HttpResponse> {
    let slug = path.into_inner();
    let confirm = body.into_inner().confirm;
    let actor = op.0.account.id;
    let mut report = crate::db::tenant::read_platform(&state.pool, move |conn| {
        tenant_lifecycle::delete_in_db(conn, &slug, &confirm, Some(actor))
    })
    .await?;
    state.tenants.invalidate();
    let settings = state.settings.clone();
    let schema = crate::db::TenantSchema::parse(&report.schema).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let s = schema.clone();
    report.files_removed = web::block(move || tenant_lifecycle::remove_files(&settings, &s))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the database part is done; repeat the request: {e}")))?;
    report.search_indexes_removed =
        tenant_lifecycle::remove_search_indexes(&state.settings, &schema).await.map_err(|e| {
            AppError::Unavailable(format!(
                "the database part is done, the search index is not ({e}); repeat the request"
            ))
        })?;
    Ok(HttpResponse::Ok().json(&report))
}
