//! `/checkout?cart=ID`: delivery, payment, kind and the cart's lines at today's prices; the
//! form carries the total shown and a one-time key, so a double submit places one order and
//! a price change since is shown before anything is ordered.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{actor, buyer_or_return, param, Tx};
use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::companies;
use crate::ordering::carts;
use crate::ordering::place::{Delivery, PlaceRequest};
use crate::platform::features::Feature;
use crate::platform::tenant_settings;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::BuyerCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

/// How many times a placement is tried after a serialization failure (as the API does).

#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct CheckoutForm {
    #[serde(default)]
    cart_id: String,
    #[serde(default)]
    delivery_method: String,
    #[serde(default)]
    address_id: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    po_number: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    payment_method: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    expected_total: String,
    #[serde(default)]
    idempotency_key: String,
}

/// What went wrong with a submitted checkout.
#[derive(Default)]
struct Outcome {
    alert: Option<String>,
    notice: Option<String>,
    errors: FieldErrors,
    /// Per SKU: why the line stopped the order (a code with facts, as `Tx::problem` takes).
    lines: BTreeMap<String, Value>,
    status: u16,
}

pub(super) async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let p = pairs(&req)?;
    let cart = param(&p, "cart").unwrap_or("").to_owned();
    let b = buyer_or_return!(req, t, user, &format!("/checkout?cart={}", crate::search::marketplace::urlencode(&cart)));
    let id: i64 = cart.trim().parse().map_err(|_| AppError::not_found("cart"))?;
    let form = CheckoutForm {
        delivery_method: "pickup".into(),
        payment_method: "invoice".into(),
        kind: "order".into(),
        ..CheckoutForm::default()
    };
    form_page(&state, &req, &b, id, &form, Outcome { status: 200, ..Outcome::default() }).await
}

async fn form_page(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    id: i64,
    f: &CheckoutForm,
    out: Outcome,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &b.tenant);
    let (a, lang, company) = (actor(b), tx.lang.clone(), b.company.id);
    let confirmed = b.user.account.email_confirmed_at.is_some();
    let (mut cart, addresses, must_confirm) = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let cart = carts::find(c, &a, id)?;
        let settings = catalog_settings::load(c)?;
        let must_confirm =
            !confirmed && tenant_settings::get_bool(c, tenant_settings::REQUIRE_EMAIL_CONFIRMATION, true)?;
        Ok((carts::view(c, &a, &cart, &settings, &lang)?, companies::addresses(c, company)?, must_confirm))
    })
    .await?;
    if let Some(lines) = cart["lines"].as_array_mut() {
        for l in lines.iter_mut() {
            let sku = l["sku"].as_str().unwrap_or_default().to_owned();
            l["unit_label"] = json!(tx.unit(l["unit"].as_str().unwrap_or_default()));
            let why = out.lines.get(&sku).cloned().or_else(|| l["problem"].as_object().map(|p| json!(p)));
            if let Some(why) = why {
                let mut facts = l.clone();
                for (k, v) in why.as_object().into_iter().flatten() {
                    facts[k] = v.clone();
                }
                l["problem_text"] = json!(tx.problem(why["code"].as_str().unwrap_or(""), &facts));
                l["refused"] = json!(out.lines.contains_key(&sku));
            }
        }
    }
    let chosen: Option<i64> = f.address_id.trim().parse().ok();
    let default = addresses.iter().find(|x| x.kind == "delivery" && x.is_default).map(|x| x.id);
    let addresses: Vec<Value> = addresses
        .iter()
        .map(|x| {
            json!({"id": x.id, "address": x.address, "kind": tx.t(&format!("address-{}", x.kind)),
                "selected": chosen.or(default) == Some(x.id)})
        })
        .collect();
    let options = |list: &[&str], prefix: &str, current: &str| -> Vec<Value> {
        list.iter()
            .map(|v| json!({"value": v, "label": tx.t(&format!("{prefix}-{v}")), "checked": *v == current}))
            .collect()
    };
    let kinds: &[&str] = if b.tenant.tenant.has(Feature::Preorders) { &["order", "preorder"] } else { &["order"] };
    let empty = cart["count"].as_u64().unwrap_or(0) == 0;
    let vat_note = tx.vat_line(&cart["vat_mode"], &cart["vat_total"]);
    let errors: FieldErrors = out.errors.into_iter().map(|(k, v)| (k.replace('.', "_"), tx.msg(&v))).collect();
    let data = json!({
        "cart": cart, "empty": empty, "addresses": addresses, "vat_note": vat_note,
        "methods": options(&["pickup", "delivery"], "checkout-method", &f.delivery_method),
        "payments": options(&["invoice", "on_account"], "checkout-payment", &f.payment_method),
        "kinds": if kinds.len() > 1 { options(kinds, "order-kind", &f.kind) } else { Vec::new() },
        "date": f.date, "po_number": f.po_number, "comment": f.comment,
        "today": chrono::Utc::now().date_naive().to_string(),
        "key": uuid::Uuid::new_v4().to_string(),
        "can_order": actor(b).may_order() && b.company.is_active() && !must_confirm,
        "must_confirm": must_confirm, "inactive": !b.company.is_active(), "read_only": !actor(b).may_order(),
        "errors": errors, "alert": out.alert, "notice": out.notice,
    });
    let ctx = store_page(req, &tx.t("checkout-title"), data).await?;
    render_status(state, "storefront/checkout", &ctx, out.status)
}

