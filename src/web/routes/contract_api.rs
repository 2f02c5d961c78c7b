//! Supply contracts and additional agreements: the buyer's own (`/api/v1/contracts`), a
//! customer's for staff, a new contract issued by hand, and the store's templates. Behind the
//! `documents` feature.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::finance::contracts::{self, pdf, template, Contract, Issuer};
use crate::identity::companies;
use crate::identity::registration::by_locale;
use crate::identity::staff::{MANAGE_CUSTOMERS, MANAGE_STAFF, SEE_CUSTOMERS};
use crate::pdf::Fonts;
use crate::platform::features::Feature;
use crate::platform::mail::{self, OutgoingMail};
use crate::platform::tenants::Tenant;
use crate::web::features::enabled;
use crate::web::roles::{BuyerCtx, StaffCtx};
use crate::web::routes::account_api::{store_base, IdPath};
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let on = || enabled(Feature::Documents);
    cfg.service(web::resource("/api/v1/contracts").guard(on()).route(web::get().to(mine)))
        .service(web::resource("/api/v1/contracts/{id}.pdf").guard(on()).route(web::get().to(my_pdf)))
        .service(
            web::resource("/api/v1/admin/customers/{id}/contracts")
                .guard(on())
                .route(web::get().to(of_customer))
                .route(web::post().to(issue)),
        )
        .service(web::resource("/api/v1/admin/contracts/{id}.pdf").guard(on()).route(web::get().to(staff_pdf)))
        .service(
            web::resource("/api/v1/admin/contract-template")
                .guard(on())
                .route(web::get().to(get_template))
                .route(web::put().to(put_template)),
        );
}

/// The store as the issuer of its documents.
pub fn issuer(state: &AppState, t: &TenantCtx) -> Issuer {
    let lang = if t.tenant.default_locale == "en" { "en" } else { "ru" };
    let fonts = Fonts::get(&state.settings.documents.font_dir).ok();
    Issuer { store_name: t.tenant.name.clone(), store_url: store_base(state, t), lang: lang.into(), fonts }
}

/// Tells the company's administrators that a contract or agreement was issued, with the
/// Finance page where its PDF is (`store` is the store's address on the web).
pub fn notify(c: &mut diesel::PgConnection, tenant: &Tenant, doc: &Contract, store: &str) -> AppResult<()> {
    let page = format!("{store}/account/finance#contracts");
    let number = contracts::contract_number(c, doc)?;
    let (subject, text) = if doc.kind == "agreement" {
        (
            by_locale(
                tenant,
                format!("{}: дополнительное соглашение № {} к договору № {number}", tenant.name, doc.seq),
                format!("{}: agreement No. {} to contract No. {number}", tenant.name, doc.seq),
            ),
            by_locale(
                tenant,
                format!(
                    "Условия оплаты изменены: отсрочка {} дн., кредитный лимит {}. Документ: {page}\n",
                    doc.payment_terms_days,
                    crate::money::format(doc.credit_limit)
                ),
                format!(
                    "Your payment terms changed: {} days' deferral, credit limit {}. The document: {page}\n",
                    doc.payment_terms_days,
                    crate::money::format(doc.credit_limit)
                ),
            ),
        )
    } else {
        (
            by_locale(
                tenant,
                format!("{}: договор поставки № {number}", tenant.name),
                format!("{}: supply contract No. {number}", tenant.name),
            ),
            by_locale(
                tenant,
                format!("Договор поставки № {number} оформлен. Скачать его можно на странице «Финансы»: {page}\n"),
                format!("Supply contract No. {number} is issued. Download it from the Finance page: {page}\n"),
            ),
        )
    };
    for m in companies::members(c, doc.company_id)?.into_iter().filter(|m| m.role == "admin" && m.status == "active") {
        mail::enqueue(
            c,
            OutgoingMail {
                tenant_id: Some(tenant.id),
                to: &m.email,
                subject: subject.clone(),
                text: text.clone(),
                links: vec![page.clone()],
            },
        )?;
    }
    Ok(())
}

/// Documents as listed: newest first, each with its PDF address and its contract's number.
pub fn listed(c: &mut diesel::PgConnection, docs: &[Contract], pdf_base: &str) -> AppResult<Vec<serde_json::Value>> {
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        let number = contracts::contract_number(c, d)?;
        let mut v = d.json(Some(&number));
        v["pdf"] = json!(format!("{pdf_base}/{}.pdf", d.id));
        out.push(v);
    }
    Ok(out)
}

