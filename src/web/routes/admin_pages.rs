//! Supplier back-office pages: customers (approve, reject, terms) and staff.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::account_api::{AccountPath, IdPath};
use super::admin_api::{
    add_company as add_company_for, customer_json, decide, invite_staff_member, list_customers, patch_customer,
    update_staff, CustomerQuery, InviteCompanyBody, StaffInviteBody, StaffPatch,
};
use super::contract_api;
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::companies;
use crate::identity::customers::{CustomerPatch, STATUSES};
use crate::identity::staff::{self, StaffRole, MANAGE_CUSTOMERS, MANAGE_STAFF};
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::{render, render_status, store_page, tr};
use crate::web::roles::{staff_role, StaffCtx};
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin").route(web::get().to(home)))
        .service(web::resource("/admin/customers").route(web::get().to(customers)))
        .service(web::resource("/admin/customers/add").route(web::post().to(add_company)))
        .service(
            web::resource("/admin/customers/{id}")
                .route(web::get().to(customer))
                .route(web::post().to(update_customer)),
        )
        .service(web::resource("/admin/customers/{id}/approve").route(web::post().to(approve)))
        .service(web::resource("/admin/customers/{id}/reject").route(web::post().to(reject)))
        .service(web::resource("/admin/staff").route(web::get().to(staff_page)))
        .service(web::resource("/admin/staff/invite").route(web::post().to(invite)))
        .service(web::resource("/admin/staff/{account_id}").route(web::post().to(update_member)));
}

/// The staff member, or a redirect to sign in (back to `here`, a path in the store); signed-in
/// non-staff get 403. Pages use it through [`staff_or_return!`].
pub(crate) async fn staff_ctx(
    req: &HttpRequest,
    t: &TenantCtx,
    user: &MaybeUser,
    here: &str,
) -> Result<AppResult<StaffCtx>, HttpResponse> {
    let Some(u) = user.0.clone() else {
        return Err(see_other(&format!("{}?next={}", t.link("/login"), urlencode(&t.link(here)))));
    };
    Ok(match staff_role(req).await {
        Ok(Some((_, role))) => Ok(StaffCtx { user: u, role, tenant: t.clone(), api_key: None }),
        Ok(None) => Err(AppError::forbidden("this page is for the supplier's staff")),
        Err(e) => Err(e),
    })
}

/// `staff_or_return!(req, t, user, here)`: the [`StaffCtx`] of a page handler, or the handler
/// returns the sign-in redirect (an error, such as 403, goes up with `?`).
macro_rules! staff_or_return {
    ($req:expr, $t:expr, $user:expr, $here:expr) => {
        match $crate::web::routes::admin_pages::staff_ctx(&$req, &$t, &$user, $here).await {
            Ok(ctx) => ctx?,
            Err(redirect) => return Ok(redirect),
        }
    };
}
pub(crate) use staff_or_return;

async fn home(t: TenantCtx) -> HttpResponse {
    see_other(&t.link("/admin/customers"))
}

fn status_label(state: &AppState, req: &HttpRequest, status: &str) -> String {
    tr(state, req, &format!("status-{}", status.replace('_', "-")))
}

async fn customers(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    q: web::Query<CustomerQuery>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/customers");
    let q = q.into_inner();
    let (status, text) = (q.status.clone().unwrap_or_default(), q.q.clone().unwrap_or_default());
    let (items, total, page, per_page) = list_customers(&state, &s, q).await?;
    let can_manage = MANAGE_CUSTOMERS.contains(&s.role);
    let rows: Vec<_> = items
        .iter()
        .map(|c| {
            let mut row = customer_json(c);
            row["status_label"] = json!(status_label(&state, &req, &c.status));
            row["pending"] = json!(c.status == "pending_approval");
            row
        })
        .collect();
    let filters: Vec<_> = std::iter::once(("", tr(&state, &req, "customers-all")))
        .chain(STATUSES.iter().map(|s| (*s, status_label(&state, &req, s))))
        .map(|(code, label)| json!({"code": code, "label": label, "selected": code == status}))
        .collect();
    let pages = (total + per_page - 1) / per_page;
    let data = json!({"customers": rows, "total": total, "page": page, "pages": pages.max(1), "can_manage": can_manage, "filters": filters, "q": text, "status": status,
        "prev": (page > 1).then(|| page - 1), "next": (page < pages).then(|| page + 1), "can_staff": MANAGE_STAFF.contains(&s.role)});
    let ctx = store_page(&req, &tr(&state, &req, "customers-title"), data).await?;
    render(&state, "admin/customers", &ctx)
}

