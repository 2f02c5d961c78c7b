//! `/reservations` and `/waitlist`: the buyer's reservations (made from the product page,
//! released or turned into an order here) and the person's waitlist subscriptions. Thin
//! handlers over `ordering::{reservations, waitlist}`, as `order_api` calls them; each
//! route answers 404 when the store's plan does not have the feature.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::cart::refusal;
use super::{actor, buyer_or_return, param, Tx};
use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::money::parse_qty;
use crate::ordering::{reservations, waitlist};
use crate::platform::features::Feature;
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::BuyerCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::CartPath;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

/// What a list page shows besides the list: a notice, an alert, the refused form.
#[derive(Default)]
struct Extra {
    notice: Option<String>,
    alert: Option<String>,
    /// The reservation form as it was sent (`sku`, `qty`, `until`), to fix and send again.
    retry: Option<Value>,
    status: u16,
}

impl Extra {
    fn alert(text: String, status: u16) -> Extra {
        Extra { alert: Some(text), status, ..Extra::default() }
    }
}

/// The store's longest reservation in days, read as `reservations::reserve` reads it (for
/// the date field's bounds and the wording of a refused date).
/// A date as the page's language writes it.
fn day(tx: &Tx, d: NaiveDate) -> String {
    if tx.lang == "ru" {
        d.format("%d.%m.%Y").to_string()
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// The last day a reservation holds: it ends at the start of the next day (UTC).
fn last_day(v: &Value) -> Option<NaiveDate> {
    let until = DateTime::parse_from_rfc3339(v.as_str()?).ok()?.with_timezone(&Utc);
    Some((until - Duration::seconds(1)).date_naive())
}

fn product_href(t: &TenantCtx, sku: &str) -> String {
    t.link(&format!("/products/{}", urlencode(sku)))
}

/// The words and status of a refusal the page shows; anything else stays an error.
fn words_of(tx: &Tx, e: AppError) -> AppResult<(String, u16)> {
    match e {
        AppError::Validation(f) => Ok((f.into_values().map(|m| tx.msg(&m)).collect::<Vec<_>>().join("; "), 422)),
        AppError::Conflict { code: "reservation_ended", .. } => Ok((tx.t("reserve-ended"), 409)),
        AppError::Conflict { message, .. } => Ok((tx.msg(&message), 409)),
        AppError::Detailed { status, message, .. } => Ok((tx.msg(&message), status)),
        AppError::Forbidden(m) => Ok((tx.msg(&m), 403)),
        other => Err(other),
    }
}

// ---------------------------------------------------------------------------------------
// Reservations

pub(super) async fn reservations_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    t.require(Feature::Reservations)?;
    let b = buyer_or_return!(req, t, user, "/reservations");
    let tx = Tx::new(&state, &req, &t);
    let p = pairs(&req)?;
    let notice = param(&p, "done").filter(|d| *d == "released").map(|d| tx.t(&format!("reservations-done-{d}")));
    reservations_page(&state, &req, &b, Extra { notice, status: 200, ..Extra::default() }).await
}

async fn reservations_page(state: &AppState, req: &HttpRequest, b: &BuyerCtx, extra: Extra) -> AppResult<HttpResponse> {
    let t = &b.tenant;
    let tx = Tx::new(state, req, t);
    let company = b.company.id;
    let (v, days) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        Ok((reservations::list(c, company)?, reservations::max_days(c)?))
    })
    .await?;
    let can_change = actor(b).may_order();
    let rows: Vec<Value> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let (sku, status) = (r["sku"].as_str().unwrap_or_default(), r["status"].as_str().unwrap_or_default());
            json!({"id": r["id"], "sku": sku, "name": r["name"], "qty": r["qty"], "href": product_href(t, sku),
                "until": last_day(&r["until"]).map(|d| day(&tx, d)).unwrap_or_default(),
                "status": status, "status_label": tx.t(&format!("reservation-status-{status}")),
                "from_waitlist": r["source"] == "waitlist", "active": status == "active" && can_change})
        })
        .collect();
    let today = Utc::now().date_naive();
    let retry = extra.retry.map(|mut f| {
        f["min"] = json!(today.to_string());
        f["max"] = json!((today + Duration::days(days)).to_string());
        f
    });
    let data = json!({"reservations": rows, "notice": extra.notice, "alert": extra.alert, "retry": retry,
        "days": days.to_string(), "inactive": !b.company.is_active()});
    let ctx = store_page(req, &tx.t("reservations-title"), data).await?;
    render_status(state, "storefront/reservations", &ctx, extra.status)
}

