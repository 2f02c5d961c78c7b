//! `/orders`: the company's order history with filters and its Excel export, and one order
//! with its lines, delivery and history, cancelled, repeated, approved or declined from it.

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde_json::{json, Value};

use super::{actor, buyer_or_return, param, qs, with_flash, Tx};
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::exchange::table;
use crate::money::format;
use crate::ordering::{history, lifecycle, orders};
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::BuyerCtx;
use crate::web::routes::catalog_api::{content_disposition, pairs};
use crate::web::routes::order_api::NumberPath;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

/// The list's filters as the query may carry them.
pub(crate) const FILTERS: &[&str] = &["from", "to", "status", "kind", "number", "sku", "customer"];
/// At most this many orders in one export.
pub(crate) const EXPORT_LIMIT: i64 = 10_000;

/// Query pairs.
type Pairs = Vec<(String, String)>;

/// The filters of the request (without the page), and the same with the page.
pub(crate) fn filters(req: &HttpRequest) -> AppResult<(Pairs, Pairs)> {
    let p = pairs(req)?;
    let f: Pairs = p.iter().filter(|(k, v)| FILTERS.contains(&k.as_str()) && !v.trim().is_empty()).cloned().collect();
    let mut with_page = f.clone();
    with_page.extend(param(&p, "page").map(|v| ("page".to_owned(), v.to_owned())));
    Ok((f, with_page))
}

/// An order of a list, in the page's language.
pub(crate) fn row(tx: &Tx, base: &str, o: &Value) -> Value {
    let number = o["number"].as_str().unwrap_or_default();
    json!({"number": number, "href": format!("{base}/{}", urlencode(number)), "date": tx.when(&o["created_at"]),
        "status": o["status"], "status_label": tx.status(o["status"].as_str().unwrap_or("")),
        "preorder": o["kind"] == "preorder", "kind_label": tx.kind(o["kind"].as_str().unwrap_or("order")),
        "total": o["total"], "vat_total": o["vat_total"], "currency": o["currency"], "po_number": o["po_number"]})
}

/// The list's paging: `(page, pages, prev href, next href)`.
pub(crate) fn paging(v: &Value, path: &str, f: &[(String, String)]) -> (i64, i64, Option<String>, Option<String>) {
    let (page, per, total) = (
        v["page"].as_i64().unwrap_or(1),
        v["per_page"].as_i64().unwrap_or(20).max(1),
        v["total"].as_i64().unwrap_or(0),
    );
    let pages = ((total + per - 1) / per).max(1);
    let link = |n: i64| {
        let mut q = f.to_vec();
        q.push(("page".into(), n.to_string()));
        format!("{path}?{}", qs(&q))
    };
    (page, pages, (page > 1).then(|| link(page - 1)), (page < pages).then(|| link(page + 1)))
}

/// The status filter's options.
pub(crate) fn statuses(tx: &Tx, current: &str) -> Vec<Value> {
    std::iter::once(json!({"value": "", "label": tx.t("orders-all-statuses"), "selected": current.is_empty()}))
        .chain(history::STATUSES.iter().map(|s| json!({"value": s, "label": tx.status(s), "selected": *s == current})))
        .collect()
}

pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/orders");
    let tx = Tx::new(&state, &req, &t);
    let (f, with_page) = filters(&req)?;
    let company = b.company.id;
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| history::list(c, Some(company), &with_page)).await;
    let (v, errors) = match r {
        Ok(v) => (v, FieldErrors::new()),
        Err(AppError::Validation(e)) => (json!({"items": [], "total": 0, "page": 1, "per_page": 20}), e),
        Err(e) => return Err(e),
    };
    let base = t.link("/orders");
    let rows: Vec<Value> = v["items"].as_array().into_iter().flatten().map(|o| row(&tx, &base, o)).collect();
    let (page, pages, prev, next) = paging(&v, &base, &f);
    let get = |k: &str| param(&f, k).unwrap_or("").to_owned();
    let export = if f.is_empty() { format!("{base}/export.xlsx") } else { format!("{base}/export.xlsx?{}", qs(&f)) };
    let status = if errors.is_empty() { 200 } else { 422 };
    let data = json!({"orders": rows, "total": v["total"], "page": page, "pages": pages, "prev": prev, "next": next,
        "export": export, "from": get("from"), "to": get("to"), "number": get("number"), "sku": get("sku"),
        "statuses": statuses(&tx, &get("status")), "filtered": !f.is_empty(),
        "errors": errors});
    let ctx = store_page(&req, &tx.t("orders-title"), data).await?;
    render_status(&state, "storefront/orders", &ctx, status)
}

