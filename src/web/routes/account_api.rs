//! Buyer API of a storefront: registration, the cabinet, company users and addresses,
//! invitations.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::{with_platform, with_tenant};
use crate::error::AppResult;
use crate::identity::accounts;
use crate::identity::companies;
use crate::identity::invitations::{self, Target};
use crate::identity::registration::{self, Links, RegisterRequest};
use crate::platform::mail::{self, OutgoingMail};
use crate::web::auth::{AuthUser, MaybeUser};
use crate::web::roles::BuyerCtx;
use crate::web::routes::auth_api::client_ip;
use crate::web::routes::platform_api::PageQuery;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/register").route(web::post().to(register)))
        .service(web::resource("/api/v1/account").route(web::get().to(account)))
        .service(web::resource("/api/v1/account/companies").route(web::get().to(my_companies)))
        .service(web::resource("/api/v1/account/users").route(web::get().to(users)))
        .service(web::resource("/api/v1/account/users/invitations").route(web::post().to(invite_user)))
        .service(web::resource("/api/v1/account/users/{account_id}").route(web::patch().to(update_user)))
        .service(
            web::resource("/api/v1/account/addresses")
                .route(web::get().to(addresses))
                .route(web::post().to(add_address)),
        )
        .service(web::resource("/api/v1/account/addresses/{id}").route(web::delete().to(remove_address)))
        .service(web::resource("/api/v1/invitations/{token}/accept").route(web::post().to(accept_invitation)));
}

/// Path parameters of tenant routes (which also carry `{tenant}` under `/s/`).
#[derive(Deserialize)]
pub struct IdPath {
    pub id: i64,
}

#[derive(Deserialize)]
pub struct AccountPath {
    pub account_id: i64,
}

#[derive(Deserialize)]
pub struct TokenPath {
    pub token: String,
}

pub fn store_base(state: &AppState, t: &TenantCtx) -> String {
    format!("{}/s/{}", state.settings.platform_url(), t.tenant.slug)
}

/// Registers a buyer company (and the account, unless signed in).
pub async fn do_register(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    user: Option<AuthUser>,
    body: RegisterRequest,
) -> AppResult<registration::Outcome> {
    let keys = [format!("ip:{}", client_ip(req))];
    state.limits.check(&state.limits.register, &keys).await?;
    state.limits.hit(&state.limits.register, &keys).await;
    let tenant = t.tenant.clone();
    let store = store_base(state, t);
    with_tenant(&state.pool, &t.tenant.schema, move |c| {
        registration::register(c, &tenant, &body, user.as_ref().map(|u| &u.account), &Links { store: &store })
    })
    .await
}

async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    body: web::Json<RegisterRequest>,
) -> AppResult<HttpResponse> {
    let out = do_register(&state, &req, &t, user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(json!({
        "status": out.company.status,
        "company_id": out.company.id,
        "account_id": out.account.id,
        "email_confirmation_sent": out.new_account,
    })))
}

/// The cabinet's summary of the active company.
pub async fn account_view(state: &AppState, b: &BuyerCtx) -> AppResult<serde_json::Value> {
    let manager_id = b.company.manager_account_id;
    let manager = match manager_id {
        Some(id) => with_platform(&state.pool, move |c| accounts::find(c, id)).await?,
        None => None,
    };
    let confirmed = b.user.account.email_confirmed_at.is_some();
    let company = b.company.clone();
    let position = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        Ok((crate::finance::ledger::position(c, &company)?, crate::catalog::settings::load(c)?.currency))
    })
    .await?;
    let (position, currency) = position;
    Ok(json!({
        "company": {
            "id": b.company.id, "name": b.company.name, "inn": b.company.inn, "kpp": b.company.kpp,
            "address": b.company.legal_address, "phone": b.company.phone,
        },
        "status": b.company.status,
        "reject_reason": b.company.reject_reason,
        "role": b.role,
        // paid − shipped: negative is debt (finance::ledger).
        "balance": crate::money::format(position.balance),
        "debt": crate::money::format(position.debt),
        "overdue": crate::money::format(position.overdue),
        "credit_limit": crate::money::format(b.company.credit_limit),
        "credit_left": crate::money::format(position.credit_left),
        "discount_percent": crate::money::format(b.company.discount_percent),
        "currency": currency,
        "price_group": b.company.price_group,
        "email_confirmed": confirmed,
        "manager": manager.map(|m| json!({"name": m.name, "email": m.email})),
        "companies": b.memberships.iter().map(|m| json!({"id": m.company.id, "name": m.company.name, "status": m.company.status, "role": m.role})).collect::<Vec<_>>(),
    }))
}

async fn account(state: web::Data<AppState>, b: BuyerCtx) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(account_view(&state, &b).await?))
}

async fn my_companies(req: HttpRequest, user: AuthUser, _t: TenantCtx) -> AppResult<HttpResponse> {
    let list = crate::web::roles::memberships(&req, &user).await?;
    let items: Vec<_> = list.iter().map(|m| json!({"id": m.company.id, "name": m.company.name, "inn": m.company.inn, "status": m.company.status, "role": m.role})).collect();
    Ok(HttpResponse::Ok()
        .json(json!({"items": items, "total": items.len(), "page": 1, "per_page": items.len().max(1)})))
}

