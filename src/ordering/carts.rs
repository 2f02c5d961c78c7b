//! Named carts of a buyer company. A person sees their own carts and, when the company
//! shares carts (the default), their colleagues' too; admins and buyers change them,
//! accountants and viewers only look. Lines keep a product and a quantity; prices are
//! always today's, from the pricing engine, each time a cart is shown.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::lines::{check_qty, money, orderable, Totals};
use super::Actor;
use crate::catalog::products::{self, Product};
use crate::catalog::settings::CatalogSettings;
use crate::catalog::stock::availability;
use crate::db::schema_tenant::{cart_lines, carts};
use crate::error::{AppError, AppResult};
use crate::money::{format, format_qty};
use crate::pricing::load::{price_many, Buyer};

/// How many carts one person may keep.
pub const MAX_CARTS: i64 = 50;
/// How many lines one cart may hold.
pub const MAX_LINES: i64 = 1_000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = carts, check_for_backend(diesel::pg::Pg))]
pub struct Cart {
    pub id: i64,
    pub company_id: i64,
    pub account_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

fn require_order_role(actor: &Actor) -> AppResult<()> {
    if actor.may_order() {
        Ok(())
    } else {
        Err(AppError::forbidden("your role in the company does not allow changing carts or ordering"))
    }
}

/// The carts `actor` sees: their own first, then colleagues' when the company shares them.
pub fn visible(conn: &mut PgConnection, actor: &Actor) -> AppResult<Vec<(Cart, i64)>> {
    let mut q = carts::table.filter(carts::company_id.eq(actor.company.id)).into_boxed();
    if !shared(conn, actor.company.id)? {
        q = q.filter(carts::account_id.eq(actor.account_id));
    }
    let list: Vec<Cart> = q
        .order((carts::account_id.ne(actor.account_id), carts::updated_at.desc()))
        .select(Cart::as_select())
        .load(conn)?;
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let counts: Vec<(i64, i64)> = cart_lines::table
        .filter(cart_lines::cart_id.eq_any(&ids))
        .group_by(cart_lines::cart_id)
        .select((cart_lines::cart_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(list
        .into_iter()
        .map(|c| {
            let n = counts.iter().find(|(id, _)| *id == c.id).map_or(0, |(_, n)| *n);
            (c, n)
        })
        .collect())
}

fn shared(conn: &mut PgConnection, company_id: i64) -> AppResult<bool> {
    use crate::db::schema_tenant::companies;
    Ok(companies::table.find(company_id).select(companies::shared_carts).first(conn).optional()?.unwrap_or(false))
}

/// One cart `actor` may see; anything else (another company's, a colleague's private one,
/// none at all) is the same 404.
pub fn find(conn: &mut PgConnection, actor: &Actor, id: i64) -> AppResult<Cart> {
    let cart: Cart = carts::table
        .find(id)
        .filter(carts::company_id.eq(actor.company.id))
        .select(Cart::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("cart"))?;
    if cart.account_id != actor.account_id && !shared(conn, actor.company.id)? {
        return Err(AppError::not_found("cart"));
    }
    Ok(cart)
}

/// The cart to change: visible, and the actor may order.
pub fn for_change(conn: &mut PgConnection, actor: &Actor, id: i64) -> AppResult<Cart> {
    let cart = find(conn, actor, id)?;
    require_order_role(actor)?;
    // Serialises concurrent changes of one cart (two colleagues, two tabs).
    carts::table.find(id).select(carts::id).for_update().first::<i64>(conn)?;
    Ok(cart)
}

pub fn create(conn: &mut PgConnection, actor: &Actor, name: &str) -> AppResult<Cart> {
    require_order_role(actor)?;
    let name = check_name(name)?;
    let mine: i64 = carts::table
        .filter(carts::company_id.eq(actor.company.id))
        .filter(carts::account_id.eq(actor.account_id))
        .count()
        .get_result(conn)?;
    if mine >= MAX_CARTS {
        return Err(AppError::conflict(
            "too_many_carts",
            format!("you already keep {MAX_CARTS} carts: delete one first"),
        ));
    }
    Ok(diesel::insert_into(carts::table)
        .values((carts::company_id.eq(actor.company.id), carts::account_id.eq(actor.account_id), carts::name.eq(name)))
        .returning(Cart::as_returning())
        .get_result(conn)?)
}

pub fn rename(conn: &mut PgConnection, actor: &Actor, id: i64, name: &str) -> AppResult<()> {
    for_change(conn, actor, id)?;
    let name = check_name(name)?;
    diesel::update(carts::table.find(id))
        .set((carts::name.eq(name), carts::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut PgConnection, actor: &Actor, id: i64) -> AppResult<()> {
    for_change(conn, actor, id)?;
    diesel::delete(carts::table.find(id)).execute(conn)?;
    Ok(())
}

fn touch(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    diesel::update(carts::table.find(id)).set(carts::updated_at.eq(diesel::dsl::now)).execute(conn)?;
    Ok(())
}

/// A product a buyer may put in a cart: known, not archived, quantity valid.
fn product_for(conn: &mut PgConnection, sku: &str, qty: Decimal) -> AppResult<Product> {
    let p = products::find_by_sku(conn, sku.trim())?
        .filter(|p| p.status != "archived")
        .ok_or_else(|| AppError::field("sku", format!("no product with SKU {sku:?} is sold here")))?;
    check_qty(&p, qty).map_err(|(_, m)| AppError::field("qty", m))?;
    Ok(p)
}

fn line_count(conn: &mut PgConnection, cart: i64) -> AppResult<i64> {
    Ok(cart_lines::table.filter(cart_lines::cart_id.eq(cart)).count().get_result(conn)?)
}

/// Adds `qty` of `sku` (to the quantity already there, if any).
pub fn add(conn: &mut PgConnection, actor: &Actor, cart: i64, sku: &str, qty: Decimal) -> AppResult<()> {
    for_change(conn, actor, cart)?;
    add_in(conn, cart, sku, qty)
}

/// [`add`] for a cart already locked by the caller.
pub fn add_in(conn: &mut PgConnection, cart: i64, sku: &str, qty: Decimal) -> AppResult<()> {
    let p = products::find_by_sku(conn, sku.trim())?
        .filter(|p| p.status != "archived")
        .ok_or_else(|| AppError::field("sku", format!("no product with SKU {sku:?} is sold here")))?;
    let had: Option<Decimal> = cart_lines::table.find((cart, p.id)).select(cart_lines::qty).first(conn).optional()?;
    let total = had.unwrap_or(Decimal::ZERO) + qty;
    check_qty(&p, total).map_err(|(_, m)| AppError::field("qty", m))?;
    if had.is_none() && line_count(conn, cart)? >= MAX_LINES {
        return Err(AppError::conflict("cart_full", format!("a cart holds at most {MAX_LINES} lines")));
    }
    diesel::insert_into(cart_lines::table)
        .values((cart_lines::cart_id.eq(cart), cart_lines::product_id.eq(p.id), cart_lines::qty.eq(total)))
        .on_conflict((cart_lines::cart_id, cart_lines::product_id))
        .do_update()
        .set(cart_lines::qty.eq(total))
        .execute(conn)?;
    touch(conn, cart)
}

/// Sets the quantity of a line already in the cart (404 if it is not there).
pub fn set_qty(conn: &mut PgConnection, actor: &Actor, cart: i64, sku: &str, qty: Decimal) -> AppResult<()> {
    for_change(conn, actor, cart)?;
    let p = product_for(conn, sku, qty)?;
    let n = diesel::update(cart_lines::table.find((cart, p.id))).set(cart_lines::qty.eq(qty)).execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("cart line"));
    }
    touch(conn, cart)
}

pub fn remove(conn: &mut PgConnection, actor: &Actor, cart: i64, sku: &str) -> AppResult<()> {
    for_change(conn, actor, cart)?;
    let id = products::find_by_sku(conn, sku.trim())?.map(|p| p.id).ok_or_else(|| AppError::not_found("cart line"))?;
    let n = diesel::delete(cart_lines::table.find((cart, id))).execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("cart line"));
    }
    touch(conn, cart)
}

/// Copies (or moves) the lines `skus` (all when empty) into another cart of the company;
/// quantities add up where the target has the product already.
pub fn transfer(
    conn: &mut PgConnection,
    actor: &Actor,
    from: i64,
    to: i64,
    skus: &[String],
    keep_source: bool,
) -> AppResult<usize> {
    if from == to {
        return Err(AppError::field("to", "choose another cart"));
    }
    // Lock both in id order so two opposite moves cannot deadlock.
    let (a, b) = if from < to { (from, to) } else { (to, from) };
    for_change(conn, actor, a)?;
    for_change(conn, actor, b)?;
    let lines: Vec<(i64, Decimal, String)> = cart_lines::table
        .inner_join(crate::db::schema_tenant::products::table)
        .filter(cart_lines::cart_id.eq(from))
        .select((cart_lines::product_id, cart_lines::qty, crate::db::schema_tenant::products::sku))
        .load(conn)?;
    let wanted: Vec<&(i64, Decimal, String)> = lines
        .iter()
        .filter(|(_, _, sku)| skus.is_empty() || skus.iter().any(|s| s.trim().eq_ignore_ascii_case(sku)))
        .collect();
    if wanted.is_empty() {
        return Err(AppError::field("skus", "none of these lines is in the cart"));
    }
    for (pid, qty, _) in &wanted {
        diesel::insert_into(cart_lines::table)
            .values((cart_lines::cart_id.eq(to), cart_lines::product_id.eq(pid), cart_lines::qty.eq(qty)))
            .on_conflict((cart_lines::cart_id, cart_lines::product_id))
            .do_update()
            .set(cart_lines::qty.eq(cart_lines::qty + qty))
            .execute(conn)?;
        if !keep_source {
            diesel::delete(cart_lines::table.find((from, pid))).execute(conn)?;
        }
    }
    if line_count(conn, to)? > MAX_LINES {
        return Err(AppError::conflict("cart_full", format!("a cart holds at most {MAX_LINES} lines")));
    }
    touch(conn, from)?;
    touch(conn, to)?;
    Ok(wanted.len())
}

/// The cart's products and quantities, oldest line first.
pub fn lines(conn: &mut PgConnection, cart: i64) -> AppResult<Vec<(Product, Decimal)>> {
    Ok(cart_lines::table
        .inner_join(crate::db::schema_tenant::products::table)
        .filter(cart_lines::cart_id.eq(cart))
        .order((cart_lines::added_at, cart_lines::product_id))
        .select((Product::as_select(), cart_lines::qty))
        .load(conn)?)
}

/// The cart as the buyer sees it: lines at today's prices with amounts, availability and
/// what stops each line from being ordered, and the totals.
pub fn view(
    conn: &mut PgConnection,
    actor: &Actor,
    cart: &Cart,
    settings: &CatalogSettings,
    locale: &str,
) -> AppResult<Value> {
    let list = lines(conn, cart.id)?;
    let buyer = Buyer::of(&actor.company);
    let items: Vec<(&Product, Decimal)> = list.iter().map(|(p, q)| (p, *q)).collect();
    let prices = price_many(conn, Some(&buyer), settings.vat_mode, &items)?;
    let mut totals = Totals::default();
    let mut out = Vec::with_capacity(list.len());
    for (p, qty) in &list {
        let a = availability(
            &p.status,
            p.available_from,
            p.stock_available,
            settings.stock_display,
            settings.low_threshold,
        );
        let problem = orderable(p)
            .and_then(|_| check_qty(p, *qty))
            .err()
            .or_else(|| {
                // The quantity is named only where the store shows exact stock.
                (a.available && p.stock_available < *qty).then(|| match a.quantity {
                    Some(q) => ("short", format!("only {} {} in stock", format_qty(q), p.unit)),
                    None => ("short", "not enough in stock for this quantity".to_owned()),
                })
            })
            .or_else(|| (!a.available && p.status == "active").then(|| ("out_of_stock", "out of stock".to_owned())));
        let m = prices.get(&p.id).map(|b| money(b, *qty, p.vat(), settings.vat_mode));
        if let Some(m) = &m {
            totals.add(m);
        }
        out.push(json!({
            "sku": p.sku,
            "name": p.name_in(locale),
            "unit": p.unit,
            "qty": format_qty(*qty),
            "min_qty": format_qty(p.min_qty),
            "order_multiple": format_qty(p.order_multiple),
            "price": m.map(|m| format(m.price)),
            "amount": m.map(|m| format(m.amount)),
            "vat_rate": p.vat_rate,
            "vat_amount": m.map(|m| format(m.vat)),
            "stock_status": a.status,
            "available": a.available,
            "available_qty": a.quantity.map(format_qty),
            "available_from": p.available_from,
            "problem": problem.map(|(code, message)| json!({"code": code, "message": message})),
        }));
    }
    Ok(json!({
        "id": cart.id,
        "name": cart.name,
        "mine": cart.account_id == actor.account_id,
        "owner_id": cart.account_id,
        "updated_at": cart.updated_at,
        "lines": out,
        "total": format(totals.total),
        "vat_total": format(totals.vat_total),
        "vat_mode": settings.vat_mode.as_str(),
        "currency": settings.currency,
        "count": totals.lines,
    }))
}
