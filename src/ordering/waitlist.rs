//! Waitlist (feature `waitlist`): a buyer subscribes to an out-of-stock or upcoming product.
//! When its stock comes back (a trigger queues `waitlist.arrived` in the same transaction as
//! the stock change), every subscriber is told once, first come first served; when the store
//! sets `waitlist_hold_hours` (default 24, 0 = off), the arrived stock is also reserved for
//! them for that long while it lasts.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::lines::check_qty;
use super::{notify, reservations, Actor};
use crate::catalog::products;
use crate::db::schema_tenant::waitlist as w;
use crate::error::{AppError, AppResult};
use crate::money::format_qty;
use crate::platform::tenant_settings;

pub const HOLD_HOURS: &str = "waitlist_hold_hours";
pub const ARRIVED_JOB: &str = "waitlist.arrived";

/// Subscribes `actor` to `sku` (optionally for a quantity to hold when it arrives).
pub fn subscribe(conn: &mut PgConnection, actor: &Actor, sku: &str, qty: Option<Decimal>) -> AppResult<i64> {
    if !actor.company.is_active() {
        return Err(AppError::forbidden("your company is not approved yet"));
    }
    let p = products::find_by_sku(conn, sku.trim())?
        .filter(|p| p.status != "archived")
        .ok_or_else(|| AppError::field("sku", format!("no product with SKU {sku:?} is sold here")))?;
    if p.stock_available > Decimal::ZERO {
        return Err(AppError::conflict("in_stock", format!("{} is in stock: order it now", p.sku)));
    }
    if let Some(q) = qty {
        check_qty(&p, q).map_err(|(_, m)| AppError::field("qty", m))?;
    }
    diesel::insert_into(w::table)
        .values((
            w::company_id.eq(actor.company.id),
            w::account_id.eq(actor.account_id),
            w::product_id.eq(p.id),
            w::qty.eq(qty),
        ))
        .returning(w::id)
        .get_result(conn)
        .map_err(|e| match crate::error::AppError::from(e) {
            AppError::Conflict { .. } => {
                AppError::conflict("already_waiting", format!("you already wait for {}", p.sku))
            }
            other => other,
        })
}

pub fn unsubscribe(conn: &mut PgConnection, actor: &Actor, id: i64) -> AppResult<()> {
    let n = diesel::delete(
        w::table
            .filter(w::id.eq(id))
            .filter(w::account_id.eq(actor.account_id))
            .filter(w::company_id.eq(actor.company.id)),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("waitlist entry"));
    }
    Ok(())
}

/// The person's subscriptions in this company, newest first.
pub fn list(conn: &mut PgConnection, actor: &Actor) -> AppResult<Value> {
    use crate::db::schema_tenant::products as pr;
    type Row = (i64, String, String, Option<Decimal>, chrono::DateTime<Utc>, Option<chrono::DateTime<Utc>>);
    let rows: Vec<Row> = w::table
        .inner_join(pr::table)
        .filter(w::account_id.eq(actor.account_id))
        .filter(w::company_id.eq(actor.company.id))
        .order(w::id.desc())
        .limit(500)
        .select((w::id, pr::sku, pr::name, w::qty, w::created_at, w::notified_at))
        .load(conn)?;
    let items: Vec<Value> = rows
        .iter()
        .map(|(id, sku, name, qty, at, told)| {
            json!({"id": id, "sku": sku, "name": name, "qty": qty.map(format_qty), "created_at": at, "notified_at": told})
        })
        .collect();
    Ok(json!({"items": items, "total": items.len(), "page": 1, "per_page": 500}))
}

/// Job: the product is back. Each waiting subscriber is told once, oldest first; with a hold
/// period, as much as is free is reserved for them in turn.
pub fn arrived(conn: &mut PgConnection, product_id: i64) -> AppResult<usize> {
    let Some(p) = products::by_ids(conn, &[product_id])?.pop() else { return Ok(0) };
    let hours = tenant_settings::get(conn, HOLD_HOURS)?.and_then(|v| v.as_i64()).unwrap_or(24).clamp(0, 24 * 14);
    type Waiting = (i64, i64, i64, Option<Decimal>);
    let waiting: Vec<Waiting> = w::table
        .filter(w::product_id.eq(product_id))
        .filter(w::notified_at.is_null())
        .order((w::created_at, w::id))
        .for_update()
        .skip_locked()
        .select((w::id, w::company_id, w::account_id, w::qty))
        .load(conn)?;
    let mut told = 0;
    for (id, company, account, qty) in waiting {
        let mut held = None;
        if hours > 0 && p.status == "active" {
            let want = qty.unwrap_or(p.min_qty).max(p.min_qty);
            // Each hold in its own savepoint: when stock runs out, the rest are only told.
            let until = Utc::now() + Duration::hours(hours);
            if let Ok(res) =
                conn.transaction(|c| reservations::create(c, company, account, &p, want, until, "waitlist"))
            {
                held = Some((res.id, want, until));
            }
        }
        diesel::update(w::table.find(id))
            .set((w::notified_at.eq(diesel::dsl::now), w::reservation_id.eq(held.map(|h| h.0))))
            .execute(conn)?;
        let title = match held {
            Some((_, q, until)) => format!(
                "{sku} снова в наличии, {q} {unit} отложено для вас до {u} / {sku} is back: {q} {unit} held for you until {u}",
                sku = p.sku,
                q = format_qty(q),
                unit = p.unit,
                u = until.format("%Y-%m-%d %H:%M UTC")
            ),
            None => format!("{sku} снова в наличии / {sku} is back in stock", sku = p.sku),
        };
        let link = format!("/products/{}", crate::search::marketplace::urlencode(&p.sku));
        notify::tell_link(conn, &[account], company, "waitlist_arrived", &link, &title, &title)?;
        told += 1;
    }
    Ok(told)
}
