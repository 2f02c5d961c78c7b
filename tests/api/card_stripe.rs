//! The Stripe flow against localstripe (through `STRIPE_API_BASE`): a buyer pays an invoice
//! by card (PaymentIntent in minor units with the store in its metadata, confirmed with a
//! test card, localstripe's `payment_intent.succeeded` delivered signed, twice), refunds; T17 (Stripe timing out and unreachable while the PaymentIntent is created:
//! retries reuse the idempotency key, one PaymentIntent); Connect headers and the plan's fee
//! checked on the requests the client sends (localstripe has no Connect).

use awc::http::Method;
use serde_json::json;

use crate::card_payments::{count, deliver, invoices, start, unpaid_invoice, SECRET};
use crate::catalog::api;
use crate::helpers::{unique, TestApp};
use crate::stripe_proxy::{intents_for, localstripe, stripe_call, Fault, Proxy};

async fn app_on(base: &str) -> TestApp {
    let base = base.to_owned();
    TestApp::spawn_with(move |s| {
        s.stripe.publishable_key = Some("pk_test_tradeport".into());
        s.stripe.js_url = Some(format!("{base}/js.stripe.com/v3/"));
        s.stripe.secret_key = Some("sk_test_tradeport".into());
        s.stripe.api_base = Some(base);
        s.stripe.webhook_secret = Some(SECRET.into());
        s.stripe.timeout_ms = Some(700);
        s.stripe.tries = Some(3);
    })
    .await
}

/// Confirms PaymentIntent `pi` with Stripe's test card, as Stripe.js would.
async fn confirm_with_test_card(base: &str, pi: &str) -> serde_json::Value {
    let r =
        stripe_call(base, Method::POST, &format!("/v1/payment_intents/{pi}"), &[("payment_method", "pm_card_visa")])
            .await;
    assert_eq!(r["status"], "requires_confirmation", "{r}");
    stripe_call(base, Method::POST, &format!("/v1/payment_intents/{pi}/confirm"), &[]).await
}

