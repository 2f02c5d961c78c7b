//! Card payments over JSON (feature `card_payments`): the buyer pays an invoice (or an
//! order's invoice, as CONTRACT.md has it) by card; staff list card payments, those flagged
//! because the processor's report did not match, and refund. The use cases here are shared
//! with the pages: they call the processor between two tenant transactions.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::finance::card::events::{self, Event, Kind, Outcome, META_PAYMENT, META_TENANT};
use crate::finance::card::gateway::{GatewayError, IntentRequest};
use crate::finance::card::{self, refunds, CardPayment, Opening};
use crate::identity::staff::{MANAGE_FINANCE, SEE_FINANCE};
use crate::platform::features::Feature;
use crate::web::roles::{BuyerCtx, StaffCtx};
use crate::web::routes::account_api::IdPath;
use crate::web::routes::order_api::NumberPath;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/invoices/{id}/card-payment").route(web::post().to(pay_invoice)))
        .service(web::resource("/api/v1/orders/{number}/payments").route(web::post().to(pay_order)))
        .service(web::resource("/api/v1/admin/card-payments").route(web::get().to(list)))
        .service(web::resource("/api/v1/admin/card-payments/{id}/refund").route(web::post().to(refund)));
}

/// Opens (or reuses) the card payment of invoice `invoice` and asks the processor for its
/// PaymentIntent when it has none yet. The attempt is committed before the processor is
/// called; when it does not answer the attempt keeps its key for the next try (503).
pub async fn start(state: &AppState, t: &TenantCtx, company: i64, actor: i64, invoice: i64) -> AppResult<CardPayment> {
    t.require(Feature::CardPayments)?;
    let (gateway, plan) = (state.cards.name(), t.tenant.plan);
    let (a, invoice_no, order_no) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let currency = catalog_settings::load(c)?.currency;
        let a = card::open(c, invoice, &Opening { company, actor, gateway, plan, currency: &currency })?;
        let numbers = numbers(c, a.invoice_id)?;
        Ok((a, numbers.0, numbers.1))
    })
    .await?;
    if a.intent_id.is_some() {
        return Ok(a);
    }
    let metadata = HashMap::from([
        (META_TENANT.to_owned(), t.tenant.slug.clone()),
        ("tradeport_tenant_id".to_owned(), t.tenant.id.to_string()),
        (META_PAYMENT.to_owned(), a.id.to_string()),
        ("invoice".to_owned(), invoice_no),
        ("order".to_owned(), order_no),
    ]);
    let request = IntentRequest {
        key: a.intent_key(t.tenant.id),
        amount_minor: a.amount_minor,
        currency: &a.currency,
        account: a.stripe_account.as_deref(),
        fee_minor: a.fee_minor,
        metadata,
    };
    let answer = state.cards.create_intent(&request).await;
    let (id, tenant_id) = (a.id, t.tenant.id);
    match answer {
        Ok(intent) => {
            with_tenant(&state.pool, &t.tenant.schema, move |c| card::created(c, tenant_id, id, &intent)).await
        }
        Err(e) => {
            let refused = matches!(e, GatewayError::Refused(_));
            let msg = e.message().to_owned();
            with_tenant(&state.pool, &t.tenant.schema, move |c| card::not_created(c, id, &msg, refused)).await?;
            Err(if refused {
                AppError::conflict(
                    "card_payment_refused",
                    "the card processor refused this payment; try again later or pay by bank transfer",
                )
            } else {
                AppError::Unavailable(
                    "card payments are unavailable right now; try again in a minute or pay by bank transfer".into(),
                )
            })
        }
    }
}

/// The invoice's and its order's numbers.
fn numbers(c: &mut diesel::PgConnection, invoice: i64) -> AppResult<(String, String)> {
    use crate::db::schema_tenant::{invoices, orders};
    use diesel::prelude::*;
    Ok(invoices::table
        .inner_join(orders::table)
        .filter(invoices::id.eq(invoice))
        .select((invoices::number, orders::number))
        .first(c)?)
}

/// What the buyer's client needs to complete the payment.
pub fn answer(t: &TenantCtx, a: &CardPayment) -> Value {
    let mut v = json!({
        "payment_id": a.id, "status": a.status, "gateway": a.gateway, "invoice_id": a.invoice_id,
        "amount": crate::money::format(a.amount), "currency": a.currency,
    });
    if a.gateway == "test" {
        v["redirect_url"] = json!(t.link(&format!("/account/finance/card/{}", a.id)));
        v["test"] = json!(true);
    } else {
        v["client_secret"] = json!(a.client_secret);
    }
    v
}

