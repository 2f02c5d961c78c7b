//! The buyer's cabinet pages: company card, status, manager, company switch, addresses,
//! company users.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::account_api::{account_view, invite_colleague, store_base, AccountPath, IdPath, InviteBody};
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::companies;
use crate::identity::registration::{send_confirmation, Links};
use crate::web::auth::MaybeUser;
use crate::web::render::{render, render_status, store_page, tr};
use crate::web::roles::{BuyerCtx, COMPANY_COOKIE};
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/account").route(web::get().to(cabinet)))
        .service(web::resource("/account/company").route(web::post().to(switch_company)))
        .service(web::resource("/account/resend-confirmation").route(web::post().to(resend)))
        .service(web::resource("/account/addresses").route(web::post().to(add_address)))
        .service(web::resource("/account/addresses/{id}/remove").route(web::post().to(remove_address)))
        .service(web::resource("/account/notifications/read").route(web::post().to(read_notifications)))
        .service(web::resource("/account/users").route(web::get().to(users)))
        .service(web::resource("/account/users/invite").route(web::post().to(invite)))
        .service(web::resource("/account/users/{account_id}").route(web::post().to(update_user)));
}

/// The buyer, or the page to go to instead (sign in, or register a company).
async fn buyer(req: &HttpRequest, t: &TenantCtx, user: &MaybeUser) -> Result<BuyerCtx, HttpResponse> {
    if user.0.is_none() {
        return Err(see_other(&format!("{}?next={}", t.link("/login"), t.link("/account"))));
    }
    let mut payload = actix_web::dev::Payload::None;
    match <BuyerCtx as actix_web::FromRequest>::from_request(req, &mut payload).await {
        Ok(b) => Ok(b),
        Err(_) => Err(see_other(&t.link("/account?none=1"))),
    }
}

async fn cabinet(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    if user.0.is_some() && req.query_string().contains("none=1") {
        let ctx = store_page(&req, &tr(&state, &req, "cabinet-title"), json!({"none": true})).await?;
        return render(&state, "storefront/account", &ctx);
    }
    let b = match buyer(&req, &t, &user).await {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    let id = b.company.id;
    let me = b.user.account.id;
    let (addresses, notices) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        Ok((companies::addresses(c, id)?, crate::ordering::notify::list(c, me, 10)?))
    })
    .await?;
    let mut view = account_view(&state, &b).await?;
    view["addresses"] = json!(addresses);
    view["notifications"] = notices;
    view["is_admin"] = json!(b.role == "admin");
    view["none"] = json!(false);
    view["has_overdue"] = json!(view["overdue"].as_str().is_some_and(|o| o != "0.00"));
    let lang = crate::web::render::locale(&req, Some(&t));
    for k in ["balance", "debt", "overdue", "credit_limit", "credit_left"] {
        let shown = view[k].as_str().map(|v| crate::money::grouped(v, &lang)).unwrap_or_default();
        view[k] = json!(shown);
    }
    view["sent"] = json!(req.query_string().contains("sent=1"));
    view["status_label"] = json!(tr(&state, &req, &format!("status-{}", b.company.status.replace('_', "-"))));
    view["role_label"] = json!(tr(&state, &req, &format!("member-role-{}", b.role)));
    let ctx = store_page(&req, &tr(&state, &req, "cabinet-title"), view).await?;
    render(&state, "storefront/account", &ctx)
}

#[derive(Deserialize)]
pub struct SwitchForm {
    company_id: i64,
}

