//! Accounting documents over HTTP (feature `documents`): the buyer's company's documents and,
//! for staff, every customer's: lists filtered by period, type and order; each document's
//! PDF and XML; a period's archive as one zip, streamed; and staff issuing an order's
//! documents on demand.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::with_tenant;
use crate::documents::{self, archive, render, Filter};
use crate::error::{AppError, AppResult};
use crate::identity::staff::{MANAGE_ORDERS, SEE_FINANCE};
use crate::pdf::Fonts;
use crate::platform::features::Feature;
use crate::web::roles::{BuyerCtx, StaffCtx};
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::NumberPath;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/documents").route(web::get().to(my_list)))
        .service(web::resource("/api/v1/documents/archive.zip").route(web::get().to(my_archive)))
        .service(web::resource("/api/v1/documents/{id}.pdf").route(web::get().to(my_pdf)))
        .service(web::resource("/api/v1/documents/{id}.xml").route(web::get().to(my_xml)))
        .service(web::resource("/api/v1/admin/documents").route(web::get().to(staff_list)))
        .service(web::resource("/api/v1/admin/documents/archive.zip").route(web::get().to(staff_archive)))
        .service(web::resource("/api/v1/admin/documents/{id}.pdf").route(web::get().to(staff_pdf)))
        .service(web::resource("/api/v1/admin/documents/{id}.xml").route(web::get().to(staff_xml)))
        .service(web::resource("/api/v1/admin/orders/{number}/documents").route(web::post().to(issue)));
}

#[derive(Deserialize)]
pub struct DocPath {
    pub id: i64,
}

/// The list filters from the query: `from`, `to` (`YYYY-MM-DD`, at most five years apart),
/// `type`, `order`, `customer_id` (staff), `page`, `per_page`.
pub fn filter_of(req: &HttpRequest, staff: bool) -> AppResult<(Filter, i64, i64)> {
    let p = pairs(req)?;
    let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty());
    let date = |k: &str| -> AppResult<Option<NaiveDate>> {
        get(k)
            .map(|v| {
                NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .ok()
                    .filter(|d| (2000..=2999).contains(&chrono::Datelike::year(d)))
                    .ok_or_else(|| AppError::field(k, "must be a date like 2026-01-31"))
            })
            .transpose()
    };
    let (from, to) = (date("from")?, date("to")?);
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            return Err(AppError::field("from", "must not be after `to`"));
        }
        if (b - a).num_days() > 366 * 5 {
            return Err(AppError::field("from", "a period is at most five years"));
        }
    }
    let kind = get("type");
    if let Some(k) = &kind {
        if k.len() > 30 || !k.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(AppError::field("type", "must be a document type such as upd, torg12, invoice_factura or act"));
        }
    }
    let number = |k: &str, default: i64| -> AppResult<i64> {
        match get(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| AppError::field(k, "must be a positive whole number")),
        }
    };
    let company = if staff && get("customer_id").is_some() { Some(number("customer_id", 0)?) } else { None };
    let order = get("order").filter(|o| o.len() <= 64);
    let (page, per_page) = (number("page", 1)?, number("per_page", 50)?.min(200));
    Ok((Filter { from, to, kind, order, company }, page, per_page))
}

async fn list(state: &AppState, t: &TenantCtx, f: Filter, page: i64, per_page: i64) -> AppResult<HttpResponse> {
    t.require(Feature::Documents)?;
    let base = t.base.clone();
    let v = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let (rows, total) = documents::list(c, &f, (page - 1) * per_page, per_page)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let (labels, edo) = (documents::labels(c, &rows)?, documents::edo_states(c, &ids)?);
        let items: Vec<_> = rows.iter().map(|r| documents::json_of(r, &base, &labels, &edo)).collect();
        Ok(json!({"items": items, "total": total, "page": page, "per_page": per_page}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn my_list(state: web::Data<AppState>, req: HttpRequest, b: BuyerCtx) -> AppResult<HttpResponse> {
    let (mut f, page, per_page) = filter_of(&req, false)?;
    f.company = Some(b.company.id);
    list(&state, &b.tenant, f, page, per_page).await
}

async fn staff_list(state: web::Data<AppState>, req: HttpRequest, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let (f, page, per_page) = filter_of(&req, true)?;
    list(&state, &s.tenant, f, page, per_page).await
}

fn attachment(bytes: Vec<u8>, content_type: &str, name: &str, inline: bool) -> HttpResponse {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') { c } else { '_' }).collect();
    let how = if inline { "inline" } else { "attachment" };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Disposition", format!("{how}; filename=\"{safe}\"")))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes)
}

