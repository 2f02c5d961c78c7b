//! The buyer's carts and orders (CONTRACT.md): several named carts, lines with today's
//! prices, quick order, checkout with `Idempotency-Key`, order history, cancel, repeat.

use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::ordering::orders;
use crate::ordering::place::{self, PlaceRequest};
use crate::ordering::{carts, quick, Actor};
use crate::platform::features::Feature;
use crate::web::render::locale;
use crate::web::roles::BuyerCtx;
use crate::web::routes::catalog_api::pairs;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/carts").route(web::get().to(list_carts)).route(web::post().to(create_cart)))
        .service(
            web::resource("/api/v1/carts/{id}")
                .route(web::get().to(show_cart))
                .route(web::patch().to(rename_cart))
                .route(web::delete().to(delete_cart)),
        )
        .service(web::resource("/api/v1/carts/{id}/items").route(web::post().to(add_item)))
        .service(
            web::resource("/api/v1/carts/{id}/items/{sku}")
                .route(web::patch().to(set_item))
                .route(web::delete().to(remove_item)),
        )
        .service(web::resource("/api/v1/carts/{id}/transfer").route(web::post().to(transfer)))
        .service(web::resource("/api/v1/carts/{id}/quick-order").route(web::post().to(quick_order)))
        .service(web::resource("/api/v1/orders").route(web::get().to(list_orders)).route(web::post().to(place)))
        .service(web::resource("/api/v1/orders/{number}").route(web::get().to(show_order)))
        .service(web::resource("/api/v1/orders/{number}/cancel").route(web::post().to(cancel)))
        .service(web::resource("/api/v1/orders/{number}/repeat").route(web::post().to(repeat)))
        .service(web::resource("/api/v1/orders/{number}/approve").route(web::post().to(approve)))
        .service(web::resource("/api/v1/orders/{number}/lines").route(web::post().to(supplement)))
        .service(web::resource("/api/v1/orders/{number}/decline").route(web::post().to(decline)));
}

pub fn actor(b: &BuyerCtx) -> Actor {
    Actor {
        account_id: b.user.account.id,
        company: b.company.clone(),
        role: b.role.clone(),
        email_confirmed: b.user.account.email_confirmed_at.is_some(),
    }
}

#[derive(Deserialize)]
pub struct CartPath {
    pub id: i64,
}

#[derive(Deserialize)]
pub struct CartSkuPath {
    pub id: i64,
    pub sku: String,
}

#[derive(Deserialize)]
pub struct NumberPath {
    pub number: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameBody {
    name: String,
}

/// A quantity as sent: a decimal string or a JSON number.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum QtyIn {
    Text(String),
    Number(serde_json::Number),
}

pub fn qty_of(q: &QtyIn) -> AppResult<Decimal> {
    let s = match q {
        QtyIn::Text(s) => s.clone(),
        QtyIn::Number(n) => n.to_string(),
    };
    if s.trim_start().starts_with('-') {
        return Err(AppError::field("qty", "must be greater than zero"));
    }
    crate::money::parse_qty(&s).map_err(|e| AppError::field("qty", e))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    sku: String,
    qty: QtyIn,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QtyBody {
    qty: QtyIn,
}

/// The cart as JSON, inside the caller's transaction.
fn cart_json(c: &mut diesel::PgConnection, a: &Actor, id: i64, lang: &str) -> AppResult<Value> {
    let cart = carts::find(c, a, id)?;
    let settings = catalog_settings::load(c)?;
    carts::view(c, a, &cart, &settings, lang)
}

async fn list_carts(state: web::Data<AppState>, b: BuyerCtx) -> AppResult<HttpResponse> {
    let a = actor(&b);
    let list = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| carts::visible(c, &a)).await?;
    let me = b.user.account.id;
    let items: Vec<Value> = list
        .iter()
        .map(|(c, n)| json!({"id": c.id, "name": c.name, "mine": c.account_id == me, "owner_id": c.account_id, "lines": n, "updated_at": c.updated_at}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items, "page": 1, "per_page": items.len()})))
}

