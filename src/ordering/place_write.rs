//! Writing a priced order. Placement is one transaction: it takes the stock with
//! conditional updates (never below zero: `CHECK (quantity >= 0)` as well), snapshots prices
//! and VAT into the lines, numbers the order, records its history, writes the buyer's
//! notification and mail, and empties the cart — or does none of it.
//!
//! The usual order (every line served whole by the first warehouse, no approval needed) is
//! written by one call of the tenant's `place_order` function; any other goes line by line.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Jsonb, Nullable, Numeric, Text, Timestamptz};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::carts;
use super::lines::{check_qty, money, orderable, Money, Totals};
use super::orders::{render, EventRow, LineRow, Order, ORDER_PREFIX};
use super::place::{Checkout, Placed};
use super::Actor;
use crate::catalog::products::Product;
use crate::catalog::settings::CatalogSettings;
use crate::db::schema_tenant::company_members;
use crate::error::{AppError, AppResult};
use crate::money::format;
use crate::platform::tenant_settings;
use crate::pricing::engine::Breakdown;
use crate::pricing::load::{price_with, terms, Buyer, Terms};

/// What a placement needs besides the lines: the pricing terms, the buyer's order limit set
/// by the company admin, and the tenant's order number prefix.
pub struct Known {
    pub terms: Terms,
    pub order_limit: Option<Decimal>,
    pub prefix: String,
}

impl Known {
    /// Reads them statement by statement (a placement that is not a buyer's request).
    fn load(conn: &mut PgConnection, actor: &Actor, ids: &[i64]) -> AppResult<Known> {
        let terms = terms(conn, Some(&Buyer::of(&actor.company)), ids)?;
        let order_limit = company_members::table
            .find((actor.company.id, actor.account_id))
            .select(company_members::order_limit)
            .first::<Option<Decimal>>(conn)
            .optional()?
            .flatten();
        let prefix = tenant_settings::get(conn, ORDER_PREFIX)?
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "Z-".into());
        Ok(Known { terms, order_limit, prefix })
    }
}

/// A line as it is written: the product, the quantity, its money and its price breakdown.
type Priced<'a> = (&'a Product, Decimal, Money, &'a Breakdown);

/// Places `lines` as an order for `actor` (the caller checked who may order). `known` is
/// what the caller already read ([`Known`]); without it, it is read here.
pub fn place_lines(
    conn: &mut PgConnection,
    actor: &Actor,
    settings: &CatalogSettings,
    co: &Checkout,
    mut lines: Vec<(Product, Decimal)>,
    locale: &str,
    known: Option<Known>,
) -> AppResult<Placed> {
    // Stock is taken in product order, so two orders never wait for each other in a cycle.
    lines.sort_by_key(|(p, _)| p.id);
    check_lines(&co.kind, &lines)?;
    let known = match known {
        Some(k) => k,
        None => Known::load(conn, actor, &lines.iter().map(|(p, _)| p.id).collect::<Vec<_>>())?,
    };
    let buyer = Buyer::of(&actor.company);
    let items: Vec<(&Product, Decimal)> = lines.iter().map(|(p, q)| (p, *q)).collect();
    let prices = price_with(conn, known.terms, Some(&buyer), settings.vat_mode, &items)?;
    let mut totals = Totals::default();
    let mut priced: Vec<Priced> = Vec::with_capacity(lines.len());
    for (p, qty) in &lines {
        let b =
            prices.get(&p.id).ok_or_else(|| AppError::Internal(anyhow::anyhow!("no price for product {}", p.id)))?;
        let m = money(b, *qty, p.vat(), settings.vat_mode);
        totals.add(&m);
        priced.push((p, *qty, m, b));
    }
    let hold = check_total(conn, actor, settings, co, &totals, locale)?;
    // Above the buyer's limit set by the company admin, the order waits for the admin; on
    // account beyond the credit the supplier gave, for the supplier (when the store says so).
    let awaiting = actor.role != "admin" && known.order_limit.is_some_and(|l| totals.total > l);
    let status = match (awaiting, hold) {
        (true, _) => "awaiting_approval",
        (false, true) => "on_hold",
        (false, false) => "new",
    };
    let head = Head { co, status, prefix: &known.prefix, totals: &totals, settings };
    let at_once = if awaiting { None } else { write_at_once(conn, actor, &head, &priced, locale)? };
    let placed = match at_once {
        Some(placed) => placed,
        None => write_by_line(conn, actor, &head, &lines, &priced, locale)?,
    };
    let mut data = placed.order.clone();
    data["company_id"] = serde_json::json!(actor.company.id);
    crate::integrations::webhooks::emit(conn, "order.created", &data)?;
    Ok(placed)
}

