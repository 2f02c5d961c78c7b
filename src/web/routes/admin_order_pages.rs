//! Back-office order pages: the list with filters (customer, status, kind, number, SKU,
//! period) and one order with its customer, lines and history, where staff move it along
//! (`lifecycle::staff_may`), note it, assign a manager and turn a pre-order into an order.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin_pages::staff_or_return;
use super::order_api::NumberPath;
use super::order_pages::history::{decorate, event_names, filters, paging, row, statuses};
use super::order_pages::{param, Tx};
use super::see_other;
use crate::app::AppState;
use crate::db::schema_tenant::{companies, orders as o};
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::staff::{self, MANAGE_ORDERS, SEE_ORDERS};
use crate::ordering::lifecycle::{self, StaffPatch};
use crate::ordering::{history, orders};
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::StaffCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::tenant::TenantCtx;

/// Customers offered in the list's filter.
const CUSTOMER_CHOICES: i64 = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/orders").route(web::get().to(list)))
        .service(web::resource("/admin/orders/{number}").route(web::get().to(show)).route(web::post().to(update)))
        .service(web::resource("/admin/orders/{number}/convert").route(web::post().to(convert)))
        .service(web::resource("/admin/orders/{number}/lines").route(web::post().to(edit_lines)));
}

async fn list(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/orders");
    s.require(SEE_ORDERS)?;
    let tx = Tx::new(&state, &req, &t);
    let (f, with_page) = filters(&req)?;
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let customers: Vec<(i64, String)> = companies::table
            .order(companies::name)
            .limit(CUSTOMER_CHOICES)
            .select((companies::id, companies::name))
            .load(c)?;
        let v = match history::list(c, None, &with_page) {
            Ok(v) => v,
            Err(AppError::Validation(e)) => return Ok((json!({"items": []}), customers, Vec::new(), e)),
            Err(e) => return Err(e),
        };
        let numbers: Vec<String> = v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["number"].as_str().map(str::to_owned))
            .collect();
        let names: Vec<(String, String)> = o::table
            .inner_join(companies::table)
            .filter(o::number.eq_any(&numbers))
            .select((o::number, companies::name))
            .load(c)?;
        Ok((v, customers, names, FieldErrors::new()))
    })
    .await?;
    let (v, customers, names, errors) = r;
    let base = t.link("/admin/orders");
    let rows: Vec<Value> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let mut r = row(&tx, &base, i);
            r["customer"] = json!(names.iter().find(|(n, _)| Some(n.as_str()) == i["number"].as_str()).map(|(_, c)| c));
            r
        })
        .collect();
    let (page, pages, prev, next) = paging(&v, &base, &f);
    let get = |k: &str| param(&f, k).unwrap_or("").to_owned();
    let customer = get("customer");
    let kinds: Vec<Value> = ["", "order", "preorder"]
        .iter()
        .map(|k| {
            let label = if k.is_empty() { tx.t("orders-all-kinds") } else { tx.kind(k) };
            json!({"value": k, "label": label, "selected": get("kind") == *k})
        })
        .collect();
    let customers: Vec<Value> = customers
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name, "selected": id.to_string() == customer}))
        .collect();
    let status = if errors.is_empty() { 200 } else { 422 };
    let data = json!({"orders": rows, "total": v["total"], "page": page, "pages": pages, "prev": prev, "next": next,
        "from": get("from"), "to": get("to"), "number": get("number"), "sku": get("sku"), "statuses": statuses(&tx, &get("status")),
        "kinds": kinds, "customers": customers, "errors": errors});
    let ctx = store_page(&req, &tx.t("orders-title"), data).await?;
    render_status(&state, "admin/orders", &ctx, status)
}

/// What the order page shows besides the order.
#[derive(Default)]
struct Extra {
    notice: Option<String>,
    alert: Option<String>,
    errors: FieldErrors,
    status: u16,
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let s = staff_or_return!(req, t, user, &format!("/admin/orders/{}", urlencode(&number)));
    s.require(SEE_ORDERS)?;
    let tx = Tx::new(&state, &req, &t);
    let p = pairs(&req)?;
    let notice = match (param(&p, "saved"), param(&p, "converted")) {
        (Some(_), _) => Some(tx.t("admin-order-saved")),
        (_, Some(_)) => Some(tx.t("admin-order-converted")),
        _ => None,
    };
    page(&state, &req, &s, number, Extra { notice, status: 200, ..Extra::default() }).await
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    number: String,
    extra: Extra,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &s.tenant);
    let lang = tx.lang.clone();
    let (mut v, names, staff_list) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let id = orders::id_by_number(c, &number)?;
        Ok((orders::staff_view(c, id, &lang)?, event_names(c, id)?, staff::list(c)?))
    })
    .await?;
    decorate(&tx, &mut v, &names, true);
    let (st, preorder) = (v["status"].as_str().unwrap_or_default().to_owned(), v["kind"] == "preorder");
    let next: Vec<Value> = history::STATUSES
        .iter()
        .filter(|to| **to != st && lifecycle::staff_may(&st, to) && (!preorder || **to == "cancelled"))
        .map(|to| json!({"value": to, "label": tx.status(to)}))
        .collect();
    let manager = v["manager_account_id"].as_i64();
    let managers: Vec<Value> = staff_list
        .iter()
        .filter(|m| m.status == "active")
        .map(|m| json!({"id": m.account_id, "name": m.name, "selected": Some(m.account_id) == manager}))
        .collect();
    let number = v["number"].as_str().unwrap_or_default().to_owned();
    let errors: FieldErrors = extra.errors.into_iter().map(|(k, m)| (k, tx.msg(&m))).collect();
    let data = json!({"order": v, "next": next, "managers": managers,
        "action": s.tenant.link(&format!("/admin/orders/{}", urlencode(&number))),
        "can_manage": MANAGE_ORDERS.contains(&s.role), "can_convert": preorder && st == "new",
        "can_edit_lines": MANAGE_ORDERS.contains(&s.role) && st == "new",
        "notice": extra.notice, "alert": extra.alert, "errors": errors});
    let ctx = store_page(req, &tx.t_args("order-title", &[("number", number)]), data).await?;
    render_status(state, "admin/order", &ctx, extra.status)
}

