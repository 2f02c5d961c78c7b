//! Staff's "Returns" in the back office (feature `returns`): the list with a status filter,
//! and one request with its lines, photos and thread, where staff approve (with the way
//! back), reject (with a reason), mark the goods in transit, receive them into a warehouse
//! (which credits the customer) and write to the buyer.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin_pages::staff_or_return;
use super::admin_returns_api::{decide, staff_message, staff_view};
use super::order_pages::{param, Tx};
use super::returns_pages::{decorate, error_text, rows};
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::identity::staff::{MANAGE_ORDERS, SEE_ORDERS};
use crate::ordering::returns::decide::Decision;
use crate::ordering::returns::{view, DEFECT_WAREHOUSE, STATUSES, WAYS_BACK};
use crate::platform::features::Feature;
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::features::enabled;
use crate::web::render::{render_status, store_page};
use crate::web::roles::StaffCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::NumberPath;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/returns").guard(enabled(Feature::Returns)).route(web::get().to(list)))
        .service(web::resource("/admin/returns/{number}").guard(enabled(Feature::Returns)).route(web::get().to(show)))
        .service(
            web::resource("/admin/returns/{number}/decide")
                .guard(enabled(Feature::Returns))
                .route(web::post().to(decide_form)),
        )
        .service(
            web::resource("/admin/returns/{number}/messages")
                .guard(enabled(Feature::Returns))
                .route(web::post().to(message)),
        );
}

async fn list(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/returns");
    s.require(SEE_ORDERS)?;
    let tx = Tx::new(&state, &req, &t);
    let p = pairs(&req)?;
    let (f, errors) = match view::Filter::parse(&p, None) {
        Ok(f) => (f, Vec::new()),
        Err(e) => (view::Filter { page: 1, per_page: 50, ..Default::default() }, vec![error_text(&tx, &e)]),
    };
    let status = f.status.clone().unwrap_or_default();
    let v = with_tenant(&state.pool, &t.tenant.schema, move |c| view::list(c, &f)).await?;
    let mut statuses = vec![json!({"value": "", "label": tx.t("returns-all"), "selected": status.is_empty()})];
    statuses.extend(
        STATUSES
            .iter()
            .map(|s| json!({"value": s, "label": tx.t(&format!("returns-status-{s}")), "selected": status == *s})),
    );
    let data = json!({"returns": rows(&tx, &t, &v, "/admin/returns"), "total": v["total"], "statuses": statuses,
        "errors": errors});
    let ctx = store_page(&req, &tx.t("returns-title"), data).await?;
    render_status(&state, "admin/returns", &ctx, if errors_empty(&ctx) { 200 } else { 422 })
}

fn errors_empty(ctx: &Value) -> bool {
    ctx["data"]["errors"].as_array().is_none_or(Vec::is_empty)
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    number: String,
    alert: Option<String>,
    status: u16,
) -> AppResult<HttpResponse> {
    let t = &s.tenant;
    let tx = Tx::new(state, req, t);
    let mut v = staff_view(state, s, number).await?;
    decorate(&tx, &mut v);
    let mut warehouses = with_tenant(&state.pool, &t.tenant.schema, crate::catalog::stock::warehouses)
        .await?
        .into_iter()
        .map(|w| json!({"code": w.code, "name": w.name}))
        .collect::<Vec<_>>();
    if !warehouses.iter().any(|w| w["code"] == DEFECT_WAREHOUSE) {
        warehouses.push(json!({"code": DEFECT_WAREHOUSE, "name": tx.t("returns-defect-warehouse")}));
    }
    let default_wh = if matches!(v["reason"].as_str(), Some("defect" | "warranty")) { DEFECT_WAREHOUSE } else { "" };
    for w in &mut warehouses {
        w["selected"] = json!(w["code"] == default_wh);
    }
    let ways: Vec<Value> =
        WAYS_BACK.iter().map(|w| json!({"value": w, "label": tx.t(&format!("returns-way-{w}"))})).collect();
    let number = v["number"].as_str().unwrap_or_default().to_owned();
    let order = v["order"].as_str().unwrap_or_default().to_owned();
    let st = v["status"].as_str().unwrap_or_default().to_owned();
    let notice = param(&pairs(req)?, "done")
        .filter(|d| ["sent", "decided"].contains(d))
        .map(|d| tx.t(&format!("returns-done-{d}")));
    let may = s.require(MANAGE_ORDERS).is_ok();
    let data = json!({"ret": v, "warehouses": warehouses, "ways": ways, "alert": alert, "notice": notice,
        "action": t.link(&format!("/admin/returns/{}", urlencode(&number))),
        "api": t.link(&format!("/api/v1/admin/returns/{}", urlencode(&number))),
        "order_href": t.link(&format!("/admin/orders/{}", urlencode(&order))), "staff": true,
        "can_decide": may && st == "requested", "can_transit": may && st == "approved",
        "can_receive": may && matches!(st.as_str(), "approved" | "in_transit")});
    let ctx = store_page(req, &tx.t_args("returns-one-title", &[("number", number)]), data).await?;
    render_status(state, "admin/return", &ctx, status)
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let s = staff_or_return!(req, t, user, &format!("/admin/returns/{}", urlencode(&number)));
    page(&state, &req, &s, number, None, 200).await
}

#[derive(Deserialize)]
struct DecideForm {
    status: String,
    reason: Option<String>,
    way_back: Option<String>,
    warehouse: Option<String>,
}

async fn decide_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
    form: web::Form<DecideForm>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let s = staff_or_return!(req, t, user, "/admin/returns");
    let f = form.into_inner();
    let d = Decision { status: f.status, reason: f.reason, way_back: f.way_back, warehouse: f.warehouse };
    match decide(&state, &s, number.clone(), d).await {
        Ok(_) => Ok(see_other(&t.link(&format!("/admin/returns/{}?done=decided", urlencode(&number))))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let tx = Tx::new(&state, &req, &t);
            let code = e.info().status;
            page(&state, &req, &s, number, Some(error_text(&tx, &e)), code).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct MessageForm {
    body: String,
}

async fn message(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
    form: web::Form<MessageForm>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let s = staff_or_return!(req, t, user, "/admin/returns");
    match staff_message(&state, &s, number.clone(), form.into_inner().body).await {
        Ok(_) => Ok(see_other(&t.link(&format!("/admin/returns/{}?done=sent#thread", urlencode(&number))))),
        Err(e @ AppError::Validation(_)) => {
            let tx = Tx::new(&state, &req, &t);
            page(&state, &req, &s, number, Some(error_text(&tx, &e)), 422).await
        }
        Err(e) => Err(e),
    }
}
