//! The operator console at `/platform`: sign-in, tenants, onboarding form, flags,
//! branding, suspend/resume, the mail outbox. Every form carries the CSRF token.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::see_other;
use crate::app::AppState;
use crate::db::with_platform;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::platform::features::{Feature, Plan};
use crate::platform::logo::{self, Logo};
use crate::platform::mail;
use crate::platform::onboarding::{self, OnboardContext, OnboardRequest};
use crate::platform::tenants::{self, Branding, PortalMode, TenantPatch, TenantStatus, SUPPORTED_LOCALES};
use crate::web::auth::{refresh_cookie, session_cookie, AuthUser, MaybeUser};
use crate::web::render::{page, render, render_status, tr};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/platform").route(web::get().to(console)))
        .service(web::resource("/platform/login").route(web::post().to(login)))
        .service(web::resource("/platform/logout").route(web::post().to(logout)))
        .service(web::resource("/platform/tenants/new").route(web::get().to(new_form)))
        .service(web::resource("/platform/tenants").route(web::post().to(create)))
        .service(
            web::resource("/platform/tenants/{slug}").route(web::get().to(edit_form)).route(web::post().to(update)),
        )
        .service(web::resource("/platform/tenants/{slug}/suspend").route(web::post().to(suspend)))
        .service(web::resource("/platform/tenants/{slug}/resume").route(web::post().to(resume)))
        .service(web::resource("/platform/tenants/{slug}/logo").route(web::post().to(logo_upload)))
        .service(web::resource("/platform/tenants/{slug}/logo/remove").route(web::post().to(logo_remove)))
        .service(web::resource("/platform/tenants/{slug}/domains/{action}").route(web::post().to(domain_action)))
        .service(web::resource("/platform/mail").route(web::get().to(outbox)));
}

/// The operator, or a redirect to the sign-in page.
fn operator(user: MaybeUser) -> Result<AuthUser, Box<HttpResponse>> {
    match user.0 {
        Some(u) if u.account.is_operator => Ok(u),
        _ => Err(Box::new(see_other("/platform"))),
    }
}

async fn console(state: web::Data<AppState>, req: HttpRequest, user: MaybeUser) -> AppResult<HttpResponse> {
    let Some(u) = user.0.filter(|u| u.account.is_operator) else {
        let ctx = page(&req, &tr(&state, &req, "platform-login-title"), json!({"email": "", "error": Value::Null}));
        return render(&state, "platform/login", &ctx);
    };
    let _ = u;
    let list = with_platform(&state.pool, tenants::list_all).await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|t| {
            let mut row = t.to_json();
            row["plan_label"] = json!(plan_label(&state, &req, t.plan.as_str()));
            row
        })
        .collect();
    let saved = req.query_string().contains("saved=1");
    let ctx = page(&req, &tr(&state, &req, "platform-tenants-title"), json!({"tenants": rows, "saved": saved}));
    render(&state, "platform/tenants", &ctx)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(rename = "csrf_token")]
    _csrf: Option<String>,
}

async fn login(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LoginForm>) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let result = super::auth_api::check_login(&state, &req, &form.email, &form.password).await;
    let error_key = match result {
        Ok(account) if account.is_operator => {
            let session = super::auth_api::start_session(&state, account.id).await?;
            let secure = state.settings.is_prod();
            return Ok(HttpResponse::SeeOther()
                .insert_header(("Location", "/platform"))
                .cookie(session_cookie(session.access, session.expires_in, secure))
                .cookie(refresh_cookie(session.refresh, state.settings.auth.refresh_ttl_days, secure))
                .finish());
        }
        Ok(_) => "platform-login-not-operator",
        Err(AppError::Unauthorized) => "platform-login-failed",
        Err(AppError::RateLimited { .. }) => "platform-login-rate-limited",
        Err(e) => return Err(e),
    };
    let msg = tr(&state, &req, error_key);
    let ctx = page(&req, &tr(&state, &req, "platform-login-title"), json!({"email": form.email, "error": msg}));
    render_status(&state, "platform/login", &ctx, 401)
}

async fn logout(state: web::Data<AppState>, req: HttpRequest, user: MaybeUser) -> AppResult<HttpResponse> {
    super::auth_api::end_session(&state, &req, user.0, None).await?;
    Ok(super::auth_api::signed_out_redirect("/platform"))
}

/// The fields of the onboarding and edit forms (checkboxes are absent when unticked).
#[derive(Debug, Default, Deserialize)]
pub struct TenantForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    default_locale: String,
    locale_ru: Option<String>,
    locale_en: Option<String>,
    #[serde(default)]
    admin_email: String,
    #[serde(default)]
    admin_name: String,
    #[serde(default)]
    admin_password: String,
    #[serde(default)]
    primary_color: String,
    #[serde(default)]
    accent_color: String,
    #[serde(default)]
    tagline: String,
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

