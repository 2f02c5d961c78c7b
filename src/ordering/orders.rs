//! Orders as they are read: the order with its lines and history, lookups by number, and
//! the history events every change writes. Placing an order is `place` and `place_write`.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::db::schema_tenant::{order_events, order_lines, orders};
use crate::error::{AppError, AppResult};
use crate::money::{format, format_qty};

pub const KINDS: &[&str] = &["order", "preorder"];
pub const PAYMENT_METHODS: &[&str] = &["invoice", "card", "on_account"];
pub const DELIVERY_METHODS: &[&str] = &["pickup", "delivery"];
/// The tenant setting holding the order number prefix.
pub const ORDER_PREFIX: &str = "order_prefix";

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
pub type LineRow = (i32, String, String, String, Decimal, Decimal, String, Decimal, Decimal);
/// `(at, by, from, to, note)`
pub type EventRow = (DateTime<Utc>, String, Option<String>, Option<String>, String);

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
    let mut v = render(&o, &lines, &events);
    v["invoice"] = json!(crate::finance::invoices::number_of(conn, id)?);
    Ok(v)
}

/// The order as [`view`] answers it, from its row, lines and history.
pub fn render(o: &Order, lines: &[LineRow], events: &[EventRow]) -> Value {
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
    // The live invoice for payment, when there is one (finance::invoices).
    v["invoice"] = Value::Null;
    v
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
    // The order's number and date in 1C, once the 1C exchange sent them.
    let in_1c = crate::exchange::sale::number_in_1c(conn, id)?;
    v["number_1c"] = json!(in_1c.as_ref().map(|(n, _)| n));
    v["date_1c"] = json!(in_1c.and_then(|(_, d)| d));
    Ok(v)
}
