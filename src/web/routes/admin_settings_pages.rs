//! The store's settings page for its administrators: the supplier's legal and bank details as
//! invoices and statements print them, the terms of trade (VAT, currency, payment terms, when
//! invoices are issued, what happens to orders on account beyond the credit), and catalog
//! options. It writes through the same checks as `PATCH /api/v1/admin/settings`; a form with
//! an error keeps everything typed and stores nothing.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::admin_pages::staff_or_return;
use super::admin_pricing_api::{apply_settings, settings_json};
use super::order_pages::{param, Tx};
use super::see_other;
use crate::app::AppState;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::finance::requisites;
use crate::identity::staff::MANAGE_STAFF;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::routes::catalog_api::pairs;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/settings").route(web::get().to(show)).route(web::post().to(save)));
}

/// Settings that are whole numbers and switches on the form (the rest are text or choices).
const NUMBERS: &[&str] = &["payment_terms_days", "low_stock_threshold"];
const SWITCHES: &[&str] = &["guest_prices", "require_email_confirmation"];
const CHOICES: &[&str] = &["vat_mode", "currency", "invoice_on", "credit_control", "stock_display"];

async fn show(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/settings");
    s.require(MANAGE_STAFF)?;
    let values = settings_json(&state, &s).await?;
    let saved = param(&pairs(&req)?, "saved").is_some();
    page(&state, &req, &t, values, FieldErrors::new(), saved).await
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    values: Value,
    errors: FieldErrors,
    saved: bool,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, t);
    let status = if errors.is_empty() { 200 } else { 422 };
    let errors: Map<String, Value> = errors.into_iter().map(|(k, v)| (k, json!(tx.msg(&v)))).collect();
    let details: Vec<Value> = requisites::KEYS
        .iter()
        .map(|k| json!({"key": k, "label": tx.t(&format!("settings-{}", k.replace('_', "-"))), "value": values[*k], "error": errors.get(*k)}))
        .collect();
    let data = json!({"v": values, "details": details, "errors": errors, "saved": saved});
    let ctx = store_page(req, &tx.t("settings-title"), data).await?;
    render_status(state, "admin/settings", &ctx, status)
}

/// The form's fields as the settings API takes them: numbers and switches typed, every
/// detail as text (so a cleared field clears it).
fn body_of(fields: &[(String, String)]) -> Value {
    let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned());
    let mut body = Map::new();
    for k in requisites::KEYS {
        if let Some(v) = get(k) {
            body.insert((*k).to_owned(), json!(v));
        }
    }
    for k in NUMBERS {
        if let Some(v) = get(k) {
            body.insert((*k).to_owned(), v.parse::<i64>().map(|n| json!(n)).unwrap_or(json!(v)));
        }
    }
    for k in SWITCHES {
        body.insert((*k).to_owned(), json!(get(k).is_some()));
    }
    for k in CHOICES {
        if let Some(v) = get(k) {
            let v = if *k == "currency" { v.to_uppercase() } else { v };
            body.insert((*k).to_owned(), json!(v));
        }
    }
    Value::Object(body)
}

async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/settings");
    s.require(MANAGE_STAFF)?;
    let body = body_of(&form.into_inner());
    match apply_settings(&state, &s, body.clone()).await {
        Ok(_) => Ok(see_other(&t.link("/admin/settings?saved=1"))),
        Err(AppError::Validation(errors)) => {
            // Show what was typed, over what is stored.
            let mut values = settings_json(&state, &s).await?;
            if let (Some(v), Some(b)) = (values.as_object_mut(), body.as_object()) {
                v.extend(b.clone());
            }
            page(&state, &req, &t, values, errors, false).await
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_body() {
        let f = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let body = body_of(&[
            f("inn", " 7707083893 "),
            f("payment_terms_days", "14"),
            f("low_stock_threshold", "ten"),
            f("guest_prices", "on"),
            f("credit_control", "hold"),
        ]);
        assert_eq!(body["inn"], "7707083893");
        assert_eq!(body["payment_terms_days"], 14);
        assert_eq!(body["low_stock_threshold"], "ten", "kept as typed, refused by the checks");
        assert_eq!(
            (body["guest_prices"].as_bool(), body["require_email_confirmation"].as_bool()),
            (Some(true), Some(false))
        );
        assert_eq!(body["credit_control"], "hold");
        assert!(body.get("kpp").is_none(), "a field not on the form is not touched");
    }
}
