//! Storefront pages for getting in: sign in, register, sign out, e-mail confirmation,
//! password reset (also on the platform host) and invitations.

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::account_api::{accept, do_register, TokenPath};
use super::auth_api::{
    check_login, confirm, confirm_reset, end_session, request_reset, signed_out_redirect, start_session,
};
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::companies::CompanyInput;
use crate::identity::invitations;
use crate::identity::registration::RegisterRequest;
use crate::web::auth::{refresh_cookie, session_cookie, MaybeUser};
use crate::web::render::{render_status, store_page, tr};
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login").route(web::get().to(login_form)).route(web::post().to(login)))
        .service(web::resource("/register").route(web::get().to(register_form)).route(web::post().to(register)))
        .service(web::resource("/logout").route(web::post().to(logout)))
        .service(
            web::resource("/confirm-email").route(web::get().to(confirm_form)).route(web::post().to(confirm_submit)),
        )
        .service(web::resource("/invitations/{token}").route(web::get().to(invitation)))
        .service(web::resource("/invitations/{token}/accept").route(web::post().to(invitation_accept)))
        .service(web::resource("/invitations/{token}/join").route(web::post().to(invitation_join)))
        .configure(reset_routes);
}

/// Password reset pages, mounted on storefronts and on the platform host.
pub fn reset_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reset-password").route(web::get().to(reset_form)).route(web::post().to(reset_submit)))
        .service(
            web::resource("/reset-password/new")
                .route(web::get().to(new_password_form))
                .route(web::post().to(new_password_submit)),
        );
}

fn base(req: &HttpRequest) -> String {
    req.extensions().get::<TenantCtx>().map(|t| t.base.clone()).unwrap_or_default()
}

async fn show(
    state: &AppState,
    req: &HttpRequest,
    template: &str,
    title_key: &str,
    data: Value,
    status: u16,
) -> AppResult<HttpResponse> {
    let ctx = store_page(req, &tr(state, req, title_key), data).await?;
    render_status(state, template, &ctx, status)
}

/// Signs in: sets the access and refresh cookies and redirects.
async fn signed_in_redirect(state: &AppState, account_id: i64, location: &str) -> AppResult<HttpResponse> {
    let session = start_session(state, account_id).await?;
    let secure = state.settings.is_prod();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", location.to_owned()))
        .cookie(session_cookie(session.access, session.expires_in, secure))
        .cookie(refresh_cookie(session.refresh, state.settings.auth.refresh_ttl_days, secure))
        .finish())
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    q: web::Query<NextQuery>,
) -> AppResult<HttpResponse> {
    let next = super::safe_next(q.next.as_deref(), &t.link("/account"));
    show(&state, &req, "storefront/login", "login-title", json!({"email": "", "next": next, "error": null}), 200).await
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let next = super::safe_next(form.next.as_deref(), &t.link("/account"));
    let error_key = match check_login(&state, &req, &form.email, &form.password).await {
        Ok(account) => return signed_in_redirect(&state, account.id, &next).await,
        Err(AppError::Unauthorized) => "login-failed",
        Err(AppError::RateLimited { .. }) => "login-rate-limited",
        Err(e) => return Err(e),
    };
    let data = json!({"email": form.email, "next": next, "error": tr(&state, &req, error_key)});
    show(&state, &req, "storefront/login", "login-title", data, 401).await
}

async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    end_session(&state, &req, user.0, None).await?;
    Ok(signed_out_redirect(&t.link("/")))
}

/// The registration form's fields, flat as HTML forms are.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
pub struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default, skip_serializing)]
    password: String,
    #[serde(default)]
    company_name: String,
    #[serde(default)]
    inn: String,
    #[serde(default)]
    kpp: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    delivery_address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    contact_person: String,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|v| !v.is_empty())
}

async fn register_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    _t: TenantCtx,
    _user: MaybeUser,
) -> AppResult<HttpResponse> {
    let data = json!({"form": RegisterForm::default(), "errors": {}, "has_errors": false});
    show(&state, &req, "storefront/register", "register-title", data, 200).await
}

async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<RegisterForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let signed_in = user.0.clone();
    let body = RegisterRequest {
        email: signed_in.is_none().then(|| form.email.clone()),
        password: signed_in.is_none().then(|| form.password.clone()),
        name: signed_in.is_none().then(|| form.name.clone()),
        company: CompanyInput {
            name: form.company_name.clone(),
            inn: form.inn.trim().to_owned(),
            kpp: some(&form.kpp),
            address: some(&form.address),
            delivery_address: some(&form.delivery_address),
            phone: some(&form.phone),
            contact_person: some(&form.contact_person).or_else(|| some(&form.name)),
        },
    };
    let errors: FieldErrors = match do_register(&state, &req, &t, signed_in.clone(), body).await {
        Ok(out) if out.new_account => return signed_in_redirect(&state, out.account.id, &t.link("/account")).await,
        Ok(out) => return Ok(see_other(&format!("{}?company={}", t.link("/account"), out.company.id))),
        Err(AppError::Validation(f)) => f,
        Err(AppError::Conflict { message, code }) => {
            FieldErrors::from([(if code == "email_registered" { "email" } else { "company.inn" }.to_string(), message)])
        }
        Err(e) => return Err(e),
    };
    let data = json!({"form": form, "errors": errors, "has_errors": true});
    show(&state, &req, "storefront/register", "register-title", data, 422).await
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn confirm_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    show(
        &state,
        &req,
        "storefront/confirm",
        "confirm-title",
        json!({"token": q.token, "done": false, "error": null}),
        200,
    )
    .await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