async fn switch_company(t: TenantCtx, form: web::Form<SwitchForm>) -> HttpResponse {
    let cookie = Cookie::build(COMPANY_COOKIE, form.company_id.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    HttpResponse::SeeOther().insert_header(("Location", t.link("/account"))).cookie(cookie).finish()
}

async fn resend(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let b = match buyer(&req, &t, &user).await {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    let keys = [format!("account:{}", b.user.account.id)];
    state.limits.check(&state.limits.reset, &keys).await?;
    state.limits.hit(&state.limits.reset, &keys).await;
    let (tenant, account, store) = (t.tenant.clone(), b.user.account.clone(), store_base(&state, &t));
    with_tenant(&state.pool, &t.tenant.schema, move |c| {
        send_confirmation(c, &tenant, &account, &Links { store: &store })
    })
    .await?;
    Ok(see_other(&t.link("/account?sent=1")))
}

#[derive(Deserialize)]
pub struct AddressForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    address: String,
    is_default: Option<String>,
}

async fn add_address(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<AddressForm>,
) -> AppResult<HttpResponse> {
    let b = match buyer(&req, &t, &user).await {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    b.require(&["admin"])?;
    let (id, f) = (b.company.id, form.into_inner());
    with_tenant(&state.pool, &t.tenant.schema, move |c| {
        companies::add_address(c, id, &f.kind, &f.address, f.is_default.is_some())
    })
    .await?;
    Ok(see_other(&t.link("/account")))
}

async fn remove_address(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let b = match buyer(&req, &t, &user).await {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    b.require(&["admin"])?;
    let (company, id) = (b.company.id, path.id);
    with_tenant(&state.pool, &t.tenant.schema, move |c| companies::remove_address(c, company, id)).await?;
    Ok(see_other(&t.link("/account")))
}

async fn users_page(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    errors: FieldErrors,
    status: u16,
) -> AppResult<HttpResponse> {
    let id = b.company.id;
    let (members, limits) = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let members = companies::members(c, id)?;
        let limits =
            members.iter().map(|m| companies::order_limit(c, id, m.account_id)).collect::<AppResult<Vec<_>>>()?;
        Ok((members, limits))
    })
    .await?;
    let me = b.user.account.id;
    let rows: Vec<_> = members
        .iter()
        .zip(limits)
        .map(|(m, limit)| json!({"account_id": m.account_id, "name": m.name, "email": m.email, "role": m.role, "status": m.status, "me": m.account_id == me,
            "order_limit": limit.map(crate::money::format),
            "roles": companies::MEMBER_ROLES.iter().map(|r| json!({"code": r, "label": tr(state, req, &format!("member-role-{r}")), "selected": *r == m.role})).collect::<Vec<_>>()}))
        .collect();
    let roles: Vec<_> = companies::MEMBER_ROLES
        .iter()
        .map(|r| json!({"code": r, "label": tr(state, req, &format!("member-role-{r}"))}))
        .collect();
    let data = json!({"company": b.company.name, "members": rows, "roles": roles, "errors": errors, "invited": req.query_string().contains("invited=1")});
    let ctx = store_page(req, &tr(state, req, "users-title"), data).await?;
    render_status(state, "storefront/account_users", &ctx, status)
}

async fn users(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let b = match buyer(&req, &t, &user).await {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    b.require(&["admin"])?;
    users_page(&state, &req, &b, FieldErrors::new(), 200).await
}

#[derive(Deserialize)]
pub struct InviteForm {
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
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    let b = match buyer(&req, &t, &user).await {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    let f = form.into_inner();
    match invite_colleague(&state, &b, InviteBody { email: f.email, role: f.role }).await {
        Ok(()) => Ok(see_other(&t.link("/account/users?invited=1"))),
        Err(AppError::Validation(errors)) => users_page(&state, &req, &b, errors, 422).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    role: Option<String>,
    status: Option<String>,
    /// The most this person may order at once without approval; empty: no limit.
    order_limit: Option<String>,
}

async fn update_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<AccountPath>,
    form: web::Form<MemberForm>,
) -> AppResult<HttpResponse> {
    let b = match buyer(&req, &t, &user).await {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    b.require(&["admin"])?;
    let (company_id, account_id, f) = (b.company.id, path.account_id, form.into_inner());
    let limit = match f.order_limit.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(s) => match crate::money::parse_amount(&s.replace(' ', "").replace(',', ".")) {
            Ok(v) => Some(Some(v)),
            Err(e) => {
                let msg = state.i18n.message(&crate::web::render::locale(&req, Some(&t)), &e);
                let text = format!("{}: {msg}", tr(&state, &req, "users-order-limit"));
                return users_page(&state, &req, &b, FieldErrors::from([("member".to_string(), text)]), 422).await;
            }
        },
    };
    let result = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        companies::update_member(c, company_id, account_id, f.role.as_deref(), f.status.as_deref())?;
        if let Some(limit) = limit {
            companies::set_order_limit(c, company_id, account_id, limit)?;
        }
        Ok(())
    })
    .await;
    match result {
        Ok(_) => Ok(see_other(&t.link("/account/users"))),
        Err(AppError::Conflict { message, .. }) => {
            users_page(&state, &req, &b, FieldErrors::from([("member".to_string(), message)]), 409).await
        }
        Err(e) => Err(e),
    }
}

/// Marks every cabinet notification read, then back to the cabinet.
async fn read_notifications(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let b = match buyer(&req, &t, &user).await {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    let me = b.user.account.id;
    with_tenant(&state.pool, &t.tenant.schema, move |c| crate::ordering::notify::mark_read(c, me, &[])).await?;
    Ok(see_other(&t.link("/account#notifications")))
}
