//! Staff decisions: approve (with the way back) or reject (with a reason) a request, mark the
//! goods in transit, and receive them: stock back to the chosen warehouse (the defect
//! warehouse holds them as reserved, so they are counted but never sold), a `return` credit in
//! the ledger, and the return note issued. All in one transaction.

use chrono::Datelike;
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::{note_pdf, thread, Return, DEFECT_WAREHOUSE, WAYS_BACK};
use crate::db::schema_tenant::{ledger_entries, return_documents, return_lines, returns, warehouses};
use crate::error::{AppError, AppResult};
use crate::finance::ledger::today;
use crate::money::format;
use crate::pdf::Fonts;

/// Moves the request to `to` (the caller checked the move).
pub fn set_status(conn: &mut PgConnection, r: &Return, to: &str) -> AppResult<()> {
    diesel::update(returns::table.find(r.id))
        .set((returns::status.eq(to), returns::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}

fn not_now(r: &Return, action: &str) -> AppError {
    AppError::conflict("return_status", format!("request {} is {}: it cannot be {action} now", r.number, r.status))
}

/// What staff decide, as sent (`PATCH /admin/returns/{number}`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub status: String,
    pub reason: Option<String>,
    pub way_back: Option<String>,
    pub warehouse: Option<String>,
}

/// Applies a decision; answers the request as it stands after it.
pub fn apply(conn: &mut PgConnection, staff: i64, number: &str, d: &Decision, doc: &DocCtx) -> AppResult<Return> {
    let r = super::find_for(conn, None, number, true)?;
    let note = d.reason.as_deref().map(str::trim).unwrap_or_default();
    if note.chars().count() > 2000 {
        return Err(AppError::field("reason", "at most 2,000 characters"));
    }
    match d.status.as_str() {
        "approved" => approve(conn, &r, d.way_back.as_deref(), note)?,
        "rejected" => reject(conn, &r, note)?,
        "in_transit" => {
            if r.status != "approved" {
                return Err(not_now(&r, "marked in transit"));
            }
            set_status(conn, &r, "in_transit")?;
            thread::system(conn, r.id, "in_transit", "Товар в пути / The goods are on their way")?;
        }
        "received" | "credited" => receive(conn, &r, staff, d.warehouse.as_deref(), doc)?,
        _ => return Err(AppError::field("status", "must be approved, rejected, in_transit or received")),
    }
    let after = super::find_for(conn, None, number, false)?;
    if after.status != "in_transit" {
        let title = format!(
            "Возврат {0}: {1} / Return {0}: {2}",
            after.number,
            super::ru(&after.status),
            after.status.replace('_', " ")
        );
        thread::tell_buyer(conn, &after, &title, &after.decision_note)?;
    }
    Ok(after)
}

fn approve(conn: &mut PgConnection, r: &Return, way: Option<&str>, note: &str) -> AppResult<()> {
    if r.status != "requested" {
        return Err(not_now(r, "approved"));
    }
    let way = way
        .filter(|w| WAYS_BACK.contains(w))
        .ok_or_else(|| AppError::field("way_back", "must be pickup, carrier or drop_off"))?;
    diesel::update(returns::table.find(r.id))
        .set((returns::way_back.eq(way), returns::decision_note.eq(note)))
        .execute(conn)?;
    set_status(conn, r, "approved")?;
    let body =
        format!("Возврат одобрен, способ: {} / Return approved, way back: {}", super::ru(way), way.replace('_', " "));
    let body = if note.is_empty() { body } else { format!("{body}\n{note}") };
    thread::system(conn, r.id, "approved", &body)
}

fn reject(conn: &mut PgConnection, r: &Return, note: &str) -> AppResult<()> {
    if r.status != "requested" {
        return Err(not_now(r, "rejected"));
    }
    if note.is_empty() {
        return Err(AppError::field("reason", "say why the request is rejected"));
    }
    diesel::update(returns::table.find(r.id)).set(returns::decision_note.eq(note)).execute(conn)?;
    set_status(conn, r, "rejected")?;
    thread::system(conn, r.id, "rejected", &format!("Возврат отклонён / Return rejected: {note}"))
}

/// The warehouse `code`, or the defect warehouse (created when missing), or — without a code
/// — the defect warehouse for defects and warranty cases and the first warehouse otherwise.
fn warehouse(conn: &mut PgConnection, r: &Return, code: Option<&str>) -> AppResult<(i64, String)> {
    let code = match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => c.to_owned(),
        None if matches!(r.reason.as_str(), "defect" | "warranty") => DEFECT_WAREHOUSE.to_owned(),
        None => warehouses::table
            .order((warehouses::position, warehouses::id))
            .filter(warehouses::code.ne(DEFECT_WAREHOUSE))
            .select(warehouses::code)
            .first(conn)
            .optional()?
            .unwrap_or_else(|| DEFECT_WAREHOUSE.to_owned()),
    };
    if code == DEFECT_WAREHOUSE {
        diesel::insert_into(warehouses::table)
            .values((
                warehouses::code.eq(DEFECT_WAREHOUSE),
                warehouses::name.eq("Брак / Defect"),
                warehouses::position.eq(1000),
            ))
            .on_conflict(warehouses::code)
            .do_nothing()
            .execute(conn)?;
    }
    let id = warehouses::table
        .filter(warehouses::code.eq(&code))
        .select(warehouses::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::field("warehouse", format!("no warehouse with the code {code}")))?;
    Ok((id, code))
}

/// What issuing the return note needs from outside the transaction.
pub struct DocCtx {
    pub fonts: std::sync::Arc<Fonts>,
    pub store_name: String,
}

