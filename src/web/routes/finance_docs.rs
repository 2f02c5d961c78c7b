//! Finance documents as PDF: an order's invoice for payment and a company's reconciliation
//! statement for a period, for the buyer and for the supplier's staff. `?lang=ru|en` picks
//! the document's language (default: the reader's).

use actix_web::{web, HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::finance::invoice_pdf::{self, Party, Supplier};
use crate::finance::ledger;
use crate::finance::reconciliation::{self, Reconciliation};
use crate::identity::companies::{self, Company};
use crate::identity::staff::SEE_FINANCE;
use crate::ordering::orders;
use crate::pdf::Fonts;
use crate::web::render::locale;
use crate::web::roles::{BuyerCtx, StaffCtx};
use crate::web::routes::account_api::IdPath;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::NumberPath;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/orders/{number}/invoice.pdf").route(web::get().to(my_invoice)))
        .service(web::resource("/api/v1/admin/orders/{number}/invoice.pdf").route(web::get().to(staff_invoice)))
        .service(web::resource("/api/v1/account/reconciliation.pdf").route(web::get().to(my_reconciliation)))
        .service(
            web::resource("/api/v1/admin/customers/{id}/reconciliation.pdf").route(web::get().to(staff_reconciliation)),
        );
}

/// Russian unless the query or the reader asks for English.
fn russian(req: &HttpRequest, t: &TenantCtx) -> AppResult<bool> {
    let p = pairs(req)?;
    match p.iter().find(|(k, _)| k == "lang").map(|(_, v)| v.as_str()) {
        Some("ru") => Ok(true),
        Some("en") => Ok(false),
        Some(_) => Err(AppError::field("lang", "must be ru or en")),
        None => Ok(locale(req, Some(t)) != "en"),
    }
}

pub(crate) fn pdf(bytes: Vec<u8>, name: &str) -> HttpResponse {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{safe}.pdf\"")))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes)
}

/// Loads on a pooled connection, then draws off it (drawing takes milliseconds of CPU).
async fn invoice(state: &AppState, t: &TenantCtx, order: OrderOf, ru: bool) -> AppResult<HttpResponse> {
    let fonts = Fonts::get(&state.settings.documents.font_dir)?;
    let store = t.tenant.name.clone();
    let doc = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let id = match order {
            OrderOf::Company(company, number) => orders::find_for(c, company, &number)?.id,
            OrderOf::Any(number) => orders::id_by_number(c, &number)?,
        };
        invoice_pdf::load(c, id, &store)
    })
    .await?;
    // Units as the document's language writes them (м, шт).
    let lang = if ru { "ru" } else { "en" };
    let mut doc = doc;
    for line in &mut doc.lines {
        let key = format!("unit-{}", line.unit);
        let shown = state.i18n.tr(lang, &key, None);
        if shown != key {
            line.unit = shown;
        }
    }
    let name = format!("invoice-{}", doc.number);
    let bytes =
        web::block(move || invoice_pdf::render(&fonts, &doc, ru)).await.map_err(|e| AppError::Internal(e.into()))??;
    Ok(pdf(bytes, &name))
}

enum OrderOf {
    Company(i64, String),
    Any(String),
}

async fn my_invoice(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let ru = russian(&req, &b.tenant)?;
    invoice(&state, &b.tenant, OrderOf::Company(b.company.id, path.into_inner().number), ru).await
}

async fn staff_invoice(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: StaffCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let ru = russian(&req, &s.tenant)?;
    invoice(&state, &s.tenant, OrderOf::Any(path.into_inner().number), ru).await
}

async fn reconciliation(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    company: CompanyOf,
) -> AppResult<HttpResponse> {
    let ru = russian(req, t)?;
    let p = pairs(req)?;
    let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let (from, to) = ledger::period(get("from"), get("to"))?;
    let fonts = Fonts::get(&state.settings.documents.font_dir)?;
    let store = t.tenant.name.clone();
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let company = match company {
            CompanyOf::Mine(company) => *company,
            CompanyOf::Id(id) => companies::find(c, id)?.ok_or_else(|| AppError::not_found("customer"))?,
        };
        let st = ledger::statement(c, company.id, from, to)?;
        let buyer = Party {
            name: company.name.clone(),
            inn: company.inn.clone(),
            kpp: company.kpp.clone().unwrap_or_default(),
            address: company.legal_address.clone(),
        };
        let currency = catalog_settings::load(c)?.currency;
        Reconciliation::from_statement(&st, Supplier::load(c, &store)?, buyer, currency)
    })
    .await?;
    let name = format!("reconciliation-{}-{from}-{to}", r.buyer.inn);
    let bytes = web::block(move || reconciliation::render(&fonts, &r, ru))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    Ok(pdf(bytes, &name))
}

enum CompanyOf {
    Mine(Box<Company>),
    Id(i64),
}

async fn my_reconciliation(state: web::Data<AppState>, req: HttpRequest, b: BuyerCtx) -> AppResult<HttpResponse> {
    reconciliation(&state, &req, &b.tenant, CompanyOf::Mine(Box::new(b.company.clone()))).await
}

async fn staff_reconciliation(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: StaffCtx,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    reconciliation(&state, &req, &s.tenant, CompanyOf::Id(path.id)).await
}
