//! Reservations (feature `reservations`): a buyer holds a quantity until a date. The held
//! quantity is `stock.reserved`, so it is not sellable to anyone else; a job reminds the buyer
//! the day before and releases it on time (both queued in the transaction that made it); a
//! reservation turns into an order with the held stock.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Numeric};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::lines::{check_qty, orderable};
use super::place::{Checkout, Placed};
use super::{notify, Actor};
use crate::catalog::products::{self, Product};
use crate::catalog::settings::CatalogSettings;
use crate::db::schema_platform::jobs;
use crate::db::schema_tenant::{reservation_allocations as ra, reservations as r};
use crate::error::{AppError, AppResult};
use crate::money::format_qty;
use crate::platform::tenant_settings;

/// Tenant setting: the longest a reservation may last, in days (default 14).
pub const MAX_DAYS: &str = "reservation_max_days";
pub const REMIND_JOB: &str = "reservation.remind";
pub const EXPIRE_JOB: &str = "reservation.expire";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = r, check_for_backend(diesel::pg::Pg))]
pub struct Reservation {
    pub id: i64,
    pub company_id: i64,
    pub account_id: i64,
    pub product_id: i64,
    pub qty: Decimal,
    pub until: DateTime<Utc>,
    pub status: String,
    pub source: String,
    pub order_id: Option<i64>,
}

/// Holds `qty` of `p` across warehouses (in their order) for reservation `id`; 409
/// `insufficient_stock` when there is not enough free stock.
pub fn hold(conn: &mut PgConnection, id: i64, p: &Product, qty: Decimal) -> AppResult<()> {
    let rows = super::stock::free_rows(conn, p.id)?;
    let free: Decimal = rows.iter().map(|r| r.free.max(Decimal::ZERO)).sum();
    if free < qty {
        let mut details = serde_json::Map::new();
        details.insert(
            "lines".into(),
            json!([{"sku": p.sku, "requested": format_qty(qty), "available": format_qty(free.max(Decimal::ZERO))}]),
        );
        return Err(AppError::Detailed {
            status: 409,
            code: "insufficient_stock",
            message: format!("not enough stock for {}", p.sku),
            details,
        });
    }
    let mut left = qty;
    for row in rows.iter().filter(|r| r.free > Decimal::ZERO) {
        let take = left.min(row.free);
        diesel::sql_query(
            "UPDATE stock SET reserved = reserved + $3, updated_at = now() \
             WHERE product_id = $1 AND warehouse_id = $2 AND quantity - reserved >= $3",
        )
        .bind::<BigInt, _>(p.id)
        .bind::<BigInt, _>(row.warehouse_id)
        .bind::<Numeric, _>(take)
        .execute(conn)?;
        diesel::insert_into(ra::table)
            .values((ra::reservation_id.eq(id), ra::warehouse_id.eq(row.warehouse_id), ra::qty.eq(take)))
            .execute(conn)?;
        left -= take;
        if left.is_zero() {
            break;
        }
    }
    Ok(())
}