#[derive(Deserialize)]
pub(super) struct ReserveForm {
    sku: String,
    #[serde(default)]
    qty: String,
    /// The last day (`YYYY-MM-DD`); empty means tomorrow.
    #[serde(default)]
    until: String,
}

/// The product page's "Reserve": back to the product at the "reserved" note, or the
/// reservations page with the reason and the form to send again.
pub(super) async fn reserve(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<ReserveForm>,
) -> AppResult<HttpResponse> {
    t.require(Feature::Reservations)?;
    let b = buyer_or_return!(req, t, user, "/reservations");
    let tx = Tx::new(&state, &req, &t);
    let ReserveForm { sku, qty, until } = form.into_inner();
    let sku = sku.trim().to_owned();
    let retry = json!({"sku": sku, "qty": qty, "until": until});
    let refused = |why: String, status: u16| Extra {
        alert: Some(tx.t_args("reserve-failed", &[("sku", sku.clone()), ("reason", why)])),
        retry: Some(retry.clone()),
        status,
        ..Extra::default()
    };
    let q = match parse_qty(&qty) {
        Ok(q) => q,
        Err(m) => return reservations_page(&state, &req, &b, refused(tx.msg(&m), 422)).await,
    };
    let last = match until.trim() {
        "" => Utc::now().date_naive() + Duration::days(1),
        d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                let why = tx.t("reserve-until-invalid");
                return reservations_page(&state, &req, &b, refused(why, 422)).await;
            }
        },
    };
    let (a, s) = (actor(&b), sku.clone());
    let outcome = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        match c.transaction(|c| reservations::reserve(c, &a, &s, q, last)) {
            Ok(_) => Ok(Ok(())),
            Err(e) => Ok(Err(reserve_refusal(c, &s, q, e)?)),
        }
    })
    .await?;
    match outcome {
        Ok(()) => Ok(see_other(&format!("{}#reserved-{}", product_href(&t, &sku), urlencode(&sku)))),
        Err((r, status)) => {
            let why = match r["code"].as_str() {
                Some("until") => tx.t_args("reserve-until-range", &[("days", r["days"].to_string())]),
                Some("forbidden") => tx.msg(r["message"].as_str().unwrap_or_default()),
                _ => super::cart::words(&tx, &r),
            };
            reservations_page(&state, &req, &b, refused(why, status)).await
        }
    }
}

/// Why `reservations::reserve` refused, as a code with the facts to word it, and the status.
fn reserve_refusal(c: &mut PgConnection, sku: &str, qty: Decimal, e: AppError) -> AppResult<(Value, u16)> {
    Ok(match e {
        AppError::Validation(f) if f.contains_key("until") => {
            (json!({"code": "until", "days": reservations::max_days(c)?}), 422)
        }
        AppError::Detailed { code: "insufficient_stock", details, .. } => {
            let available = details.get("lines").map(|l| l[0]["available"].clone()).unwrap_or(Value::Null);
            let unit = crate::catalog::products::find_by_sku(c, sku)?.map(|p| p.unit).unwrap_or_default();
            (json!({"code": "short", "available_qty": available, "unit": unit}), 409)
        }
        AppError::Forbidden(m) => (json!({"code": "forbidden", "message": m}), 403),
        e @ AppError::Validation(_) => (refusal(c, None, sku, qty, e)?, 422),
        e => (refusal(c, None, sku, qty, e)?, 409),
    })
}

/// "Release": the held stock goes back.
pub(super) async fn release(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
) -> AppResult<HttpResponse> {
    t.require(Feature::Reservations)?;
    let b = buyer_or_return!(req, t, user, "/reservations");
    let tx = Tx::new(&state, &req, &t);
    let (a, id) = (actor(&b), path.id);
    match with_tenant(&state.pool, &t.tenant.schema, move |c| reservations::release(c, &a, id)).await {
        Ok(()) => Ok(see_other(&t.link("/reservations?done=released"))),
        Err(e) => {
            let (why, status) = words_of(&tx, e)?;
            reservations_page(&state, &req, &b, Extra::alert(why, status)).await
        }
    }
}

