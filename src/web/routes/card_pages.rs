//! Card payment pages (feature `card_payments`): "Pay by card" on an unpaid invoice of the
//! buyer's Finance page opens the payment's page; with the test gateway that page is the
//! clearly labelled test card form, whose answer goes through the same event path as a
//! Stripe webhook. Staff refund a card payment from the staff Finance page.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::admin_pages::staff_or_return;
use super::card_api::{self, RefundIn};
use super::order_pages::{buyer_or_return, Tx};
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::finance::card;
use crate::identity::staff::MANAGE_FINANCE;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::routes::account_api::IdPath;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/account/finance/invoices/{id}/card").route(web::post().to(pay)))
        .service(web::resource("/account/finance/card/{id}").route(web::get().to(show)))
        .service(web::resource("/account/finance/card/{id}/test").route(web::post().to(test_answer)))
        .service(web::resource("/admin/finance/card/{id}/refund").route(web::post().to(refund)));
}

/// "Pay by card": opens the payment and shows its page.
async fn pay(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/account/finance");
    match card_api::start(&state, &t, b.company.id, b.user.account.id, path.id).await {
        Ok(a) => Ok(see_other(&t.link(&format!("/account/finance/card/{}", a.id)))),
        // The processor did not answer: the attempt is kept; the page says so and offers a retry.
        Err(AppError::Unavailable(_)) => Ok(see_other(&t.link("/account/finance?card=unavailable#invoices"))),
        Err(e) => Err(e),
    }
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/account/finance");
    t.require(crate::platform::features::Feature::CardPayments)?;
    let (id, company) = (path.id, b.company.id);
    let (a, number) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        use crate::db::schema_tenant::invoices;
        use diesel::prelude::*;
        let a = card::find(c, id, Some(company))?;
        let number: String = invoices::table.find(a.invoice_id).select(invoices::number).first(c)?;
        Ok((a, number))
    })
    .await?;
    let tx = Tx::new(&state, &req, &t);
    let amount = tx.amount(&json!(crate::money::format(a.amount)));
    // Stripe.js takes the card on this page when a publishable key is configured.
    let stripe = &state.settings.stripe;
    let js_url = stripe.js_url.clone().unwrap_or_else(|| "https://js.stripe.com/v3/".into());
    let element = match (&stripe.publishable_key, &a.client_secret) {
        (Some(key), Some(secret)) if a.gateway == "stripe" && card::LIVE.contains(&a.status.as_str()) => {
            let conn = req.connection_info();
            let back =
                format!("{}://{}{}", conn.scheme(), conn.host(), t.link(&format!("/account/finance/card/{}", a.id)));
            Some(json!({"key": key, "secret": secret, "account": a.stripe_account, "return": back, "js": js_url}))
        }
        _ => None,
    };
    let data = json!({
        "id": a.id, "invoice": number, "amount": amount, "currency": a.currency.to_uppercase(),
        "status": a.status, "status_label": tx.t(&format!("card-status-{}", a.status)),
        "test": a.gateway == "test", "open": card::LIVE.contains(&a.status.as_str()),
        "paid": a.status == "succeeded", "flagged": a.flag.is_some(),
        "failed": a.status == "failed", "element": element,
    });
    let ctx = store_page(&req, &tx.t("card-title"), data).await?;
    let mut res = render_status(&state, "storefront/card_payment", &ctx, 200)?;
    if element.is_some() {
        let csp = stripe_csp(&js_url);
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&csp) {
            res.headers_mut().insert(actix_web::http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    Ok(res)
}

/// The card page's policy: ours, plus what Stripe.js needs (its script, frames and API).
fn stripe_csp(js_url: &str) -> String {
    let origin: String = js_url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    format!(
        "default-src 'self'; img-src 'self' data: https://*.stripe.com; style-src 'self' 'unsafe-inline'; \
         script-src 'self' {origin}; frame-src {origin} https://hooks.stripe.com; connect-src 'self' https://api.stripe.com {origin}; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

#[derive(Deserialize)]
struct TestAnswer {
    #[serde(default)]
    outcome: String,
}

/// The test card form's answer: `paid` or `declined`.
async fn test_answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
    form: web::Form<TestAnswer>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/account/finance");
    let paid = match form.outcome.as_str() {
        "paid" => true,
        "declined" => false,
        _ => return Err(AppError::field("outcome", "must be paid or declined")),
    };
    card_api::test_outcome(&state, &t, b.company.id, path.id, paid).await?;
    Ok(see_other(&t.link(&format!("/account/finance/card/{}", path.id))))
}

#[derive(Deserialize)]
struct RefundForm {
    #[serde(default)]
    amount: String,
}

async fn refund(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
    form: web::Form<RefundForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/finance");
    s.require(MANAGE_FINANCE)?;
    let typed = form.amount.trim().replace([' ', '\u{a0}', '\u{202f}'], "").replace(',', ".");
    let input = RefundIn { amount: (!typed.is_empty()).then(|| json!(typed)) };
    let a = card_api::do_refund(&state, &t, s.user.account.id, path.id, input).await?;
    Ok(see_other(&t.link(&format!("/admin/finance?customer={}&refunded=1#card-payments", a.company_id))))
}

/// "Pay by card" on the open invoices of the buyer's Finance page, when the store takes cards.
pub(crate) fn pay_buttons(t: &TenantCtx, invoices: &mut [serde_json::Value]) {
    if !t.tenant.has(crate::platform::features::Feature::CardPayments) {
        return;
    }
    for i in invoices.iter_mut().filter(|i| i["open"] == true) {
        i["card_href"] = json!(t.link(&format!("/account/finance/invoices/{}/card", i["id"])));
    }
}

/// The latest card payments for the staff page (none when the store takes no cards).
pub(crate) async fn recent(state: &AppState, t: &TenantCtx) -> AppResult<Vec<card::CardPayment>> {
    if !t.tenant.has(crate::platform::features::Feature::CardPayments) {
        return Ok(Vec::new());
    }
    with_tenant(&state.pool, &t.tenant.schema, |c| card::list(c, false, 50)).await
}

/// A card payment as the staff page lists it.
pub(crate) fn row(tx: &Tx, names: &std::collections::HashMap<i64, &str>, a: &card::CardPayment) -> serde_json::Value {
    let refundable = a.payment_id.is_some() && a.refunded_minor < a.amount_minor;
    json!({"id": a.id, "customer": names.get(&a.company_id).copied().unwrap_or_default(),
        "amount": tx.amount(&json!(crate::money::format(a.amount))), "refunded": tx.amount(&json!(crate::money::format(a.refunded()))),
        "status": a.status, "status_label": tx.t(&format!("card-status-{}", a.status)), "gateway": a.gateway,
        "intent": a.intent_id, "flag": a.flag.as_deref().map(|f| tx.t(&format!("card-flag-{f}"))), "flag_detail": a.flag_detail,
        "refundable": refundable, "test": a.gateway == "test", "date": tx.day(&json!(a.created_at.date_naive()))})
}
