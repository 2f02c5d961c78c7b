//! Placing an order from a request: the Idempotency-Key (the same key and body answer the
//! same order, another body with it is a 422), who may order, the checkout's fields, and the
//! lines from a cart or sent directly. What is written is `place_write`.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Jsonb, Nullable, Text, Timestamptz};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::carts;
use super::orders::{view, DELIVERY_METHODS, KINDS, ORDER_PREFIX, PAYMENT_METHODS};
use super::place_write::{place_lines, Known};
use super::Actor;
use crate::catalog::products::Product;
use crate::catalog::settings::CatalogSettings;
use crate::error::{AppError, AppResult};
use crate::platform::tenant_settings::REQUIRE_EMAIL_CONFIRMATION;
use crate::pricing::load::Terms;

/// `POST /api/v1/orders` as CONTRACT.md has it, plus the checkout's fields. Instead of a
/// cart, an integration (an ERP placing orders for the buyer) may send the `lines` directly.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceRequest {
    #[serde(default)]
    pub cart_id: Option<i64>,
    #[serde(default)]
    pub lines: Option<Vec<LineIn>>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub delivery: Option<Delivery>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub po_number: Option<String>,
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The total the buyer confirmed; when prices changed since, the order is refused with
    /// the new cart so the buyer sees the new prices first.
    #[serde(default)]
    pub expected_total: Option<String>,
}

/// One line sent without a cart: a SKU and a quantity (a decimal string or a number).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    pub sku: String,
    pub qty: serde_json::Value,
}

/// At most this many lines in an order sent without a cart.
pub const MAX_DIRECT_LINES: usize = 1_000;

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    #[serde(default)]
    pub method: Option<String>,
    /// One of the company's delivery addresses.
    #[serde(default)]
    pub address_id: Option<i64>,
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

/// What a placement answered: the order, and whether it was a replay of an earlier request.
pub struct Placed {
    pub order: Value,
    pub replayed: bool,
    /// The order's id (a replay answers what is stored and leaves it out).
    pub id: Option<i64>,
}

fn one_of(field: &str, value: Option<&str>, allowed: &[&str], default: &str) -> AppResult<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty()).unwrap_or(default);
    if allowed.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(AppError::field(field, format!("must be one of {}", allowed.join(", "))))
    }
}

