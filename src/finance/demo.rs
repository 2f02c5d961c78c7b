//! A demo buyer's finance history, so the demo's Finance pages have something to show: a
//! debt carried over from 1C (partly overdue), a bank payment, a credit limit and terms.

use chrono::Duration;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

use super::ledger::today;
use super::payments::{self, PaymentIn};
use crate::db::schema_tenant::{companies, ledger_entries};
use crate::error::AppResult;

/// Gives `company` its history unless its ledger has entries already.
pub fn history(conn: &mut PgConnection, company: i64, currency: &str) -> AppResult<()> {
    let any: i64 = ledger_entries::table.filter(ledger_entries::company_id.eq(company)).count().get_result(conn)?;
    if any > 0 {
        return Ok(());
    }
    diesel::update(companies::table.find(company))
        .set((companies::credit_limit.eq(Decimal::from(500_000)), companies::payment_terms_days.eq(Some(14))))
        .execute(conn)?;
    let day = today();
    diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::company_id.eq(company),
            ledger_entries::side.eq("debit"),
            ledger_entries::kind.eq("opening"),
            ledger_entries::amount.eq(Decimal::new(12_450_000, 2)),
            ledger_entries::booked_on.eq(day - Duration::days(45)),
            ledger_entries::due_on.eq(day - Duration::days(31)),
            ledger_entries::document.eq("Сальдо из 1С"),
        ))
        .execute(conn)?;
    let input = PaymentIn {
        customer_id: company,
        amount: json!("80000.00"),
        reference: format!("п/п 412 от {}", (day - Duration::days(10)).format("%d.%m.%Y")),
        paid_at: Some(day - Duration::days(10)),
        currency: None,
        invoice: None,
    };
    payments::register(conn, None, &input, currency)?;
    Ok(())
}