/// "Order it": the reservation becomes an order; to the new order's page.
pub(super) async fn order(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
) -> AppResult<HttpResponse> {
    t.require(Feature::Reservations)?;
    let b = buyer_or_return!(req, t, user, "/reservations");
    let tx = Tx::new(&state, &req, &t);
    let (a, id, lang) = (actor(&b), path.id, tx.lang.clone());
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let settings = catalog_settings::load(c)?;
        reservations::convert(c, &a, id, &settings, &lang)
    })
    .await;
    match r {
        Ok(placed) => {
            let number = placed.order["number"].as_str().unwrap_or_default();
            Ok(see_other(&t.link(&format!("/orders/{}?placed=1", urlencode(number)))))
        }
        Err(e) => {
            let (why, status) = words_of(&tx, e)?;
            reservations_page(&state, &req, &b, Extra::alert(why, status)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Waitlist

pub(super) async fn waitlist_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    t.require(Feature::Waitlist)?;
    let b = buyer_or_return!(req, t, user, "/waitlist");
    let tx = Tx::new(&state, &req, &t);
    let p = pairs(&req)?;
    let notice = param(&p, "done").filter(|d| *d == "removed").map(|d| tx.t(&format!("waitlist-done-{d}")));
    waitlist_page(&state, &req, &b, Extra { notice, status: 200, ..Extra::default() }).await
}

async fn waitlist_page(state: &AppState, req: &HttpRequest, b: &BuyerCtx, extra: Extra) -> AppResult<HttpResponse> {
    let t = &b.tenant;
    let tx = Tx::new(state, req, t);
    let a = actor(b);
    let v = with_tenant(&state.pool, &t.tenant.schema, move |c| waitlist::list(c, &a)).await?;
    let rows: Vec<Value> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            let sku = w["sku"].as_str().unwrap_or_default();
            json!({"id": w["id"], "sku": sku, "name": w["name"], "qty": w["qty"], "href": product_href(t, sku),
                "since": tx.when(&w["created_at"]), "told": tx.when(&w["notified_at"])})
        })
        .collect();
    let data = json!({"items": rows, "notice": extra.notice, "alert": extra.alert});
    let ctx = store_page(req, &tx.t("waitlist-title"), data).await?;
    render_status(state, "storefront/waitlist", &ctx, extra.status)
}

#[derive(Deserialize)]
pub(super) struct WaitForm {
    sku: String,
    /// Optional: how much to hold for the buyer when it arrives.
    #[serde(default)]
    qty: String,
}

/// The product page's "Notify me when it arrives".
pub(super) async fn subscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<WaitForm>,
) -> AppResult<HttpResponse> {
    t.require(Feature::Waitlist)?;
    let b = buyer_or_return!(req, t, user, "/waitlist");
    let tx = Tx::new(&state, &req, &t);
    let WaitForm { sku, qty } = form.into_inner();
    let sku = sku.trim().to_owned();
    let failed = |why: String, status: u16| {
        Extra::alert(tx.t_args("waitlist-failed", &[("sku", sku.clone()), ("reason", why)]), status)
    };
    let q = match qty.trim() {
        "" => None,
        text => match parse_qty(text) {
            Ok(q) => Some(q),
            Err(m) => return waitlist_page(&state, &req, &b, failed(tx.msg(&m), 422)).await,
        },
    };
    let (a, s) = (actor(&b), sku.clone());
    let outcome = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        match c.transaction(|c| waitlist::subscribe(c, &a, &s, q)) {
            Ok(_) => Ok(Ok(())),
            Err(AppError::Conflict { code, .. }) if code == "already_waiting" || code == "in_stock" => {
                Ok(Err((json!({"code": code}), 409)))
            }
            Err(AppError::Forbidden(m)) => Ok(Err((json!({"code": "forbidden", "message": m}), 403))),
            Err(e) => Ok(Err((refusal(c, None, &s, q.unwrap_or(Decimal::ONE), e)?, 422))),
        }
    })
    .await?;
    match outcome {
        Ok(()) => Ok(see_other(&format!("{}#waiting-{}", product_href(&t, &sku), urlencode(&sku)))),
        Err((r, status)) => {
            let why = match r["code"].as_str() {
                Some("already_waiting") => tx.t("waitlist-already"),
                Some("in_stock") => tx.t("waitlist-in-stock"),
                Some("forbidden") => tx.msg(r["message"].as_str().unwrap_or_default()),
                _ => super::cart::words(&tx, &r),
            };
            waitlist_page(&state, &req, &b, failed(why, status)).await
        }
    }
}

/// "Stop waiting".
pub(super) async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
) -> AppResult<HttpResponse> {
    t.require(Feature::Waitlist)?;
    let b = buyer_or_return!(req, t, user, "/waitlist");
    let (a, id) = (actor(&b), path.id);
    with_tenant(&state.pool, &t.tenant.schema, move |c| waitlist::unsubscribe(c, &a, id)).await?;
    Ok(see_other(&t.link("/waitlist?done=removed")))
}
