//! Card payments as the buyer and the accountant use them, and T16: Stripe webhooks signed
//! here and delivered to `POST /webhooks/stripe` (replays, concurrent deliveries, events out
//! of order, forged, stale, future and modified deliveries, mismatched reports). The intents
//! here come from the labelled test gateway (no Stripe keys), which registers them like
//! Stripe's; `card_stripe.rs` runs the same flow against localstripe.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::catalog::api;
use crate::helpers::{Resp, TestApp, TestTenant};
use crate::order_pages::{post_from, sign_in};
use crate::ordering::{buyer, order, store};

pub const SECRET: &str = "whsec_tradeport_card_tests";

pub async fn app_with_webhooks() -> TestApp {
    TestApp::spawn_with(|s| s.stripe.webhook_secret = Some(SECRET.into())).await
}

/// A store with card payments, a buyer, and an unpaid invoice of 200.00: (tenant, staff
/// token, buyer token, company id, invoice id, buyer's e-mail).
pub async fn unpaid_invoice(app: &TestApp, inn: &str) -> (TestTenant, String, String, i64, i64, String) {
    let (t, s) = store(app).await;
    let (b, company, email) = buyer(app, &t, inn).await;
    let r =
        order(app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some(&crate::helpers::unique("k"))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let invoice = invoices(app, &t, &b).await[0]["id"].as_i64().expect("invoice id");
    (t, s, b, company, invoice, email)
}

pub async fn invoices(app: &TestApp, t: &TestTenant, b: &str) -> Vec<Value> {
    let r = app.get(&api(t, "/invoices"), Some(b)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

pub async fn start(app: &TestApp, t: &TestTenant, b: &str, invoice: i64) -> Resp {
    app.post_json(&api(t, &format!("/invoices/{invoice}/card-payment")), &json!({}), Some(b)).await
}

/// Counts rows of a tenant table matching `filter` (SQL).
pub async fn count(app: &TestApp, t: &TestTenant, table: &str, filter: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let (schema, sql) = (t.tenant.schema.clone(), format!("SELECT count(*) AS n FROM {table} WHERE {filter}"));
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| Ok(diesel::sql_query(sql).get_result::<N>(c)?.n)).expect("count")
    })
    .await
}

/// The intent id of card payment `id` (the test gateway's or Stripe's).
pub async fn intent_of(app: &TestApp, t: &TestTenant, id: i64) -> String {
    use tradeport::db::schema_tenant::card_payments as cp;
    let schema = t.tenant.schema.clone();
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| {
            Ok(cp::table.find(id).select(cp::intent_id).first::<Option<String>>(c)?.unwrap_or_default())
        })
        .expect("intent")
    })
    .await
}

/// A Stripe event about a PaymentIntent.
pub fn intent_event(id: &str, kind: &str, intent: &str, amount: i64, tenant: &str, created: i64) -> Value {
    json!({
        "id": id, "object": "event", "type": kind, "created": created, "api_version": "2025-01-27",
        "data": {"object": {"id": intent, "object": "payment_intent", "amount": amount, "amount_received": amount,
            "currency": "rub", "status": kind.trim_start_matches("payment_intent."),
            "metadata": {"tradeport_tenant": tenant}}}
    })
}

pub fn refund_event(id: &str, intent: &str, amount: i64, refunded: i64, created: i64) -> Value {
    json!({
        "id": id, "object": "event", "type": "charge.refunded", "created": created,
        "data": {"object": {"id": format!("ch_{id}"), "object": "charge", "payment_intent": intent, "amount": amount,
            "amount_refunded": refunded, "currency": "rub", "refunded": refunded == amount}}
    })
}

/// `Stripe-Signature` for `body` signed at `t` with each of `secrets`.
pub fn signature(body: &str, t: i64, secrets: &[&str]) -> String {
    let mut h = format!("t={t}");
    for s in secrets {
        h.push_str(&format!(",v1={}", tradeport::finance::card::signature::sign(s.as_bytes(), t, body.as_bytes())));
    }
    h
}

pub async fn deliver_raw(app: &TestApp, body: &str, header: Option<String>) -> Resp {
    let mut req =
        app.request(awc::http::Method::POST, "/webhooks/stripe").insert_header(("Content-Type", "application/json"));
    if let Some(h) = header {
        req = req.insert_header(("Stripe-Signature", h));
    }
    app.send(req, Some(body.to_owned())).await
}

