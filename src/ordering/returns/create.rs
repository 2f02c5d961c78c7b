//! A buyer's request: lines of a delivered order within the return window, never more than
//! was delivered minus what other live requests already ask for (the order's lines are locked
//! first, so two concurrent requests for the last units cannot both pass). Cancelling while
//! the request waits for a decision.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

use super::{thread, Return, MAX_PHOTOS, REASONS};
use crate::db::schema_tenant::{order_events, order_lines, orders, return_lines, return_photos, returns};
use crate::error::{AppError, AppResult};
use crate::money::{format, format_qty};
use crate::ordering::Actor;
use crate::pricing::{line_amount, vat_of, VatMode, VatRate};

/// What the buyer asks for (parsed at the edge).
#[derive(Debug, Clone)]
pub struct Request {
    pub order: String,
    pub lines: Vec<(String, Decimal)>,
    pub reason: String,
    pub comment: String,
}

/// A photo already checked and stored (its key in the media store).
#[derive(Debug, Clone)]
pub struct Photo {
    pub key: String,
    pub content_type: &'static str,
    pub size: usize,
}

#[derive(Queryable)]
struct OrderLine {
    line_no: i32,
    product_id: i64,
    sku: String,
    name: String,
    unit: String,
    qty: Decimal,
    price: Decimal,
    vat_rate: String,
    amount: Decimal,
    vat_amount: Decimal,
}

/// Checks what does not need the database: reason, comment, lines.
pub fn check(r: &Request) -> AppResult<()> {
    if !REASONS.contains(&r.reason.as_str()) {
        return Err(AppError::field("reason", "must be defect, wrong_item, surplus or warranty"));
    }
    if r.comment.chars().count() > 2000 {
        return Err(AppError::field("comment", "at most 2,000 characters"));
    }
    if r.lines.is_empty() || r.lines.len() > 500 {
        return Err(AppError::field("lines", "choose at least one line (at most 500)"));
    }
    if r.order.trim().is_empty() || r.order.len() > 40 {
        return Err(AppError::field("order", "must be an order number"));
    }
    Ok(())
}

/// When the order was delivered: its first move to delivered or completed.
pub fn delivered_at(conn: &mut PgConnection, order: i64) -> AppResult<Option<DateTime<Utc>>> {
    Ok(order_events::table
        .filter(order_events::order_id.eq(order))
        .filter(order_events::to_status.eq_any(["delivered", "completed"]))
        .select(diesel::dsl::min(order_events::at))
        .first(conn)?)
}

/// What each line of `order` already has in live requests (not rejected or cancelled).
pub fn already_requested(conn: &mut PgConnection, order: i64) -> AppResult<Vec<(i32, Decimal)>> {
    let rows: Vec<(i32, Option<Decimal>)> = return_lines::table
        .inner_join(returns::table)
        .filter(returns::order_id.eq(order))
        .filter(returns::status.ne_all(["rejected", "cancelled"]))
        .group_by(return_lines::line_no)
        .select((return_lines::line_no, diesel::dsl::sum(return_lines::qty)))
        .load(conn)?;
    Ok(rows.into_iter().map(|(l, q)| (l, q.unwrap_or_default())).collect())
}

/// The request's money for `qty` of an order line: its amount and VAT as the order priced
/// them (the whole line exactly as sold), and what the buyer paid for it.
fn line_money(l: &OrderLine, qty: Decimal, mode: VatMode) -> (Decimal, Decimal, Decimal) {
    let (amount, vat) = if qty == l.qty {
        (l.amount, l.vat_amount)
    } else {
        let amount = line_amount(l.price, qty);
        (amount, vat_of(amount, VatRate::parse(&l.vat_rate).unwrap_or(VatRate::None), mode))
    };
    let payable = if mode == VatMode::Excluded { amount + vat } else { amount };
    (amount, vat, payable)
}

fn window_closed(closed: DateTime<Utc>) -> AppError {
    let mut details = serde_json::Map::new();
    details.insert("closed_on".into(), json!(closed.date_naive()));
    AppError::Detailed {
        status: 409,
        code: "return_window_closed",
        message: format!("the return window for this order closed on {}", closed.format("%d.%m.%Y")),
        details,
    }
}

