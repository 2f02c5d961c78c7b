//! Integrations for the store's administrators (JSON): API keys, outbound webhooks with their
//! delivery log, and the CSV/XLSX exports of orders and customers. Keys and webhooks sit
//! behind the `api_access` feature and are managed by people only (never with an API key);
//! exports are open to API keys too.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::exchange::table;
use crate::identity::staff::{StaffRole, SEE_CUSTOMERS, SEE_ORDERS};
use crate::integrations::exports::{self, ExportQuery};
use crate::integrations::{api_keys, webhooks};
use crate::platform::features::Feature;
use crate::web::features::enabled;
use crate::web::roles::StaffCtx;
use crate::web::routes::catalog_api::content_disposition;

/// Who may manage API keys and webhooks.
pub const MANAGE_INTEGRATIONS: &[StaffRole] = &[StaffRole::Owner, StaffRole::Admin];

pub fn configure(cfg: &mut web::ServiceConfig) {
    let gated = || enabled(Feature::ApiAccess);
    cfg.service(web::resource("/api/v1/admin/orders/export").route(web::get().to(export_orders)))
        .service(web::resource("/api/v1/admin/customers/export").route(web::get().to(export_customers)))
        .service(
            web::resource("/api/v1/admin/api-keys")
                .guard(gated())
                .route(web::get().to(list_keys))
                .route(web::post().to(create_key)),
        )
        .service(web::resource("/api/v1/admin/api-keys/{id}").guard(gated()).route(web::delete().to(revoke_key)))
        .service(
            web::resource("/api/v1/admin/webhooks")
                .guard(gated())
                .route(web::get().to(list_hooks))
                .route(web::post().to(create_hook)),
        )
        .service(
            web::resource("/api/v1/admin/webhooks/{id}")
                .guard(gated())
                .route(web::patch().to(update_hook))
                .route(web::delete().to(delete_hook)),
        )
        .service(
            web::resource("/api/v1/admin/webhooks/{id}/deliveries").guard(gated()).route(web::get().to(deliveries)),
        )
        .service(web::resource("/api/v1/admin/webhooks/{id}/test").guard(gated()).route(web::post().to(test_hook)))
        .service(
            web::resource("/api/v1/admin/webhooks/{id}/deliveries/{delivery}/redeliver")
                .guard(gated())
                .route(web::post().to(redeliver)),
        );
}

/// Administrators in person: an API key cannot create keys or read webhook secrets.
pub fn admin_in_person(s: &StaffCtx) -> AppResult<i64> {
    if s.api_key.is_some() {
        return Err(AppError::forbidden("API keys and webhooks are managed by the store's administrators in person"));
    }
    s.require(MANAGE_INTEGRATIONS)?;
    Ok(s.user.account.id)
}

#[derive(Deserialize)]
struct IdPath {
    id: i64,
}

#[derive(Deserialize)]
struct DeliveryPath {
    id: i64,
    delivery: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

fn list_of(items: Vec<serde_json::Value>) -> HttpResponse {
    let n = items.len();
    HttpResponse::Ok().json(json!({"items": items, "total": n, "page": 1, "per_page": n.max(1)}))
}

async fn list_keys(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    admin_in_person(&s)?;
    let keys = with_tenant(&state.pool, &s.tenant.tenant.schema, api_keys::list).await?;
    Ok(list_of(keys.iter().map(api_keys::ApiKey::json).collect()))
}

async fn create_key(
    state: web::Data<AppState>,
    s: StaffCtx,
    body: web::Json<api_keys::NewKey>,
) -> AppResult<HttpResponse> {
    let me = admin_in_person(&s)?;
    let input = body.into_inner();
    let (key, full) =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| api_keys::create(c, me, &input)).await?;
    let mut v = key.json();
    v["key"] = json!(full);
    Ok(HttpResponse::Created().json(v))
}

async fn revoke_key(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    let (me, id) = (admin_in_person(&s)?, path.id);
    let key = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| api_keys::revoke(c, id, me)).await?;
    Ok(HttpResponse::Ok().json(key.json()))
}

