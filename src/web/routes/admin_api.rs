//! Supplier back-office API: customers (approve, reject, terms, direct invitations) and staff.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::finance::contracts;
use crate::identity::companies::{self, Company, CompanyInput};
use crate::identity::customers::{self, CustomerPatch, Filter};
use crate::identity::invitations::{self, Target};
use crate::identity::registration::by_locale;
use crate::identity::staff::{self, StaffRole, MANAGE_CUSTOMERS, MANAGE_STAFF, SEE_CUSTOMERS};
use crate::platform::features::Feature;
use crate::platform::mail::{self, OutgoingMail};
use crate::platform::tenants::Tenant;
use crate::web::roles::StaffCtx;
use crate::web::routes::account_api::{store_base, AccountPath, IdPath};
use crate::web::routes::contract_api::issuer;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/admin/customers").route(web::get().to(list)).route(web::post().to(invite_company)),
    )
    .service(web::resource("/api/v1/admin/customers/{id}").route(web::get().to(show)).route(web::patch().to(patch)))
    .service(web::resource("/api/v1/admin/customers/{id}/approve").route(web::post().to(approve)))
    .service(web::resource("/api/v1/admin/customers/{id}/reject").route(web::post().to(reject)))
    .service(web::resource("/api/v1/admin/staff").route(web::get().to(staff_list)))
    .service(web::resource("/api/v1/admin/staff/invitations").route(web::post().to(invite_staff)))
    .service(web::resource("/api/v1/admin/staff/{account_id}").route(web::patch().to(staff_patch)));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerQuery {
    pub status: Option<String>,
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

pub fn customer_json(c: &Company) -> serde_json::Value {
    json!({
        "id": c.id,
        "company": {"name": c.name, "inn": c.inn, "kpp": c.kpp, "address": c.legal_address, "phone": c.phone, "contact_person": c.contact_person},
        "status": c.status,
        "reject_reason": c.reject_reason,
        "price_group": c.price_group,
        "credit_limit": crate::money::format(c.credit_limit),
        "discount_percent": crate::money::format(c.discount_percent),
        "manager_id": c.manager_account_id,
        "payment_terms_days": c.payment_terms_days,
        "created_at": c.created_at,
    })
}

/// Lists customers for staff (managers see their own first).
pub async fn list_customers(
    state: &AppState,
    s: &StaffCtx,
    q: CustomerQuery,
) -> AppResult<(Vec<Company>, i64, i64, i64)> {
    s.require(SEE_CUSTOMERS)?;
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(20);
    if !(1..=1_000_000).contains(&page) || !(1..=100).contains(&per_page) {
        return Err(AppError::field("per_page", "page ≥ 1, per_page between 1 and 100"));
    }
    let filter = Filter {
        status: q.status.filter(|s| !s.is_empty()),
        q: q.q,
        manager_first: (s.role == StaffRole::Manager).then_some(s.user.account.id),
    };
    let (items, total) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        customers::list(c, &filter, (page - 1) * per_page, per_page)
    })
    .await?;
    Ok((items, total, page, per_page))
}

async fn list(state: web::Data<AppState>, s: StaffCtx, q: web::Query<CustomerQuery>) -> AppResult<HttpResponse> {
    let (items, total, page, per_page) = list_customers(&state, &s, q.into_inner()).await?;
    let items: Vec<_> = items.iter().map(customer_json).collect();
    Ok(HttpResponse::Ok().json(json!({"items": items, "total": total, "page": page, "per_page": per_page})))
}

async fn show(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let id = path.id;
    let (company, members, addresses) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let company = companies::find(c, id)?.ok_or_else(|| AppError::not_found("customer"))?;
        Ok((company, companies::members(c, id)?, companies::addresses(c, id)?))
    })
    .await?;
    let mut body = customer_json(&company);
    body["members"] = json!(members);
    body["addresses"] = json!(addresses);
    Ok(HttpResponse::Ok().json(body))
}