async fn pay_invoice(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    let a = start(&state, &b.tenant, b.company.id, b.user.account.id, path.id).await?;
    Ok(HttpResponse::Ok().json(answer(&b.tenant, &a)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayOrder {
    method: String,
}

/// `POST /api/v1/orders/{number}/payments` `{method: "card"}`: pays the order's live invoice.
async fn pay_order(
    state: web::Data<AppState>,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
    body: web::Json<PayOrder>,
) -> AppResult<HttpResponse> {
    b.tenant.require(Feature::CardPayments)?;
    if body.method != "card" {
        return Err(AppError::field("method", "must be card (bank transfers pay the invoice)"));
    }
    let (company, number) = (b.company.id, path.into_inner().number);
    let invoice =
        with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| card::invoice_of_order(c, company, &number)).await?;
    let a = start(&state, &b.tenant, company, b.user.account.id, invoice).await?;
    Ok(HttpResponse::Ok().json(answer(&b.tenant, &a)))
}

/// Card payments newest first; `?flagged=true` only those whose report was not booked.
async fn list(state: web::Data<AppState>, s: StaffCtx, q: web::Query<ListQuery>) -> AppResult<HttpResponse> {
    s.tenant.require(Feature::CardPayments)?;
    s.require(SEE_FINANCE)?;
    let flagged = q.flagged.unwrap_or(false);
    let items = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| card::list(c, flagged, 500)).await?;
    let items: Vec<Value> = items.iter().map(CardPayment::json).collect();
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    flagged: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RefundIn {
    /// A decimal string; all that is left when absent.
    #[serde(default)]
    pub amount: Option<Value>,
}

/// Refunds a card payment (all of what is left, or `amount`): asked of the processor with a
/// key from our refund row, booked in the ledger when it answers.
pub async fn do_refund(
    state: &AppState,
    t: &TenantCtx,
    actor: i64,
    id: i64,
    input: RefundIn,
) -> AppResult<CardPayment> {
    t.require(Feature::CardPayments)?;
    let amount = match &input.amount {
        None | Some(Value::Null) => None,
        Some(v) => Some(crate::finance::payments::amount_of(v).map_err(|e| AppError::field("amount", e))?),
    };
    let asked = with_tenant(&state.pool, &t.tenant.schema, move |c| refunds::ask(c, id, amount, actor)).await?;
    let key = format!("tradeport-{}-refund-{}", t.tenant.id, asked.id);
    let intent = asked.attempt.intent_id.clone().unwrap_or_default();
    let account = asked.attempt.stripe_account.clone();
    let answer = state.cards.refund(&key, &intent, asked.amount_minor, account.as_deref()).await;
    let refund_id = asked.id;
    let failed = answer.as_ref().err().cloned();
    with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let a = match &answer {
            Ok(r) => Ok(r.as_str()),
            Err(e) => Err((e.message(), matches!(e, GatewayError::Refused(_)))),
        };
        refunds::answered(c, refund_id, a, actor)
    })
    .await?;
    match failed {
        None => with_tenant(&state.pool, &t.tenant.schema, move |c| card::find(c, id, None)).await,
        Some(GatewayError::Refused(m)) => Err(AppError::conflict("refund_refused", m)),
        Some(GatewayError::Unavailable(_)) => Err(AppError::Unavailable(
            "the card processor is unavailable; the refund is kept and can be tried again".into(),
        )),
    }
}

async fn refund(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<IdPath>,
    body: Option<web::Json<RefundIn>>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_FINANCE)?;
    let input = body.map(web::Json::into_inner).unwrap_or_default();
    let a = do_refund(&state, &s.tenant, s.user.account.id, path.id, input).await?;
    Ok(HttpResponse::Ok().json(a.json()))
}

/// The test gateway's "card form" answered: the same event path as a Stripe webhook, with
/// an event id per attempt and outcome (a success is booked once however often it is sent).
pub async fn test_outcome(state: &AppState, t: &TenantCtx, company: i64, id: i64, paid: bool) -> AppResult<Outcome> {
    t.require(Feature::CardPayments)?;
    let a = with_tenant(&state.pool, &t.tenant.schema, move |c| card::find(c, id, Some(company))).await?;
    if a.gateway != "test" {
        return Err(AppError::not_found("test payment"));
    }
    let now = chrono::Utc::now();
    let (kind, type_name, suffix) = if paid {
        (Kind::Succeeded, "payment_intent.succeeded", "succeeded".to_owned())
    } else {
        (Kind::Failed, "payment_intent.payment_failed", format!("failed_{}", now.timestamp_micros()))
    };
    let ev = Event {
        id: format!("evt_test_{}_{}_{suffix}", t.tenant.id, a.id),
        type_name: type_name.into(),
        kind,
        created: now.timestamp(),
        intent_id: a.intent_id.clone(),
        amount: Some(a.amount_minor),
        amount_received: paid.then_some(a.amount_minor),
        amount_refunded: None,
        currency: Some(a.currency.clone()),
        tenant: Some(t.tenant.slug.clone()),
        account: None,
    };
    let (tenant_id, slug) = (t.tenant.id, t.tenant.slug.clone());
    with_tenant(&state.pool, &t.tenant.schema, move |c| events::apply(c, tenant_id, &slug, id, &ev)).await
}
