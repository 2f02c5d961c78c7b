//! One file from 1C applied, in the caller's tenant transaction: counterparties, then each
//! document. Orders are only updated, never created; a move our rules forbid, an unknown
//! order or a document we do not handle is a warning and the rest of the file still applies.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::status::{from_1c, Mapped};
use super::{companies, money, state};
use crate::db::schema_tenant::orders;
use crate::error::{AppError, AppResult};
use crate::exchange::commerceml::{CmlDocument, Document};
use crate::exchange::report::ImportReport;
use crate::ordering::lifecycle::{system_update, CHAIN};

pub fn file(conn: &mut PgConnection, doc: &CmlDocument, report: &mut ImportReport) -> AppResult<()> {
    for c in &doc.counterparties {
        companies::upsert(conn, c, report, true)?;
    }
    for d in &doc.documents {
        document(conn, d, report)?;
    }
    Ok(())
}

/// A date as 1C writes it: `2024-03-01`, `2024-03-01T10:00:00`, `01.03.2024 10:00:00`.
pub fn date(s: &str) -> Option<NaiveDate> {
    let head: String = s.trim().chars().take(10).collect();
    NaiveDate::parse_from_str(&head, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(&head, "%d.%m.%Y")).ok()
}

/// What an error of ours says, when it is about the data (then it becomes a warning); `None`
/// for a failure of our side, which aborts the import.
pub fn data_problem(e: &AppError) -> Option<String> {
    match e {
        AppError::Conflict { message, .. } => Some(message.clone()),
        AppError::Validation(fields) => {
            Some(fields.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "))
        }
        AppError::NotFound(what) => Some(format!("{what} not found")),
        AppError::BadRequest(m) | AppError::Forbidden(m) => Some(m.clone()),
        _ => None,
    }
}

fn document(conn: &mut PgConnection, d: &Document, report: &mut ImportReport) -> AppResult<()> {
    let operation = d.operation.trim().to_lowercase();
    if money::is_opening(d) {
        return money::opening(conn, d, report);
    }
    if operation == "заказ товара" {
        if !d.role.is_empty() && d.role != "Продавец" {
            report.warn(d.line, format!("document {}: role «{}» is not the seller's: skipped", d.number, d.role));
            return Ok(());
        }
        for c in d.counterparties.iter().filter(|c| c.inn.is_some()) {
            companies::upsert(conn, c, report, false)?;
        }
        return order(conn, d, report);
    }
    if money::is_payment(&operation) {
        return money::payment(conn, d, report);
    }
    report.warn(d.line, format!("document {}: operation «{}» is not imported", d.number, d.operation));
    Ok(())
}

fn find(conn: &mut PgConnection, d: &Document) -> AppResult<Option<(i64, String)>> {
    for key in [d.number.trim(), d.id.trim()].into_iter().filter(|k| !k.is_empty()) {
        let found = orders::table
            .filter(orders::number.eq(key))
            .select((orders::id, orders::status))
            .first::<(i64, String)>(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn position(status: &str) -> Option<usize> {
    CHAIN.iter().position(|s| *s == status)
}

/// Moves the order in a savepoint: a move our rules refuse becomes a warning.
fn move_to(
    conn: &mut PgConnection,
    id: i64,
    number: &str,
    to: &str,
    report: &mut ImportReport,
    line: usize,
) -> AppResult<bool> {
    let current: String = orders::table.find(id).select(orders::status).first(conn)?;
    if current == to {
        return Ok(false);
    }
    if let (Some(a), Some(b)) = (position(&current), position(to)) {
        if b < a {
            report.warn(line, format!("order {number} is {current} already: 1C's status {to} is not applied"));
            return Ok(false);
        }
    }
    let note = "1C";
    match conn.transaction(|c| system_update(c, id, to, note)) {
        Ok(moved) => Ok(moved),
        Err(e) => match data_problem(&e) {
            Some(why) => {
                report.warn(line, format!("order {number}: {why}"));
                Ok(false)
            }
            None => Err(e),
        },
    }
}

fn order(conn: &mut PgConnection, d: &Document, report: &mut ImportReport) -> AppResult<()> {
    let Some((id, _)) = find(conn, d)? else {
        report.warn(d.line, format!("order {}: not found here (orders created in 1C are not imported)", d.number));
        return Ok(());
    };
    let number = d.number.trim().to_owned();
    let mut changed = false;
    let date_1c = d.date_in_1c().and_then(date);
    if d.number_in_1c().is_some() || date_1c.is_some() {
        changed |= state::set_1c_number(conn, id, d.number_in_1c(), date_1c)?;
    }
    let cancelled = d.deleted || d.flag("Отменен");
    let target = if cancelled {
        Mapped::To("cancelled")
    } else {
        from_1c(d.requisite("Статуса заказа ИД"), d.requisite("Статус заказа"))
    };
    match target {
        Mapped::To(to) => changed |= move_to(conn, id, &number, to, report, d.line)?,
        Mapped::Neutral => {}
        Mapped::Unknown => report.warn(
            d.line,
            format!("order {number}: 1C's status «{}» has no match here", d.requisite("Статус заказа").unwrap_or("")),
        ),
    }
    let shipped = d.requisite("Дата отгрузки по 1С").is_some() || d.requisite("Номер отгрузки по 1С").is_some();
    if shipped && !cancelled {
        let current: String = orders::table.find(id).select(orders::status).first(conn)?;
        if !matches!(current.as_str(), "shipped" | "delivered" | "completed") {
            changed |= move_to(conn, id, &number, "shipped", report, d.line)?;
        }
    }
    let pay_number = d.requisite("Номер оплаты по 1С");
    let pay_date = d.requisite("Дата оплаты по 1С");
    if pay_number.is_some() || pay_date.is_some() {
        changed |= money::order_payment(conn, id, d, pay_number, pay_date.and_then(date), report)?;
    }
    if changed {
        state::synced_by_1c(conn, id)?;
        report.of("orders").updated += 1;
    } else {
        report.of("orders").unchanged += 1;
    }
    Ok(())
}
