//! What 1C has of each order: the order's exchange *state* (status, total, payment of its
//! invoice) as 1C last confirmed or sent it, the pending batch of `mode=query`, and 1C's
//! number and date of the order.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt};

use crate::db::schema_tenant::order_exchange;
use crate::error::AppResult;

/// The state of order `o` as SQL: what a change of it must send to 1C again.
pub const STATE: &str = "o.status || '|' || o.total::text || '|' || coalesce((SELECT string_agg(i.status, ',' \
    ORDER BY i.id) FROM invoices i WHERE i.order_id = o.id), '')";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Orders whose state 1C does not have (never exported, or changed since), oldest first.
/// Orders still waiting for the buyer company's own approval are not orders yet.
pub fn pending_candidates(conn: &mut PgConnection, limit: i64) -> AppResult<Vec<i64>> {
    let sql = format!(
        "SELECT o.id FROM orders o LEFT JOIN order_exchange x ON x.order_id = o.id \
         WHERE o.status <> 'awaiting_approval' AND x.synced_state IS DISTINCT FROM ({STATE}) \
         ORDER BY o.id LIMIT $1"
    );
    let rows: Vec<Id> = diesel::sql_query(sql).bind::<BigInt, _>(limit).load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Records the orders just sent, with the state they were sent in, as the pending batch
/// (replacing an unconfirmed earlier one: without `success` the same orders go again).
pub fn mark_pending(conn: &mut PgConnection, ids: &[i64]) -> AppResult<()> {
    diesel::update(order_exchange::table)
        .filter(order_exchange::pending_state.is_not_null())
        .set(order_exchange::pending_state.eq(None::<String>))
        .execute(conn)?;
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query(format!(
        "INSERT INTO order_exchange AS x (order_id, pending_state) \
         SELECT o.id, ({STATE}) FROM orders o WHERE o.id = ANY($1) \
         ON CONFLICT (order_id) DO UPDATE SET pending_state = EXCLUDED.pending_state, updated_at = now()"
    ))
    .bind::<Array<BigInt>, _>(ids.to_vec())
    .execute(conn)?;
    Ok(())
}

/// `mode=success`: 1C has the pending batch; how many orders it held.
pub fn confirm_pending(conn: &mut PgConnection) -> AppResult<u64> {
    let n = diesel::sql_query(
        "UPDATE order_exchange SET synced_state = pending_state, pending_state = NULL, exported_at = now(), \
         updated_at = now() WHERE pending_state IS NOT NULL",
    )
    .execute(conn)?;
    Ok(n as u64)
}

/// After 1C changed order `id`: 1C has its state now (and a pending send of the older state
/// is dropped), so the change is not sent back.
pub fn synced_by_1c(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    diesel::sql_query(format!(
        "INSERT INTO order_exchange AS x (order_id, synced_state) SELECT o.id, ({STATE}) FROM orders o WHERE o.id = $1 \
         ON CONFLICT (order_id) DO UPDATE SET synced_state = EXCLUDED.synced_state, pending_state = NULL, \
         updated_at = now() WHERE x.synced_state IS DISTINCT FROM EXCLUDED.synced_state OR x.pending_state IS NOT NULL"
    ))
    .bind::<BigInt, _>(id)
    .execute(conn)?;
    Ok(())
}

/// Stores 1C's number and date of order `id`; whether they changed.
pub fn set_1c_number(
    conn: &mut PgConnection,
    id: i64,
    number: Option<&str>,
    date: Option<chrono::NaiveDate>,
) -> AppResult<bool> {
    let current: Option<(Option<String>, Option<chrono::NaiveDate>)> = order_exchange::table
        .find(id)
        .select((order_exchange::number_1c, order_exchange::date_1c))
        .first(conn)
        .optional()?;
    let (old_number, old_date) = current.clone().unwrap_or_default();
    let number = number.map(str::to_owned).or(old_number.clone());
    let date = date.or(old_date);
    if current.is_some() && (number.clone(), date) == (old_number, old_date) {
        return Ok(false);
    }
    diesel::insert_into(order_exchange::table)
        .values((
            order_exchange::order_id.eq(id),
            order_exchange::number_1c.eq(&number),
            order_exchange::date_1c.eq(date),
        ))
        .on_conflict(order_exchange::order_id)
        .do_update()
        .set((
            order_exchange::number_1c.eq(&number),
            order_exchange::date_1c.eq(date),
            order_exchange::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// 1C's number and date of an order, for the order pages.
pub fn number_in_1c(conn: &mut PgConnection, id: i64) -> AppResult<Option<(String, Option<chrono::NaiveDate>)>> {
    let row: Option<(Option<String>, Option<chrono::NaiveDate>)> = order_exchange::table
        .find(id)
        .select((order_exchange::number_1c, order_exchange::date_1c))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(n, d)| n.map(|n| (n, d))))
}