/// Tells the company's administrators what the supplier decided.
fn notify_decision(c: &mut diesel::PgConnection, tenant: &Tenant, company: &Company, store: &str) -> AppResult<()> {
    let cabinet = format!("{store}/account");
    let (subject, text) = match company.status.as_str() {
        "active" => (
            by_locale(
                tenant,
                format!("{}: доступ открыт", tenant.name),
                format!("{}: your account is approved", tenant.name),
            ),
            by_locale(
                tenant,
                format!("Компания «{}» подтверждена, можно заказывать: {cabinet}\n", company.name),
                format!("{} is approved and can order now: {cabinet}\n", company.name),
            ),
        ),
        _ => (
            by_locale(
                tenant,
                format!("{}: заявка отклонена", tenant.name),
                format!("{}: application declined", tenant.name),
            ),
            by_locale(
                tenant,
                format!(
                    "Заявка компании «{}» отклонена. Причина: {}\n",
                    company.name,
                    company.reject_reason.clone().unwrap_or_default()
                ),
                format!(
                    "The application of {} was declined. Reason: {}\n",
                    company.name,
                    company.reject_reason.clone().unwrap_or_default()
                ),
            ),
        ),
    };
    for m in companies::members(c, company.id)?.into_iter().filter(|m| m.role == "admin" && m.status == "active") {
        mail::enqueue(
            c,
            OutgoingMail {
                tenant_id: Some(tenant.id),
                to: &m.email,
                subject: subject.clone(),
                text: text.clone(),
                links: vec![cabinet.clone()],
            },
        )?;
    }
    Ok(())
}

/// Approves or (with a reason) rejects a customer and tells its administrators.
pub async fn decide(state: &AppState, s: &StaffCtx, id: i64, reject_reason: Option<String>) -> AppResult<Company> {
    s.require(MANAGE_CUSTOMERS)?;
    let (actor, tenant, store) = (s.user.account.id, s.tenant.tenant.clone(), store_base(state, &s.tenant));
    let by = s.tenant.tenant.has(Feature::Documents).then(|| issuer(state, &s.tenant));
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let company = match &reject_reason {
            None => customers::approve(c, id, actor)?,
            Some(reason) => customers::reject(c, id, actor, reason)?,
        };
        // An approved customer gets its supply contract in the same transaction.
        if let (Some(by), true) = (&by, company.is_active()) {
            if let Some(doc) = contracts::issue_if_none(c, company.id, actor, by)? {
                super::contract_api::notify(c, &tenant, &doc, &store)?;
            }
        }
        notify_decision(c, &tenant, &company, &store)?;
        Ok(company)
    })
    .await
}

async fn approve(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    let company = decide(&state, &s, path.id, None).await?;
    Ok(HttpResponse::Ok().json(customer_json(&company)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    pub reason: String,
}

async fn reject(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<IdPath>,
    body: web::Json<RejectBody>,
) -> AppResult<HttpResponse> {
    let company = decide(&state, &s, path.id, Some(body.into_inner().reason)).await?;
    Ok(HttpResponse::Ok().json(customer_json(&company)))
}

pub async fn patch_customer(state: &AppState, s: &StaffCtx, id: i64, body: CustomerPatch) -> AppResult<Company> {
    s.require(MANAGE_CUSTOMERS)?;
    let (actor, by, tenant) = (s.user.account.id, issuer(state, &s.tenant), s.tenant.tenant.clone());
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let company = customers::patch(c, id, &body)?;
        // New terms for a customer under contract: an additional agreement records them.
        if let Some(doc) = contracts::terms_changed(c, id, actor, &by)? {
            super::contract_api::notify(c, &tenant, &doc, &by.store_url)?;
        }
        Ok(company)
    })
    .await
}