/// Every line must be orderable as it is: quantities, archived products, and for an order
/// (not a pre-order) products on sale now.
fn check_lines(kind: &str, lines: &[(Product, Decimal)]) -> AppResult<()> {
    let mut bad = Vec::new();
    for (p, qty) in lines {
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
    if bad.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = bad.iter().filter_map(|b| b["sku"].as_str()).collect();
    let message = format!("these lines cannot be ordered as they are: {}", skus.join(", "));
    let mut details = Map::new();
    details.insert("lines".into(), Value::Array(bad));
    Err(AppError::Detailed { status: 422, code: "lines_not_orderable", message, details })
}

/// The total the buyer confirmed must still be the total, and an order on account must fit
/// in what is left of the credit limit: refused when it does not, or with the store's
/// `credit_control` = `hold` answered `true` (it waits for staff), also for overdue debt.
fn check_total(
    conn: &mut PgConnection,
    actor: &Actor,
    settings: &CatalogSettings,
    co: &Checkout,
    totals: &Totals,
    locale: &str,
) -> AppResult<bool> {
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

    // On account: within what is left of the credit limit the supplier gave the company, after
    // its debt in the ledger and its on-account orders not shipped yet.
    if co.payment == "on_account" {
        let position = crate::finance::ledger::position(conn, &actor.company)?;
        if settings.credit_hold {
            return Ok(position.hold_reason(totals.total).is_some());
        }
        let left = position.credit_left;
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
    Ok(false)
}

/// The order's header as both ways of writing it need it.
struct Head<'a> {
    co: &'a Checkout,
    status: &'a str,
    prefix: &'a str,
    totals: &'a Totals,
    settings: &'a CatalogSettings,
}

/// What `place_order` answers: the order, or (`id` null) the lines short over all warehouses.
#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    number: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    created_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    short: Option<Value>,
}

/// One call of the tenant's `place_order` (migrations/tenant/0011_placement): the order, its
/// lines, history, notification and mail, and with `take_stock` the stock from the first
/// warehouse (or nothing written and the short lines named).
fn call_place_order(
    conn: &mut PgConnection,
    actor: &Actor,
    h: &Head,
    priced: &[Priced],
    names: &[String],
    take_stock: bool,
) -> AppResult<Written> {
    let co = h.co;
    let (title, text) = super::notify::placed_texts("{number}", &format(h.totals.total), &h.settings.currency);
    let col = |f: fn(&Priced) -> String| priced.iter().map(f).collect::<Vec<String>>();
    let num = |f: fn(&Priced) -> Decimal| priced.iter().map(f).collect::<Vec<Decimal>>();
    let breakdowns: Vec<Value> = priced.iter().map(|l| serde_json::to_value(l.3).unwrap_or_default()).collect();
    Ok(diesel::sql_query(
        "SELECT * FROM place_order($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)",
    )
    .bind::<Text, _>(h.prefix)
    .bind::<BigInt, _>(actor.company.id)
    .bind::<BigInt, _>(actor.account_id)
    .bind::<Text, _>(&co.kind)
    .bind::<Text, _>(h.status)
    .bind::<Nullable<Text>, _>(co.key.as_deref())
    .bind::<Text, _>(&co.hash)
    .bind::<Text, _>(&h.settings.currency)
    .bind::<Text, _>(h.settings.vat_mode.as_str())
    .bind::<Numeric, _>(h.totals.total)
    .bind::<Numeric, _>(h.totals.vat_total)
    .bind::<Text, _>(&co.payment)
    .bind::<Text, _>(&co.method)
    .bind::<Text, _>(&co.address)
    .bind::<Nullable<Date>, _>(co.date)
    .bind::<Text, _>(&co.po)
    .bind::<Text, _>(&co.comment)
    .bind::<Bool, _>(take_stock)
    .bind::<Nullable<BigInt>, _>(co.cart.as_ref().map(|c| c.id))
    .bind::<Array<BigInt>, _>(priced.iter().map(|l| l.0.id).collect::<Vec<i64>>())
    .bind::<Array<Text>, _>(col(|l| l.0.sku.clone()))
    .bind::<Array<Text>, _>(names)
    .bind::<Array<Text>, _>(col(|l| l.0.unit.clone()))
    .bind::<Array<Numeric>, _>(num(|l| l.1))
    .bind::<Array<Numeric>, _>(num(|l| l.2.price))
    .bind::<Array<Text>, _>(col(|l| l.0.vat_rate.clone()))
    .bind::<Array<Numeric>, _>(num(|l| l.2.amount))
    .bind::<Array<Numeric>, _>(num(|l| l.2.vat))
    .bind::<Array<Jsonb>, _>(&breakdowns)
    .bind::<Text, _>(&title)
    .bind::<Text, _>(&text)
    .get_result(conn)?)
}

