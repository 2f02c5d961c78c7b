//! Card payments of invoices (feature `card_payments`): an attempt row written before the
//! card processor is called (its id gives the processor's idempotency key, so a retry after a
//! timeout reuses the same PaymentIntent), at most one live attempt per invoice, the
//! processor's events applied once each with state that never goes backwards
//! ([`events`]), and refunds through the ledger ([`refunds`]). The processor itself is a
//! [`gateway::Gateway`]: Stripe, or the clearly labelled test gateway without Stripe keys.

pub mod events;
pub mod gateway;
pub mod refunds;
pub mod signature;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::db::schema_tenant::{card_payments as cp, invoices};
use crate::error::{AppError, AppResult};
use crate::money::{format, minor_units};
use crate::platform::features::Plan;
use crate::platform::tenant_settings;

/// The tenant setting with the supplier's Stripe Connect account (`acct_…`): card payments
/// are direct charges on it, with the platform's fee. Without it they go to the platform's
/// own account.
pub const STRIPE_ACCOUNT: &str = "stripe_account";

/// Statuses in which an attempt is live (one per invoice).
pub const LIVE: &[&str] = &["creating", "requires_payment", "processing", "failed"];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cp, check_for_backend(diesel::pg::Pg))]
pub struct CardPayment {
    pub id: i64,
    pub invoice_id: i64,
    pub company_id: i64,
    pub gateway: String,
    pub amount: Decimal,
    pub amount_minor: i64,
    pub currency: String,
    pub stripe_account: Option<String>,
    pub fee_minor: i64,
    pub intent_id: Option<String>,
    pub client_secret: Option<String>,
    pub status: String,
    pub state_at: i64,
    pub flag: Option<String>,
    pub flag_detail: String,
    pub payment_id: Option<i64>,
    pub refunded_minor: i64,
    pub last_error: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CardPayment {
    /// The processor's idempotency key for creating this attempt's PaymentIntent: the same for
    /// every retry, different for every attempt (ids are per tenant, hence the tenant).
    pub fn intent_key(&self, tenant_id: i64) -> String {
        format!("tradeport-{tenant_id}-card-{}-intent", self.id)
    }

    pub fn refunded(&self) -> Decimal {
        Decimal::new(self.refunded_minor, 2)
    }

    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "invoice_id": self.invoice_id, "customer_id": self.company_id, "gateway": self.gateway,
            "amount": format(self.amount), "currency": self.currency, "status": self.status,
            "intent_id": self.intent_id, "stripe_account": self.stripe_account,
            "application_fee": format(Decimal::new(self.fee_minor, 2)),
            "flag": self.flag, "flag_detail": self.flag_detail, "payment_id": self.payment_id,
            "refunded": format(self.refunded()), "created_at": self.created_at,
        })
    }
}

/// The platform's application fee on card payments, in basis points of the amount, by plan.
pub fn fee_bps(plan: Plan) -> i64 {
    match plan {
        Plan::Start => 200,
        Plan::Business => 100,
        Plan::Enterprise => 50,
    }
}

/// The fee on `amount_minor`, rounded half-up to a minor unit.
pub fn fee_minor(amount_minor: i64, plan: Plan) -> i64 {
    let exact = i128::from(amount_minor) * i128::from(fee_bps(plan));
    i64::try_from((exact + 5_000) / 10_000).unwrap_or(0)
}

/// Checks a `stripe_account` setting: a connected account id, or empty to clear it.
pub fn check_account(v: &Value) -> Result<Value, String> {
    match v {
        Value::Null => Ok(json!("")),
        Value::String(s) if s.is_empty() => Ok(json!("")),
        Value::String(s)
            if s.len() <= 64
                && s.strip_prefix("acct_")
                    .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric())) =>
        {
            Ok(v.clone())
        }
        _ => Err("must be a Stripe account id like acct_1A2b3C".into()),
    }
}

/// The store's connected account, if set.
pub fn account(conn: &mut PgConnection) -> AppResult<Option<String>> {
    Ok(tenant_settings::get(conn, STRIPE_ACCOUNT)?
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|s| !s.is_empty()))
}

/// Who opens an attempt, on which gateway, for which store plan and currency.
pub struct Opening<'a> {
    pub company: i64,
    pub actor: i64,
    pub gateway: &'static str,
    pub plan: Plan,
    pub currency: &'a str,
}