/// The header and rows of an order export.
pub(crate) fn export_rows(tx: &Tx, list: &[orders::Order]) -> Vec<Vec<String>> {
    let header = ["number", "date", "status", "kind", "total", "vat", "currency", "po"];
    let mut rows = vec![header.iter().map(|h| tx.t(&format!("orders-col-{h}"))).collect::<Vec<_>>()];
    for o in list {
        rows.push(vec![
            o.number.clone(),
            tx.when(&json!(o.created_at)),
            tx.status(&o.status),
            tx.kind(&o.kind),
            format(o.total),
            format(o.vat_total),
            o.currency.clone(),
            o.po_number.clone(),
        ]);
    }
    rows
}

/// An XLSX answer named `name`.
pub(crate) async fn xlsx(rows: Vec<Vec<String>>, sheet: String, name: &str) -> AppResult<HttpResponse> {
    let bytes = web::block(move || table::write_xlsx(&rows, &sheet))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("order export: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(("Content-Disposition", content_disposition(name)))
        .body(bytes))
}

pub(super) async fn export(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/orders");
    let tx = Tx::new(&state, &req, &t);
    let (f, _) = filters(&req)?;
    let company = b.company.id;
    let list =
        with_tenant(&state.pool, &t.tenant.schema, move |c| history::all(c, Some(company), &f, EXPORT_LIMIT)).await?;
    let date = chrono::Utc::now().format("%Y-%m-%d");
    xlsx(export_rows(&tx, &list), tx.t("orders-title"), &format!("orders-{date}.xlsx")).await
}

/// Who made each change of an order's history (names of accounts, in event order).
pub(crate) fn event_names(c: &mut PgConnection, order: i64) -> AppResult<Vec<String>> {
    use crate::db::schema_platform::accounts;
    use crate::db::schema_tenant::order_events as e;
    let ids: Vec<Option<i64>> = e::table.filter(e::order_id.eq(order)).order(e::id).select(e::actor_id).load(c)?;
    let known: Vec<i64> = ids.iter().flatten().copied().collect();
    let names: Vec<(i64, String)> =
        accounts::table.filter(accounts::id.eq_any(&known)).select((accounts::id, accounts::name)).load(c)?;
    Ok(ids
        .iter()
        .map(|id| id.and_then(|id| names.iter().find(|(x, _)| *x == id).map(|(_, n)| n.clone())).unwrap_or_default())
        .collect())
}

/// An order's view with labels in the page's language; staff names shown when `staff_names`.
pub(crate) fn decorate(tx: &Tx, v: &mut Value, names: &[String], staff_names: bool) {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    v["status_label"] = json!(tx.status(&s(v, "status")));
    v["kind_label"] = json!(tx.kind(&s(v, "kind")));
    v["preorder"] = json!(v["kind"] == "preorder");
    v["date"] = json!(tx.when(&v["created_at"]));
    v["payment_label"] = json!(tx.t(&format!("checkout-payment-{}", s(v, "payment_method"))));
    v["delivery"]["label"] = json!(tx.t(&format!("checkout-method-{}", s(&v["delivery"], "method"))));
    v["vat_note"] = json!(tx.vat_line(&v["vat_mode"], &v["vat_total"]));
    for l in v["lines"].as_array_mut().into_iter().flatten() {
        l["unit_label"] = json!(tx.unit(&s(l, "unit")));
    }
    for (i, h) in v["history"].as_array_mut().into_iter().flatten().enumerate() {
        let by = s(h, "by");
        let name = names.get(i).cloned().unwrap_or_default();
        h["who"] = json!(match (by.as_str(), staff_names || by == "buyer") {
            (_, true) if !name.is_empty() => format!("{name} ({})", tx.t(&format!("order-by-{by}"))),
            _ => tx.t(&format!("order-by-{by}")),
        });
        h["when"] = json!(tx.when(&h["at"]));
        h["from_label"] = json!(h["from"].as_str().map(|x| tx.status(x)));
        h["to_label"] = json!(h["to"].as_str().map(|x| tx.status(x)));
        h["note"] = json!(tx.msg(&s(h, "note")));
    }
}