async fn list_hooks(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    admin_in_person(&s)?;
    let list = with_tenant(&state.pool, &s.tenant.tenant.schema, webhooks::list).await?;
    Ok(list_of(list.iter().map(webhooks::Endpoint::json).collect()))
}

async fn create_hook(
    state: web::Data<AppState>,
    s: StaffCtx,
    body: web::Json<webhooks::EndpointIn>,
) -> AppResult<HttpResponse> {
    let me = admin_in_person(&s)?;
    let (input, private) = (body.into_inner(), state.settings.webhooks.allow_private_addresses);
    let e =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| webhooks::create(c, me, &input, private)).await?;
    Ok(HttpResponse::Created().json(e.json()))
}

async fn update_hook(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<IdPath>,
    body: web::Json<webhooks::EndpointIn>,
) -> AppResult<HttpResponse> {
    admin_in_person(&s)?;
    let (id, input, private) = (path.id, body.into_inner(), state.settings.webhooks.allow_private_addresses);
    let e =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| webhooks::update(c, id, &input, private)).await?;
    Ok(HttpResponse::Ok().json(e.json()))
}

async fn delete_hook(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    admin_in_person(&s)?;
    let id = path.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| webhooks::delete(c, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn deliveries(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<IdPath>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    admin_in_person(&s)?;
    let (page, per_page) = (q.page.unwrap_or(1), q.per_page.unwrap_or(20));
    if !(1..=100_000).contains(&page) || !(1..=100).contains(&per_page) {
        return Err(AppError::field("per_page", "page ≥ 1, per_page between 1 and 100"));
    }
    let id = path.id;
    let (items, total) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        webhooks::deliveries(c, id, (page - 1) * per_page, per_page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"items": items, "total": total, "page": page, "per_page": per_page})))
}

async fn test_hook(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    admin_in_person(&s)?;
    let (id, tenant) = (path.id, s.tenant.tenant.id);
    let d = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| webhooks::send_test(c, tenant, id)).await?;
    Ok(HttpResponse::Accepted().json(json!({"delivery_id": d})))
}

async fn redeliver(state: web::Data<AppState>, s: StaffCtx, path: web::Path<DeliveryPath>) -> AppResult<HttpResponse> {
    admin_in_person(&s)?;
    let delivery = Uuid::parse_str(&path.delivery).map_err(|_| AppError::not_found("delivery"))?;
    let (id, tenant) = (path.id, s.tenant.tenant.id);
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| webhooks::redeliver(c, tenant, id, delivery)).await?;
    Ok(HttpResponse::Accepted().json(json!({"delivery_id": delivery})))
}

/// A spreadsheet download (the catalog export's writers and headers).
pub async fn download(
    rows: Vec<Vec<String>>,
    format: &str,
    name: &str,
    sheet: &'static str,
) -> AppResult<HttpResponse> {
    let (bytes, ct) = match format {
        "xlsx" => (
            web::block(move || table::write_xlsx(&rows, sheet))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => (table::write_csv(&rows), "text/csv; charset=utf-8"),
    };
    let bytes = bytes.map_err(|e| AppError::Internal(anyhow::anyhow!("export: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header(("Content-Disposition", content_disposition(&format!("{name}.{format}"))))
        .body(bytes))
}

async fn export_orders(state: web::Data<AppState>, s: StaffCtx, q: web::Query<ExportQuery>) -> AppResult<HttpResponse> {
    s.require(SEE_ORDERS)?;
    let (format, filter) = exports::check(&q)?;
    let rows = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| exports::orders(c, &filter)).await?;
    let name = format!("{}-orders-{}", s.tenant.tenant.slug, chrono::Utc::now().format("%Y-%m-%d"));
    download(rows, &format, &name, "Orders").await
}

async fn export_customers(
    state: web::Data<AppState>,
    s: StaffCtx,
    q: web::Query<ExportQuery>,
) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let (format, _) = exports::check(&q)?;
    let rows = with_tenant(&state.pool, &s.tenant.tenant.schema, exports::customers).await?;
    let name = format!("{}-customers-{}", s.tenant.tenant.slug, chrono::Utc::now().format("%Y-%m-%d"));
    download(rows, &format, &name, "Customers").await
}
