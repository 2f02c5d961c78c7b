//! `/cart`: the person's and colleagues' carts, the chosen cart's lines at today's prices
//! (quantities, removal, moving and copying lines), quick order and spreadsheet upload.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{actor, buyer_or_return, clear_flash, flash, param, Tx};
use crate::app::AppState;
use crate::catalog::products::{self, Product};
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::identity::companies;
use crate::money::{format_qty, parse_qty};
use crate::ordering::lines::check_qty;
use crate::ordering::{carts, Actor};
use crate::platform::features::Feature;
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::BuyerCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::CartPath;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

/// Notices a redirect may ask for (`?done=`).
const DONE: &[&str] = &["created", "renamed", "deleted", "updated", "removed", "moved", "copied", "quick"];

/// What a page shows besides the cart: a notice, an alert, refused quantities, a report.
#[derive(Default)]
pub(super) struct Extra {
    pub notice: Option<String>,
    pub alert: Option<String>,
    /// Per SKU: the quantity typed and why it was refused.
    pub line_errors: BTreeMap<String, (String, String)>,
    pub quick: Option<Value>,
    pub repeat: Option<Value>,
    pub status: u16,
}

impl Extra {
    pub(super) fn alert(text: String, status: u16) -> Extra {
        Extra { alert: Some(text), status, ..Extra::default() }
    }
}

/// The person's current cart: their most recently changed own cart, created ("Main") when
/// they have none and may order; a viewer falls back to a colleague's cart.
pub(super) fn current(c: &mut PgConnection, a: &Actor, default_name: &str) -> AppResult<Option<i64>> {
    let list = carts::visible(c, a)?;
    if let Some((cart, _)) = list.iter().find(|(x, _)| x.account_id == a.account_id) {
        return Ok(Some(cart.id));
    }
    if a.may_order() {
        return Ok(Some(carts::create(c, a, default_name)?.id));
    }
    Ok(list.first().map(|(x, _)| x.id))
}

/// A product's facts a quantity message needs, as a cart line has them.
pub(super) fn facts(p: &Product, code: &str) -> Value {
    json!({"code": code, "sku": p.sku, "unit": p.unit, "min_qty": format_qty(p.min_qty), "order_multiple": format_qty(p.order_multiple)})
}

/// Why the domain refused `qty` of `sku` (on top of what `cart` holds), as a code with the
/// facts to word it; other errors go up.
pub(super) fn refusal(
    c: &mut PgConnection,
    cart: Option<i64>,
    sku: &str,
    qty: Decimal,
    e: AppError,
) -> AppResult<Value> {
    let message = match e {
        AppError::Validation(f) => f.into_values().collect::<Vec<_>>().join("; "),
        AppError::Conflict { message, .. } => message,
        other => return Err(other),
    };
    let Some(p) = products::find_by_sku(c, sku.trim())?.filter(|p| p.status != "archived") else {
        return Ok(json!({"code": "unknown_sku", "sku": sku, "message": message}));
    };
    let had = match cart {
        Some(id) => {
            use crate::db::schema_tenant::cart_lines as cl;
            cl::table.find((id, p.id)).select(cl::qty).first::<Decimal>(c).optional()?.unwrap_or(Decimal::ZERO)
        }
        None => Decimal::ZERO,
    };
    Ok(match check_qty(&p, had + qty) {
        Err((code, _)) => facts(&p, code),
        Ok(()) => json!({"code": "", "message": message}),
    })
}

#[derive(Clone, Copy)]
struct Flags {
    multicart: bool,
}

pub(super) async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let p = pairs(&req)?;
    let id = match param(&p, "id") {
        Some(v) => Some(v.trim().parse::<i64>().map_err(|_| AppError::not_found("cart"))?),
        None => None,
    };
    let tx = Tx::new(&state, &req, &t);
    let mut extra = Extra { status: 200, ..Extra::default() };
    let n = param(&p, "n").unwrap_or("0").to_owned();
    extra.notice = param(&p, "done")
        .filter(|d| DONE.contains(d))
        .map(|d| tx.t_args(&format!("cart-done-{d}"), &[("n", n.clone())]));
    let fl = flash(&req).filter(|f| f["kind"] == "repeat");
    extra.repeat = fl.clone();
    let res = page(&state, &req, &b, id, extra).await?;
    Ok(if fl.is_some() { clear_flash(res) } else { res })
}