/// Notices a redirect to an order may ask for.
const DONE: &[&str] = &["cancelled", "approved", "declined"];

pub(super) async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let number = path.into_inner().number;
    let b = buyer_or_return!(req, t, user, &format!("/orders/{}", urlencode(&number)));
    let tx = Tx::new(&state, &req, &t);
    let p = pairs(&req)?;
    let notice = match (param(&p, "placed"), param(&p, "done")) {
        (Some(_), _) => Some(tx.t("order-placed")),
        (_, Some(d)) if DONE.contains(&d) => Some(tx.t(&format!("order-done-{d}"))),
        _ => None,
    };
    order_page(&state, &req, &b, number, notice, None, 200).await
}

async fn order_page(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    number: String,
    notice: Option<String>,
    alert: Option<String>,
    status: u16,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &b.tenant);
    let (company, lang) = (b.company.id, tx.lang.clone());
    let (mut v, names) = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let o = orders::find_for(c, company, &number)?;
        Ok((orders::view(c, o.id, &lang)?, event_names(c, o.id)?))
    })
    .await?;
    decorate(&tx, &mut v, &names, false);
    let a = actor(b);
    let st = v["status"].as_str().unwrap_or_default().to_owned();
    let number = v["number"].as_str().unwrap_or_default().to_owned();
    let data = json!({"order": v, "action": b.tenant.link(&format!("/orders/{}", urlencode(&number))),
        "can_cancel": a.may_order() && matches!(st.as_str(), "new" | "awaiting_approval" | "on_hold"),
        "can_decide": a.role == "admin" && st == "awaiting_approval", "can_repeat": a.may_order(),
        "can_return": a.may_order() && matches!(st.as_str(), "delivered" | "completed"),
        "notice": notice, "alert": alert});
    let ctx = store_page(req, &tx.t_args("order-title", &[("number", number)]), data).await?;
    render_status(state, "storefront/order", &ctx, status)
}

/// After an action on an order: to the order with a notice, or the order with the refusal.
async fn after(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    number: String,
    r: AppResult<i64>,
    done: &str,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &b.tenant);
    match r {
        Ok(_) => Ok(see_other(&b.tenant.link(&format!("/orders/{}?done={done}", urlencode(&number))))),
        Err(AppError::Conflict { message, .. }) => {
            order_page(state, req, b, number, None, Some(tx.msg(&message)), 409).await
        }
        Err(AppError::Forbidden(m)) => order_page(state, req, b, number, None, Some(tx.msg(&m)), 403).await,
        Err(e) => Err(e),
    }
}

pub(super) async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/orders");
    let (a, number) = (actor(&b), path.into_inner().number);
    let n = number.clone();
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| lifecycle::buyer_cancel(c, &a, &n)).await;
    after(&state, &req, &b, number, r, "cancelled").await
}

async fn decide(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    number: String,
    yes: bool,
) -> AppResult<HttpResponse> {
    let (a, n, lang) = (actor(b), number.clone(), Tx::new(state, req, &b.tenant).lang);
    let r = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| lifecycle::decide(c, &a, &n, yes, &lang)).await;
    after(state, req, b, number, r, if yes { "approved" } else { "declined" }).await
}

pub(super) async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/orders");
    decide(&state, &req, &b, path.into_inner().number, true).await
}

pub(super) async fn decline(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/orders");
    decide(&state, &req, &b, path.into_inner().number, false).await
}

/// Repeats the order into a new cart and opens it, telling which lines were left out.
pub(super) async fn repeat(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/orders");
    let (a, number) = (actor(&b), path.into_inner().number);
    let (n, lang) = (number.clone(), crate::web::render::locale(&req, Some(&t)));
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| history::repeat(c, &a, &n, &lang)).await;
    match r {
        Ok((cart, skipped)) => {
            let skipped: Vec<Value> = skipped.into_iter().take(30).collect();
            let flash = json!({"kind": "repeat", "number": number, "skipped": skipped});
            Ok(with_flash(see_other(&t.link(&format!("/cart?id={cart}"))), &flash))
        }
        Err(e) => after(&state, &req, &b, number, Err(e), "").await,
    }
}
