//! Who may act in a tenant: supplier staff with a role ([`StaffCtx`]) and buyers acting
//! for one of their companies ([`BuyerCtx`]). Both are checked against the tenant's own
//! tables on every request, so a disabled person loses access at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use super::auth::{current_user, AuthUser};
use super::tenant::TenantCtx;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::identity::companies::{self, Company, Membership};
use crate::identity::staff::{self, StaffRole};
use crate::integrations::api_keys::KeyUse;

/// Cookie (pages) and header (API) naming the company a buyer acts for.
pub const COMPANY_COOKIE: &str = "tp_company";
pub const COMPANY_HEADER: &str = "x-company-id";

#[derive(Debug, Clone)]
pub struct StaffCtx {
    pub user: AuthUser,
    pub role: StaffRole,
    pub tenant: TenantCtx,
    /// Set when an integration's API key made the request (see `web::api_key`): it acts
    /// as an administrator, as the staff member who created the key.
    pub api_key: Option<KeyUse>,
}

impl StaffCtx {
    /// 403 unless the role is one of `roles`.
    pub fn require(&self, roles: &[StaffRole]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden("your staff role does not allow this"))
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuyerCtx {
    pub user: AuthUser,
    pub tenant: TenantCtx,
    pub company: Company,
    pub role: String,
    pub memberships: Vec<Membership>,
}

impl BuyerCtx {
    /// 403 unless the person's role in the company is one of `roles`.
    pub fn require(&self, roles: &[&str]) -> AppResult<()> {
        if roles.contains(&self.role.as_str()) {
            Ok(())
        } else {
            Err(AppError::forbidden("your role in the company does not allow this"))
        }
    }
}

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

fn parts(req: &HttpRequest) -> AppResult<(actix_web::web::Data<AppState>, TenantCtx)> {
    let state = req
        .app_data::<actix_web::web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
    let tenant = req.extensions().get::<TenantCtx>().cloned().ok_or_else(|| AppError::not_found("store"))?;
    Ok((state, tenant))
}

/// The staff role looked up for this request (also read by page contexts for the menu).
#[derive(Clone, Debug)]
pub struct StaffRoleCache(pub Option<StaffRole>);

/// The staff role of the signed-in account in this tenant, cached per request.
pub async fn staff_role(req: &HttpRequest) -> AppResult<Option<(AuthUser, StaffRole)>> {
    let Some(user) = current_user(req).await? else { return Ok(None) };
    if let Some(StaffRoleCache(role)) = req.extensions().get::<StaffRoleCache>().cloned() {
        return Ok(role.map(|r| (user, r)));
    }
    let (state, tenant) = parts(req)?;
    let id = user.account.id;
    let (tid, generation) = (tenant.tenant.id, access_generation(req));
    let role = match generation.and_then(|g| state.caches.staff(tid, id, g)) {
        Some(role) => role,
        None => {
            let role = with_tenant(&state.pool, &tenant.tenant.schema, move |c| staff::role_of(c, id)).await?;
            if let Some(g) = generation {
                state.caches.put_staff(tid, id, g, role);
            }
            role
        }
    };
    req.extensions_mut().insert(StaffRoleCache(role));
    Ok(role.map(|r| (user, r)))
}

impl FromRequest for StaffCtx {
    type Error = AppError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (state, tenant) = parts(&req)?;
            if let Some(ctx) = super::api_key::staff(&req, &state, &tenant).await? {
                return Ok(ctx);
            }
            current_user(&req).await?.ok_or(AppError::Unauthorized)?;
            let (user, role) =
                staff_role(&req).await?.ok_or_else(|| AppError::forbidden("this page is for the supplier's staff"))?;
            Ok(StaffCtx { user, role, tenant, api_key: None })
        })
    }
}

/// The company id the request asks to act for (header, else cookie).
fn requested_company(req: &HttpRequest) -> Option<i64> {
    req.headers()
        .get(COMPANY_HEADER)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.cookie(COMPANY_COOKIE).map(|c| c.value().to_owned()))
        .and_then(|v| v.parse().ok())
}

/// The signed-in person's memberships in this tenant's companies.
pub async fn memberships(req: &HttpRequest, user: &AuthUser) -> AppResult<Vec<Membership>> {
    let (state, tenant) = parts(req)?;
    let id = user.account.id;
    let (tid, generation) = (tenant.tenant.id, access_generation(req));
    if let Some(list) = generation.and_then(|g| state.caches.memberships(tid, id, g)) {
        return Ok(list.as_ref().clone());
    }
    let list = with_tenant(&state.pool, &tenant.tenant.schema, move |c| companies::memberships(c, id)).await?;
    if let Some(g) = generation {
        state.caches.put_memberships(tid, id, g, std::sync::Arc::new(list.clone()));
    }
    Ok(list)
}

/// The access cache generation read with this request's session check, if any.
fn access_generation(req: &HttpRequest) -> Option<i64> {
    super::auth::generations(req).map(|g| g.access)
}

impl FromRequest for BuyerCtx {
    type Error = AppError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let (_, tenant) = parts(&req)?;
            let user = current_user(&req).await?.ok_or(AppError::Unauthorized)?;
            let list = memberships(&req, &user).await?;
            let explicit = req.headers().contains_key(COMPANY_HEADER);
            let chosen = match requested_company(&req) {
                // An API client naming a company it does not belong to is refused…
                Some(id) if explicit => Some(
                    list.iter()
                        .find(|m| m.company.id == id)
                        .ok_or_else(|| AppError::forbidden("you do not act for this company"))?,
                ),
                // …a stale cookie falls back to the first company.
                Some(id) => list.iter().find(|m| m.company.id == id).or(list.first()),
                None => list.first(),
            }
            .cloned()
            .ok_or_else(|| {
                AppError::forbidden("you are not a customer of this store yet: register your company first")
            })?;
            Ok(BuyerCtx { user, tenant, company: chosen.company, role: chosen.role, memberships: list })
        })
    }
}

/// A buyer when the request has one with an active company, else `None` (guests, staff,
/// people whose company is still waiting for approval see guest prices).
pub struct MaybeBuyer(pub Option<BuyerCtx>);

impl FromRequest for MaybeBuyer {
    type Error = AppError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = BuyerCtx::from_request(req, payload);
        Box::pin(async move {
            match fut.await {
                Ok(b) if b.company.is_active() => Ok(MaybeBuyer(Some(b))),
                Ok(_) | Err(AppError::Unauthorized) | Err(AppError::Forbidden(_)) => Ok(MaybeBuyer(None)),
                Err(e) => Err(e),
            }
        })
    }
}
