//! Finance over JSON: the buyer's ledger for a period, and for the supplier's staff the
//! customers who owe, each customer's ledger, and bank payments (registered, listed,
//! reversed).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::finance::ledger;
use crate::finance::payments::{self, PaymentIn};
use crate::identity::companies;
use crate::identity::staff::{MANAGE_FINANCE, SEE_FINANCE};
use crate::web::roles::{BuyerCtx, StaffCtx};
use crate::web::routes::account_api::IdPath;
use crate::web::routes::catalog_api::pairs;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/account/ledger").route(web::get().to(my_ledger)))
        .service(web::resource("/api/v1/invoices").route(web::get().to(my_invoices)))
        .service(web::resource("/api/v1/admin/invoices").route(web::get().to(all_invoices)))
        .service(web::resource("/api/v1/admin/finance/debtors").route(web::get().to(debtors)))
        .service(web::resource("/api/v1/admin/customers/{id}/ledger").route(web::get().to(customer_ledger)))
        .service(
            web::resource("/api/v1/admin/payments").route(web::get().to(list_payments)).route(web::post().to(register)),
        )
        .service(web::resource("/api/v1/admin/payments/{id}/reverse").route(web::post().to(reverse)));
}

/// `from`, `to` (inclusive, `YYYY-MM-DD`; default: this month up to today).
fn period_of(req: &HttpRequest) -> AppResult<(chrono::NaiveDate, chrono::NaiveDate)> {
    let p = pairs(req)?;
    let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    ledger::period(get("from"), get("to"))
}

/// The statement of `company` with its position today and the store's currency.
fn ledger_view(
    c: &mut diesel::PgConnection,
    company: &companies::Company,
    period: (chrono::NaiveDate, chrono::NaiveDate),
) -> AppResult<serde_json::Value> {
    let mut v = ledger::statement(c, company.id, period.0, period.1)?;
    v["position"] = ledger::position(c, company)?.json();
    v["currency"] = json!(catalog_settings::load(c)?.currency);
    v["company"] = json!({"id": company.id, "name": company.name, "inn": company.inn});
    Ok(v)
}

/// The buyer company's ledger: every member may read it.
async fn my_ledger(state: web::Data<AppState>, req: HttpRequest, b: BuyerCtx) -> AppResult<HttpResponse> {
    let period = period_of(&req)?;
    let company = b.company.clone();
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| ledger_view(c, &company, period)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn customer_ledger(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: StaffCtx,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let (period, id) = (period_of(&req)?, path.id);
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let company = companies::find(c, id)?.ok_or_else(|| AppError::not_found("customer"))?;
        ledger_view(c, &company, period)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Customers who owe, the most overdue first.
async fn debtors(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let rows = ledger::debtors(c)?;
        let items: Vec<_> = rows
            .iter()
            .map(|(company, p)| {
                let mut v = p.json();
                v["customer"] = json!({"id": company.id, "name": company.name, "inn": company.inn});
                v
            })
            .collect();
        Ok(json!({"items": items, "total": items.len(), "currency": catalog_settings::load(c)?.currency}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn list_payments(state: web::Data<AppState>, req: HttpRequest, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let p = pairs(&req)?;
    let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned());
    let number = |k: &str, default: i64| -> AppResult<i64> {
        match get(k).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| AppError::field(k, "must be a positive whole number")),
        }
    };
    let customer = match get("customer_id").filter(|v| !v.is_empty()) {
        None => None,
        Some(_) => Some(number("customer_id", 0)?),
    };
    let (page, per_page) = (number("page", 1)?, number("per_page", 50)?.min(200));
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let (items, total) = payments::list(c, customer, (page - 1) * per_page, per_page)?;
        Ok(json!({"items": items.iter().map(payments::Payment::json).collect::<Vec<_>>(), "total": total, "page": page, "per_page": per_page}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Registers a bank payment: 201 with the payment and the customer's position after it.
async fn register(state: web::Data<AppState>, s: StaffCtx, body: web::Json<PaymentIn>) -> AppResult<HttpResponse> {
    s.require(MANAGE_FINANCE)?;
    let me = s.user.account.id;
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let currency = catalog_settings::load(c)?.currency;
        let p = payments::register(c, Some(me), &body, &currency)?;
        with_position(c, p)
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

async fn reverse(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    s.require(MANAGE_FINANCE)?;
    let (me, id) = (s.user.account.id, path.id);
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let p = payments::reverse(c, me, id)?;
        with_position(c, p)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

fn with_position(c: &mut diesel::PgConnection, p: payments::Payment) -> AppResult<serde_json::Value> {
    let company = companies::find(c, p.company_id)?.ok_or_else(|| AppError::not_found("customer"))?;
    let mut v = p.json();
    v["position"] = ledger::position(c, &company)?.json();
    Ok(v)
}

/// At most this many invoices in one answer, newest first.
const INVOICES: i64 = 500;

/// The buyer company's invoices for payment, newest first.
async fn my_invoices(state: web::Data<AppState>, b: BuyerCtx) -> AppResult<HttpResponse> {
    let company = b.company.id;
    let items = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        crate::finance::invoices::list(c, Some(company), INVOICES)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

/// Every customer's invoices (`customer_id` for one), newest first.
async fn all_invoices(state: web::Data<AppState>, req: HttpRequest, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let p = pairs(&req)?;
    let customer = match p.iter().find(|(k, _)| k == "customer_id").map(|(_, v)| v.trim()) {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| AppError::field("customer_id", "must be a customer's id"))?),
    };
    let items = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        crate::finance::invoices::list(c, customer, INVOICES)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}