async fn customer_page(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    id: i64,
    errors: FieldErrors,
    status: u16,
) -> AppResult<HttpResponse> {
    let pdf_base = s.tenant.link("/api/v1/admin/contracts");
    let (company, members, addresses, staff_list, docs) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let company = companies::find(c, id)?.ok_or_else(|| AppError::not_found("customer"))?;
        let docs = contract_api::listed_of(c, id, &pdf_base)?;
        Ok((company, companies::members(c, id)?, companies::addresses(c, id)?, staff::list(c)?, docs))
    })
    .await?;
    let managers: Vec<_> = staff_list
        .iter()
        .filter(|m| m.status == "active")
        .map(|m| json!({"id": m.account_id, "name": m.name, "selected": Some(m.account_id) == company.manager_account_id}))
        .collect();
    let mut data = customer_json(&company);
    data["members"] = json!(members);
    data["addresses"] = json!(addresses);
    data["managers"] = json!(managers);
    data["errors"] = json!(errors);
    data["pending"] = json!(company.status == "pending_approval");
    data["status_label"] = json!(status_label(state, req, &company.status));
    data["can_manage"] = json!(MANAGE_CUSTOMERS.contains(&s.role));
    data["saved"] = json!(req.query_string().contains("saved=1"));
    let tx = super::order_pages::Tx::new(state, req, &s.tenant);
    data["contracts"] = json!(super::contract_pages::contract_rows(&tx, &docs));
    data["can_issue"] = json!(MANAGE_CUSTOMERS.contains(&s.role) && company.is_active());
    let ctx = store_page(req, &company.name, data).await?;
    render_status(state, "admin/customer", &ctx, status)
}

async fn customer(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, &format!("/admin/customers/{}", path.id));
    s.require(crate::identity::staff::SEE_CUSTOMERS)?;
    customer_page(&state, &req, &s, path.id, FieldErrors::new(), 200).await
}

async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/customers");
    decide(&state, &s, path.id, None).await?;
    Ok(see_other(&t.link(&format!("/admin/customers/{}?saved=1", path.id))))
}

#[derive(Deserialize)]
pub struct RejectForm {
    #[serde(default)]
    reason: String,
}