#[actix_web::test]
async fn a_buyer_pays_by_card_against_localstripe_and_the_payment_is_recorded_once() {
    let Some(base) = localstripe() else { return };
    let app = app_on(&base).await;
    let (t, s, b, _, invoice, email) = unpaid_invoice(&app, crate::identity::INNS[0]).await;
    let r = start(&app, &t, &b, invoice).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!((v["gateway"].as_str(), v["status"].as_str()), (Some("stripe"), Some("requires_payment")), "{v}");
    let secret_of_client = v["client_secret"].as_str().expect("client secret").to_owned();
    let pi = secret_of_client.split("_secret_").next().expect("intent").to_owned();
    let id = v["payment_id"].as_i64().expect("id");
    // T18: the amount Stripe was asked for is the invoice total in kopecks, exactly.
    let held = stripe_call(&base, Method::GET, &format!("/v1/payment_intents/{pi}"), &[]).await;
    assert_eq!((held["amount"].as_i64(), held["currency"].as_str()), (Some(20000), Some("rub")), "{held}");
    assert_eq!(
        (held["metadata"]["tradeport_tenant"].as_str(), held["metadata"]["tradeport_payment"].as_str()),
        (Some(t.slug.as_str()), Some(id.to_string().as_str()))
    );
    // Asking again while it is unpaid gives the same PaymentIntent, not a second one.
    let again = start(&app, &t, &b, invoice).await.json();
    assert_eq!(
        (again["payment_id"].as_i64(), again["client_secret"].as_str()),
        (Some(id), Some(secret_of_client.as_str()))
    );
    assert_eq!(intents_for(&base, &t.slug, id).await, vec![pi.clone()]);

    // The card page mounts Stripe.js's Payment Element with that client secret, its policy
    // allowing Stripe's script and nothing else new.
    let finance = format!("/s/{}/account/finance", t.slug);
    let mut browser = crate::order_pages::sign_in(&app, &t, &email, &finance).await;
    let page = browser.get(&format!("/s/{}/account/finance/card/{id}", t.slug)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("data-secret=\"{secret_of_client}\"")) && page.body.contains("/static/card.js"),
        "{}",
        page.body
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains(&format!("script-src 'self' {base}")) && !csp.contains("unsafe-eval"), "{csp}");

    let confirmed = confirm_with_test_card(&base, &pi).await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    // localstripe's own payment_intent.succeeded, delivered signed (localstripe would post it
    // to every registered endpoint of every concurrent test; here it goes to this app only),
    // then delivered again.
    let events = stripe_call(&base, Method::GET, "/v1/events?limit=100", &[]).await;
    let ev = events["data"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == "payment_intent.succeeded" && e["data"]["object"]["id"] == pi.as_str())
        .cloned()
        .expect("localstripe's event");
    assert_eq!(deliver(&app, &ev).await, "booked");
    assert_eq!(deliver(&app, &ev).await, "duplicate");
    assert_eq!(invoices(&app, &t, &b).await[0]["status"], "paid");
    let payments = count(&app, &t, "payments", "method = 'card'").await;
    println!("{{\"scenario\":\"stripe_flow\",\"payment_intents\":1,\"payments\":{payments}}}");
    assert_eq!(payments, 1);
    assert_eq!(app.get(&api(&t, "/account"), Some(&b)).await.json()["balance"], "200.00");
    let r = start(&app, &t, &b, invoice).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "invoice_not_open".into()), "{}", r.body);

    // A partial refund through Stripe: booked in the ledger, the invoice reopened by as much.
    let r = app
        .post_json(&api(&t, &format!("/admin/card-payments/{id}/refund")), &json!({"amount": "50.00"}), Some(&s))
        .await;
    assert_eq!((r.status.as_u16(), r.json()["refunded"].as_str()), (200, Some("50.00")), "{}", r.body);
    let refunds = stripe_call(&base, Method::GET, "/v1/refunds?limit=100", &[]).await;
    let ours: Vec<_> =
        refunds["data"].as_array().expect("refunds").iter().filter(|r| r["payment_intent"] == pi.as_str()).collect();
    assert_eq!((ours.len(), ours[0]["amount"].as_i64()), (1, Some(5000)));
    assert_eq!(app.get(&api(&t, "/account"), Some(&b)).await.json()["balance"], "150.00");
    assert_eq!(invoices(&app, &t, &b).await[0]["status"], "partly_paid");
}

#[actix_web::test]
async fn stripe_timing_out_or_unreachable_never_creates_a_second_payment_intent() {
    let Some(base) = localstripe() else { return };
    // Try 1 reaches Stripe but its answer never comes back; try 2 finds Stripe unreachable;
    // try 3 gets through. Then a store where every try fails, and the buyer tries later.
    let proxy = Proxy::start(
        &base,
        vec![Fault::ForwardThenHang, Fault::Reset, Fault::Forward, Fault::Reset, Fault::Reset, Fault::Reset],
        &[],
    )
    .await;
    let app = app_on(&proxy.url).await;
    let (t, _, b, _, invoice, _) = unpaid_invoice(&app, crate::identity::INNS[1]).await;
    let r = start(&app, &t, &b, invoice).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["payment_id"].as_i64().expect("id");
    let creates: Vec<_> =
        proxy.seen().into_iter().filter(|s| s.method == "POST" && s.path == "/v1/payment_intents").collect();
    let keys: Vec<_> = creates.iter().filter_map(|s| s.headers.get("idempotency-key").cloned()).collect();
    assert_eq!(keys.len(), 2, "try 1 and try 3 reached the proxy's reader: {keys:?}");
    assert!(keys.iter().all(|k| *k == format!("tradeport-{}-card-{id}-intent", t.tenant.id)), "{keys:?}");
    let first = intents_for(&base, &t.slug, id).await;

    let (t2, _, b2, _, invoice2, _) = unpaid_invoice(&app, crate::identity::INNS[2]).await;
    let r = start(&app, &t2, &b2, invoice2).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (503, "service_unavailable".into()), "{}", r.body);
    assert_eq!(count(&app, &t2, "card_payments", "status = 'creating' AND intent_id IS NULL").await, 1);
    // Stripe is back: the buyer tries again and the same attempt (same key) gets its intent.
    let r = start(&app, &t2, &b2, invoice2).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id2 = r.json()["payment_id"].as_i64().expect("id");
    assert_eq!(count(&app, &t2, "card_payments", "true").await, 1);
    let second = intents_for(&base, &t2.slug, id2).await;
    println!(
        "{{\"scenario\":\"T17\",\"tries_that_reached_stripe\":{},\"payment_intents\":[{},{}],\"duplicates\":{}}}",
        keys.len(),
        first.len(),
        second.len(),
        (first.len() + second.len()).saturating_sub(2)
    );
    assert_eq!((first.len(), second.len()), (1, 1), "one PaymentIntent per invoice");
}

