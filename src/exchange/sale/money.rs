//! Money from 1C: the payment of one of our orders (`Номер оплаты по 1С`), payment documents
//! by the counterparty's INN, and opening balances. Each is booked through the finance code
//! once, keyed in `exchange_applied` by what identifies it in 1C.
//!
//! Opening balances: a `Документ` whose `ХозОперация` mentions «остат» (`Ввод начальных
//! остатков`) or that carries the requisite `Начальный остаток` = true, with the buyer as
//! counterparty; `Сумма` above zero is the buyer's debt (a ledger debit of kind `opening`,
//! due on the document's date), below zero the buyer's advance (a credit).

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::apply::{data_problem, date};
use super::companies;
use crate::db::schema_tenant::{companies as companies_t, exchange_applied, invoices, ledger_entries, orders};
use crate::error::AppResult;
use crate::exchange::commerceml::Document;
use crate::exchange::report::ImportReport;
use crate::finance::ledger::today;
use crate::finance::payments::{book, Received};

pub fn is_opening(d: &Document) -> bool {
    d.operation.to_lowercase().contains("остат") || d.flag("Начальный остаток")
}

pub fn is_payment(operation: &str) -> bool {
    ["оплат", "выплата", "поступление безналичных", "поступление денежных", "приходный кассовый"]
        .iter()
        .any(|w| operation.contains(w))
}

fn applied(conn: &mut PgConnection, key: &str) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(exchange_applied::table.find(key))).get_result(conn)?)
}

fn record(
    conn: &mut PgConnection,
    key: &str,
    kind: &str,
    company: i64,
    order: Option<i64>,
    payment: Option<i64>,
    entry: Option<i64>,
) -> AppResult<()> {
    diesel::insert_into(exchange_applied::table)
        .values((
            exchange_applied::key.eq(key),
            exchange_applied::kind.eq(kind),
            exchange_applied::company_id.eq(company),
            exchange_applied::order_id.eq(order),
            exchange_applied::payment_id.eq(payment),
            exchange_applied::ledger_entry_id.eq(entry),
        ))
        .execute(conn)?;
    Ok(())
}

fn key(prefix: &str, parts: &[&str]) -> String {
    let k = format!("{prefix}:{}", parts.join(":"));
    k.chars().take(300).collect()
}

/// The day money moved: the document's date, not in the future.
fn day(d: &Document, report: &mut ImportReport, what: &str) -> Option<NaiveDate> {
    let on = d.date.as_deref().and_then(date).unwrap_or_else(today);
    if on > today() {
        report.warn(d.line, format!("{what} {}: dated {on}, in the future: skipped", d.number));
        return None;
    }
    Some(on)
}

/// `Номер оплаты по 1С` of order `order`: what is still unpaid on its invoice (or its total
/// without one) is registered as a bank payment, once per 1C payment number.
pub fn order_payment(
    conn: &mut PgConnection,
    order: i64,
    d: &Document,
    number: Option<&str>,
    paid_on: Option<NaiveDate>,
    report: &mut ImportReport,
) -> AppResult<bool> {
    let (order_number, company, total, currency): (String, i64, Decimal, String) = orders::table
        .find(order)
        .select((orders::number, orders::company_id, orders::total, orders::currency))
        .first(conn)?;
    let shown_date = paid_on.map(|p| p.to_string()).unwrap_or_default();
    let k = key("order_payment", &[&order_number, number.unwrap_or(&shown_date)]);
    if applied(conn, &k)? {
        return Ok(false);
    }
    let paid_on = paid_on.unwrap_or_else(today).min(today());
    let invoice: Option<(String, Decimal, Decimal)> = invoices::table
        .filter(invoices::order_id.eq(order))
        .filter(invoices::status.ne("cancelled"))
        .select((invoices::number, invoices::amount, invoices::paid))
        .first(conn)
        .optional()?;
    let (named, amount) = match &invoice {
        Some((n, amount, paid)) => (Some(n.as_str()), *amount - *paid),
        None => (None, total),
    };
    if amount <= Decimal::ZERO {
        record(conn, &k, "order_payment", company, Some(order), None, None)?;
        report.warn(d.line, format!("order {order_number}: paid already, 1C's payment is not registered again"));
        return Ok(false);
    }
    let reference = match number {
        Some(n) => format!("Оплата по 1С № {n} от {}", paid_on.format("%d.%m.%Y")),
        None => format!("Оплата по 1С от {}", paid_on.format("%d.%m.%Y")),
    };
    let money = Received { company, method: "bank", amount, currency: &currency, reference: &reference, paid_on };
    let payment = conn.transaction(|c| book(c, &money, None, named));
    match payment {
        Ok(p) => {
            record(conn, &k, "order_payment", company, Some(order), Some(p.id), None)?;
            report.of("payments").created += 1;
            Ok(true)
        }
        Err(e) => match data_problem(&e) {
            Some(why) => {
                report.warn(d.line, format!("order {order_number}: payment not registered: {why}"));
                Ok(false)
            }
            None => Err(e),
        },
    }
}

