//! `Authorization: Bearer tp_live_…` on the tenant's JSON API: an integration's API key acts
//! as an administrator of the store (as the staff member who created the key), with the
//! key's scope: a `read` key may only GET. Only [`crate::web::roles::StaffCtx`] accepts keys,
//! so a key never acts as a buyer, an operator or on a page. The `api_access` feature must
//! be on; a revoked key, another store's key or a wrong one is a 401. CSRF does not apply:
//! a Bearer request carries no ambient credentials (`web::csrf`).

use actix_web::http::Method;
use actix_web::{web, HttpRequest};

use super::auth::AuthUser;
use super::roles::StaffCtx;
use super::tenant::TenantCtx;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::identity::accounts::Account;
use crate::identity::sessions::Claims;
use crate::identity::staff::StaffRole;
use crate::integrations::api_keys::{self, KEY_PREFIX};
use crate::platform::features::Feature;

/// The API key the request presents, if its Bearer token has a key's shape.
pub fn presented(req: &HttpRequest) -> Option<String> {
    let h = req.headers().get("authorization")?.to_str().ok()?;
    let token = h.strip_prefix("Bearer ")?.trim();
    token.starts_with(KEY_PREFIX).then(|| token.to_owned())
}

/// The staff context of a request made with an API key; `None` when it presents none.
pub async fn staff(req: &HttpRequest, state: &web::Data<AppState>, tenant: &TenantCtx) -> AppResult<Option<StaffCtx>> {
    let Some(key) = presented(req) else { return Ok(None) };
    if !req.path().contains("/api/v1/") || !tenant.tenant.has(Feature::ApiAccess) {
        return Err(AppError::Unauthorized);
    }
    let found = with_tenant(&state.pool, &tenant.tenant.schema, move |c| api_keys::authenticate(c, &key)).await?;
    let used = found.ok_or(AppError::Unauthorized)?;
    if !used.write && !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(AppError::Detailed {
            status: 403,
            code: "insufficient_scope",
            message: "this API key may only read: create a key with the write scope".into(),
            details: serde_json::Map::new(),
        });
    }
    super::telemetry::record(req, "user_id", &format!("api-key:{}", used.id));
    let account = Account {
        id: used.created_by,
        email: String::new(),
        name: format!("API key «{}»", used.name),
        is_operator: false,
        email_confirmed_at: None,
    };
    let claims =
        Claims { sub: used.created_by.to_string(), jti: format!("api-key:{}", used.id), iat: 0, exp: 0, iat_ms: 0 };
    let user = AuthUser { account, claims };
    Ok(Some(StaffCtx { user, role: StaffRole::Admin, tenant: tenant.clone(), api_key: Some(used) }))
}