#[actix_web::test]
async fn connect_requests_name_the_suppliers_account_and_the_plans_fee() {
    let Some(base) = localstripe() else { return };
    // localstripe refuses Connect fields: the proxy records them and forwards the rest.
    let proxy = Proxy::start(&base, vec![], &["application_fee_amount", "refund_application_fee"]).await;
    let app = app_on(&proxy.url).await;
    let (t, s, b, _, invoice, _) = unpaid_invoice(&app, crate::identity::INNS[3]).await;
    let r =
        app.patch_json(&api(&t, "/admin/settings"), &json!({"stripe_account": "acct_1TradeportTest"}), Some(&s)).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["stripe_account"].as_str()),
        (200, Some("acct_1TradeportTest")),
        "{}",
        r.body
    );
    let r = start(&app, &t, &b, invoice).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["payment_id"].as_i64().expect("id");
    let create = proxy.seen().into_iter().find(|s| s.path == "/v1/payment_intents").expect("create request");
    assert_eq!(create.headers.get("stripe-account").map(String::as_str), Some("acct_1TradeportTest"));
    assert_eq!(create.headers.get("authorization").map(String::as_str), Some("Bearer sk_test_tradeport"));
    // The business plan's fee: 1 % of 20,000 kopecks.
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&create.body).expect("form");
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(
        (field("amount"), field("currency"), field("application_fee_amount")),
        (Some("20000"), Some("rub"), Some("200")),
        "{}",
        create.body
    );
    assert_eq!(field("metadata[tradeport_tenant]"), Some(t.slug.as_str()));
    // A report from the connected account books; the same report without the account is flagged.
    let pi = crate::card_payments::intent_of(&app, &t, id).await;
    confirm_with_test_card(&base, &pi).await;
    let now = chrono::Utc::now().timestamp();
    let mut ev =
        crate::card_payments::intent_event(&unique("evt_"), "payment_intent.succeeded", &pi, 20000, &t.slug, now);
    assert_eq!(deliver(&app, &ev).await, "flagged");
    let (t2, s2, b2, _, invoice2, _) = unpaid_invoice(&app, crate::identity::INNS[4]).await;
    app.patch_json(&api(&t2, "/admin/settings"), &json!({"stripe_account": "acct_1TradeportTest"}), Some(&s2)).await;
    let id2 = start(&app, &t2, &b2, invoice2).await.json()["payment_id"].as_i64().expect("id");
    let pi2 = crate::card_payments::intent_of(&app, &t2, id2).await;
    ev = crate::card_payments::intent_event(&unique("evt_"), "payment_intent.succeeded", &pi2, 20000, &t2.slug, now);
    ev["account"] = json!("acct_1TradeportTest");
    confirm_with_test_card(&base, &pi2).await;
    assert_eq!(deliver(&app, &ev).await, "booked");
    // The refund goes to the connected account and gives the fee back in proportion.
    let r = app.post_json(&api(&t2, &format!("/admin/card-payments/{id2}/refund")), &json!({}), Some(&s2)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refund = proxy.seen().into_iter().find(|s| s.path == "/v1/refunds").expect("refund request");
    assert_eq!(refund.headers.get("stripe-account").map(String::as_str), Some("acct_1TradeportTest"));
    assert!(refund.body.contains("refund_application_fee=true"), "{}", refund.body);
    assert_eq!(
        refund.headers.get("idempotency-key").map(|k| k.starts_with(&format!("tradeport-{}-refund-", t2.tenant.id))),
        Some(true)
    );
    assert_eq!(app.get(&api(&t2, "/account"), Some(&b2)).await.json()["balance"], "0.00");
}
