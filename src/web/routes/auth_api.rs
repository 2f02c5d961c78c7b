//! `POST /api/v1/auth/register|login|logout`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::with_platform;
use crate::error::{AppError, AppResult};
use crate::identity::accounts::{self, Account, NewAccount};
use crate::identity::sessions;
use crate::web::auth::{clear_session_cookie, AuthUser};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/auth/register").route(web::post().to(register)))
        .service(web::resource("/api/v1/auth/login").route(web::post().to(login)))
        .service(web::resource("/api/v1/auth/logout").route(web::post().to(logout)));
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
    let ip_key = format!("register:{}", client_ip(&req));
    state.login_limiter.check(&[&ip_key])?;
    state.login_limiter.record(&[&ip_key]);
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

pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Checks credentials under the login rate limits (per e-mail and per client address).
pub async fn check_login(state: &AppState, req: &HttpRequest, email: &str, password: &str) -> AppResult<Account> {
    let email_key = format!("login:email:{}", email.trim().to_lowercase());
    let ip_key = format!("login:ip:{}", client_ip(req));
    state.login_limiter.check(&[&email_key, &ip_key])?;
    let (email, password) = (email.to_owned(), password.to_owned());
    let result = with_platform(&state.pool, move |conn| accounts::authenticate(conn, &email, &password)).await;
    if matches!(result, Err(AppError::Unauthorized)) {
        state.login_limiter.record(&[&email_key, &ip_key]);
    }
    result
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
    let issued = state.jwt.issue(account.id)?;
    Ok(HttpResponse::Ok().json(json!({
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
    })))
}

async fn logout(state: web::Data<AppState>, user: AuthUser) -> AppResult<HttpResponse> {
    let claims = user.claims.clone();
    with_platform(&state.pool, move |conn| sessions::revoke(conn, &claims)).await?;
    Ok(HttpResponse::NoContent().cookie(clear_session_cookie()).finish())
}