fn enqueue(conn: &mut PgConnection, kind: &str, id: i64, at: DateTime<Utc>) -> AppResult<()> {
    let tenant =
        notify::tenant_id(conn)?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no tenant for this schema")))?;
    diesel::insert_into(jobs::table)
        .values((
            jobs::queue.eq("orders"),
            jobs::kind.eq(kind),
            jobs::tenant_id.eq(tenant),
            jobs::payload.eq(json!({"reservation_id": id})),
            jobs::run_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The longest a reservation may last in this store, in days (setting `reservation_max_days`).
pub fn max_days(conn: &mut PgConnection) -> AppResult<i64> {
    Ok(tenant_settings::get(conn, MAX_DAYS)?.and_then(|v| v.as_i64()).unwrap_or(14).clamp(1, 365))
}

/// Creates a reservation of `qty` of `sku` until the end of `until_day` (UTC) for `actor`.
pub fn reserve(
    conn: &mut PgConnection,
    actor: &Actor,
    sku: &str,
    qty: Decimal,
    until_day: NaiveDate,
) -> AppResult<Reservation> {
    if !actor.company.is_active() || !actor.may_order() {
        return Err(AppError::forbidden("your company or role does not allow reserving stock"));
    }
    let max_days = max_days(conn)?;
    let today = Utc::now().date_naive();
    if until_day < today || until_day > today + Duration::days(max_days) {
        return Err(AppError::field("until", format!("must be a date from today to {max_days} days ahead")));
    }
    let p = products::find_by_sku(conn, sku.trim())?
        .filter(|p| p.status != "archived")
        .ok_or_else(|| AppError::field("sku", format!("no product with SKU {sku:?} is sold here")))?;
    orderable(&p).and_then(|_| check_qty(&p, qty)).map_err(|(_, m)| AppError::field("qty", m))?;
    let until = until_day
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| AppError::field("until", "is out of range"))?;
    create(conn, actor.company.id, actor.account_id, &p, qty, until, "buyer")
}

/// Inserts a reservation and holds its stock; queues its reminder and its release.
pub fn create(
    conn: &mut PgConnection,
    company: i64,
    account: i64,
    p: &Product,
    qty: Decimal,
    until: DateTime<Utc>,
    source: &str,
) -> AppResult<Reservation> {
    let res: Reservation = diesel::insert_into(r::table)
        .values((
            r::company_id.eq(company),
            r::account_id.eq(account),
            r::product_id.eq(p.id),
            r::qty.eq(qty),
            r::until.eq(until),
            r::source.eq(source),
        ))
        .returning(Reservation::as_returning())
        .get_result(conn)?;
    hold(conn, res.id, p, qty)?;
    let remind_at = until - Duration::days(1);
    if remind_at > Utc::now() {
        enqueue(conn, REMIND_JOB, res.id, remind_at)?;
    }
    enqueue(conn, EXPIRE_JOB, res.id, until)?;
    Ok(res)
}

/// Gives the held stock back and ends the reservation with `status`.
fn end(conn: &mut PgConnection, res: &Reservation, status: &str) -> AppResult<()> {
    diesel::sql_query(
        "UPDATE stock s SET reserved = s.reserved - a.qty, updated_at = now() FROM reservation_allocations a \
         WHERE a.reservation_id = $1 AND s.product_id = $2 AND s.warehouse_id = a.warehouse_id",
    )
    .bind::<BigInt, _>(res.id)
    .bind::<BigInt, _>(res.product_id)
    .execute(conn)?;
    diesel::delete(ra::table.filter(ra::reservation_id.eq(res.id))).execute(conn)?;
    diesel::update(r::table.find(res.id))
        .set((r::status.eq(status), r::ended_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}

/// An active reservation of the actor's company, locked.
fn active_for(conn: &mut PgConnection, actor: &Actor, id: i64) -> AppResult<Reservation> {
    let res: Reservation = r::table
        .find(id)
        .filter(r::company_id.eq(actor.company.id))
        .for_update()
        .select(Reservation::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("reservation"))?;
    if res.status != "active" {
        return Err(AppError::conflict("reservation_ended", format!("this reservation is {} already", res.status)));
    }
    Ok(res)
}

/// The buyer lets a reservation go.
pub fn release(conn: &mut PgConnection, actor: &Actor, id: i64) -> AppResult<()> {
    if !actor.may_order() {
        return Err(AppError::forbidden("your role in the company does not allow this"));
    }
    let res = active_for(conn, actor, id)?;
    end(conn, &res, "released")
}

/// Turns a reservation into an order: its stock moves from held to sold in one transaction.
pub fn convert(
    conn: &mut PgConnection,
    actor: &Actor,
    id: i64,
    settings: &CatalogSettings,
    locale: &str,
) -> AppResult<Placed> {
    if !actor.company.is_active() || !actor.may_order() {
        return Err(AppError::forbidden("your company or role does not allow ordering"));
    }
    let res = active_for(conn, actor, id)?;
    let p = products::by_ids(conn, &[res.product_id])?.pop().ok_or_else(|| AppError::not_found("product"))?;
    end(conn, &res, "converted")?;
    let placed = super::place_write::place_lines(
        conn,
        actor,
        settings,
        &Checkout::plain("order"),
        vec![(p, res.qty)],
        locale,
        None,
    )?;
    let number = placed.order["number"].as_str().unwrap_or_default().to_owned();
    let order_id: i64 = crate::db::schema_tenant::orders::table
        .filter(crate::db::schema_tenant::orders::number.eq(&number))
        .select(crate::db::schema_tenant::orders::id)
        .first(conn)?;
    diesel::update(r::table.find(res.id)).set(r::order_id.eq(order_id)).execute(conn)?;
    Ok(placed)
}

/// The company's reservations, newest first.
pub fn list(conn: &mut PgConnection, company: i64) -> AppResult<Value> {
    use crate::db::schema_tenant::products as pr;
    let rows: Vec<(Reservation, String, String)> = r::table
        .inner_join(pr::table)
        .filter(r::company_id.eq(company))
        .order(r::id.desc())
        .limit(200)
        .select((Reservation::as_select(), pr::sku, pr::name))
        .load(conn)?;
    let items: Vec<Value> = rows.iter().map(|(x, sku, name)| view(x, sku, name)).collect();
    Ok(json!({"items": items, "total": items.len(), "page": 1, "per_page": 200}))
}

pub fn view(x: &Reservation, sku: &str, name: &str) -> Value {
    json!({"id": x.id, "sku": sku, "name": name, "qty": format_qty(x.qty), "until": x.until, "status": x.status, "source": x.source})
}

/// The reservation `id` with its product's SKU and name.
pub fn show(conn: &mut PgConnection, company: i64, id: i64) -> AppResult<Value> {
    use crate::db::schema_tenant::products as pr;
    let (x, sku, name): (Reservation, String, String) = r::table
        .inner_join(pr::table)
        .filter(r::id.eq(id))
        .filter(r::company_id.eq(company))
        .select((Reservation::as_select(), pr::sku, pr::name))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("reservation"))?;
    Ok(view(&x, &sku, &name))
}

fn by_id(conn: &mut PgConnection, id: i64) -> AppResult<Option<(Reservation, String)>> {
    use crate::db::schema_tenant::products as pr;
    Ok(r::table
        .inner_join(pr::table)
        .filter(r::id.eq(id))
        .for_update()
        .select((Reservation::as_select(), pr::sku))
        .first(conn)
        .optional()?)
}

/// Job: the day before the end, the buyer is told (once).
pub fn remind(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    let Some((res, sku)) = by_id(conn, id)? else { return Ok(()) };
    let reminded: Option<DateTime<Utc>> = r::table.find(id).select(r::reminded_at).first(conn)?;
    if res.status != "active" || reminded.is_some() {
        return Ok(());
    }
    diesel::update(r::table.find(id)).set(r::reminded_at.eq(diesel::dsl::now)).execute(conn)?;
    let title = format!(
        "Резерв {sku} заканчивается {} / Your reservation of {sku} ends {}",
        res.until.format("%d.%m.%Y %H:%M UTC"),
        res.until.format("%Y-%m-%d %H:%M UTC")
    );
    notify::tell_link(conn, &[res.account_id], res.company_id, "reservation_ends", "/reservations", &title, &title)
}

/// Job: at its end an active reservation is released and the buyer told.
pub fn expire(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    let Some((res, sku)) = by_id(conn, id)? else { return Ok(()) };
    if res.status != "active" {
        return Ok(());
    }
    if res.until > Utc::now() {
        return Err(AppError::Internal(anyhow::anyhow!("reservation {id} ends at {}, not yet", res.until)));
    }
    end(conn, &res, "expired")?;
    let title = format!("Резерв {sku} снят: срок истёк / Your reservation of {sku} has ended");
    notify::tell_link(conn, &[res.account_id], res.company_id, "reservation_ended", "/reservations", &title, &title)
}
