//! The card processor's events (Stripe webhooks, or the test gateway's equivalents), each
//! applied once: its id is recorded in `public.stripe_events` in the same transaction as its
//! effect, so a replay, concurrent or not, does nothing. State never goes backwards: a
//! success is final, an older event never overwrites a newer one, and a refund reported
//! before the success is held until the success is booked. A report whose amount, currency,
//! tenant or connected account differs from the attempt flags it for staff and books nothing.

use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{refunds, CardPayment};
use crate::db::schema_platform::stripe_events as se;
use crate::db::schema_tenant::{card_payments as cp, invoices, payments};
use crate::error::AppResult;
use crate::finance::ledger::today;
use crate::finance::payments::{book, Received};

/// The metadata key naming the tenant (slug) a PaymentIntent was created for.
pub const META_TENANT: &str = "tradeport_tenant";
/// The metadata key with the card payment attempt's id.
pub const META_PAYMENT: &str = "tradeport_payment";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    RequiresPayment,
    Processing,
    Failed,
    Canceled,
    Succeeded,
    /// `charge.refunded`: the charge's refunded total so far.
    Refunded,
    Other,
}

impl Kind {
    fn of(type_name: &str) -> Kind {
        match type_name {
            "payment_intent.requires_action" => Kind::RequiresPayment,
            "payment_intent.processing" => Kind::Processing,
            "payment_intent.payment_failed" => Kind::Failed,
            "payment_intent.canceled" => Kind::Canceled,
            "payment_intent.succeeded" => Kind::Succeeded,
            "charge.refunded" => Kind::Refunded,
            _ => Kind::Other,
        }
    }

    fn status(self) -> &'static str {
        match self {
            Kind::RequiresPayment => "requires_payment",
            Kind::Processing => "processing",
            Kind::Failed => "failed",
            Kind::Canceled => "canceled",
            Kind::Succeeded => "succeeded",
            Kind::Refunded | Kind::Other => "",
        }
    }
}

/// What an event says, read from its JSON (after its signature was checked).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub type_name: String,
    pub kind: Kind,
    /// Unix seconds.
    pub created: i64,
    /// The PaymentIntent (`data.object.id`, or a charge's `payment_intent`).
    pub intent_id: Option<String>,
    pub amount: Option<i64>,
    pub amount_received: Option<i64>,
    pub amount_refunded: Option<i64>,
    pub currency: Option<String>,
    pub tenant: Option<String>,
    /// The connected account it happened on (Connect), if any.
    pub account: Option<String>,
}

impl Event {
    pub fn parse(v: &Value) -> Result<Event, String> {
        let id = v["id"].as_str().filter(|s| !s.is_empty() && s.len() <= 255).ok_or("the event has no id")?;
        let type_name = v["type"].as_str().filter(|s| s.len() <= 100).ok_or("the event has no type")?;
        let obj = &v["data"]["object"];
        if !obj.is_object() {
            return Err("the event has no data.object".into());
        }
        let kind = Kind::of(type_name);
        let intent = if kind == Kind::Refunded { obj["payment_intent"].as_str() } else { obj["id"].as_str() };
        let s = |x: &Value| x.as_str().map(str::to_owned);
        Ok(Event {
            id: id.to_owned(),
            type_name: type_name.to_owned(),
            kind,
            created: v["created"].as_i64().unwrap_or(0),
            intent_id: intent.filter(|i| i.len() <= 255).map(str::to_owned),
            amount: obj["amount"].as_i64(),
            amount_received: obj["amount_received"].as_i64(),
            amount_refunded: obj["amount_refunded"].as_i64(),
            currency: s(&obj["currency"]).map(|c| c.to_lowercase()),
            tenant: s(&obj["metadata"][META_TENANT]),
            account: s(&v["account"]),
        })
    }
}

/// What applying an event did (also kept in `public.stripe_events.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Seen before: nothing done.
    Duplicate,
    /// A payment or a refund was booked.
    Booked,
    /// The attempt's state moved (or was already there, or was newer).
    State,
    /// A refund reported before the payment's success: kept until the success is booked.
    Held,
    /// Amount, currency, tenant or account differ from the attempt: flagged, nothing booked.
    Flagged,
    /// Not an event we act on.
    Ignored,
    /// No attempt of ours has this PaymentIntent.
    UnknownIntent,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Duplicate => "duplicate",
            Outcome::Booked => "booked",
            Outcome::State => "state",
            Outcome::Held => "held",
            Outcome::Flagged => "flagged",
            Outcome::Ignored => "ignored",
            Outcome::UnknownIntent => "unknown_intent",
        }
    }
}