impl TenantForm {
    fn locales(&self) -> Vec<String> {
        let mut l = Vec::new();
        if self.locale_ru.is_some() {
            l.push("ru".to_string());
        }
        if self.locale_en.is_some() {
            l.push("en".to_string());
        }
        l
    }

    fn branding(&self) -> Branding {
        Branding {
            primary_color: self.primary_color.trim().into(),
            accent_color: self.accent_color.trim().into(),
            tagline: self.tagline.trim().into(),
        }
    }

    /// Ticked features (`f_<name>` fields) as overrides against the plan's defaults.
    fn overrides(&self, plan: Plan) -> Value {
        let map: serde_json::Map<String, Value> = Feature::ALL
            .iter()
            .filter_map(|f| {
                let on = self.rest.contains_key(&format!("f_{}", f.as_str()));
                (on != f.default_for(plan)).then(|| (f.as_str().to_owned(), Value::Bool(on)))
            })
            .collect();
        Value::Object(map)
    }
}

/// The language's own name, for language pickers.
fn language_name(code: &str) -> &'static str {
    match code {
        "ru" => "Русский",
        "en" => "English",
        _ => "?",
    }
}

fn plan_label(state: &AppState, req: &HttpRequest, plan: &str) -> String {
    tr(state, req, &format!("plan-{plan}"))
}

fn form_view(
    state: &AppState,
    req: &HttpRequest,
    form: &TenantForm,
    errors: &FieldErrors,
    features: Vec<Value>,
) -> Value {
    let plans: Vec<Value> = Plan::ALL
        .iter()
        .map(|p| json!({"code": p.as_str(), "label": plan_label(state, req, p.as_str()), "selected": p.as_str() == form.plan}))
        .collect();
    let locales: Vec<Value> = SUPPORTED_LOCALES
        .iter()
        .map(|l| json!({"code": l, "name": language_name(l), "selected": *l == form.default_locale}))
        .collect();
    json!({
        "form": {
            "slug": form.slug, "name": form.name, "mode_open": form.mode != "closed", "mode_closed": form.mode == "closed",
            "default_locale": form.default_locale, "locale_ru": form.locale_ru.is_some(), "locale_en": form.locale_en.is_some(),
            "admin_email": form.admin_email, "admin_name": form.admin_name,
            "primary_color": form.primary_color, "accent_color": form.accent_color, "tagline": form.tagline,
        },
        "plans": plans,
        "features": features,
        "errors": errors,
        "has_errors": !errors.is_empty(),
        "locales": locales,
    })
}

fn feature_rows(state_of: impl Fn(Feature) -> bool, req: &HttpRequest, state: &AppState) -> Vec<Value> {
    Feature::ALL
        .iter()
        .map(|f| json!({"code": f.as_str(), "label": tr(state, req, &format!("feature-{}", f.as_str().replace('_', "-"))), "on": state_of(*f)}))
        .collect()
}

async fn new_form(state: web::Data<AppState>, req: HttpRequest, user: MaybeUser) -> AppResult<HttpResponse> {
    if let Err(redirect) = operator(user) {
        return Ok(*redirect);
    }
    let b = Branding::default();
    let form = TenantForm {
        mode: "open".into(),
        plan: "start".into(),
        default_locale: "ru".into(),
        locale_ru: Some("on".into()),
        locale_en: Some("on".into()),
        primary_color: b.primary_color,
        accent_color: b.accent_color,
        ..Default::default()
    };
    let rows = feature_rows(|f| f.default_for(Plan::Start), &req, &state);
    let ctx =
        page(&req, &tr(&state, &req, "platform-new-title"), form_view(&state, &req, &form, &FieldErrors::new(), rows));
    render(&state, "platform/tenant_new", &ctx)
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    form: web::Form<TenantForm>,
) -> AppResult<HttpResponse> {
    let op = match operator(user) {
        Ok(u) => u,
        Err(_) => return Err(AppError::forbidden("operators only")),
    };
    let form = form.into_inner();
    let plan = Plan::parse(&form.plan).unwrap_or(Plan::Start);
    let onboard = OnboardRequest {
        slug: form.slug.trim().to_owned(),
        name: form.name.clone(),
        mode: Some(form.mode.clone()),
        locales: Some(form.locales()),
        default_locale: Some(form.default_locale.clone()),
        plan: Some(form.plan.clone()),
        admin_email: form.admin_email.clone(),
        admin_password: Some(form.admin_password.clone()).filter(|p| !p.is_empty()),
        admin_name: Some(form.admin_name.clone()).filter(|n| !n.trim().is_empty()),
        features: Some(form.overrides(plan)),
        branding: Some(form.branding()),
        settings: BTreeMap::new(),
    };
    let platform_url = state.settings.platform_url();
    let actor = op.account.id;
    let result = with_platform(&state.pool, move |conn| {
        onboarding::onboard(
            conn,
            &onboard,
            None,
            &OnboardContext { platform_url: &platform_url, actor_account_id: Some(actor), fail_at: None },
        )
    })
    .await;
    let errors = match result {
        Ok(t) => {
            state.tenants.invalidate();
            return Ok(see_other(&format!("/platform/tenants/{}?created=1", t.slug)));
        }
        Err(AppError::Validation(fields)) => fields,
        Err(AppError::Conflict { message, .. }) => FieldErrors::from([("slug".to_string(), message)]),
        Err(e) => return Err(e),
    };
    let rows = feature_rows(|f| form.rest.contains_key(&format!("f_{}", f.as_str())), &req, &state);
    let ctx = page(&req, &tr(&state, &req, "platform-new-title"), form_view(&state, &req, &form, &errors, rows));
    render_status(&state, "platform/tenant_new", &ctx, 422)
}