/// The company's documents as listed.
pub fn listed_of(c: &mut diesel::PgConnection, company: i64, pdf_base: &str) -> AppResult<Vec<serde_json::Value>> {
    let docs = contracts::list(c, company)?;
    listed(c, &docs, pdf_base)
}

async fn mine(state: web::Data<AppState>, b: BuyerCtx) -> AppResult<HttpResponse> {
    let (company, base) = (b.company.id, b.tenant.link("/api/v1/contracts"));
    let items = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| listed_of(c, company, &base)).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"total": items.len(), "items": items, "page": 1, "per_page": items.len().max(1)})))
}

/// Loads the document (within `company` when given), then draws it off the connection.
async fn pdf_of(state: &AppState, t: &TenantCtx, company: Option<i64>, id: i64) -> AppResult<HttpResponse> {
    let fonts = Fonts::get(&state.settings.documents.font_dir)?;
    let (doc, number) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let doc = contracts::find(c, company, id)?;
        let number = contracts::contract_number(c, &doc)?;
        Ok((doc, number))
    })
    .await?;
    let name = doc.file_name(&number);
    let bytes = web::block(move || pdf::render(&fonts, &doc)).await.map_err(|e| AppError::Internal(e.into()))??;
    Ok(super::finance_docs::pdf(bytes, &name))
}

async fn my_pdf(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    pdf_of(&state, &b.tenant, Some(b.company.id), path.id).await
}

async fn staff_pdf(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    pdf_of(&state, &s.tenant, None, path.id).await
}

async fn of_customer(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let (id, base) = (path.id, s.tenant.link("/api/v1/admin/contracts"));
    let items = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        companies::find(c, id)?.ok_or_else(|| AppError::not_found("customer"))?;
        listed_of(c, id, &base)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .json(json!({"total": items.len(), "items": items, "page": 1, "per_page": items.len().max(1)})))
}

/// Issues a new contract to the customer (it supersedes the previous one).
pub async fn issue_contract(state: &AppState, s: &StaffCtx, id: i64) -> AppResult<Contract> {
    s.require(MANAGE_CUSTOMERS)?;
    let (by, actor, tenant) = (issuer(state, &s.tenant), s.user.account.id, s.tenant.tenant.clone());
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let doc = contracts::issue(c, id, Some(actor), &by)?;
        notify(c, &tenant, &doc, &by.store_url)?;
        Ok(doc)
    })
    .await
}

async fn issue(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    let doc = issue_contract(&state, &s, path.id).await?;
    let mut body = doc.json(Some(&doc.number));
    body["pdf"] = json!(s.tenant.link(&format!("/api/v1/admin/contracts/{}.pdf", doc.id)));
    Ok(HttpResponse::Created().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateQuery {
    pub kind: Option<String>,
    pub lang: Option<String>,
}

async fn get_template(
    state: web::Data<AppState>,
    s: StaffCtx,
    q: web::Query<TemplateQuery>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_STAFF)?;
    let (kind, lang) = template::parse_kind_lang(q.kind.as_deref(), q.lang.as_deref())?;
    let (body, custom) =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| template::load(c, kind, lang)).await?;
    let sample = template::check(kind, lang, &body).unwrap_or_default();
    Ok(HttpResponse::Ok().json(json!({"kind": kind, "lang": lang, "body": body, "custom": custom, "sample": sample,
        "variables": template::sample(kind, lang)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub kind: Option<String>,
    pub lang: Option<String>,
    pub body: String,
}

/// Checks and stores a template; answers the sample text it renders.
pub async fn save_template(state: &AppState, s: &StaffCtx, b: TemplateBody) -> AppResult<String> {
    s.require(MANAGE_STAFF)?;
    let (kind, lang) = template::parse_kind_lang(b.kind.as_deref(), b.lang.as_deref())?;
    let actor = s.user.account.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| template::save(c, kind, lang, &b.body, actor)).await
}

async fn put_template(
    state: web::Data<AppState>,
    s: StaffCtx,
    body: web::Json<TemplateBody>,
) -> AppResult<HttpResponse> {
    let b = body.into_inner();
    let (kind, lang) = template::parse_kind_lang(b.kind.as_deref(), b.lang.as_deref())?;
    let sample = save_template(&state, &s, b).await?;
    Ok(HttpResponse::Ok().json(json!({"kind": kind, "lang": lang, "custom": true, "sample": sample})))
}