async fn patch(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<IdPath>,
    body: web::Json<CustomerPatch>,
) -> AppResult<HttpResponse> {
    let company = patch_customer(&state, &s, path.id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(customer_json(&company)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteCompanyBody {
    pub company: CompanyInput,
    pub admin_email: String,
}

/// Staff add a company directly (closed portals) and invite its administrator.
pub async fn add_company(state: &AppState, s: &StaffCtx, body: InviteCompanyBody) -> AppResult<Company> {
    s.require(MANAGE_CUSTOMERS)?;
    let keys = [format!("account:{}", s.user.account.id)];
    state.limits.check(&state.limits.invite, &keys).await?;
    state.limits.hit(&state.limits.invite, &keys).await;
    let mut errors = crate::error::FieldErrors::new();
    body.company.validate(&mut errors);
    if let Err(e) = crate::identity::accounts::normalize_email(&body.admin_email) {
        errors.insert("admin_email".into(), e);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (actor, tenant, store) = (s.user.account.id, s.tenant.tenant.clone(), store_base(state, &s.tenant));
    let company = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let company = companies::create(c, &body.company, "active")?;
        let token = invitations::create(
            c,
            &body.admin_email,
            &Target::Member { company_id: company.id, role: "admin".into() },
            actor,
        )?;
        let link = format!("{store}/invitations/{token}");
        mail::enqueue(
            c,
            OutgoingMail {
                tenant_id: Some(tenant.id),
                to: &body.admin_email.trim().to_lowercase(),
                subject: by_locale(
                    &tenant,
                    format!("{}: приглашение", tenant.name),
                    format!("Invitation to {}", tenant.name),
                ),
                text: by_locale(
                    &tenant,
                    format!("{} открыл доступ компании «{}». Примите приглашение: {link}\n", tenant.name, company.name),
                    format!("{} opened an account for {}. Accept the invitation: {link}\n", tenant.name, company.name),
                ),
                links: vec![link],
            },
        )?;
        Ok(company)
    })
    .await?;
    Ok(company)
}

async fn invite_company(
    state: web::Data<AppState>,
    s: StaffCtx,
    body: web::Json<InviteCompanyBody>,
) -> AppResult<HttpResponse> {
    let company = add_company(&state, &s, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(customer_json(&company)))
}

async fn staff_list(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(MANAGE_STAFF)?;
    let list = with_tenant(&state.pool, &s.tenant.tenant.schema, staff::list).await?;
    Ok(HttpResponse::Ok().json(json!({"items": list, "total": list.len(), "page": 1, "per_page": list.len().max(1)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffInviteBody {
    pub email: String,
    pub role: String,
}

pub async fn invite_staff_member(state: &AppState, s: &StaffCtx, body: StaffInviteBody) -> AppResult<()> {
    s.require(MANAGE_STAFF)?;
    let role = StaffRole::parse(&body.role).ok_or_else(|| {
        AppError::field("role", "must be owner, admin, manager, warehouse, accountant or content_editor")
    })?;
    if role == StaffRole::Owner && s.role != StaffRole::Owner {
        return Err(AppError::forbidden("only an owner can invite an owner"));
    }
    let keys = [format!("account:{}", s.user.account.id)];
    state.limits.check(&state.limits.invite, &keys).await?;
    state.limits.hit(&state.limits.invite, &keys).await;
    let (actor, tenant, store) = (s.user.account.id, s.tenant.tenant.clone(), store_base(state, &s.tenant));
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let token = invitations::create(c, &body.email, &Target::Staff(role), actor)?;
        let link = format!("{store}/invitations/{token}");
        mail::enqueue(
            c,
            OutgoingMail {
                tenant_id: Some(tenant.id),
                to: &body.email.trim().to_lowercase(),
                subject: by_locale(
                    &tenant,
                    format!("{}: приглашение в команду", tenant.name),
                    format!("{}: join the team", tenant.name),
                ),
                text: by_locale(
                    &tenant,
                    format!("Вас пригласили в команду {} (роль: {}): {link}\n", tenant.name, role.as_str()),
                    format!("You are invited to the {} team as {}: {link}\n", tenant.name, role.as_str()),
                ),
                links: vec![link],
            },
        )?;
        Ok(())
    })
    .await
}

async fn invite_staff(
    state: web::Data<AppState>,
    s: StaffCtx,
    body: web::Json<StaffInviteBody>,
) -> AppResult<HttpResponse> {
    invite_staff_member(&state, &s, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(json!({"status": "invited"})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    pub role: Option<String>,
    pub status: Option<String>,
}

pub async fn update_staff(
    state: &AppState,
    s: &StaffCtx,
    account_id: i64,
    body: StaffPatch,
) -> AppResult<staff::StaffMember> {
    s.require(MANAGE_STAFF)?;
    let role = match body.role.as_deref() {
        Some(r) => Some(StaffRole::parse(r).ok_or_else(|| AppError::field("role", "unknown role"))?),
        None => None,
    };
    let actor = s.role;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        staff::update(c, actor, account_id, role, body.status.as_deref())
    })
    .await
}

async fn staff_patch(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<AccountPath>,
    body: web::Json<StaffPatch>,
) -> AppResult<HttpResponse> {
    let m = update_staff(&state, &s, path.account_id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(m))
}
