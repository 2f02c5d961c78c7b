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

fn by_number(c: &mut diesel::PgConnection, number: &str) -> AppResult<i64> {
    use crate::db::schema_tenant::orders as o;
    use diesel::prelude::*;
    o::table
        .filter(o::number.eq(number))
        .select(o::id)
        .first(c)
        .optional()?
        .ok_or_else(|| crate::error::AppError::not_found("order"))
}

/// The order as staff see it: the buyer's view plus the company, internal note and manager.
fn staff_view(c: &mut diesel::PgConnection, id: i64, lang: &str) -> AppResult<serde_json::Value> {
    use crate::db::schema_tenant::{companies, orders as o};
    use diesel::prelude::*;
    let mut v = orders::view(c, id, lang)?;
    let (company_id, note, manager): (i64, String, Option<i64>) =
        o::table.find(id).select((o::company_id, o::internal_note, o::manager_account_id)).first(c)?;
    let (name, inn): (String, String) =
        companies::table.find(company_id).select((companies::name, companies::inn)).first(c)?;
    v["customer"] = serde_json::json!({"id": company_id, "name": name, "inn": inn});
    v["internal_note"] = serde_json::json!(note);
    v["manager_account_id"] = serde_json::json!(manager);
    Ok(v)
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
        let id = by_number(c, &number)?;
        staff_view(c, id, &lang)
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
        staff_view(c, id, &lang)
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
        staff_view(c, id, &lang)
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
        let id = by_number(c, &number)?;
        let changes = crate::ordering::edit::parse(c, &body.lines, true)?;
        let settings = crate::catalog::settings::load(c)?;
        crate::ordering::edit::apply(c, id, crate::ordering::edit::Editor::Staff(me), changes, &settings, &lang)?;
        staff_view(c, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