/// The carts page for `b`, showing cart `chosen` (else the current one).
pub(super) async fn page(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    chosen: Option<i64>,
    extra: Extra,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &b.tenant);
    let a = actor(b);
    let (lang, default_name) = (tx.lang.clone(), tx.t("cart-default-name"));
    let (list, view, members) = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let id = match chosen {
            Some(id) => Some(id),
            None => current(c, &a, &default_name)?,
        };
        let view = match id {
            Some(id) => {
                let cart = carts::find(c, &a, id)?;
                let settings = catalog_settings::load(c)?;
                Some(carts::view(c, &a, &cart, &settings, &lang)?)
            }
            None => None,
        };
        Ok((carts::visible(c, &a)?, view, companies::members(c, a.company.id)?))
    })
    .await?;
    let flags = Flags { multicart: b.tenant.tenant.has(Feature::Multicart) };
    let status = extra.status;
    let data = page_data(&tx, b, &list, view, &members, flags, extra);
    let ctx = store_page(req, &tx.t("cart-title"), data).await?;
    render_status(state, "storefront/cart", &ctx, status)
}

fn page_data(
    tx: &Tx,
    b: &BuyerCtx,
    list: &[(carts::Cart, i64)],
    view: Option<Value>,
    members: &[companies::Member],
    flags: Flags,
    extra: Extra,
) -> Value {
    let me = b.user.account.id;
    let chosen = view.as_ref().and_then(|v| v["id"].as_i64());
    let owner = |id: i64| members.iter().find(|m| m.account_id == id).map(|m| m.name.clone()).unwrap_or_default();
    let carts_json: Vec<Value> = list
        .iter()
        .map(|(c, n)| {
            json!({"id": c.id, "name": c.name, "lines": n, "mine": c.account_id == me, "owner": owner(c.account_id),
                "selected": Some(c.id) == chosen})
        })
        .collect();
    let targets: Vec<Value> = list
        .iter()
        .filter(|(c, _)| Some(c.id) != chosen)
        .map(|(c, _)| json!({"id": c.id, "name": c.name, "mine": c.account_id == me, "owner": owner(c.account_id)}))
        .collect();
    let cart = view.map(|mut v| {
        if let Some(lines) = v["lines"].as_array_mut() {
            for l in lines.iter_mut() {
                decorate(tx, l, &extra.line_errors);
                let sku = l["sku"].as_str().unwrap_or_default().to_owned();
                l["href"] = json!(b.tenant.link(&format!("/products/{}", urlencode(&sku))));
            }
        }
        v["owner"] = json!(owner(v["owner_id"].as_i64().unwrap_or_default()));
        v["vat_note"] = json!(tx.t(if v["vat_mode"] == "excluded" { "vat-excluded" } else { "vat-included" }));
        v["vat_line"] = json!(tx.vat_line(&v["vat_mode"], &v["vat_total"]));
        v["checkout_ready"] = json!(v["count"].as_u64().unwrap_or(0) > 0 && b.company.is_active());
        v
    });
    let errors = !extra.line_errors.is_empty();
    json!({
        "carts": carts_json, "cart": cart, "targets": targets, "can_change": actor(b).may_order(),
        "multicart": flags.multicart, "inactive": !b.company.is_active(), "notice": extra.notice,
        "alert": extra.alert.or_else(|| errors.then(|| tx.t("cart-lines-refused"))), "quick": extra.quick,
        "repeat": extra.repeat.map(|r| repeat_report(tx, r)),
    })
}

/// A cart line as the page shows it: labels in the page's language, the problem in words,
/// and what the person typed when it was refused.
fn decorate(tx: &Tx, l: &mut Value, errors: &BTreeMap<String, (String, String)>) {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    l["unit_label"] = json!(tx.unit(&s(l, "unit")));
    l["stock_label"] = json!(tx.t(&format!("stock-{}", s(l, "stock_status"))));
    l["vat_label"] = json!(match s(l, "vat_rate").as_str() {
        "none" => tx.t("cart-vat-none"),
        r => format!("{r} %"),
    });
    if let Some(code) = l["problem"]["code"].as_str().map(str::to_owned) {
        let mut facts = l.clone();
        facts["message"] = l["problem"]["message"].clone();
        l["problem_text"] = json!(tx.problem(&code, &facts));
    }
    if let Some((typed, why)) = errors.get(&s(l, "sku")) {
        l["typed"] = json!(typed);
        l["error"] = json!(why);
    }
}