/// The live attempt to pay invoice `invoice` of the company by card: the one under way when
/// it is for what is left to pay, else a new one (an attempt for another amount is
/// superseded). 404 for another company's invoice, 409 when nothing is left to pay.
pub fn open(conn: &mut PgConnection, invoice: i64, o: &Opening) -> AppResult<CardPayment> {
    let inv: Option<(Decimal, Decimal, String)> = invoices::table
        .filter(invoices::id.eq(invoice))
        .filter(invoices::company_id.eq(o.company))
        .for_update()
        .select((invoices::amount, invoices::paid, invoices::status))
        .first(conn)
        .optional()?;
    let (amount, paid, status) = inv.ok_or_else(|| AppError::not_found("invoice"))?;
    let left = amount - paid;
    if !matches!(status.as_str(), "unpaid" | "partly_paid") || left <= Decimal::ZERO {
        return Err(AppError::conflict("invoice_not_open", "this invoice is paid or cancelled"));
    }
    let minor = minor_units(left)
        .filter(|m| *m > 0)
        .ok_or_else(|| AppError::conflict("amount_not_payable", "this amount cannot be charged to a card"))?;
    let live: Option<CardPayment> = cp::table
        .filter(cp::invoice_id.eq(invoice))
        .filter(cp::status.eq_any(LIVE))
        .for_update()
        .select(CardPayment::as_select())
        .first(conn)
        .optional()?;
    if let Some(l) = live {
        if l.amount_minor == minor && l.gateway == o.gateway && l.flag.is_none() {
            return Ok(l);
        }
        if l.status == "processing" {
            return Err(AppError::conflict(
                "card_payment_processing",
                "a card payment of this invoice is being processed",
            ));
        }
        // Superseded: if it is paid all the same, its event still books the money.
        diesel::update(cp::table.find(l.id))
            .set((cp::status.eq("canceled"), cp::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
    }
    let account = if o.gateway == "stripe" { account(conn)? } else { None };
    let fee = if account.is_some() { fee_minor(minor, o.plan) } else { 0 };
    Ok(diesel::insert_into(cp::table)
        .values((
            cp::invoice_id.eq(invoice),
            cp::company_id.eq(o.company),
            cp::gateway.eq(o.gateway),
            cp::amount.eq(left),
            cp::amount_minor.eq(minor),
            cp::currency.eq(o.currency.to_lowercase()),
            cp::stripe_account.eq(account),
            cp::fee_minor.eq(fee),
            cp::created_by.eq(o.actor),
        ))
        .returning(CardPayment::as_returning())
        .get_result(conn)?)
}

/// The live attempt of the order's live invoice (the contract's `/orders/{number}/payments`).
pub fn invoice_of_order(conn: &mut PgConnection, company: i64, number: &str) -> AppResult<i64> {
    use crate::db::schema_tenant::orders;
    invoices::table
        .inner_join(orders::table)
        .filter(orders::number.eq(number))
        .filter(orders::company_id.eq(company))
        .filter(invoices::status.ne("cancelled"))
        .select(invoices::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("invoice of this order"))
}

/// Records the processor's answer: the intent's id (looked up by the webhook through
/// `public.stripe_intents`) and its client secret; `creating` becomes `requires_payment`.
pub fn created(conn: &mut PgConnection, tenant_id: i64, id: i64, intent: &gateway::Intent) -> AppResult<CardPayment> {
    use crate::db::schema_platform::stripe_intents as si;
    diesel::insert_into(si::table)
        .values((si::intent_id.eq(&intent.id), si::tenant_id.eq(tenant_id), si::attempt_id.eq(id)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    diesel::update(cp::table.find(id))
        .set((
            cp::intent_id.eq(&intent.id),
            cp::client_secret.eq(&intent.client_secret),
            cp::last_error.eq(""),
            cp::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    diesel::update(cp::table.find(id).filter(cp::status.eq("creating")))
        .set(cp::status.eq("requires_payment"))
        .execute(conn)?;
    Ok(cp::table.find(id).select(CardPayment::as_select()).first(conn)?)
}

/// Notes why the processor could not be asked (`refused`: it said no, the attempt is
/// canceled;
/// otherwise it stays `creating` and the next try reuses its key).
pub fn not_created(conn: &mut PgConnection, id: i64, error: &str, refused: bool) -> AppResult<()> {
    let error: String = error.chars().take(500).collect();
    diesel::update(cp::table.find(id))
        .set((cp::last_error.eq(error), cp::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    if refused {
        diesel::update(cp::table.find(id).filter(cp::status.eq("creating")))
            .set(cp::status.eq("canceled"))
            .execute(conn)?;
    }
    Ok(())
}

/// One attempt of the company (`None`: any company, for staff).
pub fn find(conn: &mut PgConnection, id: i64, company: Option<i64>) -> AppResult<CardPayment> {
    let mut q = cp::table.filter(cp::id.eq(id)).into_boxed();
    if let Some(c) = company {
        q = q.filter(cp::company_id.eq(c));
    }
    q.select(CardPayment::as_select()).first(conn).optional()?.ok_or_else(|| AppError::not_found("card payment"))
}

/// Attempts newest first; `flagged` only those whose report was not booked.
pub fn list(conn: &mut PgConnection, flagged: bool, limit: i64) -> AppResult<Vec<CardPayment>> {
    let mut q = cp::table.into_boxed();
    if flagged {
        q = q.filter(cp::flag.is_not_null());
    }
    Ok(q.order(cp::id.desc()).limit(limit).select(CardPayment::as_select()).load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_follow_the_plan_and_round_half_up() {
        assert_eq!(fee_minor(10_000, Plan::Business), 100);
        assert_eq!(fee_minor(10_000, Plan::Enterprise), 50);
        assert_eq!(fee_minor(10_000, Plan::Start), 200);
        // 150 × 0.5 % = 0.75 → 1; 149 × 0.5 % = 0.745 → 1; 99 × 0.5 % = 0.495 → 0.
        assert_eq!(fee_minor(150, Plan::Enterprise), 1);
        assert_eq!(fee_minor(99, Plan::Enterprise), 0);
        assert_eq!(fee_minor(i64::MAX, Plan::Start), i64::MAX / 50);
    }

    #[test]
    fn connected_account_ids_are_checked() {
        assert!(check_account(&json!("acct_1A2b3C")).is_ok());
        assert_eq!(check_account(&Value::Null), Ok(json!("")));
        for bad in [json!("acc_1"), json!("acct_"), json!("acct_1; DROP"), json!(5), json!("acct_ä")] {
            assert!(check_account(&bad).is_err(), "{bad}");
        }
    }
}