#[derive(Deserialize)]
struct UpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    internal_note: String,
    #[serde(default)]
    manager_account_id: String,
    #[serde(default)]
    expected_date: String,
    /// The expected date shown (a change of it is told to the buyer, so only a change is sent).
    #[serde(default)]
    expected_date_was: String,
}

async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
    form: web::Form<UpdateForm>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/orders");
    s.require(MANAGE_ORDERS)?;
    let (number, f) = (path.into_inner().number, form.into_inner());
    let non_empty = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let expected_date = match non_empty(&f.expected_date).filter(|d| *d != f.expected_date_was.trim()) {
        None => None,
        Some(d) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                let errors =
                    FieldErrors::from([("expected_date".to_owned(), "must be a date like 2026-12-01".to_owned())]);
                return page(&state, &req, &s, number, Extra { errors, status: 422, ..Extra::default() }).await;
            }
        },
    };
    let patch = StaffPatch {
        status: non_empty(&f.status),
        note: non_empty(&f.note),
        internal_note: Some(f.internal_note),
        manager_account_id: non_empty(&f.manager_account_id).and_then(|v| v.parse().ok()),
        expected_date,
    };
    let (me, n) = (s.user.account.id, number.clone());
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| lifecycle::staff_update(c, me, &n, &patch)).await;
    after(&state, &req, &s, number, r, "saved").await
}

async fn convert(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/orders");
    s.require(MANAGE_ORDERS)?;
    let (me, number) = (s.user.account.id, path.into_inner().number);
    let (n, lang) = (number.clone(), Tx::new(&state, &req, &t).lang);
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| lifecycle::convert_preorder(c, me, &n, &lang)).await;
    after(&state, &req, &s, number, r, "converted").await
}

/// Back to the order with a notice, or the order with what was refused.
async fn after(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    number: String,
    r: AppResult<i64>,
    done: &str,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &s.tenant);
    let extra = match r {
        Ok(_) => return Ok(see_other(&s.tenant.link(&format!("/admin/orders/{}?{done}=1", urlencode(&number))))),
        Err(AppError::Validation(errors)) => Extra { errors, status: 422, ..Extra::default() },
        Err(AppError::Conflict { message, .. }) => {
            Extra { alert: Some(tx.msg(&message)), status: 409, ..Extra::default() }
        }
        Err(AppError::Detailed { status, message, .. }) => {
            Extra { alert: Some(tx.msg(&message)), status, ..Extra::default() }
        }
        Err(e) => return Err(e),
    };
    page(state, req, s, number, extra).await
}

/// The line-edit form: `qty.<SKU>` for each line (0 removes it) and an optional `add_sku` with
/// `add_qty`. Quantities of lines left as they were are not sent on.
async fn edit_lines(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/orders");
    s.require(MANAGE_ORDERS)?;
    let (number, fields) = (path.into_inner().number, form.into_inner());
    let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let mut lines: Vec<crate::ordering::place::LineIn> = fields
        .iter()
        .filter_map(|(k, v)| {
            let sku = k.strip_prefix("qty.")?;
            let was = get(&format!("was.{sku}"));
            (v.trim() != was).then(|| crate::ordering::place::LineIn { sku: sku.to_owned(), qty: json!(v.trim()) })
        })
        .collect();
    let add = get("add_sku");
    if !add.is_empty() {
        lines.push(crate::ordering::place::LineIn { sku: add, qty: json!(get("add_qty")) });
    }
    if lines.is_empty() {
        return Ok(see_other(&s.tenant.link(&format!("/admin/orders/{}", urlencode(&number)))));
    }
    let (me, n, lang) = (s.user.account.id, number.clone(), Tx::new(&state, &req, &t).lang);
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let id = orders::id_by_number(c, &n)?;
        let changes = crate::ordering::edit::parse(c, &lines, true)?;
        let settings = crate::catalog::settings::load(c)?;
        crate::ordering::edit::apply(c, id, crate::ordering::edit::Editor::Staff(me), changes, &settings, &lang)
    })
    .await;
    after(&state, &req, &s, number, r, "saved").await
}