/// Delivers `event` signed now, as Stripe would; answers the outcome.
pub async fn deliver(app: &TestApp, event: &Value) -> String {
    let body = event.to_string();
    let r = deliver_raw(app, &body, Some(signature(&body, chrono::Utc::now().timestamp(), &[SECRET]))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["outcome"].as_str().unwrap_or_default().to_owned()
}

async fn balance(app: &TestApp, t: &TestTenant, b: &str) -> String {
    app.get(&api(t, "/account"), Some(b)).await.json()["balance"].as_str().unwrap_or_default().to_owned()
}

#[actix_web::test]
async fn a_succeeded_event_replayed_50_times_and_10_at_once_books_one_payment() {
    let app = app_with_webhooks().await;
    let (t, _, b, _, invoice, _) = unpaid_invoice(&app, crate::identity::INNS[0]).await;
    let r = start(&app, &t, &b, invoice).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (id, now) = (r.json()["payment_id"].as_i64().expect("id"), chrono::Utc::now().timestamp());
    let intent = intent_of(&app, &t, id).await;
    let ev = intent_event(&crate::helpers::unique("evt_"), "payment_intent.succeeded", &intent, 20000, &t.slug, now);
    // Ten deliveries of the same new event at once, then fifty one after another.
    let first: Vec<String> = futures_util::future::join_all((0..10).map(|_| deliver(&app, &ev))).await;
    assert_eq!(first.iter().filter(|o| *o == "booked").count(), 1, "{first:?}");
    assert!(first.iter().all(|o| o == "booked" || o == "duplicate"), "{first:?}");
    for _ in 0..50 {
        assert_eq!(deliver(&app, &ev).await, "duplicate");
    }
    // Ten different events reporting the same success at once: still one payment.
    let distinct: Vec<Value> = (0..10)
        .map(|i| {
            intent_event(
                &format!("{}_{i}", crate::helpers::unique("evt_")),
                "payment_intent.succeeded",
                &intent,
                20000,
                &t.slug,
                now,
            )
        })
        .collect();
    let others = futures_util::future::join_all(distinct.iter().map(|e| deliver(&app, e))).await;
    assert!(others.iter().all(|o| o == "state"), "{others:?}");
    let payments = count(&app, &t, "payments", "method = 'card'").await;
    println!("{{\"scenario\":\"T16\",\"replays\":70,\"concurrent\":20,\"payments\":{payments}}}");
    assert_eq!(payments, 1);
    assert_eq!(invoices(&app, &t, &b).await[0]["status"], "paid");
    assert_eq!(balance(&app, &t, &b).await, "200.00");
    assert_eq!(count(&app, &t, "ledger_entries", "kind = 'payment'").await, 1);
}

#[actix_web::test]
async fn events_out_of_order_never_move_state_backwards() {
    let app = app_with_webhooks().await;
    let (t, s, b, company, invoice, _) = unpaid_invoice(&app, crate::identity::INNS[1]).await;
    let id = start(&app, &t, &b, invoice).await.json()["payment_id"].as_i64().expect("id");
    let intent = intent_of(&app, &t, id).await;
    let now = chrono::Utc::now().timestamp();
    let ev = |kind: &str, at: i64| intent_event(&crate::helpers::unique("evt_"), kind, &intent, 20000, &t.slug, at);
    // An older failure reported after processing changes nothing.
    assert_eq!(deliver(&app, &ev("payment_intent.processing", now - 5)).await, "state");
    assert_eq!(deliver(&app, &ev("payment_intent.payment_failed", now - 9)).await, "state");
    let state =
        || async { app.get(&api(&t, "/admin/card-payments"), Some(&s)).await.json()["items"][0]["status"].clone() };
    assert_eq!(state().await, "processing");
    // The refund arrives before the success: held; the success books the payment and then it.
    assert_eq!(deliver(&app, &refund_event(&crate::helpers::unique("evt_"), &intent, 20000, 5000, now)).await, "held");
    assert_eq!(count(&app, &t, "payments", "true").await, 0);
    assert_eq!(deliver(&app, &ev("payment_intent.succeeded", now - 1)).await, "booked");
    // An older processing after the success: still succeeded.
    assert_eq!(deliver(&app, &ev("payment_intent.processing", now - 3)).await, "state");
    assert_eq!(deliver(&app, &ev("payment_intent.canceled", now + 1)).await, "state");
    assert_eq!(state().await, "succeeded");
    assert_eq!(count(&app, &t, "payments", "method = 'card' AND refunded = 50").await, 1);
    assert_eq!(balance(&app, &t, &b).await, "150.00");
    let inv = &invoices(&app, &t, &b).await[0];
    assert_eq!((&inv["status"], &inv["left"]), (&json!("partly_paid"), &json!("50.00")));
    // The same refund total reported again books nothing; a larger one books the difference.
    assert_eq!(deliver(&app, &refund_event(&crate::helpers::unique("evt_"), &intent, 20000, 5000, now)).await, "state");
    assert_eq!(
        deliver(&app, &refund_event(&crate::helpers::unique("evt_"), &intent, 20000, 20000, now + 2)).await,
        "booked"
    );
    assert_eq!(balance(&app, &t, &b).await, "0.00");
    assert_eq!(invoices(&app, &t, &b).await[0]["status"], "unpaid");
    let kinds: Vec<String> = app.get(&api(&t, &format!("/admin/customers/{company}/ledger")), Some(&s)).await.json()
        ["movements"]
        .as_array()
        .expect("movements")
        .iter()
        .map(|m| format!("{}:{}", m["kind"].as_str().unwrap_or(""), m["credit"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(kinds, vec!["payment:200.00", "refund:-50.00", "refund:-150.00"]);
    // A card payment is refunded, never reversed.
    let pid = app.get(&api(&t, "/admin/payments"), Some(&s)).await.json()["items"][0]["id"].as_i64().expect("payment");
    let r = app.post_json(&api(&t, &format!("/admin/payments/{pid}/reverse")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "card_payment".into()), "{}", r.body);
}

#[actix_web::test]
async fn forged_stale_future_and_modified_deliveries_are_refused_and_record_nothing() {
    let app = app_with_webhooks().await;
    let (t, _, b, _, invoice, _) = unpaid_invoice(&app, crate::identity::INNS[2]).await;
    let id = start(&app, &t, &b, invoice).await.json()["payment_id"].as_i64().expect("id");
    let intent = intent_of(&app, &t, id).await;
    let now = chrono::Utc::now().timestamp();
    let event_id = crate::helpers::unique("evt_");
    let body = intent_event(&event_id, "payment_intent.succeeded", &intent, 20000, &t.slug, now).to_string();
    let mut changed = body.clone().into_bytes();
    let at = body.find("20000").expect("amount") + 1;
    changed[at] = b'1'; // 20000 → 21000, one byte
    let changed = String::from_utf8(changed).expect("utf8");
    let bad: Vec<(&str, String, Option<String>)> = vec![
        ("no signature", body.clone(), None),
        ("forged", body.clone(), Some(signature(&body, now, &["whsec_someone_else"]))),
        // A minute beyond the 300 s tolerance each way: `now` is taken before the deliveries, and a
        // loaded machine may take seconds to reach the last one (the exact boundary, 300 against
        // 301 s, is the signature module's unit test, on a fixed clock).
        ("360 s old", body.clone(), Some(signature(&body, now - 360, &[SECRET]))),
        ("360 s ahead", body.clone(), Some(signature(&body, now + 360, &[SECRET]))),
        ("body changed by 1 byte", changed.clone(), Some(signature(&body, now, &[SECRET]))),
        ("malformed", body.clone(), Some("v1=abc".into())),
        ("only v0", body.clone(), Some(signature(&body, now, &[SECRET]).replace("v1=", "v0="))),
    ];
    let mut accepted = 0;
    for (what, b, h) in &bad {
        let r = deliver_raw(&app, b, h.clone()).await;
        assert_eq!((r.status.as_u16(), r.error_code()), (400, "invalid_signature".into()), "{what}: {}", r.body);
        accepted += usize::from(r.status.is_success());
    }
    let recorded = app
        .db({
            let e = event_id.clone();
            move |c| {
                use tradeport::db::schema_platform::stripe_events as se;
                se::table.filter(se::event_id.eq(e)).count().get_result::<i64>(c).expect("count")
            }
        })
        .await;
    println!(
        "{{\"scenario\":\"T16\",\"bad_deliveries\":{},\"accepted\":{accepted},\"recorded\":{recorded}}}",
        bad.len()
    );
    assert_eq!((accepted, recorded), (0, 0));
    assert_eq!(count(&app, &t, "payments", "true").await, 0);
    assert_eq!(invoices(&app, &t, &b).await[0]["status"], "unpaid");
    // Two v1 values (a rolled secret and ours): accepted, booked once.
    let r = deliver_raw(&app, &body, Some(signature(&body, now, &["whsec_old_secret", SECRET]))).await;
    assert_eq!((r.status.as_u16(), r.json()["outcome"].as_str()), (200, Some("booked")), "{}", r.body);
    assert_eq!(count(&app, &t, "payments", "true").await, 1);
}

#[actix_web::test]
async fn mismatched_amounts_and_foreign_tenants_are_flagged_never_paid() {
    let app = app_with_webhooks().await;
    let (a, _, a_buyer, _, _, _) = unpaid_invoice(&app, crate::identity::INNS[3]).await;
    let (t, s, b, _, invoice, _) = unpaid_invoice(&app, crate::identity::INNS[4]).await;
    let id = start(&app, &t, &b, invoice).await.json()["payment_id"].as_i64().expect("id");
    let intent = intent_of(&app, &t, id).await;
    let now = chrono::Utc::now().timestamp();
    // Tenant B's PaymentIntent reported with tenant A in its metadata.
    let foreign =
        intent_event(&crate::helpers::unique("evt_"), "payment_intent.succeeded", &intent, 20000, &a.slug, now);
    assert_eq!(deliver(&app, &foreign).await, "flagged");
    let r = app.get(&api(&t, "/admin/card-payments?flagged=true"), Some(&s)).await;
    assert_eq!(
        (r.json()["total"].as_i64(), &r.json()["items"][0]["flag"]),
        (Some(1), &json!("tenant_mismatch")),
        "{}",
        r.body
    );
    // Nothing paid in either store.
    assert_eq!((count(&app, &t, "payments", "true").await, count(&app, &a, "payments", "true").await), (0, 0));
    assert_eq!(invoices(&app, &a, &a_buyer).await[0]["status"], "unpaid");
    assert_eq!(invoices(&app, &t, &b).await[0]["status"], "unpaid");
    // A flagged attempt stays unbooked even when a matching report follows.
    let good = intent_event(&crate::helpers::unique("evt_"), "payment_intent.succeeded", &intent, 20000, &t.slug, now);
    assert_eq!(deliver(&app, &good).await, "flagged");
    assert_eq!(count(&app, &t, "payments", "true").await, 0);

    // A new attempt for the same invoice (the flagged one is superseded): amount ≠ total.
    let r = start(&app, &t, &b, invoice).await;
    let id2 = r.json()["payment_id"].as_i64().expect("id");
    assert_ne!(id2, id, "{}", r.body);
    let intent2 = intent_of(&app, &t, id2).await;
    let short =
        intent_event(&crate::helpers::unique("evt_"), "payment_intent.succeeded", &intent2, 19999, &t.slug, now);
    assert_eq!(deliver(&app, &short).await, "flagged");
    let r = app.get(&api(&t, "/admin/card-payments?flagged=true"), Some(&s)).await;
    assert_eq!(r.json()["items"][0]["flag"], "amount_mismatch", "{}", r.body);
    assert!(r.json()["items"][0]["flag_detail"].as_str().unwrap_or("").contains("19999"));
    assert_eq!(count(&app, &t, "payments", "true").await, 0);
    // The staff page shows both.
    let mut staff = sign_in(&app, &t, &t.admin_email, &format!("/s/{}/admin/finance", t.slug)).await;
    let page = staff.get(&format!("/s/{}/admin/finance", t.slug)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("id=\"card-payments\"") && page.body.matches("class=\"flagged\"").count() == 2,
        "{}",
        page.body
    );
    // An event whose PaymentIntent is nobody's: 200, recorded, no effect.
    let stray =
        intent_event(&crate::helpers::unique("evt_"), "payment_intent.succeeded", "pi_not_ours", 100, &t.slug, now);
    assert_eq!(deliver(&app, &stray).await, "unknown_intent");
    assert_eq!(deliver(&app, &stray).await, "duplicate");
}

#[actix_web::test]
async fn without_stripe_keys_the_labelled_test_gateway_completes_the_flow_on_the_pages() {
    let app = TestApp::spawn().await;
    let (t, _, _, company, _, email) = unpaid_invoice(&app, crate::identity::INNS[5]).await;
    let finance = format!("/s/{}/account/finance", t.slug);
    let mut buyer = sign_in(&app, &t, &email, &finance).await;
    let page = buyer.get(&finance).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page.body.find("class=\"inline pay-by-card\"").expect("a Pay by card button");
    let action =
        page.body[..at].rsplit("action=\"").next().and_then(|a| a.split('"').next()).expect("action").to_owned();
    let r = post_from(&mut buyer, &finance, &action, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let pay_page = r.header("location").expect("the payment page");
    let p = buyer.get(&pay_page).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("id=\"test-gateway-banner\"") && p.body.contains("id=\"test-card-form\""), "{}", p.body);
    // Pressing "Pay" twice (a double submit) books one payment.
    for _ in 0..2 {
        let r = post_from(&mut buyer, &pay_page, &format!("{pay_page}/test"), &[("outcome", "paid")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let p = buyer.get(&pay_page).await;
    assert!(p.body.contains("id=\"card-paid\""), "{}", p.body);
    assert_eq!(count(&app, &t, "payments", &format!("method = 'card' AND company_id = {company}")).await, 1);
    assert_eq!(count(&app, &t, "invoices", "status = 'paid'").await, 1);
    // The accountant refunds 50.00 from the staff page; the ledger and the invoice follow.
    let admin = format!("/s/{}/admin/finance", t.slug);
    let mut staff = sign_in(&app, &t, &t.admin_email, &admin).await;
    let id = pay_page.rsplit('/').next().expect("id").to_owned();
    let r = post_from(&mut staff, &admin, &format!("{admin}/card/{id}/refund"), &[("amount", "50,00")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(count(&app, &t, "ledger_entries", "kind = 'refund' AND amount = -50").await, 1);
    assert_eq!(count(&app, &t, "invoices", "status = 'partly_paid' AND paid = 150").await, 1);
    // More than is left is refused; the rest is refunded through the API.
    let s = app.login(&t.admin_email, crate::helpers::TEST_PASSWORD).await;
    let r = app
        .post_json(&api(&t, &format!("/admin/card-payments/{id}/refund")), &json!({"amount": "150.01"}), Some(&s))
        .await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "refund_too_large".into()), "{}", r.body);
    let r = app.post_json(&api(&t, &format!("/admin/card-payments/{id}/refund")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["refunded"].as_str()), (200, Some("200.00")), "{}", r.body);
    assert_eq!(count(&app, &t, "payments", "status = 'refunded'").await, 1);
    // Paid in full again by card after the refund: a new attempt.
    let b = app.login(&email, crate::helpers::TEST_PASSWORD).await;
    let invoice = invoices(&app, &t, &b).await[0]["id"].as_i64().expect("invoice");
    let r = start(&app, &t, &b, invoice).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["gateway"].as_str(), r.json()["test"].as_bool()),
        (200, Some("test"), Some(true)),
        "{}",
        r.body
    );
    assert_ne!(r.json()["payment_id"].as_i64().map(|i| i.to_string()), Some(id));
}

#[actix_web::test]
async fn card_payments_are_absent_on_a_plan_without_them_and_refuse_bad_input() {
    let app = app_with_webhooks().await;
    let (t, _, b, _, invoice, _) = unpaid_invoice(&app, crate::identity::INNS[6]).await;
    // Another company's invoice, a paid one, an unknown one.
    let (other, _, _) = buyer(&app, &t, crate::identity::INNS[7]).await;
    assert_eq!(start(&app, &t, &other, invoice).await.status, 404);
    assert_eq!(start(&app, &t, &b, invoice + 1000).await.status, 404);
    let r = app.post_json(&api(&t, "/orders/NOPE-1/payments"), &json!({"method": "card"}), Some(&b)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let number = invoices(&app, &t, &b).await[0]["order"].as_str().expect("order").to_owned();
    let r = app.post_json(&api(&t, &format!("/orders/{number}/payments")), &json!({"method": "cash"}), Some(&b)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = app.post_json(&api(&t, &format!("/orders/{number}/payments")), &json!({"method": "card"}), Some(&b)).await;
    assert_eq!((r.status.as_u16(), r.json()["invoice_id"].as_i64()), (200, Some(invoice)), "{}", r.body);
    // The same invoice again: the same live payment.
    let again = start(&app, &t, &b, invoice).await;
    assert_eq!(again.json()["payment_id"], r.json()["payment_id"]);
    // A malformed event body with a valid signature: 400, nothing recorded.
    let now = chrono::Utc::now().timestamp();
    for body in ["not json", "{\"id\": \"evt_x\"}"] {
        let r = deliver_raw(&app, body, Some(signature(body, now, &[SECRET]))).await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    // A store on the start plan has no card payments: 404 everywhere, no button.
    let t2 = app.new_tenant().await;
    let s2 = app.login(&t2.admin_email, crate::helpers::TEST_PASSWORD).await;
    let (b2, _, _) = buyer(&app, &t2, crate::identity::INNS[0]).await;
    assert_eq!(start(&app, &t2, &b2, 1).await.status, 404);
    assert_eq!(app.get(&api(&t2, "/admin/card-payments"), Some(&s2)).await.status, 404);
    // Settings: a connected account is checked.
    let r = app
        .patch_json(
            &api(&t, "/admin/settings"),
            &json!({"stripe_account": "acct_bad id"}),
            Some(&app.login(&t.admin_email, crate::helpers::TEST_PASSWORD).await),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
}