async fn confirm_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> AppResult<HttpResponse> {
    match confirm(&state, form.into_inner().token).await {
        Ok(()) => {
            show(
                &state,
                &req,
                "storefront/confirm",
                "confirm-title",
                json!({"token": "", "done": true, "error": null}),
                200,
            )
            .await
        }
        Err(AppError::Validation(_)) => {
            let msg = tr(&state, &req, "confirm-bad-link");
            show(
                &state,
                &req,
                "storefront/confirm",
                "confirm-title",
                json!({"token": "", "done": false, "error": msg}),
                422,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn reset_form(state: web::Data<AppState>, req: HttpRequest) -> AppResult<HttpResponse> {
    show(&state, &req, "reset_request", "reset-title", json!({"sent": false, "email": ""}), 200).await
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn reset_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<EmailForm>,
) -> AppResult<HttpResponse> {
    request_reset(&state, &req, &form.email).await?;
    show(&state, &req, "reset_request", "reset-title", json!({"sent": true, "email": form.email}), 200).await
}

async fn new_password_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> AppResult<HttpResponse> {
    show(&state, &req, "reset_new", "reset-new-title", json!({"token": q.token, "done": false, "errors": {}}), 200)
        .await
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

async fn new_password_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<NewPasswordForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    match confirm_reset(&state, form.token.clone(), form.password).await {
        Ok(()) => {
            let login = if base(&req).is_empty() { "/platform".to_string() } else { format!("{}/login", base(&req)) };
            show(
                &state,
                &req,
                "reset_new",
                "reset-new-title",
                json!({"token": "", "done": true, "login": login, "errors": {}}),
                200,
            )
            .await
        }
        Err(AppError::Validation(errors)) => {
            show(
                &state,
                &req,
                "reset_new",
                "reset-new-title",
                json!({"token": form.token, "done": false, "errors": errors}),
                422,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn invitation(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<TokenPath>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner().token;
    let tok = token.clone();
    let inv = with_tenant(&state.pool, &t.tenant.schema, move |c| invitations::find(c, &tok)).await?;
    let here = t.link(&format!("/invitations/{token}"));
    let data = match inv {
        None => json!({"invitation": null}),
        Some(inv) => json!({
            "invitation": {"kind": inv.kind, "role": inv.role, "email": inv.email},
            "token": token,
            "matches": user.0.as_ref().is_some_and(|u| u.account.email.eq_ignore_ascii_case(&inv.email)),
            "login": format!("{}?next={}", t.link("/login"), here),
            "errors": {},
        }),
    };
    show(&state, &req, "storefront/invitation", "invitation-title", data, 200).await
}

async fn invitation_accept(
    state: web::Data<AppState>,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<TokenPath>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner().token;
    let Some(user) = user.0 else {
        return Ok(see_other(&format!("{}?next={}", t.link("/login"), t.link(&format!("/invitations/{token}")))));
    };
    let inv = accept(&state, &t, &user, token).await?;
    Ok(see_other(&t.link(if inv.kind == "staff" { "/admin/customers" } else { "/account" })))
}

#[derive(Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// An invitee without an account creates one (for the invited address) and joins.
async fn invitation_join(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    path: web::Path<TokenPath>,
    form: web::Form<JoinForm>,
) -> AppResult<HttpResponse> {
    let token = path.into_inner().token;
    let form = form.into_inner();
    let (tok, pool_schema) = (token.clone(), t.tenant.schema.clone());
    let result = with_tenant(&state.pool, &pool_schema, move |c| {
        let inv = invitations::find(c, &tok)?
            .ok_or_else(|| AppError::not_found("invitation (it may have expired or been used)"))?;
        if crate::identity::accounts::find_by_email(c, &inv.email)?.is_some() {
            return Err(AppError::conflict("email_registered", "you already have an account: sign in to accept"));
        }
        let account = crate::identity::accounts::create(
            c,
            crate::identity::accounts::NewAccount {
                email: &inv.email,
                name: &form.name,
                password: Some(&form.password),
                is_operator: false,
            },
        )?;
        // The link came by e-mail: the address is proven.
        crate::identity::accounts::mark_email_confirmed(c, account.id)?;
        let inv = invitations::accept(c, &tok, &account)?;
        Ok((account.id, inv.kind))
    })
    .await;
    match result {
        Ok((account_id, kind)) => {
            signed_in_redirect(
                &state,
                account_id,
                &t.link(if kind == "staff" { "/admin/customers" } else { "/account" }),
            )
            .await
        }
        Err(AppError::Validation(errors)) => {
            let here = t.link(&format!("/invitations/{token}"));
            let tok = token.clone();
            let inv = with_tenant(&state.pool, &t.tenant.schema, move |c| invitations::find(c, &tok)).await?;
            let data = json!({
                "invitation": inv.map(|i| json!({"kind": i.kind, "role": i.role, "email": i.email})),
                "token": token, "matches": false, "errors": errors,
                "login": format!("{}?next={}", t.link("/login"), here),
            });
            show(&state, &req, "storefront/invitation", "invitation-title", data, 422).await
        }
        Err(AppError::Conflict { .. }) => {
            Ok(see_other(&format!("{}?next={}", t.link("/login"), t.link(&format!("/invitations/{token}")))))
        }
        Err(e) => Err(e),
    }
}
