//! `/api/v1/auth/…`: register, login, refresh, logout, password reset, e-mail confirmation.
//! Mounted on the platform host and under every storefront (links in mail then point at
//! that storefront).

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::with_platform;
use crate::error::{AppError, AppResult};
use crate::identity::accounts::{self, Account, NewAccount};
use crate::identity::password;
use crate::identity::sessions;
use crate::identity::tokens::{self, Purpose};
use crate::platform::mail::{self, OutgoingMail};
use crate::web::auth::{clear_session_cookie, AuthUser};
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/auth/register").route(web::post().to(register)))
        .service(web::resource("/api/v1/auth/login").route(web::post().to(login)))
        .service(web::resource("/api/v1/auth/refresh").route(web::post().to(refresh)))
        .service(web::resource("/api/v1/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/api/v1/auth/password-reset").route(web::post().to(password_reset)))
        .service(web::resource("/api/v1/auth/password-reset/confirm").route(web::post().to(password_reset_confirm)))
        .service(web::resource("/api/v1/auth/confirm-email").route(web::post().to(confirm_email)));
}

/// The client's address for rate limits: the TCP peer, or what a trusted proxy says in
/// `X-Forwarded-For` (`server.trusted_proxies`, see `web::client_addr`).
pub fn client_ip(req: &HttpRequest) -> String {
    let proxies = req.app_data::<web::Data<AppState>>().map(|s| s.trusted_proxies.as_slice()).unwrap_or(&[]);
    let forwarded: Vec<&str> = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    crate::web::client_addr::client_ip(req.peer_addr().map(|a| a.ip()), &forwarded, proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    email: String,
    password: String,
    name: String,
}

async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterBody>,
) -> AppResult<HttpResponse> {
    let keys = [format!("ip:{}", client_ip(&req))];
    state.limits.check(&state.limits.register, &keys).await?;
    state.limits.hit(&state.limits.register, &keys).await;
    let body = body.into_inner();
    let account = with_platform(&state.pool, move |conn| {
        accounts::create(
            conn,
            NewAccount { email: &body.email, name: &body.name, password: Some(&body.password), is_operator: false },
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({"id": account.id, "email": account.email})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// Checks credentials under the login limits (per e-mail and per client address).
pub async fn check_login(state: &AppState, req: &HttpRequest, email: &str, password: &str) -> AppResult<Account> {
    let keys = [format!("email:{}", email.trim().to_lowercase()), format!("ip:{}", client_ip(req))];
    state.limits.check(&state.limits.login, &keys).await?;
    let (email, password) = (email.to_owned(), password.to_owned());
    let result = with_platform(&state.pool, move |conn| accounts::authenticate(conn, &email, &password)).await;
    if matches!(result, Err(AppError::Unauthorized)) {
        state.limits.hit(&state.limits.login, &keys).await;
    }
    result
}

/// A new session: a short-lived access token and a rotating refresh token.
pub struct NewSession {
    pub access: String,
    pub refresh: String,
    pub expires_in: i64,
}

pub async fn start_session(state: &AppState, account_id: i64) -> AppResult<NewSession> {
    let issued = state.jwt.issue(account_id)?;
    let days = state.settings.auth.refresh_ttl_days;
    let refresh = with_platform(&state.pool, move |conn| sessions::issue_refresh(conn, account_id, None, days)).await?;
    Ok(NewSession { access: issued.token, refresh, expires_in: issued.expires_in })
}

fn token_body(s: &NewSession) -> serde_json::Value {
    json!({"access_token": s.access, "refresh_token": s.refresh, "token_type": "Bearer", "expires_in": s.expires_in})
}

async fn login(state: web::Data<AppState>, req: HttpRequest, body: web::Json<LoginBody>) -> AppResult<HttpResponse> {
    let account = match check_login(&state, &req, &body.email, &body.password).await {
        Ok(a) => a,
        Err(AppError::Unauthorized) => {
            return Ok(HttpResponse::Unauthorized()
                .json(json!({"error": {"code": "invalid_credentials", "message": "wrong e-mail or password"}})));
        }
        Err(e) => return Err(e),
    };
    let session = start_session(&state, account.id).await?;
    Ok(HttpResponse::Ok().json(token_body(&session)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: String,
}

/// Rotates a refresh token; returns the new pair.
pub async fn rotate(state: &AppState, refresh_token: String) -> AppResult<NewSession> {
    let (days, grace) = (state.settings.auth.refresh_ttl_days, state.settings.auth.refresh_reuse_grace_secs);
    let (account_id, refresh) =
        with_platform(&state.pool, move |conn| sessions::rotate_refresh(conn, &refresh_token, days, grace))
            .await?
            .ok_or(AppError::Unauthorized)?;
    let issued = state.jwt.issue(account_id)?;
    Ok(NewSession { access: issued.token, refresh, expires_in: issued.expires_in })
}

async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshBody>) -> AppResult<HttpResponse> {
    let session = rotate(&state, body.into_inner().refresh_token).await?;
    Ok(HttpResponse::Ok().json(token_body(&session)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LogoutBody {
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Ends a session: revokes the access token and the refresh family (from the body or
/// the cookie). The caller clears the cookies.
pub async fn end_session(
    state: &AppState,
    req: &HttpRequest,
    user: Option<AuthUser>,
    refresh: Option<String>,
) -> AppResult<()> {
    let refresh = refresh.or_else(|| req.cookie(crate::web::auth::REFRESH_COOKIE).map(|c| c.value().to_owned()));
    let claims = user.map(|u| u.claims);
    with_platform(&state.pool, move |conn| {
        if let Some(c) = &claims {
            sessions::revoke(conn, c)?;
        }
        if let Some(r) = refresh.filter(|r| !r.is_empty()) {
            sessions::revoke_refresh(conn, &r)?;
        }
        Ok(())
    })
    .await
}

/// A redirect that also clears both session cookies.
pub fn signed_out_redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location.to_owned()))
        .cookie(clear_session_cookie())
        .cookie(crate::web::auth::clear_refresh_cookie())
        .finish()
}

async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: AuthUser,
    body: Option<web::Json<LogoutBody>>,
) -> AppResult<HttpResponse> {
    let refresh = body.and_then(|b| b.into_inner().refresh_token);
    end_session(&state, &req, Some(user), refresh).await?;
    Ok(HttpResponse::NoContent()
        .cookie(clear_session_cookie())
        .cookie(crate::web::auth::clear_refresh_cookie())
        .finish())
}

/// Where links in mail lead: the storefront the request came through, or the platform.
pub fn links_base(state: &AppState, req: &HttpRequest) -> (String, Option<i64>) {
    match req.extensions().get::<TenantCtx>() {
        Some(t) => (format!("{}/s/{}", state.settings.platform_url(), t.tenant.slug), Some(t.tenant.id)),
        None => (state.settings.platform_url(), None),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    pub email: String,
}

/// Sends a reset link if the account exists; the answer is the same either way.
pub async fn request_reset(state: &AppState, req: &HttpRequest, email: &str) -> AppResult<()> {
    let email = email.trim().to_lowercase();
    let keys = [format!("email:{email}"), format!("ip:{}", client_ip(req))];
    state.limits.check(&state.limits.reset, &keys).await?;
    state.limits.hit(&state.limits.reset, &keys).await;
    let (base, tenant_id) = links_base(state, req);
    with_platform(&state.pool, move |conn| {
        let Ok(email) = accounts::normalize_email(&email) else { return Ok(()) };
        let Some((account, _)) = accounts::find_by_email(conn, &email)? else {
            // Burn comparable time so the answer does not reveal whether the account exists.
            let _ = tokens::hash_token(&tokens::random_token());
            return Ok(());
        };
        let token = tokens::issue(conn, account.id, Purpose::ResetPassword)?;
        let link = format!("{base}/reset-password/new?token={token}");
        mail::enqueue(conn, OutgoingMail {
            tenant_id,
            to: &account.email,
            subject: "Password reset / Сброс пароля".into(),
            text: format!(
                "To choose a new password, open this link within one hour:\n{link}\n\nЧтобы задать новый пароль, откройте ссылку в течение часа:\n{link}\n\n\
                 If you did not ask for this, ignore this message. / Если вы не запрашивали сброс, ничего не делайте."
            ),
            links: vec![link],
        })?;
        Ok(())
    })
    .await
}

async fn password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetBody>,
) -> AppResult<HttpResponse> {
    request_reset(&state, &req, &body.email).await?;
    Ok(HttpResponse::Accepted().json(json!({"status": "sent_if_registered"})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmBody {
    pub token: String,
    pub password: String,
}

/// Sets a new password with a reset token; every existing session ends.
pub async fn confirm_reset(state: &AppState, token: String, new_password: String) -> AppResult<()> {
    password::check_strength(&new_password).map_err(|e| AppError::field("password", e))?;
    let hash = password::hash(&new_password)?;
    with_platform(&state.pool, move |conn| {
        let account_id = tokens::consume(conn, &token, Purpose::ResetPassword)?
            .ok_or_else(|| AppError::field("token", "the link is invalid, used or expired: ask for a new one"))?;
        accounts::set_password_hash(conn, account_id, &hash)?;
        // The link came by e-mail, so the address is proven.
        accounts::mark_email_confirmed(conn, account_id)?;
        sessions::revoke_all(conn, account_id)
    })
    .await
}

async fn password_reset_confirm(
    state: web::Data<AppState>,
    body: web::Json<ResetConfirmBody>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    confirm_reset(&state, body.token, body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    pub token: String,
}

pub async fn confirm(state: &AppState, token: String) -> AppResult<()> {
    with_platform(&state.pool, move |conn| {
        let account_id = tokens::consume(conn, &token, Purpose::ConfirmEmail)?
            .ok_or_else(|| AppError::field("token", "the link is invalid, used or expired"))?;
        accounts::mark_email_confirmed(conn, account_id)
    })
    .await
}

async fn confirm_email(state: web::Data<AppState>, body: web::Json<ConfirmBody>) -> AppResult<HttpResponse> {
    confirm(&state, body.into_inner().token).await?;
    Ok(HttpResponse::NoContent().finish())
}