fn hash_request(req: &PlaceRequest) -> String {
    let body = serde_json::to_string(req).unwrap_or_default();
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// What `order_inputs` (migrations/tenant/0011_placement) reads in one call, under the
/// key's lock: the earlier order with the key, the settings, the order limit and the terms.
struct Inputs {
    earlier: Option<(i64, Option<String>)>,
    settings: Map<String, Value>,
    known: Known,
}

#[derive(QueryableByName)]
struct InputsRow {
    #[diesel(sql_type = Jsonb)]
    inputs: Value,
}

fn read_inputs(conn: &mut PgConnection, key: Option<&str>, actor: &Actor, ids: &[i64]) -> AppResult<Inputs> {
    let row: InputsRow = diesel::sql_query("SELECT order_inputs($1, $2, $3, $4, $5, $6, $7) AS inputs")
        .bind::<Nullable<Text>, _>(key)
        .bind::<BigInt, _>(actor.account_id)
        .bind::<BigInt, _>(actor.company.id)
        .bind::<Nullable<Text>, _>(actor.company.price_group.as_deref())
        .bind::<Array<BigInt>, _>(ids)
        .bind::<Date, _>(Utc::now().date_naive())
        .bind::<Timestamptz, _>(Utc::now())
        .get_result(conn)?;
    let v = row.inputs;
    let earlier = v["earlier"]["id"].as_i64().map(|id| (id, v["earlier"]["hash"].as_str().map(str::to_owned)));
    let settings = v["settings"].as_object().cloned().unwrap_or_default();
    let order_limit = v["order_limit"].as_str().and_then(|s| s.parse::<Decimal>().ok());
    let prefix = settings.get(ORDER_PREFIX).and_then(Value::as_str).unwrap_or("Z-").to_owned();
    Ok(Inputs { earlier, settings, known: Known { terms: Terms::from_json(&v)?, order_limit, prefix } })
}

/// Places the order of `req` for `actor`. `key` is the client's `Idempotency-Key`: the same
/// key with the same body answers the same order; with another body it is a 422.
pub fn place(
    conn: &mut PgConnection,
    actor: &Actor,
    req: &PlaceRequest,
    key: Option<&str>,
    locale: &str,
) -> AppResult<Placed> {
    let hash = hash_request(req);
    if let Some(key) = key {
        if key.is_empty() || key.len() > 200 {
            return Err(AppError::BadRequest("Idempotency-Key must be 1 to 200 characters".into()));
        }
    }
    // The lines first (their products are priced under the key's lock); a request that
    // cannot be read may still be the replay of an order that emptied its cart.
    let sent = lines_of(conn, actor, req);
    let ids: Vec<i64> = match &sent {
        Ok((_, lines)) => lines.iter().map(|(p, _)| p.id).collect(),
        Err(_) => Vec::new(),
    };
    // Requests with one key wait for each other here, so a race yields one order.
    let inputs = read_inputs(conn, key, actor, &ids)?;
    if let Some((id, earlier_hash)) = &inputs.earlier {
        if earlier_hash.as_deref() != Some(hash.as_str()) {
            return Err(AppError::Detailed {
                status: 422,
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was used for a different order".into(),
                details: Map::new(),
            });
        }
        return Ok(Placed { order: view(conn, *id, locale)?, replayed: true, id: None });
    }
    let (cart, lines) = sent?;
    if lines.is_empty() {
        return Err(AppError::field("cart_id", "the cart is empty"));
    }
    let confirmation = inputs.settings.get(REQUIRE_EMAIL_CONFIRMATION).and_then(Value::as_bool).unwrap_or(true);
    if !actor.email_confirmed && confirmation {
        return Err(AppError::Detailed {
            status: 403,
            code: "email_not_confirmed",
            message: "confirm your e-mail address first: follow the link we sent you".into(),
            details: Map::new(),
        });
    }
    if !actor.company.is_active() {
        return Err(AppError::forbidden("your company is not approved to order yet"));
    }
    if !actor.may_order() {
        return Err(AppError::forbidden("your role in the company does not allow ordering"));
    }
    let checkout = Checkout { cart, ..checkout_of(conn, actor, req, key, hash)? };
    let settings = CatalogSettings::from_map(&inputs.settings);
    let on = inputs.settings.get(crate::finance::invoices::INVOICE_ON).and_then(Value::as_str).unwrap_or("placement");
    let mut placed = place_lines(conn, actor, &settings, &checkout, lines, locale, Some(inputs.known))?;
    // The invoice for payment comes with the order when the store issues it on placement.
    if let (Some(id), "placement", Some("new")) = (placed.id, on, placed.order["status"].as_str()) {
        if let Some(number) = crate::finance::invoices::issue(conn, id)? {
            placed.order["invoice"] = json!(number);
        }
    }
    Ok(placed)
}

/// Products and quantities to order.
type Lines = Vec<(Product, Decimal)>;

/// The cart (locked until commit: a colleague's change waits for this order) and its
/// lines, or the lines sent without a cart.
fn lines_of(conn: &mut PgConnection, actor: &Actor, req: &PlaceRequest) -> AppResult<(Option<carts::Cart>, Lines)> {
    match (req.cart_id, &req.lines) {
        (Some(id), None) => {
            let cart = carts::find(conn, actor, id)?;
            crate::db::schema_tenant::carts::table
                .find(cart.id)
                .select(crate::db::schema_tenant::carts::id)
                .for_update()
                .first::<i64>(conn)?;
            let lines = carts::lines(conn, cart.id)?;
            Ok((Some(cart), lines))
        }
        (None, Some(sent)) => Ok((None, super::edit::parse(conn, sent, false)?)),
        _ => Err(AppError::field("cart_id", "send either cart_id or lines")),
    }
}

/// The checkout's choices, checked.
fn checkout_of(
    conn: &mut PgConnection,
    actor: &Actor,
    req: &PlaceRequest,
    key: Option<&str>,
    hash: String,
) -> AppResult<Checkout> {
    let kind = one_of("kind", req.kind.as_deref(), KINDS, "order")?;
    let payment = one_of("payment_method", req.payment_method.as_deref(), PAYMENT_METHODS, "invoice")?;
    if payment == "card" {
        return Err(AppError::field("payment_method", "card payments are not available yet: pay by invoice"));
    }
    let delivery = req.delivery.clone().unwrap_or(Delivery { method: None, address_id: None, date: None });
    let method = one_of("delivery.method", delivery.method.as_deref(), DELIVERY_METHODS, "pickup")?;
    let address = match (method.as_str(), delivery.address_id) {
        ("delivery", Some(id)) => address_of(conn, actor.company.id, id)?,
        ("delivery", None) => return Err(AppError::field("delivery.address_id", "choose a delivery address")),
        _ => String::new(),
    };
    if delivery.date.is_some_and(|d| d < Utc::now().date_naive()) {
        return Err(AppError::field("delivery.date", "must be today or later"));
    }
    let comment = req.comment.clone().unwrap_or_default();
    if comment.chars().count() > 2000 {
        return Err(AppError::field("comment", "must be at most 2,000 characters"));
    }
    let po = req.po_number.clone().unwrap_or_default().trim().to_owned();
    if po.chars().count() > 100 {
        return Err(AppError::field("po_number", "must be at most 100 characters"));
    }
    let expected = match req.expected_total.as_deref() {
        Some(s) => Some(crate::money::parse_amount(s).map_err(|e| AppError::field("expected_total", e))?),
        None => None,
    };
    Ok(Checkout {
        kind,
        payment,
        method,
        address,
        date: delivery.date,
        comment,
        po,
        expected,
        key: key.map(str::to_owned),
        hash,
        cart: None,
    })
}

fn address_of(conn: &mut PgConnection, company: i64, id: i64) -> AppResult<String> {
    use crate::db::schema_tenant::company_addresses as a;
    a::table
        .filter(a::id.eq(id))
        .filter(a::company_id.eq(company))
        .select(a::address)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::field("delivery.address_id", "not one of your company's addresses"))
}

/// How an order is placed: what the checkout chose, and where its lines come from.
pub struct Checkout {
    pub kind: String,
    pub payment: String,
    pub method: String,
    pub address: String,
    pub date: Option<NaiveDate>,
    pub comment: String,
    pub po: String,
    /// The total the buyer confirmed, if any.
    pub expected: Option<Decimal>,
    pub key: Option<String>,
    pub hash: String,
    /// The cart the lines came from (emptied with the order; shown again when prices changed).
    pub cart: Option<carts::Cart>,
}

impl Checkout {
    /// Pickup, by invoice, no key: an order placed from something other than a checkout.
    pub fn plain(kind: &str) -> Checkout {
        Checkout {
            kind: kind.to_owned(),
            payment: "invoice".into(),
            method: "pickup".into(),
            address: String::new(),
            date: None,
            comment: String::new(),
            po: String::new(),
            expected: None,
            key: None,
            hash: String::new(),
            cart: None,
        }
    }
}