fn receive(conn: &mut PgConnection, r: &Return, staff: i64, code: Option<&str>, doc: &DocCtx) -> AppResult<()> {
    if !matches!(r.status.as_str(), "approved" | "in_transit") {
        return Err(not_now(r, "received"));
    }
    let (wh, code) = warehouse(conn, r, code)?;
    let held = code == DEFECT_WAREHOUSE;
    let lines: Vec<(i64, Decimal)> = return_lines::table
        .filter(return_lines::return_id.eq(r.id))
        .order(return_lines::product_id)
        .select((return_lines::product_id, return_lines::qty))
        .load(conn)?;
    for (product, qty) in &lines {
        // Defect stock is held (reserved = quantity): counted, never available to sell.
        diesel::sql_query(
            "INSERT INTO stock (product_id, warehouse_id, quantity, reserved) VALUES ($1, $2, $3, CASE WHEN $4 THEN $3 ELSE 0 END) \
             ON CONFLICT (product_id, warehouse_id) DO UPDATE SET quantity = stock.quantity + EXCLUDED.quantity, \
                 reserved = stock.reserved + EXCLUDED.reserved, updated_at = now()",
        )
        .bind::<diesel::sql_types::BigInt, _>(product)
        .bind::<diesel::sql_types::BigInt, _>(wh)
        .bind::<diesel::sql_types::Numeric, _>(qty)
        .bind::<diesel::sql_types::Bool, _>(held)
        .execute(conn)?;
    }
    diesel::update(returns::table.find(r.id)).set(returns::warehouse_id.eq(wh)).execute(conn)?;
    set_status(conn, r, "received")?;
    thread::system(
        conn,
        r.id,
        "received",
        &format!("Товар принят на склад {code} / Goods received into warehouse {code}"),
    )?;
    if r.amount > Decimal::ZERO {
        let order_no: String = crate::db::schema_tenant::orders::table
            .find(r.order_id)
            .select(crate::db::schema_tenant::orders::number)
            .first(conn)?;
        let year = today().year();
        let seq = crate::documents::next_number(conn, CREDIT_NOTE, year)?;
        let number = format!("ВЗ-{year}-{seq:05}");
        let entry: i64 = diesel::insert_into(ledger_entries::table)
            .values((
                ledger_entries::company_id.eq(r.company_id),
                ledger_entries::side.eq("credit"),
                ledger_entries::kind.eq("return"),
                ledger_entries::amount.eq(r.amount),
                ledger_entries::booked_on.eq(today()),
                ledger_entries::order_id.eq(r.order_id),
                ledger_entries::document.eq(&r.number),
                ledger_entries::created_by.eq(staff),
            ))
            .returning(ledger_entries::id)
            .get_result(conn)?;
        diesel::update(returns::table.find(r.id)).set(returns::ledger_entry_id.eq(entry)).execute(conn)?;
        let note = note_pdf::load(conn, r, &number, &order_no, &doc.store_name)?;
        let pdf = note_pdf::render(&doc.fonts, &note)?;
        diesel::insert_into(return_documents::table)
            .values((
                return_documents::return_id.eq(r.id),
                return_documents::number.eq(&number),
                return_documents::issued_on.eq(note.issued_on),
                return_documents::amount.eq(r.amount),
                return_documents::pdf.eq(&pdf),
            ))
            .execute(conn)?;
        register(conn, r, staff, &note, seq, &number, pdf)?;
        let body = format!(
            "Зачтено {0}, накладная на возврат № {number} / Credited {0}, return note {number}",
            format(r.amount)
        );
        thread::system(conn, r.id, "credited", &body)?;
        set_status(conn, r, "credited")?;
    }
    Ok(())
}

/// The kind the return note has among the store's documents (`documents`, the archive).
pub const CREDIT_NOTE: &str = "credit_note";

/// Lists the return note with the store's documents (archive, EDO-free): numbered in the
/// `credit_note` sequence of its year, correcting the order's shipping document when there
/// is one, its PDF kept as drawn.
fn register(
    conn: &mut PgConnection,
    r: &Return,
    staff: i64,
    note: &note_pdf::ReturnNote,
    seq: i32,
    number: &str,
    pdf: Vec<u8>,
) -> AppResult<()> {
    use crate::db::schema_tenant::documents;
    let corrects: Option<i64> = documents::table
        .filter(documents::order_id.eq(r.order_id))
        .filter(documents::kind.eq_any(["upd", "torg12"]))
        .order(documents::id)
        .select(documents::id)
        .first(conn)
        .optional()?;
    let vat: Decimal = note.lines.iter().map(|l| l.vat_amount).sum();
    let snapshot = serde_json::json!({
        "return": r.number, "order": note.order_number, "reason": r.reason, "amount": format(r.amount),
        "lines": note.lines.iter().map(|l| serde_json::json!({"sku": l.sku, "name": l.name, "qty": crate::money::format_qty(l.qty),
            "unit": l.unit, "price": format(l.price), "amount": format(l.amount), "vat_rate": l.vat_rate,
            "vat_amount": format(l.vat_amount)})).collect::<Vec<_>>(),
    });
    crate::documents::insert(
        conn,
        seq,
        number,
        crate::documents::NewDocument {
            kind: CREDIT_NOTE.into(),
            company_id: r.company_id,
            order_id: Some(r.order_id),
            source: ("return".into(), r.id),
            corrects,
            issued_on: note.issued_on,
            amount: r.amount,
            vat_amount: vat,
            snapshot,
            xml: None,
            pdf: Some(pdf),
            created_by: Some(staff),
        },
    )?;
    Ok(())
}
