//! The supplier's staff and orders: the list with filters, an order with its history and
//! internal note, status changes (with the buyer told), pre-orders turned into orders.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::AppResult;
use crate::identity::staff::{MANAGE_ORDERS, SEE_ORDERS};
use crate::ordering::lifecycle::{self, StaffPatch};
use crate::ordering::{history, orders};
use crate::web::render::locale;
use crate::web::roles::StaffCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::NumberPath;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/admin/orders").route(web::get().to(list)))
        .service(
            web::resource("/api/v1/admin/orders/{number}").route(web::get().to(show)).route(web::patch().to(update)),
        )
        .service(web::resource("/api/v1/admin/orders/{number}/convert").route(web::post().to(convert)))
        .service(web::resource("/api/v1/admin/orders/{number}/lines").route(web::put().to(edit_lines)));
}

async fn list(state: web::Data<AppState>, req: HttpRequest, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_ORDERS)?;
    let p = pairs(&req)?;
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| history::list(c, None, &p)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: StaffCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    s.require(SEE_ORDERS)?;
    let (number, lang) = (path.into_inner().number, locale(&req, Some(&s.tenant)));
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let id = orders::id_by_number(c, &number)?;
        orders::staff_view(c, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: StaffCtx,
    path: web::Path<NumberPath>,
    body: web::Json<StaffPatch>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_ORDERS)?;
    let (number, lang, me) = (path.into_inner().number, locale(&req, Some(&s.tenant)), s.user.account.id);
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let id = lifecycle::staff_update(c, me, &number, &body)?;
        orders::staff_view(c, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn convert(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: StaffCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_ORDERS)?;
    let (number, lang, me) = (path.into_inner().number, locale(&req, Some(&s.tenant)), s.user.account.id);
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let id = lifecycle::convert_preorder(c, me, &number, &lang)?;
        orders::staff_view(c, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Staff set the quantities of a new order's lines (0 removes one; a new SKU adds it).
async fn edit_lines(
    state: web::Data<AppState>,
    req: HttpRequest,
    s: StaffCtx,
    path: web::Path<NumberPath>,
    body: web::Json<crate::web::routes::order_api::LinesBody>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_ORDERS)?;
    let (number, lang, me, body) =
        (path.into_inner().number, locale(&req, Some(&s.tenant)), s.user.account.id, body.into_inner());
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let id = orders::id_by_number(c, &number)?;
        let changes = crate::ordering::edit::parse(c, &body.lines, true)?;
        let settings = crate::catalog::settings::load(c)?;
        crate::ordering::edit::apply(c, id, crate::ordering::edit::Editor::Staff(me), changes, &settings, &lang)?;
        orders::staff_view(c, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
