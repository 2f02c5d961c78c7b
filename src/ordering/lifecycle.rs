//! The order lifecycle: new → confirmed → in production (optional) → assembled → shipped →
//! delivered → completed, or cancelled before shipping. Buyers cancel while an order is new;
//! a company admin approves or declines orders above a buyer's limit; staff move orders
//! forward, cancel them, and turn pre-orders into orders when the goods arrive. Every change
//! is written to the history and told to the buyer in the same transaction.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::notify;
use super::orders::{event, find_for, Order};
use super::stock::return_stock;
use super::Actor;
use crate::db::schema_tenant::{order_allocations, order_lines, orders};
use crate::error::{AppError, AppResult};

/// The forward chain; `cancelled` is reachable from every step before `shipped`.
pub const CHAIN: &[&str] = &["new", "confirmed", "in_production", "assembled", "shipped", "delivered", "completed"];

fn position(status: &str) -> Option<usize> {
    CHAIN.iter().position(|s| *s == status)
}

/// Whether staff may move an order from `from` to `to`.
pub fn staff_may(from: &str, to: &str) -> bool {
    match (position(from), to) {
        (_, "cancelled") => {
            matches!(from, "awaiting_approval" | "on_hold" | "new" | "confirmed" | "in_production" | "assembled")
        }
        // An order held for credit is released as new (or confirmed at once).
        (None, "new" | "confirmed") => from == "on_hold",
        (Some(a), to) => position(to).is_some_and(|b| b > a),
        (None, _) => false,
    }
}

fn lock(conn: &mut PgConnection, id: i64) -> AppResult<Order> {
    Ok(orders::table.find(id).for_update().select(Order::as_select()).first(conn)?)
}