/// The report of a repeated order: which lines were left out and why.
fn repeat_report(tx: &Tx, r: Value) -> Value {
    let skipped: Vec<Value> = r["skipped"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(
                    |s| json!({"sku": s["sku"], "qty": s["qty"], "reason": tx.msg(s["reason"].as_str().unwrap_or(""))}),
                )
                .collect()
        })
        .unwrap_or_default();
    json!({"number": r["number"], "skipped": skipped})
}

/// Words for a refusal from [`refusal`].
pub(super) fn words(tx: &Tx, r: &Value) -> String {
    tx.problem(r["code"].as_str().unwrap_or(""), r)
}

#[derive(Deserialize)]
pub(super) struct AddForm {
    sku: String,
    #[serde(default)]
    qty: String,
}

/// Adds a product to the current cart (the product page's and catalog's "Add to cart"), then
/// goes back where the person was, to the line's "added" note.
pub(super) async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<AddForm>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let tx = Tx::new(&state, &req, &t);
    let AddForm { sku, qty } = form.into_inner();
    let failed = |why: String| tx.t_args("cart-add-failed", &[("sku", sku.clone()), ("reason", why)]);
    if !b.company.is_active() {
        return page(&state, &req, &b, None, Extra::alert(tx.t("cart-inactive"), 403)).await;
    }
    let qty = match parse_qty(if qty.trim().is_empty() { "1" } else { &qty }) {
        Ok(q) => q,
        Err(m) => return page(&state, &req, &b, None, Extra::alert(failed(tx.msg(&m)), 422)).await,
    };
    let (a, name, s) = (actor(&b), tx.t("cart-default-name"), sku.clone());
    let outcome = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let id = current(c, &a, &name)?.ok_or_else(|| AppError::not_found("cart"))?;
        match c.transaction(|c| carts::add(c, &a, id, &s, qty)) {
            Ok(()) => Ok(Ok(id)),
            Err(e) => Ok(Err(refusal(c, Some(id), &s, qty, e)?)),
        }
    })
    .await?;
    match outcome {
        Ok(_) => Ok(see_other(&format!("{}#in-cart-{}", back(&req, &t), urlencode(&sku)))),
        Err(r) => page(&state, &req, &b, None, Extra::alert(failed(words(&tx, &r)), 422)).await,
    }
}

/// Where the person came from (a page of this store), else the cart.
fn back(req: &HttpRequest, t: &TenantCtx) -> String {
    let host = req.connection_info().host().to_owned();
    let referer = req.headers().get("referer").and_then(|h| h.to_str().ok()).unwrap_or("");
    let path = referer
        .split_once("://")
        .and_then(|(_, rest)| rest.strip_prefix(host.as_str()))
        .map(|p| p.split('#').next().unwrap_or(""));
    match path {
        Some(p) if p.starts_with(&t.link("/")) || (t.base.is_empty() && p.starts_with('/')) => {
            crate::web::routes::safe_next(Some(p), &t.link("/cart"))
        }
        _ => t.link("/cart"),
    }
}

#[derive(Deserialize)]
pub(super) struct NameForm {
    #[serde(default)]
    name: String,
}

pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let tx = Tx::new(&state, &req, &t);
    let (a, name, multi) = (actor(&b), form.into_inner().name, t.tenant.has(Feature::Multicart));
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let has_own = carts::visible(c, &a)?.iter().any(|(x, _)| x.account_id == a.account_id);
        if !multi && has_own {
            return Err(AppError::conflict("one_cart", "this store keeps one cart per person"));
        }
        carts::create(c, &a, &name)
    })
    .await;
    match r {
        Ok(cart) => Ok(see_other(&t.link(&format!("/cart?id={}&done=created", cart.id)))),
        Err(e) => page(&state, &req, &b, None, Extra::alert(problem_of(&tx, e)?, 422)).await,
    }
}

/// The words of a validation or conflict error; anything else stays an error.
pub(super) fn problem_of(tx: &Tx, e: AppError) -> AppResult<String> {
    match e {
        AppError::Validation(f) => Ok(f.into_values().map(|m| tx.msg(&m)).collect::<Vec<_>>().join("; ")),
        AppError::Conflict { message, .. } => Ok(tx.msg(&message)),
        other => Err(other),
    }
}