/// The edit page of a tenant: the settings form (`form` keeps what was typed after an
/// error), its logo and custom domains; `errors` may name any of their fields.
async fn edit_page(
    state: &AppState,
    req: &HttpRequest,
    slug: String,
    form: Option<TenantForm>,
    errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let (t, domains) = with_platform(&state.pool, move |conn| {
        let t = tenants::find_by_slug(conn, &slug)?.ok_or_else(|| AppError::not_found("tenant"))?;
        let domains = tenants::list_domains(conn, t.id)?;
        Ok((t, domains))
    })
    .await?;
    let failed = !errors.is_empty();
    let rows = match &form {
        Some(f) => feature_rows(|feature| f.rest.contains_key(&format!("f_{}", feature.as_str())), req, state),
        None => feature_rows(|f| t.has(f), req, state),
    };
    let form = form.unwrap_or_else(|| TenantForm {
        slug: t.slug.clone(),
        name: t.name.clone(),
        mode: t.mode.as_str().into(),
        plan: t.plan.as_str().into(),
        default_locale: t.default_locale.clone(),
        locale_ru: t.locales.contains(&"ru".to_string()).then(|| "on".into()),
        locale_en: t.locales.contains(&"en".to_string()).then(|| "on".into()),
        primary_color: t.branding.primary_color.clone(),
        accent_color: t.branding.accent_color.clone(),
        tagline: t.branding.tagline.clone(),
        ..Default::default()
    });
    let mut data = form_view(state, req, &TenantForm { slug: t.slug.clone(), ..form }, &errors, rows);
    data["tenant"] = t.to_json();
    data["domains"] = json!(domains);
    data["has_errors"] = json!(errors.keys().any(|k| k != "logo" && k != "domain"));
    let q = req.query_string();
    data["saved"] = json!(!failed && q.contains("saved=1"));
    data["created"] = json!(!failed && q.contains("created=1"));
    let ctx = page(req, &t.name, data);
    render_status(state, "platform/tenant_edit", &ctx, if failed { 422 } else { 200 })
}

async fn edit_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    slug: web::Path<String>,
) -> AppResult<HttpResponse> {
    if let Err(redirect) = operator(user) {
        return Ok(*redirect);
    }
    edit_page(&state, &req, slug.into_inner(), None, FieldErrors::new()).await
}