fn set_status(
    conn: &mut PgConnection,
    o: &Order,
    to: &str,
    actor: Option<i64>,
    kind: &str,
    note: &str,
) -> AppResult<()> {
    diesel::update(orders::table.find(o.id))
        .set((orders::status.eq(to), orders::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    if to == "cancelled" {
        return_stock(conn, o.id)?;
        crate::finance::invoices::cancel_for(conn, o.id)?;
    }
    // The invoice for payment: when an approved order becomes new (stores that invoice on
    // placement), or when it is confirmed (unless the store issues invoices by hand).
    if matches!(to, "new" | "confirmed") {
        let on = crate::finance::invoices::issued_on(conn)?;
        if (to == "new" && on == "placement") || (to == "confirmed" && on != "manual") {
            crate::finance::invoices::issue(conn, o.id)?;
        }
    }
    // Shipping books the order's total to the company's ledger (once, also when staff mark
    // it delivered or completed without marking it shipped first).
    if matches!(to, "shipped" | "delivered" | "completed") {
        crate::finance::ledger::book_shipment(conn, o.id, actor)?;
        // The accounting documents of the shipment (УПД, or ТОРГ-12/act/счёт-фактура), once.
        crate::documents::issue_for_order(conn, o.id, actor)?;
    }
    event(conn, o.id, actor, kind, Some(&o.status), Some(to), note)?;
    let data = serde_json::json!({"number": o.number, "from": o.status, "to": to, "company_id": o.company_id});
    crate::integrations::webhooks::emit(conn, "order.status_changed", &data)?;
    let title = format!("Заказ {}: {} / Order {}: {}", o.number, status_ru(to), o.number, to.replace('_', " "));
    let text = if note.is_empty() { title.clone() } else { format!("{title}\n\n{note}") };
    notify::tell(conn, &[o.account_id], o.company_id, "order_status", &o.number, &title, &text)
}

pub fn status_ru(s: &str) -> &'static str {
    match s {
        "awaiting_approval" => "ждёт одобрения",
        "on_hold" => "ждёт решения поставщика",
        "new" => "новый",
        "confirmed" => "подтверждён",
        "in_production" => "в производстве",
        "assembled" => "собран",
        "shipped" => "отгружен",
        "delivered" => "доставлен",
        "completed" => "выполнен",
        "cancelled" => "отменён",
        _ => "изменён",
    }
}

/// The buyer cancels an order that is still new (or waiting for approval); its stock goes back.
pub fn buyer_cancel(conn: &mut PgConnection, actor: &Actor, number: &str) -> AppResult<i64> {
    let o = find_for(conn, actor.company.id, number)?;
    if !actor.may_order() {
        return Err(AppError::forbidden("your role in the company does not allow cancelling orders"));
    }
    let o = lock(conn, o.id)?;
    if !matches!(o.status.as_str(), "new" | "awaiting_approval" | "on_hold") {
        return Err(AppError::conflict(
            "not_cancellable",
            format!("order {} is {} already: ask your manager to cancel it", o.number, o.status.replace('_', " ")),
        ));
    }
    set_status(conn, &o, "cancelled", Some(actor.account_id), "buyer", "")?;
    Ok(o.id)
}

/// The company admin approves (stock is taken now) or declines an order above a buyer's limit.
pub fn decide(conn: &mut PgConnection, actor: &Actor, number: &str, approve: bool, locale: &str) -> AppResult<i64> {
    if actor.role != "admin" {
        return Err(AppError::forbidden("only the company's administrator approves orders"));
    }
    let o = find_for(conn, actor.company.id, number)?;
    let o = lock(conn, o.id)?;
    if o.status != "awaiting_approval" {
        return Err(AppError::conflict(
            "not_awaiting_approval",
            format!("order {} does not wait for approval", o.number),
        ));
    }
    if approve {
        if o.kind == "order" {
            take_for(conn, &o, locale)?;
        }
        // On account beyond the credit, it then waits for the supplier (when the store says so);
        // the position already counts this order among those on order.
        let held = o.payment_method == "on_account"
            && crate::catalog::settings::load(conn)?.credit_hold
            && crate::finance::ledger::position(conn, &actor.company)?
                .hold_reason(rust_decimal::Decimal::ZERO)
                .is_some();
        let to = if held { "on_hold" } else { "new" };
        set_status(conn, &o, to, Some(actor.account_id), "buyer", "approved by the company administrator")?;
    } else {
        set_status(conn, &o, "cancelled", Some(actor.account_id), "buyer", "declined by the company administrator")?;
    }
    Ok(o.id)
}

/// Takes the stock of an order placed without it (approved, or a pre-order converted).
fn take_for(conn: &mut PgConnection, o: &Order, _locale: &str) -> AppResult<()> {
    let lines: Vec<(i64, rust_decimal::Decimal)> = order_lines::table
        .filter(order_lines::order_id.eq(o.id))
        .order(order_lines::product_id)
        .select((order_lines::product_id, order_lines::qty))
        .load(conn)?;
    let mut products = crate::catalog::products::by_ids(conn, &lines.iter().map(|(p, _)| *p).collect::<Vec<_>>())?;
    products.sort_by_key(|p| p.id);
    let pairs: Vec<(crate::catalog::products::Product, rust_decimal::Decimal)> =
        products.into_iter().filter_map(|p| lines.iter().find(|(id, _)| *id == p.id).map(|(_, q)| (p, *q))).collect();
    super::stock::take_stock(conn, o.id, &pairs)
}

/// What staff may change on an order.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    pub status: Option<String>,
    pub note: Option<String>,
    pub internal_note: Option<String>,
    pub manager_account_id: Option<i64>,
    pub expected_date: Option<NaiveDate>,
}

