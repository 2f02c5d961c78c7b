//! The "Documents" pages (feature `documents`): the buyer's cabinet lists the company's
//! accounting documents with filters (period, type, order), a preview, downloads and the EDO
//! state; staff see the same for any customer, send documents through EDO, read the
//! operator's receipts, and keep the images placed on documents (logo, signatures, stamp).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::admin_pages::staff_or_return;
use super::order_pages::{buyer_or_return, param, Tx};
use super::see_other;
use crate::app::AppState;
use crate::db::schema_tenant::companies as co;
use crate::db::with_tenant;
use crate::documents::{self, assets, Filter};
use crate::error::{AppError, AppResult};
use crate::identity::staff::SEE_FINANCE;
use crate::platform::features::Feature;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::documents_api::{filter_of, DocPath};
use crate::web::routes::edo_api::KindPath;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/account/documents").route(web::get().to(buyer_page)))
        .service(web::resource("/admin/documents").route(web::get().to(staff_page)))
        .service(web::resource("/admin/documents/{id}/edo").route(web::post().to(send)))
        .service(web::resource("/admin/documents/edo-poll").route(web::post().to(poll)))
        .service(web::resource("/admin/documents/images/{kind}").route(web::post().to(upload)));
}

const TYPES: &[&str] = &["upd", "torg12", "invoice_factura", "act", "credit_note", "contract", "contract_agreement"];

/// The list's rows as the page shows them.
fn rows(tx: &Tx, t: &TenantCtx, items: &[Value], staff: bool) -> Vec<Value> {
    items
        .iter()
        .map(|d| {
            let kind = d["type"].as_str().unwrap_or_default();
            let edo = d["edo"]["status"].as_str();
            let pdf = d["files"]["pdf"].as_str().unwrap_or_default();
            let pdf = if staff { pdf.replacen("/api/v1/documents/", "/api/v1/admin/documents/", 1) } else { pdf.to_owned() };
            let xml = d["files"]["xml"].as_str().map(|x| {
                if staff { x.replacen("/api/v1/documents/", "/api/v1/admin/documents/", 1) } else { x.to_owned() }
            });
            let order = d["order"].as_str();
            json!({
                "id": d["id"], "kind": kind, "kind_label": tx.t(&format!("documents-type-{kind}")),
                "number": d["number"], "date": tx.day(&d["date"]), "amount": tx.amount(&d["amount"]),
                "customer": d["customer"]["name"], "order": order,
                "order_href": order.map(|o| t.link(&format!("{}/{o}", if staff { "/admin/orders" } else { "/orders" }))),
                "preview": format!("{pdf}?inline=1"), "pdf": pdf, "xml": xml,
                "edo": edo, "edo_label": edo.map(|s| tx.t(&format!("documents-edo-{s}"))),
                "edo_reason": d["edo"]["reason"].as_str().filter(|r| !r.is_empty()),
                "can_send": staff && t.tenant.has(Feature::Edo) && xml.is_some() && matches!(edo, None | Some("failed")),
                "send_href": t.link(&format!("/admin/documents/{}/edo", d["id"])),
            })
        })
        .collect()
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    f: Filter,
    page: i64,
    staff: bool,
) -> AppResult<Value> {
    let tx = Tx::new(state, req, t);
    let base = t.base.clone();
    let filter = f.clone();
    let (items, total, customers, current) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        use diesel::prelude::*;
        let (rows, total) = documents::list(c, &filter, (page - 1) * 50, 50)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let (labels, edo) = (documents::labels(c, &rows)?, documents::edo_states(c, &ids)?);
        let items: Vec<Value> = rows.iter().map(|r| documents::json_of(r, &base, &labels, &edo)).collect();
        let customers: Vec<(i64, String, String)> = if staff {
            co::table.order(co::name).limit(1000).select((co::id, co::name, co::inn)).load(c)?
        } else {
            Vec::new()
        };
        let current = if staff { Some(assets::current(c)?) } else { None };
        Ok((items, total, customers, current))
    })
    .await?;
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let archive_base = if staff { "/api/v1/admin/documents/archive.zip" } else { "/api/v1/documents/archive.zip" };
    let mut archive = format!("{}?from={}&to={}", t.link(archive_base), day(f.from), day(f.to));
    if let Some(c) = f.company.filter(|_| staff) {
        archive.push_str(&format!("&customer_id={c}"));
    }
    let images = current.map(|a| {
        [
            ("logo", a.logo),
            ("director_signature", a.director_signature),
            ("accountant_signature", a.accountant_signature),
            ("stamp", a.stamp),
        ]
        .iter()
        .map(|(k, id)| {
            json!({"kind": k, "label": tx.t(&format!("documents-image-{k}")), "set": id.is_some(),
                "src": t.link(&format!("/api/v1/admin/document-images/{k}")),
                "action": t.link(&format!("/admin/documents/images/{k}"))})
        })
        .collect::<Vec<_>>()
    });
    Ok(json!({
        "rows": rows(&tx, t, &items, staff), "total": total, "staff": staff,
        "from": day(f.from), "to": day(f.to), "order": f.order, "archive": archive,
        "archive_ready": f.from.is_some() && f.to.is_some(),
        "types": TYPES.iter().map(|k| json!({"value": k, "label": tx.t(&format!("documents-type-{k}")), "selected": f.kind.as_deref() == Some(*k)})).collect::<Vec<_>>(),
        "customers": customers.iter().map(|(id, name, inn)| json!({"id": id, "name": name, "inn": inn, "selected": f.company == Some(*id)})).collect::<Vec<_>>(),
        "edo": t.tenant.has(Feature::Edo), "images": images,
        "action": t.link(if staff { "/admin/documents" } else { "/account/documents" }),
        "poll": t.link("/admin/documents/edo-poll"),
    }))
}