/// The usual order in one call: every line served whole by the first warehouse. A 409 naming
/// the short lines when the stock is not there; `None` when it is there but not all in the
/// first warehouse (nothing was written; the rows it locked stay locked).
fn write_at_once(
    conn: &mut PgConnection,
    actor: &Actor,
    h: &Head,
    priced: &[Priced],
    locale: &str,
) -> AppResult<Option<Placed>> {
    let names = names_in(priced, locale);
    let row = call_place_order(conn, actor, h, priced, &names, h.co.kind == "order")?;
    if let (Some(id), Some(number), Some(at)) = (row.id, row.number, row.created_at) {
        return Ok(Some(answer(actor, h, priced, names, (id, number, at))));
    }
    let short: Vec<Value> = row
        .short
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let (pid, free) = (s[0].as_i64()?, s[1].as_str()?.parse::<Decimal>().ok()?);
            let (p, qty, ..) = priced.iter().find(|l| l.0.id == pid)?;
            Some(super::stock::short_line(&p.sku, *qty, free))
        })
        .collect();
    if short.is_empty() {
        Ok(None)
    } else {
        Err(super::stock::insufficient(short))
    }
}

/// Any other order: written without stock by the same call, then (an order that needs no
/// approval) its stock taken line by line across warehouses, or a 409 naming the short lines
/// that rolls all of it back; an order awaiting approval is told to the company's admins.
fn write_by_line(
    conn: &mut PgConnection,
    actor: &Actor,
    h: &Head,
    lines: &[(Product, Decimal)],
    priced: &[Priced],
    locale: &str,
) -> AppResult<Placed> {
    let names = names_in(priced, locale);
    let row = call_place_order(conn, actor, h, priced, &names, false)?;
    let (Some(id), Some(number), Some(at)) = (row.id, row.number, row.created_at) else {
        return Err(AppError::Internal(anyhow::anyhow!("place_order wrote no order without stock")));
    };
    if h.co.kind == "order" && h.status == "new" {
        super::stock::take_stock(conn, id, lines)?;
    }
    if h.status == "awaiting_approval" {
        super::notify::awaiting_approval(conn, actor, &number, &format(h.totals.total), &h.settings.currency)?;
    }
    Ok(answer(actor, h, priced, names, (id, number, at)))
}

fn names_in(priced: &[Priced], locale: &str) -> Vec<String> {
    priced.iter().map(|l| l.0.name_in(locale).to_owned()).collect()
}

/// The order as [`super::orders::view`] shows it, from what was written (not read back).
fn answer(
    actor: &Actor,
    h: &Head,
    priced: &[Priced],
    names: Vec<String>,
    written: (i64, String, DateTime<Utc>),
) -> Placed {
    let (co, (id, number, at)) = (h.co, written);
    let order = Order {
        id,
        number,
        company_id: actor.company.id,
        account_id: actor.account_id,
        kind: co.kind.clone(),
        status: h.status.to_owned(),
        currency: h.settings.currency.clone(),
        vat_mode: h.settings.vat_mode.as_str().to_owned(),
        total: h.totals.total,
        vat_total: h.totals.vat_total,
        payment_method: co.payment.clone(),
        delivery_method: co.method.clone(),
        delivery_address: co.address.clone(),
        desired_date: co.date,
        expected_date: None,
        po_number: co.po.clone(),
        comment: co.comment.clone(),
        created_at: at,
        updated_at: at,
    };
    let lines: Vec<LineRow> = priced
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, ((p, qty, m, _), name))| {
            (i as i32 + 1, p.sku.clone(), name, p.unit.clone(), *qty, m.price, p.vat_rate.clone(), m.amount, m.vat)
        })
        .collect();
    let events: Vec<EventRow> = vec![(at, "buyer".into(), None, Some(h.status.to_owned()), String::new())];
    Placed { order: render(&order, &lines, &events), replayed: false, id: Some(id) }
}