/// Records event `ev` once (`tenant_id`: the tenant that owns its PaymentIntent, if any).
/// False when it was recorded before (a duplicate).
pub fn record(conn: &mut PgConnection, ev: &Event, tenant_id: Option<i64>) -> AppResult<bool> {
    let n = diesel::insert_into(se::table)
        .values((
            se::event_id.eq(&ev.id),
            se::kind.eq(&ev.type_name),
            se::tenant_id.eq(tenant_id),
            se::intent_id.eq(&ev.intent_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(n == 1)
}

fn note(conn: &mut PgConnection, ev: &Event, outcome: Outcome) -> AppResult<Outcome> {
    diesel::update(se::table.find(&ev.id)).set(se::outcome.eq(outcome.as_str())).execute(conn)?;
    Ok(outcome)
}

/// Records an event whose PaymentIntent is not ours (or that names none): 200 for Stripe, no
/// effect, and a replay is a duplicate like any other.
pub fn orphan(conn: &mut PgConnection, ev: &Event) -> AppResult<Outcome> {
    if !record(conn, ev, None)? {
        return Ok(Outcome::Duplicate);
    }
    note(conn, ev, if ev.kind == Kind::Other { Outcome::Ignored } else { Outcome::UnknownIntent })
}

/// Applies event `ev` in the tenant (slug `tenant`, id `tenant_id`) that owns its
/// PaymentIntent through attempt `attempt`, inside the caller's tenant transaction.
pub fn apply(conn: &mut PgConnection, tenant_id: i64, tenant: &str, attempt: i64, ev: &Event) -> AppResult<Outcome> {
    if !record(conn, ev, Some(tenant_id))? {
        return Ok(Outcome::Duplicate);
    }
    let a: Option<CardPayment> = cp::table
        .filter(cp::id.eq(attempt))
        .filter(cp::intent_id.eq(&ev.intent_id))
        .for_update()
        .select(CardPayment::as_select())
        .first(conn)
        .optional()?;
    let Some(a) = a else { return note(conn, ev, Outcome::UnknownIntent) };
    if ev.kind == Kind::Other {
        return note(conn, ev, Outcome::Ignored);
    }
    if let Some((flag, detail)) = mismatch(&a, tenant, ev) {
        diesel::update(cp::table.find(a.id).filter(cp::flag.is_null()))
            .set((cp::flag.eq(flag), cp::flag_detail.eq(detail), cp::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
        tracing::warn!(attempt = a.id, event = %ev.id, flag, "card payment report does not match: flagged, not booked");
        return note(conn, ev, Outcome::Flagged);
    }
    let outcome = match ev.kind {
        Kind::Succeeded => succeed(conn, &a, ev)?,
        Kind::Refunded => {
            let reported = ev.amount_refunded.unwrap_or(0).clamp(0, a.amount_minor);
            if reported > a.refunded_minor {
                diesel::update(cp::table.find(a.id))
                    .set((cp::refunded_minor.eq(reported), cp::updated_at.eq(diesel::dsl::now)))
                    .execute(conn)?;
            }
            match a.payment_id {
                None => Outcome::Held,
                Some(_) if reconcile(conn, a.id, None)? => Outcome::Booked,
                Some(_) => Outcome::State,
            }
        }
        other => {
            transition(conn, &a, other.status(), ev.created)?;
            Outcome::State
        }
    };
    note(conn, ev, outcome)
}

/// Why the report cannot be booked against the attempt, if it cannot.
fn mismatch(a: &CardPayment, tenant: &str, ev: &Event) -> Option<(&'static str, String)> {
    if a.stripe_account != ev.account {
        let detail = format!("account {:?}, expected {:?}", ev.account, a.stripe_account);
        return Some(("account_mismatch", detail));
    }
    // A charge carries no metadata of ours; a PaymentIntent always does.
    if ev.kind != Kind::Refunded && ev.tenant.as_deref() != Some(tenant) {
        return Some(("tenant_mismatch", format!("metadata names store {:?}", ev.tenant.as_deref().unwrap_or(""))));
    }
    let received_differs = ev.kind == Kind::Succeeded && ev.amount_received.is_some_and(|r| r != a.amount_minor);
    if ev.amount != Some(a.amount_minor) || received_differs || ev.currency.as_deref() != Some(a.currency.as_str()) {
        let detail = format!(
            "reported {} {} (received {}), expected {} {}",
            ev.amount.map_or("?".into(), |x| x.to_string()),
            ev.currency.as_deref().unwrap_or("?"),
            ev.amount_received.map_or("?".into(), |x| x.to_string()),
            a.amount_minor,
            a.currency
        );
        return Some(("amount_mismatch", detail));
    }
    None
}

/// Moves the attempt to `status` unless that would go backwards: a success is final, a
/// cancellation yields only to a success, and among the others the newer event wins.
fn transition(conn: &mut PgConnection, a: &CardPayment, status: &str, at: i64) -> AppResult<()> {
    let allowed = match a.status.as_str() {
        "succeeded" => false,
        "canceled" => status == "succeeded",
        "creating" => true,
        _ => status == "succeeded" || status == "canceled" || at >= a.state_at,
    };
    if allowed && status != a.status {
        diesel::update(cp::table.find(a.id))
            .set((cp::status.eq(status), cp::state_at.eq(at.max(a.state_at)), cp::updated_at.eq(diesel::dsl::now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Books the attempt's payment through the same path as a bank payment, once per intent,
/// then any refund reported before.
fn succeed(conn: &mut PgConnection, a: &CardPayment, ev: &Event) -> AppResult<Outcome> {
    if a.payment_id.is_some() {
        return Ok(Outcome::State);
    }
    if a.flag.is_some() {
        return Ok(Outcome::Flagged);
    }
    let intent = a.intent_id.clone().unwrap_or_default();
    let (number, status): (String, String) =
        invoices::table.find(a.invoice_id).select((invoices::number, invoices::status)).first(conn)?;
    // The invoice may have been paid otherwise meanwhile: then the oldest unpaid ones.
    let named = matches!(status.as_str(), "unpaid" | "partly_paid").then_some(number.as_str());
    let reference = format!("card {intent}");
    let currency = a.currency.to_uppercase();
    let money = Received {
        company: a.company_id,
        method: "card",
        amount: a.amount,
        currency: &currency,
        reference: &reference,
        paid_on: today(),
    };
    let payment = book(conn, &money, a.created_by, named)?;
    diesel::update(cp::table.find(a.id))
        .set((
            cp::status.eq("succeeded"),
            cp::payment_id.eq(payment.id),
            cp::state_at.eq(ev.created.max(a.state_at)),
            cp::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    reconcile(conn, a.id, None)?;
    Ok(Outcome::Booked)
}

/// Books what the processor reports refunded beyond what is booked already. True when it
/// booked something.
pub fn reconcile(conn: &mut PgConnection, attempt: i64, actor: Option<i64>) -> AppResult<bool> {
    let (payment, reported, intent): (Option<i64>, i64, Option<String>) =
        cp::table.find(attempt).select((cp::payment_id, cp::refunded_minor, cp::intent_id)).first(conn)?;
    let Some(payment) = payment else { return Ok(false) };
    let booked: Decimal = payments::table.find(payment).select(payments::refunded).first(conn)?;
    let due = Decimal::new(reported, 2) - booked;
    if due <= Decimal::ZERO {
        return Ok(false);
    }
    let reference = format!("refund {}", intent.unwrap_or_default());
    refunds::book(conn, payment, due, &reference, actor)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_read_from_intents_and_charges() {
        let ev = Event::parse(&json!({
            "id": "evt_1", "type": "payment_intent.succeeded", "created": 1700000000, "account": "acct_9",
            "data": {"object": {"id": "pi_1", "amount": 12345, "amount_received": 12345, "currency": "RUB",
                "metadata": {"tradeport_tenant": "alpha"}}}
        }))
        .expect("parsed");
        assert_eq!((ev.kind, ev.intent_id.as_deref(), ev.amount), (Kind::Succeeded, Some("pi_1"), Some(12345)));
        assert_eq!(
            (ev.currency.as_deref(), ev.tenant.as_deref(), ev.account.as_deref()),
            (Some("rub"), Some("alpha"), Some("acct_9"))
        );
        let ch = Event::parse(&json!({
            "id": "evt_2", "type": "charge.refunded", "created": 1,
            "data": {"object": {"id": "ch_1", "payment_intent": "pi_1", "amount": 100, "amount_refunded": 40, "currency": "rub"}}
        }))
        .expect("parsed");
        assert_eq!((ch.kind, ch.intent_id.as_deref(), ch.amount_refunded), (Kind::Refunded, Some("pi_1"), Some(40)));
        assert_eq!(
            Event::parse(&json!({"id": "evt_3", "type": "customer.created", "data": {"object": {}}})).map(|e| e.kind),
            Ok(Kind::Other)
        );
        for bad in [
            json!({}),
            json!({"id": "e", "type": "x"}),
            json!({"id": "", "type": "x", "data": {"object": {}}}),
            json!([1]),
        ] {
            assert!(Event::parse(&bad).is_err(), "{bad}");
        }
    }
}
