//! The buyer's reservations, waitlist and cabinet notifications (JSON API).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::order_api::{actor, qty_of, CartPath, QtyIn};
use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::AppResult;
use crate::ordering::{reservations, waitlist};
use crate::platform::features::Feature;
use crate::web::render::locale;
use crate::web::roles::BuyerCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/reservations").route(web::get().to(list_reservations)).route(web::post().to(reserve)),
    )
    .service(web::resource("/api/v1/reservations/{id}").route(web::delete().to(release)))
    .service(web::resource("/api/v1/reservations/{id}/order").route(web::post().to(reservation_order)))
    .service(web::resource("/api/v1/waitlist").route(web::get().to(list_waitlist)).route(web::post().to(subscribe)))
    .service(web::resource("/api/v1/waitlist/{id}").route(web::delete().to(unsubscribe)))
    .service(web::resource("/api/v1/notifications").route(web::get().to(notifications)))
    .service(web::resource("/api/v1/notifications/read").route(web::post().to(read_notifications)));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReserveBody {
    sku: String,
    qty: QtyIn,
    /// The last day of the reservation (`YYYY-MM-DD`).
    until: chrono::NaiveDate,
}

async fn list_reservations(state: web::Data<AppState>, b: BuyerCtx) -> AppResult<HttpResponse> {
    b.tenant.require(Feature::Reservations)?;
    let company = b.company.id;
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| reservations::list(c, company)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn reserve(state: web::Data<AppState>, b: BuyerCtx, body: web::Json<ReserveBody>) -> AppResult<HttpResponse> {
    b.tenant.require(Feature::Reservations)?;
    let (a, qty, body) = (actor(&b), qty_of(&body.qty)?, body.into_inner());
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = reservations::reserve(c, &a, &body.sku, qty, body.until)?;
        reservations::show(c, a.company.id, r.id)
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

async fn release(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<CartPath>) -> AppResult<HttpResponse> {
    b.tenant.require(Feature::Reservations)?;
    let (a, id) = (actor(&b), path.id);
    with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| reservations::release(c, &a, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn reservation_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<CartPath>,
) -> AppResult<HttpResponse> {
    b.tenant.require(Feature::Reservations)?;
    let (a, id, lang) = (actor(&b), path.id, locale(&req, Some(&b.tenant)));
    let placed = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let settings = catalog_settings::load(c)?;
        reservations::convert(c, &a, id, &settings, &lang)
    })
    .await?;
    Ok(HttpResponse::Created().json(placed.order))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitBody {
    sku: String,
    #[serde(default)]
    qty: Option<QtyIn>,
}

async fn list_waitlist(state: web::Data<AppState>, b: BuyerCtx) -> AppResult<HttpResponse> {
    b.tenant.require(Feature::Waitlist)?;
    let a = actor(&b);
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| waitlist::list(c, &a)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn subscribe(state: web::Data<AppState>, b: BuyerCtx, body: web::Json<WaitBody>) -> AppResult<HttpResponse> {
    b.tenant.require(Feature::Waitlist)?;
    let qty = match &body.qty {
        Some(q) => Some(qty_of(q)?),
        None => None,
    };
    let (a, sku) = (actor(&b), body.into_inner().sku);
    let id = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| waitlist::subscribe(c, &a, &sku, qty)).await?;
    Ok(HttpResponse::Created().json(json!({"id": id, "status": "waiting"})))
}

async fn unsubscribe(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<CartPath>) -> AppResult<HttpResponse> {
    b.tenant.require(Feature::Waitlist)?;
    let (a, id) = (actor(&b), path.id);
    with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| waitlist::unsubscribe(c, &a, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The cabinet's notifications (orders, reservations, waitlist), newest 100.
async fn notifications(state: web::Data<AppState>, b: BuyerCtx) -> AppResult<HttpResponse> {
    let me = b.user.account.id;
    let v =
        with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| crate::ordering::notify::list(c, me, 100)).await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    #[serde(default)]
    ids: Vec<i64>,
}

async fn read_notifications(
    state: web::Data<AppState>,
    b: BuyerCtx,
    body: web::Json<ReadBody>,
) -> AppResult<HttpResponse> {
    let (me, ids) = (b.user.account.id, body.into_inner().ids);
    let n = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| crate::ordering::notify::mark_read(c, me, &ids))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"read": n})))
}
