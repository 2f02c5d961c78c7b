//! Money given back to a card: booked in the ledger as a `refund` (a credit entry of the
//! opposite sign, like a reversal, but for any part of the payment), the payment's refunded
//! part, and the invoices the payment paid reopened by as much.

use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::db::schema_tenant::{invoices, ledger_entries, payment_allocations, payments};
use crate::error::{AppError, AppResult};
use crate::finance::ledger::today;

/// Books `amount` of payment `payment` refunded. What the payment left unapplied goes back
/// first; the rest is taken back from the invoices it paid, the newest first.
pub fn book(
    conn: &mut PgConnection,
    payment: i64,
    amount: Decimal,
    reference: &str,
    actor: Option<i64>,
) -> AppResult<()> {
    if amount <= Decimal::ZERO {
        return Ok(());
    }
    let (company, paid, refunded): (i64, Decimal, Decimal) = payments::table
        .find(payment)
        .for_update()
        .select((payments::company_id, payments::amount, payments::refunded))
        .first(conn)?;
    if refunded + amount > paid {
        return Err(AppError::conflict("refund_too_large", "more than the payment would be refunded"));
    }
    diesel::insert_into(ledger_entries::table)
        .values((
            ledger_entries::company_id.eq(company),
            ledger_entries::side.eq("credit"),
            ledger_entries::kind.eq("refund"),
            ledger_entries::amount.eq(-amount),
            ledger_entries::booked_on.eq(today()),
            ledger_entries::payment_id.eq(payment),
            ledger_entries::document.eq(reference),
            ledger_entries::created_by.eq(actor),
        ))
        .execute(conn)?;
    let allocated: Option<Decimal> = payment_allocations::table
        .filter(payment_allocations::payment_id.eq(payment))
        .select(diesel::dsl::sum(payment_allocations::amount))
        .first(conn)?;
    let unapplied = (paid - refunded - allocated.unwrap_or_default()).max(Decimal::ZERO);
    let now_refunded = refunded + amount;
    let status = if now_refunded == paid { "refunded" } else { "completed" };
    diesel::update(payments::table.find(payment))
        .set((payments::refunded.eq(now_refunded), payments::status.eq(status)))
        .execute(conn)?;
    take_back(conn, payment, amount - amount.min(unapplied))?;
    // Money paid ahead by other payments pays what this reopened.
    crate::finance::invoices::apply_credit(conn, company)
}

/// Takes `amount` of what payment `payment` paid on invoices back, the newest invoice first.
fn take_back(conn: &mut PgConnection, payment: i64, mut amount: Decimal) -> AppResult<()> {
    if amount <= Decimal::ZERO {
        return Ok(());
    }
    // Locked in the order `invoices::apply` locks them, so the two never wait on each other.
    let parts: Vec<(i64, Decimal, Decimal, Decimal, String)> = invoices::table
        .inner_join(payment_allocations::table.on(payment_allocations::invoice_id.eq(invoices::id)))
        .filter(payment_allocations::payment_id.eq(payment))
        .order((invoices::issued_on, invoices::id))
        .for_update()
        .select((invoices::id, invoices::amount, invoices::paid, payment_allocations::amount, invoices::status))
        .load(conn)?;
    for (invoice, total, paid, part, status) in parts.into_iter().rev() {
        if amount <= Decimal::ZERO {
            break;
        }
        let take = amount.min(part);
        let alloc = payment_allocations::table.find((payment, invoice));
        if take == part {
            diesel::delete(alloc).execute(conn)?;
        } else {
            diesel::update(alloc).set(payment_allocations::amount.eq(part - take)).execute(conn)?;
        }
        let paid = paid - take;
        let status = match status.as_str() {
            "cancelled" => "cancelled",
            _ if paid >= total => "paid",
            _ if paid > Decimal::ZERO => "partly_paid",
            _ => "unpaid",
        };
        diesel::update(invoices::table.find(invoice))
            .set((invoices::paid.eq(paid), invoices::status.eq(status)))
            .execute(conn)?;
        amount -= take;
    }
    Ok(())
}