async fn reject(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
    form: web::Form<RejectForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/customers");
    match decide(&state, &s, path.id, Some(form.into_inner().reason)).await {
        Ok(_) => Ok(see_other(&t.link(&format!("/admin/customers/{}?saved=1", path.id)))),
        Err(AppError::Validation(errors)) => customer_page(&state, &req, &s, path.id, errors, 422).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct TermsForm {
    #[serde(default)]
    price_group: String,
    #[serde(default)]
    credit_limit: String,
    #[serde(default)]
    discount_percent: String,
    #[serde(default)]
    manager_id: String,
    #[serde(default)]
    status: String,
    /// Days of deferral; empty: the store's default; not sent: unchanged.
    #[serde(default)]
    payment_terms_days: Option<String>,
}

async fn update_customer(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
    form: web::Form<TermsForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/customers");
    let f = form.into_inner();
    let patch = CustomerPatch {
        price_group: Some(f.price_group),
        credit_limit: Some(f.credit_limit).filter(|v| !v.trim().is_empty()),
        discount_percent: Some(f.discount_percent).filter(|v| !v.trim().is_empty()),
        manager_id: Some(f.manager_id.parse().unwrap_or(0)),
        status: Some(f.status).filter(|v| v == "active" || v == "blocked"),
        payment_terms_days: match f.payment_terms_days.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            // Not a number: out of range, so the form shows the range.
            Some(v) => Some(Some(v.parse().unwrap_or(-1))),
        },
    };
    match patch_customer(&state, &s, path.id, patch).await {
        Ok(_) => Ok(see_other(&t.link(&format!("/admin/customers/{}?saved=1", path.id)))),
        Err(AppError::Validation(errors)) => customer_page(&state, &req, &s, path.id, errors, 422).await,
        Err(e) => Err(e),
    }
}

async fn staff_view(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    errors: FieldErrors,
    status: u16,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_STAFF)?;
    let list = with_tenant(&state.pool, &s.tenant.tenant.schema, staff::list).await?;
    let role_label = |r: &str| tr(state, req, &format!("staff-role-{}", r.replace('_', "-")));
    let assignable: Vec<StaffRole> =
        StaffRole::ALL.iter().copied().filter(|r| *r != StaffRole::Owner || s.role == StaffRole::Owner).collect();
    let rows: Vec<_> = list
        .iter()
        .map(|m| json!({"account_id": m.account_id, "name": m.name, "email": m.email, "status": m.status, "role_label": role_label(&m.role),
            "me": m.account_id == s.user.account.id,
            "roles": assignable.iter().map(|r| json!({"code": r.as_str(), "label": role_label(r.as_str()), "selected": r.as_str() == m.role})).collect::<Vec<_>>()}))
        .collect();
    let roles: Vec<_> =
        assignable.iter().map(|r| json!({"code": r.as_str(), "label": role_label(r.as_str())})).collect();
    let data =
        json!({"staff": rows, "roles": roles, "errors": errors, "invited": req.query_string().contains("invited=1")});
    let ctx = store_page(req, &tr(state, req, "staff-title"), data).await?;
    render_status(state, "admin/staff", &ctx, status)
}

async fn staff_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/staff");
    staff_view(&state, &req, &s, FieldErrors::new(), 200).await
}

#[derive(Deserialize)]
pub struct StaffInviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<StaffInviteForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/staff");
    let f = form.into_inner();
    match invite_staff_member(&state, &s, StaffInviteBody { email: f.email, role: f.role }).await {
        Ok(()) => Ok(see_other(&t.link("/admin/staff?invited=1"))),
        Err(AppError::Validation(errors)) => staff_view(&state, &req, &s, errors, 422).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct StaffForm {
    role: Option<String>,
    status: Option<String>,
}

async fn update_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<AccountPath>,
    form: web::Form<StaffForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/staff");
    let f = form.into_inner();
    match update_staff(&state, &s, path.account_id, StaffPatch { role: f.role, status: f.status }).await {
        Ok(_) => Ok(see_other(&t.link("/admin/staff"))),
        Err(AppError::Conflict { message, .. }) | Err(AppError::Forbidden(message)) => {
            staff_view(&state, &req, &s, FieldErrors::from([("staff".to_string(), message)]), 409).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct AddCompanyForm {
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    inn: String,
    #[serde(default)]
    kpp: String,
    #[serde(default)]
    admin_email: String,
}

/// A company added by staff (closed portals): active at once, its administrator invited.
async fn add_company(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<AddCompanyForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/customers");
    let f = form.into_inner();
    let body = InviteCompanyBody {
        company: crate::identity::companies::CompanyInput {
            name: f.company_name,
            inn: f.inn.trim().to_owned(),
            kpp: Some(f.kpp.trim().to_owned()).filter(|k| !k.is_empty()),
            ..Default::default()
        },
        admin_email: f.admin_email,
    };
    match add_company_for(&state, &s, body).await {
        Ok(company) => Ok(see_other(&t.link(&format!("/admin/customers/{}?saved=1", company.id)))),
        Err(AppError::Validation(errors)) => {
            let msg: Vec<String> =
                errors.values().map(|m| state.i18n.message(&crate::web::render::locale(&req, Some(&t)), m)).collect();
            Err(AppError::BadRequest(msg.join("; ")))
        }
        Err(e) => Err(e),
    }
}