/// The filters, or the current month with the error shown when they are wrong.
fn filters(req: &HttpRequest, staff: bool) -> AppResult<(Filter, i64, Option<String>)> {
    let month = || {
        let today = crate::finance::ledger::today();
        Filter { from: chrono::Datelike::with_day(&today, 1), to: Some(today), ..Filter::default() }
    };
    let empty_period = pairs(req)?.iter().all(|(k, v)| !matches!(k.as_str(), "from" | "to") || v.trim().is_empty());
    match filter_of(req, staff) {
        Ok((mut f, page, _)) => {
            if empty_period && f.from.is_none() && f.to.is_none() {
                let m = month();
                (f.from, f.to) = (m.from, m.to);
            }
            Ok((f, page, None))
        }
        Err(AppError::Validation(e)) => Ok((month(), 1, e.into_values().next())),
        Err(e) => Err(e),
    }
}

async fn buyer_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    t.require(Feature::Documents)?;
    let b = buyer_or_return!(req, t, user, "/account/documents");
    let (mut f, p, error) = filters(&req, false)?;
    f.company = Some(b.company.id);
    let tx = Tx::new(&state, &req, &t);
    let mut data = page(&state, &req, &t, f, p, false).await?;
    data["error"] = json!(error.as_ref().map(|e| tx.msg(e)));
    data["company"] = json!({"name": b.company.name, "inn": b.company.inn});
    let ctx = store_page(&req, &tx.t("documents-title"), data).await?;
    render_status(&state, "storefront/documents", &ctx, if error.is_some() { 422 } else { 200 })
}

async fn staff_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    t.require(Feature::Documents)?;
    let s = staff_or_return!(req, t, user, "/admin/documents");
    s.require(SEE_FINANCE)?;
    let (f, p, error) = filters(&req, true)?;
    let tx = Tx::new(&state, &req, &t);
    let notice = param(&pairs(&req)?, "notice")
        .filter(|n| n.len() < 40 && n.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .map(|n| tx.t(&format!("documents-notice-{n}")));
    let mut data = page(&state, &req, &t, f, p, true).await?;
    data["error"] = json!(error.as_ref().map(|e| tx.msg(e)));
    data["notice"] = json!(notice);
    let ctx = store_page(&req, &tx.t("documents-title"), data).await?;
    render_status(&state, "admin/documents", &ctx, if error.is_some() { 422 } else { 200 })
}

async fn send(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    p: web::Path<DocPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/documents");
    super::edo_api::queue(&state, &s, p.id).await?;
    Ok(see_other(&t.link("/admin/documents?notice=queued")))
}

async fn poll(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/documents");
    super::edo_api::poll_now(&state, &s).await?;
    Ok(see_other(&t.link("/admin/documents?notice=polled")))
}

async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    p: web::Path<KindPath>,
    form: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/documents");
    if !assets::KINDS.contains(&p.kind.as_str()) {
        return Err(AppError::not_found("document image"));
    }
    match super::edo_api::store_image(&state, &s, p.kind.clone(), form).await {
        Ok(_) => Ok(see_other(&t.link("/admin/documents?notice=image-saved#images"))),
        Err(AppError::Validation(_) | AppError::PayloadTooLarge(_)) => {
            Ok(see_other(&t.link("/admin/documents?notice=image-refused#images")))
        }
        Err(e) => Err(e),
    }
}