/// A refund staff asked for, written before the processor is called.
pub struct Asked {
    pub id: i64,
    pub amount_minor: i64,
    pub attempt: super::CardPayment,
}

/// Opens a refund of `amount` (all that is left when `None`) of card payment `attempt`: 409
/// unless it succeeded and was booked, or for more than is left to refund. A refund of the
/// same amount still waiting for the processor is reused (with its idempotency key).
pub fn ask(conn: &mut PgConnection, attempt: i64, amount: Option<Decimal>, actor: i64) -> AppResult<Asked> {
    use crate::db::schema_tenant::{card_payments as cp, card_refunds as cr};
    let a: super::CardPayment = cp::table
        .find(attempt)
        .for_update()
        .select(super::CardPayment::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("card payment"))?;
    if a.payment_id.is_none() {
        return Err(AppError::conflict("not_paid", "only a card payment that went through can be refunded"));
    }
    let asked: Vec<(i64, i64, String)> = cr::table
        .filter(cr::card_payment_id.eq(a.id))
        .filter(cr::status.ne("failed"))
        .select((cr::id, cr::amount_minor, cr::status))
        .load(conn)?;
    let ours: i64 = asked.iter().map(|r| r.1).sum();
    let left = a.amount_minor - a.refunded_minor.max(ours);
    let minor = match amount {
        Some(x) => crate::money::minor_units(x)
            .filter(|m| *m > 0)
            .ok_or_else(|| AppError::field("amount", "must be an amount above zero with at most 2 decimal places"))?,
        None => left,
    };
    if let Some((id, _, _)) = asked.iter().find(|r| r.2 == "pending" && r.1 == minor) {
        return Ok(Asked { id: *id, amount_minor: minor, attempt: a });
    }
    if minor <= 0 || minor > left {
        return Err(AppError::conflict(
            "refund_too_large",
            format!("at most {} can be refunded", crate::money::format(Decimal::new(left, 2))),
        ));
    }
    let id: i64 = diesel::insert_into(cr::table)
        .values((
            cr::card_payment_id.eq(a.id),
            cr::amount.eq(Decimal::new(minor, 2)),
            cr::amount_minor.eq(minor),
            cr::created_by.eq(actor),
        ))
        .returning(cr::id)
        .get_result(conn)?;
    Ok(Asked { id, amount_minor: minor, attempt: a })
}

/// The processor's answer to refund `id`: `Ok(reference)` books it (as far as the refunds
/// known add up beyond what the processor reported; its `charge.refunded` event completes
/// the rest), `Err((message, refused))` marks it failed when refused, else leaves it waiting.
pub fn answered(conn: &mut PgConnection, id: i64, answer: Result<&str, (&str, bool)>, actor: i64) -> AppResult<()> {
    use crate::db::schema_tenant::{card_payments as cp, card_refunds as cr};
    let attempt: i64 = cr::table.find(id).select(cr::card_payment_id).first(conn)?;
    // The attempt first, as everywhere else, then the refund.
    cp::table.find(attempt).for_update().select(cp::id).first::<i64>(conn)?;
    match answer {
        Ok(reference) => {
            diesel::update(cr::table.find(id).filter(cr::status.eq("pending")))
                .set((cr::status.eq("succeeded"), cr::refund_ref.eq(reference), cr::last_error.eq("")))
                .execute(conn)?;
            let known: i64 = cr::table
                .filter(cr::card_payment_id.eq(attempt))
                .filter(cr::status.eq("succeeded"))
                .select(cr::amount_minor)
                .load::<i64>(conn)?
                .into_iter()
                .sum();
            diesel::update(cp::table.find(attempt).filter(cp::refunded_minor.lt(known)))
                .set(cp::refunded_minor.eq(known))
                .execute(conn)?;
            super::events::reconcile(conn, attempt, Some(actor))?;
        }
        Err((message, refused)) => {
            let message: String = message.chars().take(500).collect();
            let status = if refused { "failed" } else { "pending" };
            diesel::update(cr::table.find(id).filter(cr::status.eq("pending")))
                .set((cr::status.eq(status), cr::last_error.eq(message)))
                .execute(conn)?;
        }
    }
    Ok(())
}
