//! Handlebars (strict mode, every template registered at start-up, reloaded from disk in
//! dev) and the `Page` context every page gets: locale, tenant branding, user, CSRF token,
//! request id.

use std::path::Path;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse};
use fluent_bundle::{FluentArgs, FluentValue};
use handlebars::{Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderErrorReason};
use serde_json::{json, Value};

use super::tenant::TenantCtx;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::i18n::{self, I18n};
use crate::platform::features::Feature;
use crate::platform::tenants::SUPPORTED_LOCALES;

/// Escapes text for HTML bodies *and* attribute values: `& < > " ' ` =`.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '`' => out.push_str("&#x60;"),
            '=' => out.push_str("&#x3D;"),
            c => out.push(c),
        }
    }
    out
}

/// `{{t "key" name=value}}`: a Fluent message in the page's locale, escaped.
struct Translate(Arc<I18n>);

impl HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let key =
            h.param(0).and_then(|p| p.value().as_str()).ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let locale = ctx.data().get("locale").and_then(Value::as_str).unwrap_or("en");
        let mut args = FluentArgs::new();
        for (name, value) in h.hash() {
            match value.value() {
                Value::Number(n) => args.set(*name, FluentValue::from(n.as_f64().unwrap_or_default())),
                Value::String(s) => args.set(*name, FluentValue::from(s.clone())),
                other => args.set(*name, FluentValue::from(other.to_string())),
            }
        }
        out.write(&escape_html(&self.0.tr(locale, key, Some(&args))))?;
        Ok(())
    }
}

pub fn build_templates(dir: &Path, i18n: Arc<I18n>, dev: bool) -> anyhow::Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.set_dev_mode(dev);
    hb.register_escape_fn(escape_html);
    hb.register_helper("t", Box::new(Translate(i18n)));
    register_dir(&mut hb, dir, dir)?;
    Ok(hb)
}

fn register_dir(hb: &mut Handlebars<'static>, root: &Path, dir: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            register_dir(hb, root, &path)?;
        } else if path.extension().is_some_and(|e| e == "hbs") {
            let rel = path.strip_prefix(root)?.with_extension("");
            let name = rel.to_string_lossy().replace('\\', "/");
            hb.register_template_file(&name, &path).map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
        }
    }
    Ok(())
}

/// The language of this request, among the tenant's (or the platform's) languages.
pub fn locale(req: &HttpRequest, tenant: Option<&TenantCtx>) -> String {
    let cookie = req.cookie("tp_lang");
    let accept = req.headers().get("accept-language").and_then(|h| h.to_str().ok());
    match tenant {
        Some(t) => {
            i18n::negotiate(cookie.as_ref().map(|c| c.value()), accept, &t.tenant.locales, &t.tenant.default_locale)
        }
        None => {
            let all: Vec<String> = SUPPORTED_LOCALES.iter().map(|s| s.to_string()).collect();
            i18n::negotiate(cookie.as_ref().map(|c| c.value()), accept, &all, "ru")
        }
    }
}

fn tenant_view(t: &TenantCtx) -> Value {
    let tenant = &t.tenant;
    let features: serde_json::Map<String, Value> =
        Feature::ALL.iter().map(|f| (f.as_str().to_owned(), Value::Bool(tenant.has(*f)))).collect();
    json!({
        "slug": tenant.slug,
        "name": tenant.name,
        "mode": tenant.mode.as_str(),
        "tagline": tenant.branding.tagline,
        "primary_color": tenant.branding.primary_color,
        "accent_color": tenant.branding.accent_color,
        "has_logo": tenant.has_logo,
        "base": t.base,
        "features": features,
    })
}

/// The context every page template receives; `data` is the page's own part.
pub fn page(req: &HttpRequest, title: &str, data: Value) -> Value {
    let tenant = req.extensions().get::<TenantCtx>().cloned();
    let locale = locale(req, tenant.as_ref());
    let base = tenant.as_ref().map(|t| t.base.clone()).unwrap_or_default();
    let langs: Vec<String> = match &tenant {
        Some(t) => t.tenant.locales.clone(),
        None => SUPPORTED_LOCALES.iter().map(|s| s.to_string()).collect(),
    };
    let here = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next: String = url_encode(here);
    let languages: Vec<Value> = langs
        .iter()
        .map(|l| json!({"code": l, "active": *l == locale, "href": format!("{base}/lang/{l}?next={next}")}))
        .collect();
    let user = super::auth::cached_user(req)
        .map(|u| json!({"name": u.account.name, "email": u.account.email, "is_operator": u.account.is_operator}));
    json!({
        "locale": locale,
        "languages": languages,
        "title": title,
        "base": base,
        "tenant": tenant.as_ref().map(tenant_view),
        "user": user,
        "csrf": super::csrf::token(req),
        "staff": req.extensions().get::<super::roles::StaffRoleCache>().is_some_and(|c| c.0.is_some()),
        "request_id": super::telemetry::request_id(req),
        "data": data,
    })
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// [`page`] for storefront pages: first learns whether the visitor is staff (for the menu).
pub async fn store_page(req: &HttpRequest, title: &str, data: Value) -> AppResult<Value> {
    if req.extensions().get::<TenantCtx>().is_some() {
        super::roles::staff_role(req).await?;
    }
    Ok(page(req, title, data))
}

/// Renders `template` with `ctx` as an HTML page.
pub fn render(state: &AppState, template: &str, ctx: &Value) -> AppResult<HttpResponse> {
    render_owned(state, template, ctx.clone())
}

/// [`render`] for a context the caller no longer needs: handed to handlebars without a copy
/// (`Handlebars::render` would serialise a borrowed context into a new value first).
pub fn render_owned(state: &AppState, template: &str, mut ctx: Value) -> AppResult<HttpResponse> {
    localize_errors(state, &mut ctx);
    let ctx = handlebars::Context::from(ctx);
    let html = state
        .templates
        .render_with_context(template, &ctx)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template {template}: {e}")))?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html))
}

/// Field errors come from the domain in English; pages show them in the page's language.
fn localize_errors(state: &AppState, ctx: &mut Value) {
    let lang = ctx["locale"].as_str().unwrap_or("en").to_owned();
    if let Some(errors) = ctx["data"]["errors"].as_object_mut() {
        for value in errors.values_mut() {
            if let Some(text) = value.as_str() {
                *value = Value::String(state.i18n.message(&lang, text));
            }
        }
    }
    if let Some(detail) = ctx["data"]["detail"].as_str() {
        let translated = state.i18n.message(&lang, detail);
        ctx["data"]["detail"] = Value::String(translated);
    }
}

/// [`render`] with another status (422 for a form with errors, 401 for a failed sign-in…).
pub fn render_status(state: &AppState, template: &str, ctx: &Value, status: u16) -> AppResult<HttpResponse> {
    let mut res = render(state, template, ctx)?;
    if let Ok(code) = actix_web::http::StatusCode::from_u16(status) {
        *res.status_mut() = code;
    }
    Ok(res)
}

/// Translates a message for the request's locale (for titles and flash messages).
pub fn tr(state: &AppState, req: &HttpRequest, key: &str) -> String {
    let tenant = req.extensions().get::<TenantCtx>().cloned();
    state.i18n.tr(&locale(req, tenant.as_ref()), key, None)
}

use actix_web::HttpMessage;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_attribute_breakers() {
        assert_eq!(
            escape_html(r#"'"><svg onload=alert(1)>`"#),
            "&#x27;&quot;&gt;&lt;svg onload&#x3D;alert(1)&gt;&#x60;"
        );
    }
}