/// Creates the request; answers its id. Photos were checked and stored by the caller.
pub fn create(conn: &mut PgConnection, actor: &Actor, r: &Request, photos: &[Photo]) -> AppResult<i64> {
    if !actor.may_order() {
        return Err(AppError::forbidden("your role in the company does not allow returns"));
    }
    check(r)?;
    if photos.len() > MAX_PHOTOS {
        return Err(AppError::field("photos", format!("at most {MAX_PHOTOS} photos")));
    }
    let order = crate::ordering::orders::find_for(conn, actor.company.id, r.order.trim())?;
    // The order and its lines are locked: concurrent requests on one order go one by one.
    let (status, vat_mode): (String, String) =
        orders::table.find(order.id).for_update().select((orders::status, orders::vat_mode)).first(conn)?;
    if !matches!(status.as_str(), "delivered" | "completed") {
        return Err(AppError::conflict(
            "order_not_delivered",
            format!("order {} is {}: returns are for delivered orders", order.number, status.replace('_', " ")),
        ));
    }
    let (window, decision) = super::terms(conn)?;
    let delivered = delivered_at(conn, order.id)?.unwrap_or(order.updated_at);
    let closes = delivered + Duration::days(window);
    if Utc::now() > closes {
        return Err(window_closed(closes));
    }
    let lines: Vec<OrderLine> = order_lines::table
        .filter(order_lines::order_id.eq(order.id))
        .order(order_lines::line_no)
        .for_update()
        .select((
            order_lines::line_no,
            order_lines::product_id,
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
    let taken = already_requested(conn, order.id)?;
    let mode = VatMode::parse(&vat_mode).unwrap_or(VatMode::Included);
    let mut wanted: Vec<(&OrderLine, Decimal)> = Vec::new();
    for (sku, qty) in &r.lines {
        let line = lines
            .iter()
            .find(|l| l.sku.eq_ignore_ascii_case(sku.trim()))
            .ok_or_else(|| AppError::field("lines", format!("{sku} is not in order {}", order.number)))?;
        if *qty <= Decimal::ZERO {
            return Err(AppError::field("lines", format!("{sku}: the quantity must be greater than zero")));
        }
        match wanted.iter_mut().find(|(l, _)| l.line_no == line.line_no) {
            Some((_, q)) => *q += *qty,
            None => wanted.push((line, *qty)),
        }
    }
    for (line, qty) in &wanted {
        let already = taken.iter().find(|(n, _)| *n == line.line_no).map_or(Decimal::ZERO, |(_, q)| *q);
        let left = (line.qty - already).max(Decimal::ZERO);
        if *qty > left {
            let mut details = serde_json::Map::new();
            details.insert("sku".into(), json!(line.sku));
            details.insert("delivered".into(), json!(format_qty(line.qty)));
            details.insert("already_requested".into(), json!(format_qty(already)));
            details.insert("left".into(), json!(format_qty(left)));
            return Err(AppError::Detailed {
                status: 409,
                code: "return_qty_exceeds",
                message: format!(
                    "{}: at most {} left to return (delivered {}, already requested {})",
                    line.sku,
                    format_qty(left),
                    format_qty(line.qty),
                    format_qty(already)
                ),
                details,
            });
        }
    }
    let total: Decimal = wanted.iter().map(|(l, q)| line_money(l, *q, mode).2).sum();
    let seq: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("nextval('return_number_seq')"))
        .get_result(conn)?;
    let number = format!("RET-{seq:06}");
    let id: i64 = diesel::insert_into(returns::table)
        .values((
            returns::number.eq(&number),
            returns::order_id.eq(order.id),
            returns::company_id.eq(actor.company.id),
            returns::account_id.eq(actor.account_id),
            returns::reason.eq(&r.reason),
            returns::comment.eq(r.comment.trim()),
            returns::amount.eq(total),
            returns::decide_by.eq(Utc::now() + Duration::days(decision)),
        ))
        .returning(returns::id)
        .get_result(conn)?;
    for (line, qty) in &wanted {
        let (amount, vat, _) = line_money(line, *qty, mode);
        diesel::insert_into(return_lines::table)
            .values((
                return_lines::return_id.eq(id),
                return_lines::line_no.eq(line.line_no),
                return_lines::product_id.eq(line.product_id),
                return_lines::sku.eq(&line.sku),
                return_lines::name.eq(&line.name),
                return_lines::unit.eq(&line.unit),
                return_lines::qty.eq(qty),
                return_lines::price.eq(line.price),
                return_lines::vat_rate.eq(&line.vat_rate),
                return_lines::amount.eq(amount),
                return_lines::vat_amount.eq(vat),
            ))
            .execute(conn)?;
    }
    for p in photos {
        diesel::insert_into(return_photos::table)
            .values((
                return_photos::return_id.eq(id),
                return_photos::storage_key.eq(&p.key),
                return_photos::content_type.eq(p.content_type),
                return_photos::size_bytes.eq(p.size as i32),
            ))
            .execute(conn)?;
    }
    let ret = super::find_for(conn, None, &number, false)?;
    let note = format!(
        "Запрошен возврат по заказу {}, {} / Return requested for order {}, {}",
        order.number,
        format(total),
        order.number,
        format(total)
    );
    thread::system(conn, id, "requested", &note)?;
    thread::tell_staff(conn, &ret, &format!("Запрос на возврат {number} / Return request {number}"), &note)?;
    thread::schedule_reminder(conn, &ret)?;
    Ok(id)
}

/// The buyer withdraws the request while it waits for a decision.
pub fn cancel(conn: &mut PgConnection, actor: &Actor, number: &str) -> AppResult<Return> {
    if !actor.may_order() {
        return Err(AppError::forbidden("your role in the company does not allow returns"));
    }
    let r = super::find_for(conn, Some(actor.company.id), number, true)?;
    if r.status != "requested" {
        return Err(AppError::conflict(
            "return_not_cancellable",
            format!("request {} is {}: only a request waiting for a decision can be cancelled", r.number, r.status),
        ));
    }
    super::decide::set_status(conn, &r, "cancelled")?;
    thread::system(conn, r.id, "cancelled", "Покупатель отменил запрос / The buyer cancelled the request")?;
    thread::tell_staff(
        conn,
        &r,
        &format!("Возврат {0} отменён покупателем / Return {0} cancelled by the buyer", r.number),
        "",
    )?;
    super::find_for(conn, None, number, false)
}