pub(super) async fn rename(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
    form: web::Form<NameForm>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let tx = Tx::new(&state, &req, &t);
    let (a, id, name) = (actor(&b), path.id, form.into_inner().name);
    match with_tenant(&state.pool, &t.tenant.schema, move |c| carts::rename(c, &a, id, &name)).await {
        Ok(()) => Ok(see_other(&t.link(&format!("/cart?id={id}&done=renamed")))),
        Err(e) => page(&state, &req, &b, Some(id), Extra::alert(problem_of(&tx, e)?, 422)).await,
    }
}

pub(super) async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let (a, id) = (actor(&b), path.id);
    with_tenant(&state.pool, &t.tenant.schema, move |c| carts::delete(c, &a, id)).await?;
    Ok(see_other(&t.link("/cart?done=deleted")))
}

/// The cart form: `sku`/`qty` pairs in order, plus the buttons' fields.
type Fields = web::Form<Vec<(String, String)>>;

fn field<'a>(f: &'a [(String, String)], key: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Sets every changed quantity; each refused one is shown on its line with what was typed.
pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
    form: Fields,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let tx = Tx::new(&state, &req, &t);
    let (a, id, fields) = (actor(&b), path.id, form.into_inner());
    let checkout = field(&fields, "then") == Some("checkout");
    let mut typed: Vec<(String, String)> = Vec::new();
    let mut sku = None;
    for (k, v) in fields {
        match k.as_str() {
            "sku" => sku = Some(v),
            "qty" => typed.extend(sku.take().map(|s| (s, v))),
            _ => {}
        }
    }
    let refused = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        carts::find(c, &a, id)?;
        let held = carts::lines(c, id)?;
        let mut refused = Vec::new();
        for (sku, text) in typed {
            let Some((_, had)) = held.iter().find(|(p, _)| p.sku == sku) else { continue };
            let qty = match parse_qty(&text) {
                Ok(q) if q == *had => continue,
                Ok(q) => q,
                Err(m) => {
                    refused.push((sku, text, json!({"code": "", "message": m})));
                    continue;
                }
            };
            if let Err(e) = c.transaction(|c| carts::set_qty(c, &a, id, &sku, qty)) {
                let r = refusal(c, None, &sku, qty, e)?;
                refused.push((sku, text, r));
            }
        }
        Ok(refused)
    })
    .await?;
    if refused.is_empty() {
        let next = if checkout { format!("/checkout?cart={id}") } else { format!("/cart?id={id}&done=updated") };
        return Ok(see_other(&t.link(&next)));
    }
    let line_errors = refused.into_iter().map(|(sku, text, r)| (sku, (text, words(&tx, &r)))).collect();
    page(&state, &req, &b, Some(id), Extra { line_errors, status: 422, ..Extra::default() }).await
}

pub(super) async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
    form: Fields,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let (a, id) = (actor(&b), path.id);
    let sku = field(&form, "remove").unwrap_or_default().to_owned();
    with_tenant(&state.pool, &t.tenant.schema, move |c| carts::remove(c, &a, id, &sku)).await?;
    Ok(see_other(&t.link(&format!("/cart?id={id}&done=removed"))))
}

/// Moves or copies the ticked lines (all when none is ticked) into another cart.
pub(super) async fn transfer(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
    form: Fields,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let tx = Tx::new(&state, &req, &t);
    let (a, id, fields) = (actor(&b), path.id, form.into_inner());
    let keep = field(&fields, "mode") == Some("copy");
    let Some(to) = field(&fields, "to").and_then(|v| v.trim().parse::<i64>().ok()) else {
        return page(&state, &req, &b, Some(id), Extra::alert(tx.msg("choose another cart"), 422)).await;
    };
    let picks: Vec<String> = fields.iter().filter(|(k, _)| k == "pick").map(|(_, v)| v.clone()).collect();
    let r = with_tenant(&state.pool, &t.tenant.schema, move |c| carts::transfer(c, &a, id, to, &picks, keep)).await;
    match r {
        Ok(n) => {
            let done = if keep { "copied" } else { "moved" };
            Ok(see_other(&t.link(&format!("/cart?id={id}&done={done}&n={n}"))))
        }
        Err(e) => page(&state, &req, &b, Some(id), Extra::alert(problem_of(&tx, e)?, 422)).await,
    }
}
