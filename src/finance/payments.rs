//! Payments registered by the supplier's staff (a bank transfer seen on the account), each a
//! credit in the company's ledger; a mistaken one is reversed, never deleted.

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use super::ledger::today;
use crate::db::schema_tenant::{companies, ledger_entries, payments};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::money::{format, parse_amount};

/// `POST /api/v1/admin/payments` as CONTRACT.md has it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    pub customer_id: i64,
    /// A decimal string or a number with at most 2 decimal places, above zero.
    pub amount: Value,
    #[serde(default)]
    pub reference: String,
    /// The day the money arrived (default today); not in the future.
    #[serde(default)]
    pub paid_at: Option<NaiveDate>,
    /// When sent, it must be the store's currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// The invoice it pays (its number); without it the oldest unpaid invoices are paid first.
    #[serde(default)]
    pub invoice: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payments, check_for_backend(diesel::pg::Pg))]
pub struct Payment {
    pub id: i64,
    pub company_id: i64,
    pub method: String,
    pub amount: Decimal,
    pub currency: String,
    pub reference: String,
    pub paid_on: NaiveDate,
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Payment {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "customer_id": self.company_id, "method": self.method, "amount": format(self.amount),
            "currency": self.currency, "reference": self.reference, "paid_at": self.paid_on, "status": self.status,
            "created_at": self.created_at,
        })
    }
}

/// An amount as sent in JSON: a string like "1234.50" or a number; above zero, 2 decimals.
pub fn amount_of(v: &Value) -> Result<Decimal, String> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err("must be an amount like 1234.50".into()),
    };
    let a = parse_amount(&text)?;
    if a.is_zero() {
        return Err("must be above zero".into());
    }
    Ok(a)
}

/// Registers a bank payment from `input` for a customer of the store, in `currency`
/// (`staff`: who registered it; none for an import).
pub fn register(conn: &mut PgConnection, staff: Option<i64>, input: &PaymentIn, currency: &str) -> AppResult<Payment> {
    let mut errors = FieldErrors::new();
    let amount = amount_of(&input.amount).map_err(|e| errors.insert("amount".into(), e)).ok();
    if input.currency.as_deref().is_some_and(|c| !c.trim().eq_ignore_ascii_case(currency)) {
        errors.insert("currency".into(), format!("payments here are in {currency}"));
    }
    let reference = input.reference.trim();
    if reference.chars().count() > 200 {
        errors.insert("reference".into(), "must be at most 200 characters".into());
    }
    let paid_on = input.paid_at.unwrap_or_else(today);
    if paid_on > today() {
        errors.insert("paid_at".into(), "must not be in the future".into());
    }
    let (Some(amount), true) = (amount, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let exists: bool =
        diesel::select(diesel::dsl::exists(companies::table.find(input.customer_id))).get_result(conn)?;
    if !exists {
        return Err(AppError::not_found("customer"));
    }
    let named = input.invoice.as_deref().filter(|n| !n.trim().is_empty());
    let money = Received { company: input.customer_id, method: "bank", amount, currency, reference, paid_on };
    book(conn, &money, staff, named)
}

/// Money received from a customer, as it is booked.
pub struct Received<'a> {
    pub company: i64,
    /// `bank`, `card` or `cash`.
    pub method: &'static str,
    pub amount: Decimal,
    pub currency: &'a str,
    pub reference: &'a str,
    pub paid_on: NaiveDate,
}

/// Books money received: the payment, its credit in the ledger, and the invoices it pays
/// (`named` first, then the oldest unpaid). Checked by the caller.
pub fn book(conn: &mut PgConnection, r: &Received, staff: Option<i64>, named: Option<&str>) -> AppResult<Payment> {
    let payment: Payment = diesel::insert_into(payments::table)
        .values((
            payments::company_id.eq(r.company),
            payments::method.eq(r.method),
            payments::amount.eq(r.amount),
            payments::currency.eq(r.currency),
            payments::reference.eq(r.reference),
            payments::paid_on.eq(r.paid_on),
            payments::created_by.eq(staff),
        ))
        .returning(Payment::as_returning())
        .get_result(conn)?;
    diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::company_id.eq(payment.company_id),
            ledger_entries::side.eq("credit"),
            ledger_entries::kind.eq("payment"),
            ledger_entries::amount.eq(r.amount),
            ledger_entries::booked_on.eq(r.paid_on),
            ledger_entries::payment_id.eq(payment.id),
            ledger_entries::document.eq(r.reference),
            ledger_entries::created_by.eq(staff),
        ))
        .execute(conn)?;
    super::invoices::apply(conn, payment.id, payment.company_id, r.amount, named)?;
    // Every way money comes in (bank, card, statement import) passes here.
    crate::integrations::webhooks::emit(conn, "payment.succeeded", &payment.json())?;
    Ok(payment)
}

/// Reverses payment `id` (registered by mistake): its ledger credit is undone by an entry of
/// the opposite amount; the payment stays, marked reversed.
pub fn reverse(conn: &mut PgConnection, staff: i64, id: i64) -> AppResult<Payment> {
    let p: Payment = payments::table
        .find(id)
        .for_update()
        .select(Payment::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("payment"))?;
    if p.status == "reversed" {
        return Err(AppError::conflict("already_reversed", "this payment is already reversed"));
    }
    if p.method == "card" {
        // The money did arrive: it goes back to the card by a refund, never by a reversal.
        return Err(AppError::conflict("card_payment", "a card payment is refunded, not reversed"));
    }
    let entry: i64 = ledger_entries::table
        .filter(ledger_entries::payment_id.eq(id))
        .filter(ledger_entries::kind.eq("payment"))
        .select(ledger_entries::id)
        .first(conn)?;
    diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::company_id.eq(p.company_id),
            ledger_entries::side.eq("credit"),
            ledger_entries::kind.eq("reversal"),
            ledger_entries::amount.eq(-p.amount),
            ledger_entries::booked_on.eq(today()),
            ledger_entries::payment_id.eq(id),
            ledger_entries::reverses.eq(entry),
            ledger_entries::document.eq(&p.reference),
            ledger_entries::created_by.eq(staff),
        ))
        .execute(conn)?;
    super::invoices::unapply(conn, id)?;
    let reversed = diesel::update(payments::table.find(id))
        .set(payments::status.eq("reversed"))
        .returning(Payment::as_returning())
        .get_result(conn)?;
    // What other payments left unapplied pays the invoices this one no longer pays.
    super::invoices::apply_credit(conn, p.company_id)?;
    Ok(reversed)
}

/// Payments, newest first; `company` limits them to one customer.
pub fn list(conn: &mut PgConnection, company: Option<i64>, offset: i64, limit: i64) -> AppResult<(Vec<Payment>, i64)> {
    let mut q = payments::table.into_boxed();
    let mut count = payments::table.into_boxed();
    if let Some(c) = company {
        q = q.filter(payments::company_id.eq(c));
        count = count.filter(payments::company_id.eq(c));
    }
    let items = q
        .order((payments::paid_on.desc(), payments::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(Payment::as_select())
        .load(conn)?;
    Ok((items, count.count().get_result(conn)?))
}