pub(super) async fn place(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<CheckoutForm>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let tx = Tx::new(&state, &req, &t);
    let f = form.into_inner();
    let id: i64 = f.cart_id.trim().parse().map_err(|_| AppError::not_found("cart"))?;
    let mut errors = FieldErrors::new();
    let date = match f.date.trim() {
        "" => None,
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| errors.insert("delivery.date".into(), "must be a date like 2026-12-01".into()))
            .ok(),
    };
    let kind = if f.kind.trim().is_empty() { "order" } else { f.kind.trim() };
    if kind == "preorder" && !t.tenant.has(Feature::Preorders) {
        errors.insert("kind".into(), "this store takes no pre-orders".into());
    }
    if !errors.is_empty() {
        return form_page(&state, &req, &b, id, &f, Outcome { errors, status: 422, ..Outcome::default() }).await;
    }
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let body = PlaceRequest {
        cart_id: Some(id),
        lines: None,
        kind: Some(kind.to_owned()),
        delivery: Some(Delivery {
            method: non_empty(&f.delivery_method),
            address_id: f.address_id.trim().parse().ok(),
            date,
        }),
        comment: Some(f.comment.clone()),
        po_number: Some(f.po_number.clone()),
        payment_method: non_empty(&f.payment_method),
        expected_total: non_empty(&f.expected_total),
    };
    let key = non_empty(&f.idempotency_key);
    let result = place_with_retries(&state, &b, &tx.lang, body, key).await;
    let out = match result {
        Ok(number) => {
            return Ok(see_other(
                &t.link(&format!("/orders/{}?placed=1", crate::search::marketplace::urlencode(&number))),
            ))
        }
        Err(e) => outcome(&tx, e)?,
    };
    form_page(&state, &req, &b, id, &f, out).await
}

/// Places the order as the API does; answers its number.
async fn place_with_retries(
    state: &AppState,
    b: &BuyerCtx,
    lang: &str,
    body: PlaceRequest,
    key: Option<String>,
) -> AppResult<String> {
    let p = crate::web::routes::order_api::place_with_retries(state, b, lang, body, key).await?;
    Ok(p.order["number"].as_str().unwrap_or_default().to_owned())
}

/// A refused placement as the checkout page shows it; other errors go up.
fn outcome(tx: &Tx, e: AppError) -> AppResult<Outcome> {
    let mut out = Outcome { status: 422, ..Outcome::default() };
    match e {
        AppError::Validation(errors) => out.errors = errors,
        AppError::Detailed { code: "prices_changed", .. } => {
            out.notice = Some(tx.t("checkout-prices-changed"));
            out.status = 409;
        }
        AppError::Detailed { code: "insufficient_stock", details, .. } => {
            for l in details.get("lines").and_then(Value::as_array).into_iter().flatten() {
                let sku = l["sku"].as_str().unwrap_or_default().to_owned();
                out.lines.insert(sku, json!({"code": "short", "available_qty": l["available"]}));
            }
            out.alert = Some(tx.t("checkout-short"));
            out.status = 409;
        }
        AppError::Detailed { code: "lines_not_orderable", details, .. } => {
            for l in details.get("lines").and_then(Value::as_array).into_iter().flatten() {
                let sku = l["sku"].as_str().unwrap_or_default().to_owned();
                out.lines.insert(sku, json!({"code": l["code"], "message": l["message"]}));
            }
            out.alert = Some(tx.t("checkout-not-orderable"));
        }
        AppError::Detailed { code: "email_not_confirmed", .. } => {
            out.alert = Some(tx.t("checkout-confirm-email"));
            out.status = 403;
        }
        AppError::Detailed { code: "idempotency_key_reused", .. } => out.alert = Some(tx.t("checkout-already-sent")),
        AppError::Forbidden(m) => {
            out.alert = Some(tx.msg(&m));
            out.status = 403;
        }
        AppError::Conflict { message, .. } => {
            out.alert = Some(tx.msg(&message));
            out.status = 409;
        }
        AppError::Unavailable(m) => {
            out.alert = Some(tx.msg(&m));
            out.status = 503;
        }
        other => return Err(other),
    }
    Ok(out)
}
