//! Stock taken by orders: per line, from the first warehouse when it has it all (one prepared
//! conditional update), else split across warehouses under row locks; the allocations record
//! where each unit came from, so a cancellation or an edit gives it back there.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Numeric};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::catalog::products::Product;
use crate::db::schema_tenant::{order_allocations, stock, warehouses};
use crate::error::{AppError, AppResult};
use crate::money::format_qty;

/// A warehouse's stock of one product not yet sold or held.
#[derive(QueryableByName)]
pub struct Free {
    #[diesel(sql_type = BigInt)]
    pub warehouse_id: i64,
    #[diesel(sql_type = Numeric)]
    pub free: Decimal,
}

/// The product's stock rows, warehouses in their order, locked until the transaction ends.
pub fn free_rows(conn: &mut PgConnection, product: i64) -> AppResult<Vec<Free>> {
    Ok(diesel::sql_query(
        "SELECT st.warehouse_id, st.quantity - st.reserved AS free FROM stock st JOIN warehouses w ON w.id = st.warehouse_id \
         WHERE st.product_id = $1 ORDER BY w.position, w.id FOR UPDATE OF st",
    )
    .bind::<BigInt, _>(product)
    .load(conn)?)
}

/// Takes each line's quantity from stock: from the first warehouse when it has it all (one
/// conditional update, a prepared statement), else across warehouses in their order under
/// row locks. Short lines are a 409 `insufficient_stock` naming each with what is available.
pub fn take_stock(conn: &mut PgConnection, order: i64, lines: &[(Product, Decimal)]) -> AppResult<()> {
    let mut short = Vec::new();
    let mut taken: Vec<(i64, i64, Decimal)> = Vec::new();
    for (p, qty) in lines {
        // Most stores keep one warehouse: one cached, conditional update on the first.
        let first = warehouses::table
            .select(warehouses::id)
            .order((warehouses::position, warehouses::id))
            .limit(1)
            .single_value();
        let one: Option<i64> = diesel::update(
            stock::table
                .filter(stock::product_id.eq(p.id))
                .filter(stock::warehouse_id.nullable().eq(first))
                .filter((stock::quantity - stock::reserved).ge(*qty)),
        )
        .set((stock::quantity.eq(stock::quantity - *qty), stock::updated_at.eq(diesel::dsl::now)))
        .returning(stock::warehouse_id)
        .get_result(conn)
        .optional()?;
        if let Some(w) = one {
            taken.push((p.id, w, *qty));
            continue;
        }
        // Split across warehouses: lock every row of the product, then take in order.
        let rows = free_rows(conn, p.id)?;
        let free: Decimal = rows.iter().map(|r| r.free.max(Decimal::ZERO)).sum();
        if free < *qty {
            short.push(short_line(&p.sku, *qty, free));
            continue;
        }
        let mut left = *qty;
        for r in rows.iter().filter(|r| r.free > Decimal::ZERO) {
            let take = left.min(r.free);
            diesel::sql_query(
                "UPDATE stock SET quantity = quantity - $3, updated_at = now() \
                 WHERE product_id = $1 AND warehouse_id = $2 AND quantity - reserved >= $3",
            )
            .bind::<BigInt, _>(p.id)
            .bind::<BigInt, _>(r.warehouse_id)
            .bind::<Numeric, _>(take)
            .execute(conn)?;
            taken.push((p.id, r.warehouse_id, take));
            left -= take;
            if left.is_zero() {
                break;
            }
        }
    }
    if !short.is_empty() {
        return Err(insufficient(short));
    }
    let rows: Vec<_> = taken
        .iter()
        .map(|(p, w, q)| {
            (
                order_allocations::order_id.eq(order),
                order_allocations::product_id.eq(*p),
                order_allocations::warehouse_id.eq(*w),
                order_allocations::qty.eq(*q),
            )
        })
        .collect();
    // A supplement or an edit may take more of a product from a warehouse already used.
    diesel::insert_into(order_allocations::table)
        .values(rows)
        .on_conflict((order_allocations::order_id, order_allocations::product_id, order_allocations::warehouse_id))
        .do_update()
        .set(order_allocations::qty.eq(order_allocations::qty + diesel::upsert::excluded(order_allocations::qty)))
        .execute(conn)?;
    Ok(())
}

/// Puts an order's stock back where it was taken from.
pub fn return_stock(conn: &mut PgConnection, order: i64) -> AppResult<()> {
    diesel::sql_query(
        "UPDATE stock s SET quantity = s.quantity + a.qty, updated_at = now() FROM order_allocations a \
         WHERE a.order_id = $1 AND s.product_id = a.product_id AND s.warehouse_id = a.warehouse_id",
    )
    .bind::<BigInt, _>(order)
    .execute(conn)?;
    diesel::delete(order_allocations::table.filter(order_allocations::order_id.eq(order))).execute(conn)?;
    Ok(())
}

/// A short line as the 409 names it: what was asked and what is available.
pub fn short_line(sku: &str, requested: Decimal, available: Decimal) -> Value {
    json!({"sku": sku, "requested": format_qty(requested), "available": format_qty(available)})
}

/// The 409 `insufficient_stock` naming every short line ([`short_line`]).
pub fn insufficient(short: Vec<Value>) -> AppError {
    let skus: Vec<String> = short.iter().filter_map(|s| s["sku"].as_str().map(str::to_owned)).collect();
    let mut details = Map::new();
    details.insert("lines".into(), Value::Array(short));
    AppError::Detailed {
        status: 409,
        code: "insufficient_stock",
        message: format!("not enough stock for {}", skus.join(", ")),
        details,
    }
}