async fn users(state: web::Data<AppState>, b: BuyerCtx) -> AppResult<HttpResponse> {
    b.require(&["admin"])?;
    let id = b.company.id;
    let list = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| companies::members(c, id)).await?;
    Ok(HttpResponse::Ok().json(json!({"items": list, "total": list.len(), "page": 1, "per_page": list.len().max(1)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    pub email: String,
    pub role: String,
}

/// A company admin invites a colleague; the invitation goes out by mail.
pub async fn invite_colleague(state: &AppState, b: &BuyerCtx, body: InviteBody) -> AppResult<()> {
    b.require(&["admin"])?;
    let keys = [format!("account:{}", b.user.account.id)];
    state.limits.check(&state.limits.invite, &keys).await?;
    state.limits.hit(&state.limits.invite, &keys).await;
    let (company_id, company_name, inviter, tenant) =
        (b.company.id, b.company.name.clone(), b.user.account.clone(), b.tenant.tenant.clone());
    let store = store_base(state, &b.tenant);
    with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let target = Target::Member { company_id, role: body.role.clone() };
        let token = invitations::create(c, &body.email, &target, inviter.id)?;
        let link = format!("{store}/invitations/{token}");
        mail::enqueue(
            c,
            OutgoingMail {
                tenant_id: Some(tenant.id),
                to: &body.email.trim().to_lowercase(),
                subject: registration::by_locale(
                    &tenant,
                    format!("Приглашение в {company_name}"),
                    format!("Invitation to {company_name}"),
                ),
                text: registration::by_locale(
                    &tenant,
                    format!(
                        "{} приглашает вас работать от имени «{company_name}» в {}: {link}\n",
                        inviter.name, tenant.name
                    ),
                    format!("{} invites you to work for {company_name} at {}: {link}\n", inviter.name, tenant.name),
                ),
                links: vec![link],
            },
        )?;
        Ok(())
    })
    .await
}

async fn invite_user(state: web::Data<AppState>, b: BuyerCtx, body: web::Json<InviteBody>) -> AppResult<HttpResponse> {
    invite_colleague(&state, &b, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(json!({"status": "invited"})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    pub role: Option<String>,
    pub status: Option<String>,
    /// The most this person may order at once without the admin's approval; "" removes it.
    #[serde(default)]
    pub order_limit: Option<String>,
}

async fn update_user(
    state: web::Data<AppState>,
    b: BuyerCtx,
    path: web::Path<AccountPath>,
    body: web::Json<MemberPatch>,
) -> AppResult<HttpResponse> {
    b.require(&["admin"])?;
    let (company_id, account_id, body) = (b.company.id, path.account_id, body.into_inner());
    let limit = match body.order_limit.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(s) => {
            Some(Some(crate::money::parse_amount(s).map_err(|e| crate::error::AppError::field("order_limit", e))?))
        }
    };
    let m = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let m = companies::update_member(c, company_id, account_id, body.role.as_deref(), body.status.as_deref())?;
        if let Some(limit) = limit {
            companies::set_order_limit(c, company_id, account_id, limit)?;
        }
        let mut v = serde_json::to_value(&m).map_err(|e| crate::error::AppError::Internal(e.into()))?;
        v["order_limit"] = json!(companies::order_limit(c, company_id, account_id)?.map(crate::money::format));
        Ok(v)
    })
    .await?;
    Ok(HttpResponse::Ok().json(m))
}

async fn addresses(state: web::Data<AppState>, b: BuyerCtx, _q: web::Query<PageQuery>) -> AppResult<HttpResponse> {
    let id = b.company.id;
    let list = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| companies::addresses(c, id)).await?;
    Ok(HttpResponse::Ok().json(json!({"items": list, "total": list.len(), "page": 1, "per_page": list.len().max(1)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub kind: String,
    pub address: String,
    #[serde(default)]
    pub is_default: bool,
}

async fn add_address(state: web::Data<AppState>, b: BuyerCtx, body: web::Json<AddressBody>) -> AppResult<HttpResponse> {
    b.require(&["admin"])?;
    let (id, body) = (b.company.id, body.into_inner());
    let a = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        companies::add_address(c, id, &body.kind, &body.address, body.is_default)
    })
    .await?;
    Ok(HttpResponse::Created().json(a))
}

async fn remove_address(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    b.require(&["admin"])?;
    let (company, id) = (b.company.id, path.id);
    with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| companies::remove_address(c, company, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accepts an invitation as the signed-in account.
pub async fn accept(
    state: &AppState,
    t: &TenantCtx,
    user: &AuthUser,
    token: String,
) -> AppResult<invitations::Invitation> {
    let account = user.account.clone();
    with_tenant(&state.pool, &t.tenant.schema, move |c| invitations::accept(c, &token, &account)).await
}

async fn accept_invitation(
    state: web::Data<AppState>,
    t: TenantCtx,
    user: AuthUser,
    path: web::Path<TokenPath>,
) -> AppResult<HttpResponse> {
    let inv = accept(&state, &t, &user, path.into_inner().token).await?;
    Ok(HttpResponse::Ok().json(json!({"kind": inv.kind, "role": inv.role, "company_id": inv.company_id})))
}
