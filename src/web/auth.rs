//! Who is calling: a Bearer token (API) or the session cookie (pages), verified and then
//! checked server-side for revocation. Extractors: [`MaybeUser`], [`AuthUser`], [`Operator`].

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::app::AppState;
use crate::db::{read_platform, Generations};
use crate::error::AppError;
use crate::identity::accounts::Account;
use crate::identity::sessions::{self, Claims};
use crate::web::tenant::TenantCtx;

pub const SESSION_COOKIE: &str = "tp_session";
pub const REFRESH_COOKIE: &str = "tp_refresh";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub account: Account,
    pub claims: Claims,
}

/// The caller if authenticated; `None` for anonymous or invalid credentials.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

/// A platform operator (401 without credentials, 403 for anyone else).
#[derive(Debug, Clone)]
pub struct Operator(pub AuthUser);

/// Cached per request so several extractors cost one lookup.
#[derive(Clone)]
struct Resolved(Option<AuthUser>);

/// The tenant's cache generations, read with the session check (see `crate::cache`).
#[derive(Clone, Copy)]
struct KnownGenerations(Generations);

/// The cache generations this request read with its session check, if it had one.
pub fn generations(req: &HttpRequest) -> Option<Generations> {
    req.extensions().get::<KnownGenerations>().map(|g| g.0)
}

/// An access token renewed by [`renew_session`] during this request.
#[derive(Clone)]
struct RenewedToken(String);

fn presented_token(req: &HttpRequest) -> Option<String> {
    if let Some(RenewedToken(t)) = req.extensions().get::<RenewedToken>() {
        return Some(t.clone());
    }
    if let Some(h) = req.headers().get("authorization").and_then(|h| h.to_str().ok()) {
        return h.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned())
}

async fn resolve(req: &HttpRequest) -> Result<Option<AuthUser>, AppError> {
    if let Some(Resolved(user)) = req.extensions().get::<Resolved>().cloned() {
        return Ok(user);
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
    let user = match presented_token(req) {
        None => None,
        Some(token) => match state.jwt.decode(&token) {
            Err(_) => None,
            Ok(claims) => {
                let c = claims.clone();
                let schema = req.extensions().get::<TenantCtx>().map(|t| t.tenant.schema.as_str().to_owned());
                match read_platform(&state.pool, move |conn| sessions::load_session_in(conn, &c, schema.as_deref()))
                    .await
                {
                    Ok((account, generation)) => {
                        req.extensions_mut().insert(KnownGenerations(generation));
                        Some(AuthUser { account, claims })
                    }
                    Err(AppError::Unauthorized) => None,
                    Err(e) => return Err(e),
                }
            }
        },
    };
    if let Some(u) = &user {
        super::telemetry::record(req, "user_id", &u.account.id.to_string());
    }
    req.extensions_mut().insert(Resolved(user.clone()));
    Ok(user)
}

/// Public form of the lookup, for extractors built on top of it.
pub async fn current_user(req: &HttpRequest) -> Result<Option<AuthUser>, AppError> {
    resolve(req).await
}

/// Middleware for pages: when the access cookie is missing or expired but a refresh
/// cookie is present, rotates the refresh token and sets both cookies again, so a
/// signed-in person stays signed in for `refresh_ttl_days` without long-lived access tokens.
pub async fn renew_session(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else { return next.call(req).await };
    let refresh = req.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty());
    let access_ok = req.cookie(SESSION_COOKIE).is_some_and(|c| state.jwt.decode(c.value()).is_ok());
    let (Some(refresh), false, false) = (refresh, access_ok, req.headers().contains_key("authorization")) else {
        return next.call(req).await;
    };
    let secure = state.settings.is_prod();
    match crate::web::routes::auth_api::rotate(&state, refresh).await {
        Ok(session) => {
            req.extensions_mut().insert(RenewedToken(session.access.clone()));
            let mut res = next.call(req).await?;
            let _ = res.response_mut().add_cookie(&session_cookie(
                session.access,
                state.settings.auth.token_ttl_secs,
                secure,
            ));
            let _ = res.response_mut().add_cookie(&refresh_cookie(
                session.refresh,
                state.settings.auth.refresh_ttl_days,
                secure,
            ));
            Ok(res)
        }
        Err(AppError::Unauthorized) => {
            let mut res = next.call(req).await?;
            let _ = res.response_mut().add_cookie(&clear_refresh_cookie());
            Ok(res)
        }
        Err(_) => next.call(req).await,
    }
}

/// The signed-in user already looked up for this request, for page contexts.
pub fn cached_user(req: &HttpRequest) -> Option<AuthUser> {
    req.extensions().get::<Resolved>().and_then(|r| r.0.clone())
}

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await.map(MaybeUser) })
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(&req).await?.ok_or(AppError::Unauthorized) })
    }
}

impl FromRequest for Operator {
    type Error = AppError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = resolve(&req).await?.ok_or(AppError::Unauthorized)?;
            if user.account.is_operator {
                Ok(Operator(user))
            } else {
                Err(AppError::forbidden("operators only"))
            }
        })
    }
}

/// The session cookie for a freshly issued token.
pub fn session_cookie(token: String, max_age_secs: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// A cookie that deletes the session cookie.
pub fn clear_session_cookie() -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "").path("/").http_only(true).same_site(SameSite::Lax).finish();
    c.make_removal();
    c
}

/// The refresh-token cookie: HttpOnly, sent only to the session-renewal paths' site.
pub fn refresh_cookie(token: String, days: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, token)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::days(days))
        .finish()
}

pub fn clear_refresh_cookie() -> Cookie<'static> {
    let mut c = Cookie::build(REFRESH_COOKIE, "").path("/").http_only(true).same_site(SameSite::Lax).finish();
    c.make_removal();
    c
}