pub fn staff_update(conn: &mut PgConnection, staff: i64, number: &str, patch: &StaffPatch) -> AppResult<i64> {
    let o: Order = orders::table
        .filter(orders::number.eq(number))
        .select(Order::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("order"))?;
    let o = lock(conn, o.id)?;
    if let Some(note) = &patch.internal_note {
        if note.chars().count() > 4000 {
            return Err(AppError::field("internal_note", "must be at most 4,000 characters"));
        }
        diesel::update(orders::table.find(o.id)).set(orders::internal_note.eq(note)).execute(conn)?;
    }
    if patch.manager_account_id == Some(0) {
        // 0: no manager.
        diesel::update(orders::table.find(o.id)).set(orders::manager_account_id.eq(None::<i64>)).execute(conn)?;
    } else if let Some(m) = patch.manager_account_id {
        let is_staff: bool = diesel::select(diesel::dsl::exists(
            crate::db::schema_tenant::staff::table
                .filter(crate::db::schema_tenant::staff::account_id.eq(m))
                .filter(crate::db::schema_tenant::staff::status.eq("active")),
        ))
        .get_result(conn)?;
        if !is_staff {
            return Err(AppError::field("manager_account_id", "must be one of the store's staff"));
        }
        diesel::update(orders::table.find(o.id)).set(orders::manager_account_id.eq(m)).execute(conn)?;
    }
    if let Some(d) = patch.expected_date.filter(|d| o.expected_date != Some(*d)) {
        if o.kind != "preorder" {
            return Err(AppError::field("expected_date", "only pre-orders have an expected date"));
        }
        diesel::update(orders::table.find(o.id)).set(orders::expected_date.eq(d)).execute(conn)?;
        event(conn, o.id, Some(staff), "staff", None, None, &format!("expected date: {d}"))?;
        let title = format!("Предзаказ {}: ожидается {d} / Pre-order {}: expected on {d}", o.number, o.number);
        notify::tell(conn, &[o.account_id], o.company_id, "order_expected", &o.number, &title, &title)?;
    }
    if let Some(to) = patch.status.as_deref().map(str::trim) {
        if !super::history::STATUSES.contains(&to) {
            return Err(AppError::field("status", format!("must be one of {}", super::history::STATUSES.join(", "))));
        }
        if to != o.status {
            if !staff_may(&o.status, to) {
                return Err(AppError::conflict(
                    "invalid_transition",
                    format!("an order that is {} cannot become {}", o.status.replace('_', " "), to.replace('_', " ")),
                ));
            }
            if o.kind == "preorder" && to != "cancelled" {
                return Err(AppError::conflict("preorder", "convert the pre-order into an order first"));
            }
            set_status(conn, &o, to, Some(staff), "staff", patch.note.as_deref().unwrap_or(""))?;
        }
    }
    Ok(o.id)
}

/// The accounting system (the 1C exchange) moves order `id` to `to`: the staff rules and the
/// same effects (stock back on cancelling, ledger and documents on shipping), recorded as
/// `system` with `note`. `Ok(false)` when it already is `to`; an illegal move is a 409.
pub fn system_update(conn: &mut PgConnection, id: i64, to: &str, note: &str) -> AppResult<bool> {
    let o = lock(conn, id)?;
    if o.status == to {
        return Ok(false);
    }
    if !staff_may(&o.status, to) || (o.kind == "preorder" && to != "cancelled") {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("an order that is {} cannot become {}", o.status.replace('_', " "), to.replace('_', " ")),
        ));
    }
    set_status(conn, &o, to, None, "system", note)?;
    Ok(true)
}

/// Turns a pre-order into an order when the goods arrived: its stock is taken now.
pub fn convert_preorder(conn: &mut PgConnection, staff: i64, number: &str, locale: &str) -> AppResult<i64> {
    let id: i64 = orders::table
        .filter(orders::number.eq(number))
        .select(orders::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("order"))?;
    let o = lock(conn, id)?;
    if o.kind != "preorder" || o.status != "new" {
        return Err(AppError::conflict("not_a_preorder", format!("order {} is not a new pre-order", o.number)));
    }
    let taken: i64 = order_allocations::table.filter(order_allocations::order_id.eq(o.id)).count().get_result(conn)?;
    if taken == 0 {
        take_for(conn, &o, locale)?;
    }
    diesel::update(orders::table.find(o.id))
        .set((orders::kind.eq("order"), orders::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    event(conn, o.id, Some(staff), "staff", None, None, "pre-order converted into an order: the goods arrived")?;
    let title = format!(
        "Предзаказ {} стал заказом: товар поступил / Pre-order {} is now an order: the goods arrived",
        o.number, o.number
    );
    notify::tell(conn, &[o.account_id], o.company_id, "order_converted", &o.number, &title, &title)?;
    Ok(o.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_move_orders_forward_and_cancel_only_before_shipping() {
        assert!(staff_may("new", "confirmed"));
        assert!(staff_may("new", "assembled"), "in production is optional");
        assert!(staff_may("assembled", "cancelled"));
        assert!(!staff_may("confirmed", "new"));
        assert!(!staff_may("shipped", "cancelled"));
        assert!(!staff_may("cancelled", "new"));
        assert!(!staff_may("completed", "delivered"));
        assert!(staff_may("on_hold", "new"), "staff release an order held for credit");
        assert!(staff_may("on_hold", "cancelled"));
        assert!(!staff_may("on_hold", "shipped"), "released first");
        assert!(!staff_may("new", "on_hold"));
    }
}