async fn create_cart(state: web::Data<AppState>, b: BuyerCtx, body: web::Json<NameBody>) -> AppResult<HttpResponse> {
    let a = actor(&b);
    let multi = b.tenant.tenant.has(Feature::Multicart);
    let cart = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        if !multi && !carts::visible(c, &a)?.iter().any(|(x, _)| x.account_id == a.account_id) {
            return carts::create(c, &a, &body.name);
        }
        if !multi {
            return Err(AppError::conflict("one_cart", "this store keeps one cart per person"));
        }
        carts::create(c, &a, &body.name)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({"id": cart.id, "name": cart.name})))
}

async fn show_cart(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<CartPath>,
) -> AppResult<HttpResponse> {
    let (a, id, lang) = (actor(&b), path.id, locale(&req, Some(&b.tenant)));
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| cart_json(c, &a, id, &lang)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn rename_cart(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<CartPath>,
    body: web::Json<NameBody>,
) -> AppResult<HttpResponse> {
    let (a, id, lang) = (actor(&b), path.id, locale(&req, Some(&b.tenant)));
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        carts::rename(c, &a, id, &body.name)?;
        cart_json(c, &a, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn delete_cart(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<CartPath>) -> AppResult<HttpResponse> {
    let (a, id) = (actor(&b), path.id);
    with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| carts::delete(c, &a, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn add_item(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<CartPath>,
    body: web::Json<ItemBody>,
) -> AppResult<HttpResponse> {
    let (a, id, lang) = (actor(&b), path.id, locale(&req, Some(&b.tenant)));
    let qty = qty_of(&body.qty)?;
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        carts::add(c, &a, id, &body.sku, qty)?;
        cart_json(c, &a, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn set_item(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<CartSkuPath>,
    body: web::Json<QtyBody>,
) -> AppResult<HttpResponse> {
    let (a, lang) = (actor(&b), locale(&req, Some(&b.tenant)));
    let CartSkuPath { id, sku } = path.into_inner();
    let qty = qty_of(&body.qty)?;
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        carts::set_qty(c, &a, id, &sku, qty)?;
        cart_json(c, &a, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn remove_item(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<CartSkuPath>,
) -> AppResult<HttpResponse> {
    let (a, lang) = (actor(&b), locale(&req, Some(&b.tenant)));
    let CartSkuPath { id, sku } = path.into_inner();
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        carts::remove(c, &a, id, &sku)?;
        cart_json(c, &a, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TransferBody {
    to: i64,
    #[serde(default)]
    skus: Vec<String>,
    /// `move` (the default) or `copy`.
    #[serde(default)]
    mode: Option<String>,
}

async fn transfer(
    state: web::Data<AppState>,
    b: BuyerCtx,
    path: web::Path<CartPath>,
    body: web::Json<TransferBody>,
) -> AppResult<HttpResponse> {
    let (a, from) = (actor(&b), path.id);
    let keep = match body.mode.as_deref().unwrap_or("move") {
        "move" => false,
        "copy" => true,
        _ => return Err(AppError::field("mode", "must be move or copy")),
    };
    let body = body.into_inner();
    let n = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        carts::transfer(c, &a, from, body.to, &body.skus, keep)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"lines": n, "mode": if keep { "copy" } else { "move" }})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuickBody {
    text: String,
}

/// Quick order: JSON `{text}` with "SKU quantity" lines, or a CSV/XLSX file as the body.
async fn quick_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<CartPath>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let (a, id, lang) = (actor(&b), path.id, locale(&req, Some(&b.tenant)));
    let is_json = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let entries = if is_json {
        let q: QuickBody = serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!("the JSON body is malformed: {e}")))?;
        quick::parse_text(&q.text)
    } else {
        quick::parse_file(&body).map_err(|e| AppError::field("file", e))?
    };
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let mut report = quick::add(c, &a, id, &entries)?;
        report["cart"] = cart_json(c, &a, id, &lang)?;
        Ok(report)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// How many times a placement is tried when PostgreSQL reports a serialization failure or a
/// deadlock (the transaction is rolled back whole each time).
const PLACE_ATTEMPTS: usize = 3;

async fn place(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    body: web::Json<PlaceRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let key = req.headers().get("idempotency-key").map(|v| v.to_str().map(str::to_owned));
    let key = match key {
        Some(Ok(k)) => Some(k.trim().to_owned()),
        Some(Err(_)) => return Err(AppError::BadRequest("Idempotency-Key must be visible ASCII".into())),
        None => None,
    };
    if body.kind.as_deref() == Some("preorder") {
        b.tenant.require(Feature::Preorders).map_err(|_| AppError::field("kind", "this store takes no pre-orders"))?;
    }
    let lang = locale(&req, Some(&b.tenant));
    let p = place_with_retries(&state, &b, &lang, body, key).await?;
    let mut resp = HttpResponse::Created();
    if p.replayed {
        resp.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(resp.json(p.order))
}

/// Places an order as the API and the checkout page do: the e-mail confirmation the store
/// may require, then `orders::place`, tried again (whole) on a serialization failure or a
/// deadlock, at most [`PLACE_ATTEMPTS`] times.
pub async fn place_with_retries(
    state: &AppState,
    b: &BuyerCtx,
    lang: &str,
    body: PlaceRequest,
    key: Option<String>,
) -> AppResult<place::Placed> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (a, body, key, lang) = (actor(b), body.clone(), key.clone(), lang.to_owned());
        let result = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
            place::place(c, &a, &body, key.as_deref(), &lang)
        })
        .await;
        match result {
            Ok(p) => return Ok(p),
            Err(AppError::Conflict { code: "concurrent_update", .. }) if attempt < PLACE_ATTEMPTS => continue,
            Err(AppError::Conflict { code: "concurrent_update", .. }) => {
                return Err(AppError::Unavailable("the store is very busy: please place the order again".into()))
            }
            Err(e) => return Err(e),
        }
    }
}

async fn list_orders(state: web::Data<AppState>, req: HttpRequest, b: BuyerCtx) -> AppResult<HttpResponse> {
    let p = pairs(&req)?;
    let company = b.company.id;
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        crate::ordering::history::list(c, Some(company), &p)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn show_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let (company, lang, number) = (b.company.id, locale(&req, Some(&b.tenant)), path.into_inner().number);
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let o = orders::find_for(c, company, &number)?;
        orders::view(c, o.id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let (a, lang, number) = (actor(&b), locale(&req, Some(&b.tenant)), path.into_inner().number);
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let o = crate::ordering::lifecycle::buyer_cancel(c, &a, &number)?;
        orders::view(c, o, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn repeat(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    let (a, lang, number) = (actor(&b), locale(&req, Some(&b.tenant)), path.into_inner().number);
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let (cart, skipped) = crate::ordering::history::repeat(c, &a, &number, &lang)?;
        Ok(json!({"cart": cart_json(c, &a, cart, &lang)?, "skipped": skipped}))
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

async fn approve(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    decide(state, req, b, path.into_inner().number, true).await
}

async fn decline(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
) -> AppResult<HttpResponse> {
    decide(state, req, b, path.into_inner().number, false).await
}

async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    number: String,
    yes: bool,
) -> AppResult<HttpResponse> {
    let (a, lang) = (actor(&b), locale(&req, Some(&b.tenant)));
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let id = crate::ordering::lifecycle::decide(c, &a, &number, yes, &lang)?;
        orders::view(c, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinesBody {
    pub lines: Vec<place::LineIn>,
}

/// The buyer adds lines (or quantities) to an order that is still new.
async fn supplement(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
    body: web::Json<LinesBody>,
) -> AppResult<HttpResponse> {
    let (a, lang, number, body) =
        (actor(&b), locale(&req, Some(&b.tenant)), path.into_inner().number, body.into_inner());
    if !a.may_order() {
        return Err(AppError::forbidden("your role in the company does not allow ordering"));
    }
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let o = orders::find_for(c, a.company.id, &number)?;
        let changes = crate::ordering::edit::parse(c, &body.lines, false)?;
        let settings = catalog_settings::load(c)?;
        let id = crate::ordering::edit::apply(
            c,
            o.id,
            crate::ordering::edit::Editor::Buyer(a.account_id),
            changes,
            &settings,
            &lang,
        )?;
        orders::view(c, id, &lang)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}