/// The buyer company a money document names (created or updated from it first).
fn payer(conn: &mut PgConnection, d: &Document, report: &mut ImportReport, what: &str) -> AppResult<Option<i64>> {
    let Some(c) = d.buyer().filter(|c| c.inn.is_some()) else {
        report.warn(d.line, format!("{what} {}: no counterparty with an INN", d.number));
        return Ok(None);
    };
    companies::upsert(conn, c, report, false)?;
    let inn = c.inn.as_deref().unwrap_or_default().trim();
    let found: Vec<(i64, Option<String>)> = companies_t::table
        .filter(companies_t::inn.eq(inn))
        .order(companies_t::id)
        .select((companies_t::id, companies_t::kpp))
        .load(conn)?;
    let kpp = c.kpp.as_deref().map(str::trim);
    let company = found.iter().find(|(_, k)| kpp.is_some() && k.as_deref() == kpp).or_else(|| found.first());
    if company.is_none() {
        report.warn(d.line, format!("{what} {}: no customer with INN {inn}", d.number));
    }
    Ok(company.map(|(id, _)| *id))
}

/// A payment document (`Выплата безналичных денег`, `Оплата от покупателя` …) from the buyer.
pub fn payment(conn: &mut PgConnection, d: &Document, report: &mut ImportReport) -> AppResult<()> {
    let id = if d.id.is_empty() { d.number.as_str() } else { d.id.as_str() };
    let k = key("payment", &[id, d.date.as_deref().unwrap_or("")]);
    if applied(conn, &k)? {
        report.of("payments").unchanged += 1;
        return Ok(());
    }
    let Some(amount) = d.sum.filter(|s| *s > Decimal::ZERO) else {
        report.warn(d.line, format!("payment {}: no amount above zero", d.number));
        return Ok(());
    };
    let Some(paid_on) = day(d, report, "payment") else { return Ok(()) };
    let Some(company) = payer(conn, d, report, "payment")? else { return Ok(()) };
    let currency = crate::catalog::settings::load(conn)?.currency;
    let reference = format!("п/п № {} от {} (1С)", d.number, paid_on.format("%d.%m.%Y"));
    let money = Received { company, method: "bank", amount, currency: &currency, reference: &reference, paid_on };
    match conn.transaction(|c| book(c, &money, None, None)) {
        Ok(p) => {
            record(conn, &k, "payment", company, None, Some(p.id), None)?;
            report.of("payments").created += 1;
        }
        Err(e) => match data_problem(&e) {
            Some(why) => report.warn(d.line, format!("payment {}: {why}", d.number)),
            None => return Err(e),
        },
    }
    Ok(())
}

/// An opening balance of a buyer company (see the module's note).
pub fn opening(conn: &mut PgConnection, d: &Document, report: &mut ImportReport) -> AppResult<()> {
    let k = key("opening", &[if d.id.is_empty() { d.number.as_str() } else { d.id.as_str() }]);
    if applied(conn, &k)? {
        report.of("opening_balances").unchanged += 1;
        return Ok(());
    }
    let Some(amount) = d.sum.filter(|s| !s.is_zero()) else {
        report.warn(d.line, format!("opening balance {}: no amount", d.number));
        return Ok(());
    };
    let Some(on) = day(d, report, "opening balance") else { return Ok(()) };
    let Some(company) = payer(conn, d, report, "opening balance")? else { return Ok(()) };
    let debt = amount > Decimal::ZERO;
    let document: String =
        format!("Начальный остаток (1С № {} от {})", d.number, on.format("%d.%m.%Y")).chars().take(200).collect();
    let entry: i64 = diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::company_id.eq(company),
            ledger_entries::side.eq(if debt { "debit" } else { "credit" }),
            ledger_entries::kind.eq("opening"),
            ledger_entries::amount.eq(amount.abs()),
            ledger_entries::booked_on.eq(on),
            ledger_entries::due_on.eq(debt.then_some(on)),
            ledger_entries::document.eq(&document),
        ))
        .returning(ledger_entries::id)
        .get_result(conn)?;
    record(conn, &k, "opening", company, None, None, Some(entry))?;
    report.of("opening_balances").created += 1;
    Ok(())
}