async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    slug: web::Path<String>,
    form: web::Form<TenantForm>,
) -> AppResult<HttpResponse> {
    let op = operator(user).map_err(|_| AppError::forbidden("operators only"))?;
    let slug = slug.into_inner();
    let form = form.into_inner();
    let plan = Plan::parse(&form.plan);
    let mode = PortalMode::parse(&form.mode);
    let result = match (plan, mode) {
        (Some(plan), Some(mode)) => {
            let patch = TenantPatch {
                name: Some(form.name.clone()),
                mode: Some(mode),
                plan: Some(plan),
                features: Some(form.overrides(plan)),
                branding: Some(form.branding()),
                locales: Some(form.locales()),
                default_locale: Some(form.default_locale.clone()),
                replace_features: true,
                status: None,
            };
            super::platform_api::apply_patch(&state, op.account.id, slug.clone(), patch).await
        }
        (plan, _) => {
            let field = if plan.is_none() { "plan" } else { "mode" };
            Err(AppError::field(field, "choose one of the options"))
        }
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/platform/tenants/{slug}?saved=1"))),
        Err(AppError::Validation(errors)) => edit_page(&state, &req, slug, Some(form), errors).await,
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct DomainForm {
    #[serde(default)]
    domain: String,
    verified: Option<String>,
    #[serde(rename = "csrf_token")]
    _csrf: Option<String>,
}

#[derive(Deserialize)]
pub struct DomainAction {
    slug: String,
    action: String,
}

/// Adds, verifies or removes a custom domain from the edit page.
async fn domain_action(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    path: web::Path<DomainAction>,
    form: web::Form<DomainForm>,
) -> AppResult<HttpResponse> {
    operator(user).map_err(|_| AppError::forbidden("operators only"))?;
    let DomainAction { slug, action } = path.into_inner();
    let id = super::platform_api::tenant_id(&state, slug.clone()).await?;
    let base = state.settings.server.base_domain.clone();
    let form = form.into_inner();
    let result = with_platform(&state.pool, move |conn| match action.as_str() {
        "add" => tenants::add_domain(conn, id, &form.domain, &base, form.verified.is_some()).map(|_| ()),
        "verify" => tenants::verify_domain(conn, id, &form.domain),
        "remove" => tenants::remove_domain(conn, id, &form.domain),
        _ => Err(AppError::not_found("page")),
    })
    .await;
    state.tenants.invalidate();
    match result {
        Ok(()) => Ok(see_other(&format!("/platform/tenants/{slug}?saved=1"))),
        Err(AppError::Validation(errors)) => edit_page(&state, &req, slug, None, errors).await,
        Err(AppError::Conflict { message, .. }) => {
            edit_page(&state, &req, slug, None, FieldErrors::from([("domain".to_string(), message)])).await
        }
        Err(e) => Err(e),
    }
}

/// Uploads (multipart field `logo`) or, with `remove`, deletes the tenant's logo.
async fn logo_upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    user: MaybeUser,
    slug: web::Path<String>,
    mut multipart: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    use futures_util::StreamExt;
    operator(user).map_err(|_| AppError::forbidden("operators only"))?;
    let slug = slug.into_inner();
    let id = super::platform_api::tenant_id(&state, slug.clone()).await?;
    let mut bytes = None;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| AppError::BadRequest(format!("the upload could not be read: {e}")))?;
        if field.name() != Some("logo") {
            continue;
        }
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::BadRequest(format!("the upload was interrupted: {e}")))?;
            if buf.len() + chunk.len() > logo::MAX_BYTES {
                let errors = FieldErrors::from([("logo".to_string(), "must be at most 512 KB".to_string())]);
                return edit_page(&state, &req, slug, None, errors).await;
            }
            buf.extend_from_slice(&chunk);
        }
        bytes = Some(buf);
    }
    let logo = match Logo::sniff(bytes.unwrap_or_default()) {
        Ok(l) => l,
        Err(e) => return edit_page(&state, &req, slug, None, FieldErrors::from([("logo".to_string(), e)])).await,
    };
    with_platform(&state.pool, move |conn| logo::set(conn, id, Some(&logo))).await?;
    state.tenants.invalidate();
    Ok(see_other(&format!("/platform/tenants/{slug}?saved=1")))
}

async fn logo_remove(state: web::Data<AppState>, user: MaybeUser, slug: web::Path<String>) -> AppResult<HttpResponse> {
    operator(user).map_err(|_| AppError::forbidden("operators only"))?;
    let slug = slug.into_inner();
    let id = super::platform_api::tenant_id(&state, slug.clone()).await?;
    with_platform(&state.pool, move |conn| logo::set(conn, id, None)).await?;
    state.tenants.invalidate();
    Ok(see_other(&format!("/platform/tenants/{slug}?saved=1")))
}

async fn set_status(state: &AppState, user: MaybeUser, slug: String, status: TenantStatus) -> AppResult<HttpResponse> {
    let op = operator(user).map_err(|_| AppError::forbidden("operators only"))?;
    let patch = TenantPatch { status: Some(status), ..Default::default() };
    super::platform_api::apply_patch(state, op.account.id, slug, patch).await?;
    Ok(see_other("/platform?saved=1"))
}

async fn suspend(state: web::Data<AppState>, user: MaybeUser, slug: web::Path<String>) -> AppResult<HttpResponse> {
    set_status(&state, user, slug.into_inner(), TenantStatus::Suspended).await
}

async fn resume(state: web::Data<AppState>, user: MaybeUser, slug: web::Path<String>) -> AppResult<HttpResponse> {
    set_status(&state, user, slug.into_inner(), TenantStatus::Active).await
}

async fn outbox(state: web::Data<AppState>, req: HttpRequest, user: MaybeUser) -> AppResult<HttpResponse> {
    if let Err(redirect) = operator(user) {
        return Ok(*redirect);
    }
    let (items, total) = with_platform(&state.pool, |conn| mail::list(conn, None, 0, 50)).await?;
    let ctx = page(
        &req,
        &tr(&state, &req, "platform-mail-title"),
        json!({"mail": items, "total": total, "smtp": state.settings.smtp.url.is_some()}),
    );
    render(&state, "platform/mail", &ctx)
}
