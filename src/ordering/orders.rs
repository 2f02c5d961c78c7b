//! Placing an order and reading orders. Placement is one transaction: it takes the stock
//! with conditional updates (never below zero: `CHECK (quantity >= 0)` as well), snapshots
//! prices and VAT into the lines, numbers the order, records its history, writes the
//! buyer's notification and mail, and empties the cart — or does none of it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Numeric, Text};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::carts;
use super::lines::{check_qty, money, orderable, Totals};
use super::Actor;
use crate::catalog::settings::CatalogSettings;
use crate::db::schema_tenant::{order_events, order_lines, orders};
use crate::error::{AppError, AppResult};
use crate::money::{format, format_qty};
use crate::platform::tenant_settings;
use crate::pricing::load::{price_many, Buyer};

pub const KINDS: &[&str] = &["order", "preorder"];
pub const PAYMENT_METHODS: &[&str] = &["invoice", "card", "on_account"];
pub const DELIVERY_METHODS: &[&str] = &["pickup", "delivery"];
/// The tenant setting holding the order number prefix.
pub const ORDER_PREFIX: &str = "order_prefix";

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
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    number: String,
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

/// Places the order of `req` for `actor`. `key` is the client's `Idempotency-Key`: the same
/// key with the same body answers the same order; with another body it is a 422.
pub fn place(
    conn: &mut PgConnection,
    actor: &Actor,
    settings: &CatalogSettings,
    req: &PlaceRequest,
    key: Option<&str>,
    locale: &str,
) -> AppResult<Placed> {
    let hash = hash_request(req);
    if let Some(key) = key {
        if key.is_empty() || key.len() > 200 {
            return Err(AppError::BadRequest("Idempotency-Key must be 1 to 200 characters".into()));
        }
        // Requests with one key wait for each other, so a race yields one order.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))")
            .bind::<Text, _>(key)
            .bind::<BigInt, _>(actor.account_id)
            .execute(conn)?;
        let earlier: Option<(i64, Option<String>)> = orders::table
            .filter(orders::account_id.eq(actor.account_id))
            .filter(orders::idempotency_key.eq(key))
            .select((orders::id, orders::request_hash))
            .first(conn)
            .optional()?;
        if let Some((id, earlier_hash)) = earlier {
            if earlier_hash.as_deref() != Some(hash.as_str()) {
                return Err(AppError::Detailed {
                    status: 422,
                    code: "idempotency_key_reused",
                    message: "this Idempotency-Key was used for a different order".into(),
                    details: Map::new(),
                });
            }
            return Ok(Placed { order: view(conn, id, locale)?, replayed: true });
        }
    }
    if !actor.company.is_active() {
        return Err(AppError::forbidden("your company is not approved to order yet"));
    }
    if !actor.may_order() {
        return Err(AppError::forbidden("your role in the company does not allow ordering"));
    }
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
    let checkout = Checkout {
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
    };

    match (req.cart_id, &req.lines) {
        (Some(id), None) => {
            let cart = carts::find(conn, actor, id)?;
            // The cart is locked until commit: a colleague's change waits for this order.
            crate::db::schema_tenant::carts::table
                .find(cart.id)
                .select(crate::db::schema_tenant::carts::id)
                .for_update()
                .first::<i64>(conn)?;
            let lines = carts::lines(conn, cart.id)?;
            if lines.is_empty() {
                return Err(AppError::field("cart_id", "the cart is empty"));
            }
            let checkout = Checkout { cart: Some(cart.clone()), ..checkout };
            place_lines(conn, actor, settings, &checkout, lines, locale)
        }
        (None, Some(sent)) => {
            let lines = super::edit::parse(conn, sent, false)?;
            place_lines(conn, actor, settings, &checkout, lines, locale)
        }
        _ => Err(AppError::field("cart_id", "send either cart_id or lines")),
    }
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

/// Places `lines` as an order for `actor` (the caller checked who may order).
pub fn place_lines(
    conn: &mut PgConnection,
    actor: &Actor,
    settings: &CatalogSettings,
    co: &Checkout,
    mut lines: Vec<(crate::catalog::products::Product, Decimal)>,
    locale: &str,
) -> AppResult<Placed> {
    let kind = co.kind.as_str();
    // Stock is taken in product order, so two orders never wait for each other in a cycle.
    lines.sort_by_key(|(p, _)| p.id);
    let mut bad = Vec::new();
    for (p, qty) in &lines {
        let check = if kind == "order" { orderable(p).and_then(|_| check_qty(p, *qty)) } else { check_qty(p, *qty) };
        let check = check.and_then(|_| {
            if p.status == "archived" {
                Err(("archived", "is no longer sold".to_owned()))
            } else {
                Ok(())
            }
        });
        if let Err((code, message)) = check {
            bad.push(json!({"sku": p.sku, "code": code, "message": message}));
        }
    }
    if !bad.is_empty() {
        let skus: Vec<&str> = bad.iter().filter_map(|b| b["sku"].as_str()).collect();
        let mut details = Map::new();
        details.insert("lines".into(), Value::Array(bad.clone()));
        return Err(AppError::Detailed {
            status: 422,
            code: "lines_not_orderable",
            message: format!("these lines cannot be ordered as they are: {}", skus.join(", ")),
            details,
        });
    }

    let buyer = Buyer::of(&actor.company);
    let items: Vec<(&crate::catalog::products::Product, Decimal)> = lines.iter().map(|(p, q)| (p, *q)).collect();
    let prices = price_many(conn, Some(&buyer), settings.vat_mode, &items)?;
    let mut totals = Totals::default();
    let mut priced = Vec::with_capacity(lines.len());
    for (p, qty) in &lines {
        let b =
            prices.get(&p.id).ok_or_else(|| AppError::Internal(anyhow::anyhow!("no price for product {}", p.id)))?;
        let m = money(b, *qty, p.vat(), settings.vat_mode);
        totals.add(&m);
        priced.push((p, *qty, m, b));
    }
    if let Some(expected) = co.expected {
        if expected != totals.total {
            let mut details = Map::new();
            if let Some(cart) = &co.cart {
                details.insert("cart".into(), carts::view(conn, actor, cart, settings, locale)?);
            }
            details.insert("total".into(), json!(format(totals.total)));
            return Err(AppError::Detailed {
                status: 409,
                code: "prices_changed",
                message: format!(
                    "prices changed since you looked: the total is now {} {}; check the cart and confirm again",
                    format(totals.total),
                    settings.currency
                ),
                details,
            });
        }
    }

    // On account: within the credit limit the supplier gave the company, counting the orders
    // on account not yet completed or cancelled (balance and payments come with finance).
    if co.payment == "on_account" {
        let open: Option<Decimal> = orders::table
            .filter(orders::company_id.eq(actor.company.id))
            .filter(orders::payment_method.eq("on_account"))
            .filter(orders::status.ne_all(["cancelled", "completed"]))
            .select(diesel::dsl::sum(orders::total))
            .first(conn)?;
        let left = actor.company.credit_limit - open.unwrap_or(Decimal::ZERO);
        if totals.total > left {
            return Err(AppError::field(
                "payment_method",
                format!(
                    "on account you can order up to {} {} more: pay by invoice",
                    format(left.max(Decimal::ZERO)),
                    settings.currency
                ),
            ));
        }
    }
    // Above the buyer's limit set by the company admin, the order waits for the admin.
    let limit: Option<Decimal> = {
        use crate::db::schema_tenant::company_members as m;
        m::table
            .find((actor.company.id, actor.account_id))
            .select(m::order_limit)
            .first::<Option<Decimal>>(conn)
            .optional()?
            .flatten()
    };
    let awaiting = actor.role != "admin" && limit.is_some_and(|l| totals.total > l);
    let status = if awaiting { "awaiting_approval" } else { "new" };

    let prefix = tenant_settings::get(conn, ORDER_PREFIX)?
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "Z-".into());
    let inserted: Inserted = diesel::sql_query(
        "INSERT INTO orders (number, company_id, account_id, kind, status, idempotency_key, request_hash, currency, \
            vat_mode, total, vat_total, payment_method, delivery_method, delivery_address, desired_date, po_number, comment) \
         VALUES ($1 || lpad(nextval('order_number_seq')::text, 6, '0'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         RETURNING id, number",
    )
    .bind::<Text, _>(&prefix)
    .bind::<BigInt, _>(actor.company.id)
    .bind::<BigInt, _>(actor.account_id)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(status)
    .bind::<diesel::sql_types::Nullable<Text>, _>(co.key.as_deref())
    .bind::<Text, _>(&co.hash)
    .bind::<Text, _>(&settings.currency)
    .bind::<Text, _>(settings.vat_mode.as_str())
    .bind::<Numeric, _>(totals.total)
    .bind::<Numeric, _>(totals.vat_total)
    .bind::<Text, _>(&co.payment)
    .bind::<Text, _>(&co.method)
    .bind::<Text, _>(&co.address)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Date>, _>(co.date)
    .bind::<Text, _>(&co.po)
    .bind::<Text, _>(&co.comment)
    .get_result(conn)?;

    if kind == "order" && status == "new" {
        super::stock::take_stock(conn, inserted.id, &lines)?;
    }
    let rows: Vec<_> = priced
        .iter()
        .enumerate()
        .map(|(i, (p, qty, m, b))| {
            (
                order_lines::order_id.eq(inserted.id),
                order_lines::line_no.eq(i as i32 + 1),
                order_lines::product_id.eq(p.id),
                order_lines::sku.eq(&p.sku),
                order_lines::name.eq(p.name_in(locale)),
                order_lines::unit.eq(&p.unit),
                order_lines::qty.eq(*qty),
                order_lines::price.eq(m.price),
                order_lines::vat_rate.eq(&p.vat_rate),
                order_lines::amount.eq(m.amount),
                order_lines::vat_amount.eq(m.vat),
                order_lines::breakdown.eq(serde_json::to_value(b).unwrap_or_default()),
            )
        })
        .collect();
    diesel::insert_into(order_lines::table).values(rows).execute(conn)?;
    event(conn, inserted.id, Some(actor.account_id), "buyer", None, Some(status), "")?;
    if let Some(cart) = &co.cart {
        use crate::db::schema_tenant::cart_lines as cl;
        diesel::delete(cl::table.filter(cl::cart_id.eq(cart.id))).execute(conn)?;
    }
    super::notify::order_placed(conn, actor, &inserted.number, status, &format(totals.total), &settings.currency)?;
    Ok(Placed { order: view(conn, inserted.id, locale)?, replayed: false })
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

pub fn event(
    conn: &mut PgConnection,
    order: i64,
    actor: Option<i64>,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    note: &str,
) -> AppResult<()> {
    diesel::insert_into(order_events::table)
        .values((
            order_events::order_id.eq(order),
            order_events::actor_id.eq(actor),
            order_events::actor_kind.eq(kind),
            order_events::from_status.eq(from),
            order_events::to_status.eq(to),
            order_events::note.eq(note),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orders, check_for_backend(diesel::pg::Pg))]
pub struct Order {
    pub id: i64,
    pub number: String,
    pub company_id: i64,
    pub account_id: i64,
    pub kind: String,
    pub status: String,
    pub currency: String,
    pub vat_mode: String,
    pub total: Decimal,
    pub vat_total: Decimal,
    pub payment_method: String,
    pub delivery_method: String,
    pub delivery_address: String,
    pub desired_date: Option<NaiveDate>,
    pub expected_date: Option<NaiveDate>,
    pub po_number: String,
    pub comment: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Order {
    pub fn summary(&self) -> Value {
        json!({
            "number": self.number, "status": self.status, "kind": self.kind,
            "total": format(self.total), "vat_total": format(self.vat_total), "currency": self.currency,
            "created_at": self.created_at, "po_number": self.po_number,
        })
    }
}

/// `(line, sku, name, unit, qty, price, vat rate, amount, vat)`
type LineRow = (i32, String, String, String, Decimal, Decimal, String, Decimal, Decimal);
/// `(at, by, from, to, note)`
type EventRow = (DateTime<Utc>, String, Option<String>, Option<String>, String);

/// An order with its lines and history, as the buyer and staff see it.
pub fn view(conn: &mut PgConnection, id: i64, _locale: &str) -> AppResult<Value> {
    let o: Order = orders::table.find(id).select(Order::as_select()).first(conn)?;
    let lines: Vec<LineRow> = order_lines::table
        .filter(order_lines::order_id.eq(id))
        .order(order_lines::line_no)
        .select((
            order_lines::line_no,
            order_lines::sku,
            order_lines::name,
            order_lines::unit,
            order_lines::qty,
            order_lines::price,
            order_lines::vat_rate,
            order_lines::amount,
            order_lines::vat_amount,
        ))
        .load(conn)?;
    let events: Vec<EventRow> = order_events::table
        .filter(order_events::order_id.eq(id))
        .order(order_events::id)
        .select((
            order_events::at,
            order_events::actor_kind,
            order_events::from_status,
            order_events::to_status,
            order_events::note,
        ))
        .load(conn)?;
    let mut v = o.summary();
    v["payment_method"] = json!(o.payment_method);
    v["delivery"] = json!({"method": o.delivery_method, "address": o.delivery_address, "date": o.desired_date});
    v["expected_date"] = json!(o.expected_date);
    v["comment"] = json!(o.comment);
    v["vat_mode"] = json!(o.vat_mode);
    v["lines"] = json!(lines
        .iter()
        .map(|(no, sku, name, unit, qty, price, vat, amount, vat_amount)| json!({
            "line": no, "sku": sku, "name": name, "unit": unit, "qty": format_qty(*qty), "price": format(*price),
            "vat_rate": vat, "amount": format(*amount), "vat_amount": format(*vat_amount),
        }))
        .collect::<Vec<_>>());
    v["history"] = json!(events
        .iter()
        .map(|(at, who, from, to, note)| json!({"at": at, "by": who, "from": from, "to": to, "note": note}))
        .collect::<Vec<_>>());
    Ok(v)
}

/// The order `number` of the actor's company (another company's is the same 404).
pub fn find_for(conn: &mut PgConnection, company: i64, number: &str) -> AppResult<Order> {
    orders::table
        .filter(orders::number.eq(number))
        .filter(orders::company_id.eq(company))
        .select(Order::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("order"))
}

/// The id of the order `number` (any company: for the supplier's staff).
pub fn id_by_number(conn: &mut PgConnection, number: &str) -> AppResult<i64> {
    orders::table
        .filter(orders::number.eq(number))
        .select(orders::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("order"))
}

/// The order as the supplier's staff see it: [`view`] plus the customer, the internal note
/// and the manager.
pub fn staff_view(conn: &mut PgConnection, id: i64, locale: &str) -> AppResult<Value> {
    use crate::db::schema_tenant::companies;
    let mut v = view(conn, id, locale)?;
    let (company_id, note, manager): (i64, String, Option<i64>) = orders::table
        .find(id)
        .select((orders::company_id, orders::internal_note, orders::manager_account_id))
        .first(conn)?;
    let (name, inn): (String, String) =
        companies::table.find(company_id).select((companies::name, companies::inn)).first(conn)?;
    v["customer"] = json!({"id": company_id, "name": name, "inn": inn});
    v["internal_note"] = json!(note);
    v["manager_account_id"] = json!(manager);
    Ok(v)
}
