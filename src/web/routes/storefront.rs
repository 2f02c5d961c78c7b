//! A supplier's storefront: home page, logo, language switch, public info.

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::with_platform;
use crate::error::{AppError, AppResult};
use crate::platform::features::Feature;
use crate::platform::tenants::{self, SUPPORTED_LOCALES};
use crate::web::auth::MaybeUser;
use crate::web::render::{page, render};
use crate::web::tenant::TenantCtx;

pub async fn add_slash(req: HttpRequest) -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", format!("{}/", req.path()))).finish()
}

pub async fn home(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    _user: MaybeUser,
) -> AppResult<HttpResponse> {
    let tenant = &t.tenant;
    let lang = crate::web::render::locale(&req, Some(&t));
    let cats = crate::db::with_tenant(&state.pool, &tenant.schema, crate::catalog::categories::all).await?;
    let categories: Vec<_> = cats
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(|c| json!({"name": c.name_in(&lang), "href": t.link(&format!("/catalog/{}", c.code))}))
        .collect();
    let ctx = page(
        &req,
        &tenant.name,
        json!({
            "open": tenant.mode == crate::platform::tenants::PortalMode::Open,
            "locales": tenant.locales,
            "categories": categories,
        }),
    );
    render(&state, "storefront/home", &ctx)
}

/// The tenant's logo. SVG is served with a sandboxing CSP so it can never run script.
pub async fn logo(state: web::Data<AppState>, t: TenantCtx) -> AppResult<HttpResponse> {
    let id = t.tenant.id;
    let (bytes, mime) = with_platform(&state.pool, move |conn| tenants::logo(conn, id))
        .await?
        .ok_or_else(|| AppError::not_found("logo"))?;
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox"))
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(bytes))
}

#[derive(Deserialize)]
pub struct LangPath {
    code: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /lang/{code}?next=…`: remembers the language and goes back.
pub async fn set_language(
    req: HttpRequest,
    path: web::Path<LangPath>,
    q: web::Query<NextQuery>,
) -> AppResult<HttpResponse> {
    let code = path.into_inner().code;
    let allowed = match req.extensions().get::<TenantCtx>() {
        Some(t) => t.tenant.locales.contains(&code),
        None => SUPPORTED_LOCALES.contains(&code.as_str()),
    };
    if !allowed {
        return Err(AppError::not_found("language"));
    }
    let fallback = req.extensions().get::<TenantCtx>().map(|t| t.link("/")).unwrap_or_else(|| "/".into());
    let next = super::safe_next(q.next.as_deref(), &fallback);
    let cookie =
        Cookie::build("tp_lang", code).path("/").same_site(SameSite::Lax).max_age(Duration::days(365)).finish();
    Ok(HttpResponse::SeeOther().insert_header(("Location", next)).cookie(cookie).finish())
}

/// `GET /api/v1/storefront`: what a client needs to know about the store.
pub async fn info(t: TenantCtx) -> HttpResponse {
    let tenant = &t.tenant;
    let features: Vec<&str> = Feature::ALL.iter().filter(|f| tenant.has(**f)).map(|f| f.as_str()).collect();
    HttpResponse::Ok().json(json!({
        "slug": tenant.slug,
        "name": tenant.name,
        "mode": tenant.mode.as_str(),
        "locales": tenant.locales,
        "default_locale": tenant.default_locale,
        "branding": tenant.branding,
        "features": features,
    }))
}

use actix_web::HttpMessage;
