//! CSRF protection for every state-changing request.
//!
//! - A cross-site `Origin` (or `Referer`) is refused outright.
//! - Bearer-authenticated API calls carry no ambient credentials and pass.
//! - JSON requests without a session cookie pass (a browser cannot send them
//!   cross-site without a CORS preflight, which we never grant).
//! - Everything else needs the `tp_csrf` cookie's value echoed in the `X-CSRF-Token`
//!   header or the `csrf_token` form field (double submit, compared in constant time).
//!
//! The 1C exchange and the Stripe webhook have their own authentication and are exempt.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest, ResponseError};
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::auth::SESSION_COOKIE;
use super::tenant::request_host;
use crate::error::AppError;

pub const CSRF_COOKIE: &str = "tp_csrf";
const FORM_LIMIT: usize = 64 * 1024;

/// The request's CSRF token, for forms and the `csrf-token` meta tag.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

pub fn token(req: &HttpRequest) -> String {
    req.extensions().get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default()
}

fn is_exempt(path: &str) -> bool {
    let inner = match path.strip_prefix("/s/") {
        Some(rest) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => path.trim_start_matches('/'),
    };
    inner == "1c/exchange" || inner == "webhooks/stripe"
}

fn same_origin(req: &HttpRequest) -> bool {
    let Some(host) = req.headers().get("host").and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let source = req.headers().get("origin").or_else(|| req.headers().get("referer")).and_then(|v| v.to_str().ok());
    match source {
        None => true,
        Some("null") => false,
        Some(src) => {
            let after_scheme = src.split_once("://").map(|(_, r)| r).unwrap_or("");
            let origin_host = after_scheme.split('/').next().unwrap_or("");
            origin_host.eq_ignore_ascii_case(host) && request_host(req).is_some()
        }
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn form_token(body: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v)
}

pub async fn protect(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let cookie_token = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() == 64);
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !is_exempt(req.path()) {
        if let Err(e) = check(&mut req, cookie_token.as_deref()).await {
            return Ok(req.into_response(e.error_response()).map_into_right_body());
        }
    }
    let (token, fresh) = match cookie_token {
        Some(t) => (t, false),
        None => (new_token(), true),
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let secure = req.app_data::<web::Data<crate::app::AppState>>().is_some_and(|s| s.settings.is_prod());
    let mut res = next.call(req).await?;
    if fresh {
        let cookie = Cookie::build(CSRF_COOKIE, token)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Strict)
            .finish();
        let _ = res.response_mut().add_cookie(&cookie);
    }
    Ok(res.map_into_left_body())
}

async fn check(req: &mut ServiceRequest, cookie_token: Option<&str>) -> Result<(), AppError> {
    let refused =
        || AppError::forbidden("the form has expired or came from another site; reload the page and try again");
    if !same_origin(req.request()) {
        return Err(refused());
    }
    let bearer =
        req.headers().get("authorization").and_then(|h| h.to_str().ok()).is_some_and(|h| h.starts_with("Bearer "));
    let has_session = req.cookie(SESSION_COOKIE).is_some();
    if bearer && !has_session {
        return Ok(());
    }
    let content_type = req.content_type().to_ascii_lowercase();
    if content_type == "application/json" && !has_session {
        return Ok(());
    }
    let sent = match req.headers().get("x-csrf-token").and_then(|h| h.to_str().ok()) {
        Some(h) => Some(h.to_owned()),
        None if content_type == "application/x-www-form-urlencoded" => {
            let body = req
                .extract::<web::Bytes>()
                .await
                .map_err(|_| AppError::PayloadTooLarge("the form is too large".into()))?;
            if body.len() > FORM_LIMIT {
                return Err(AppError::PayloadTooLarge("the form is too large".into()));
            }
            let token = form_token(&body);
            req.set_payload(Payload::from(body));
            token
        }
        // File uploads carry the token in the form's action URL.
        None if content_type == "multipart/form-data" => form_token(req.query_string().as_bytes()),
        None => None,
    };
    match (cookie_token, sent) {
        (Some(expected), Some(sent)) if bool::from(expected.as_bytes().ct_eq(sent.as_bytes())) => Ok(()),
        _ => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_paths_are_only_the_machine_endpoints() {
        assert!(is_exempt("/1c/exchange"));
        assert!(is_exempt("/s/acme/1c/exchange"));
        assert!(is_exempt("/webhooks/stripe"));
        assert!(!is_exempt("/platform/tenants"));
        assert!(!is_exempt("/s/acme/1c/exchange/x"));
        assert!(!is_exempt("/s/1c/exchange"));
    }

    #[test]
    fn form_tokens_are_read_from_urlencoded_bodies() {
        assert_eq!(form_token(b"a=1&csrf_token=abc&b=2"), Some("abc".into()));
        assert_eq!(form_token(b"a=1"), None);
    }
}