/// One document's PDF (`?inline=1` to preview it in the browser).
pub async fn pdf(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    id: i64,
    company: Option<i64>,
) -> AppResult<HttpResponse> {
    t.require(Feature::Documents)?;
    let fonts = Fonts::get(&state.settings.documents.font_dir)?;
    let schema = t.tenant.schema.clone();
    let d = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        documents::find(c, id, company)?;
        let rows = documents::content_of(c, &[id])?;
        render::prepare(c, schema.as_str(), rows)?.pop().ok_or_else(|| AppError::not_found("document"))
    })
    .await?;
    let inline = pairs(req)?.iter().any(|(k, v)| k == "inline" && v == "1");
    let name = render::file_name(&d, "pdf");
    let bytes = web::block(move || render::pdf(&fonts, &d)).await.map_err(|e| AppError::Internal(e.into()))??;
    Ok(attachment(bytes, "application/pdf", &name, inline))
}

async fn xml(state: &AppState, t: &TenantCtx, id: i64, company: Option<i64>) -> AppResult<HttpResponse> {
    t.require(Feature::Documents)?;
    let (name, bytes) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        documents::find(c, id, company)?;
        documents::xml_of(c, id)
    })
    .await?;
    Ok(attachment(bytes, "application/xml; charset=windows-1251", &name, false))
}

async fn my_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    p: web::Path<DocPath>,
) -> AppResult<HttpResponse> {
    pdf(&state, &req, &b.tenant, p.id, Some(b.company.id)).await
}

async fn my_xml(state: web::Data<AppState>, b: BuyerCtx, p: web::Path<DocPath>) -> AppResult<HttpResponse> {
    xml(&state, &b.tenant, p.id, Some(b.company.id)).await
}

async fn staff_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: StaffCtx,
    p: web::Path<DocPath>,
) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    pdf(&state, &req, &s.tenant, p.id, None).await
}

async fn staff_xml(state: web::Data<AppState>, s: StaffCtx, p: web::Path<DocPath>) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    xml(&state, &s.tenant, p.id, None).await
}

/// The period's documents as one zip (PDFs, and the XML of those that have one), streamed.
pub async fn zip(state: &AppState, t: &TenantCtx, f: Filter) -> AppResult<HttpResponse> {
    t.require(Feature::Documents)?;
    if f.from.is_none() || f.to.is_none() {
        return Err(AppError::field("from", "an archive needs a period: from and to"));
    }
    let fonts = Fonts::get(&state.settings.documents.font_dir)?;
    let name = format!(
        "documents-{}-{}.zip",
        f.from.map(|d| d.to_string()).unwrap_or_default(),
        f.to.map(|d| d.to_string()).unwrap_or_default()
    );
    let filter = f.clone();
    let ids = with_tenant(&state.pool, &t.tenant.schema, move |c| documents::ids(c, &filter)).await?;
    let body = archive::stream(state.pool.clone(), t.tenant.schema.clone(), fonts, ids);
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("Cache-Control", "private, no-store"))
        .streaming(body))
}

async fn my_archive(state: web::Data<AppState>, req: HttpRequest, b: BuyerCtx) -> AppResult<HttpResponse> {
    let (mut f, _, _) = filter_of(&req, false)?;
    f.company = Some(b.company.id);
    zip(&state, &b.tenant, f).await
}

async fn staff_archive(state: web::Data<AppState>, req: HttpRequest, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let (f, _, _) = filter_of(&req, true)?;
    zip(&state, &s.tenant, f).await
}

/// Staff issue a shipped order's documents now (when shipping did not, e.g. an order shipped
/// before documents existed); issued documents are answered as they are.
async fn issue(state: web::Data<AppState>, s: StaffCtx, path: web::Path<NumberPath>) -> AppResult<HttpResponse> {
    s.require(MANAGE_ORDERS)?;
    s.tenant.require(Feature::Documents)?;
    let (number, me, base) = (path.into_inner().number, s.user.account.id, s.tenant.base.clone());
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        use crate::db::schema_tenant::orders;
        use diesel::prelude::*;
        let (id, status): (i64, String) = orders::table
            .filter(orders::number.eq(&number))
            .select((orders::id, orders::status))
            .first(c)
            .optional()?
            .ok_or_else(|| AppError::not_found("order"))?;
        if !matches!(status.as_str(), "shipped" | "delivered" | "completed") {
            return Err(AppError::conflict(
                "not_shipped",
                format!("order {number} has not been shipped: documents follow the shipment"),
            ));
        }
        let created = documents::issue_for_order(c, id, Some(me))?;
        let f = Filter { order: Some(number), ..Filter::default() };
        let (rows, total) = documents::list(c, &f, 0, 50)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let (labels, edo) = (documents::labels(c, &rows)?, documents::edo_states(c, &ids)?);
        let items: Vec<_> = rows.iter().map(|r| documents::json_of(r, &base, &labels, &edo)).collect();
        Ok((created.len(), json!({"items": items, "total": total, "issued": created.len()})))
    })
    .await?;
    Ok(if v.0 > 0 { HttpResponse::Created().json(v.1) } else { HttpResponse::Ok().json(v.1) })
}
