//! Outbound webhooks end to end: an order placed through the API reaches a local receiver,
//! signed over the exact body; a failing receiver is retried with the same delivery id and
//! every attempt is in the log; a change that rolls back sends nothing.

use std::sync::atomic::Ordering;

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::catalog::api;
use crate::helpers::TestApp;
use crate::identity::INNS;
use crate::integrations::{header, hook, placed, run_jobs, signed, Receiver};
use crate::ordering::{buyer, order, store};

async fn deliveries(app: &TestApp, t: &crate::helpers::TestTenant, s: &str, id: i64) -> Vec<Value> {
    let r = app.get(&api(t, &format!("/admin/webhooks/{id}/deliveries")), Some(s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"].as_array().expect("items").clone()
}

#[actix_web::test]
async fn an_order_placed_through_the_api_reaches_the_receiver_signed() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let rx = Receiver::start().await;
    let (id, secret) = hook(&app, &t, &s, &rx.url, &["order.created", "stock.changed"]).await;
    let (b, company, _) = buyer(&app, &t, INNS[0]).await;
    let number = placed(&app, &t, &b, "w1").await;

    run_jobs(&app, &t).await;
    let got = rx.requests();
    assert_eq!(got.len(), 2, "one order.created and one stock.changed");
    let (h, body) = got.iter().find(|(h, _)| header(h, "tradeport-event") == "order.created").expect("order.created");
    assert!(signed(h, body, &secret), "signature over the exact body: {h:?}");
    assert!(!signed(h, &body.replacen('1', "2", 1), &secret), "a changed body does not verify");
    let v: Value = serde_json::from_str(body).expect("json body");
    assert_eq!((v["type"].as_str(), v["tenant"].as_str()), (Some("order.created"), Some(t.slug.as_str())));
    assert_eq!(
        (v["data"]["number"].as_str(), v["data"]["company_id"].as_i64()),
        (Some(number.as_str()), Some(company))
    );
    assert!(v["id"].is_string() && v["created_at"].is_string(), "{v}");
    let delivery = header(h, "tradeport-delivery").to_owned();
    assert_eq!(delivery.len(), 36, "a uuid: {delivery}");
    let (_, stock) = got.iter().find(|(h, _)| header(h, "tradeport-event") == "stock.changed").expect("stock.changed");
    let stock: Value = serde_json::from_str(stock).expect("json");
    assert_eq!(stock["data"]["items"], json!([{"sku": "PCS-1", "available": "8.000"}]));

    // The log shows both delivered at the first attempt.
    let log = deliveries(&app, &t, &s, id).await;
    assert_eq!(log.len(), 2);
    let d = log.iter().find(|d| d["id"] == delivery.as_str()).expect("delivery in the log");
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("delivered"), Some(1)), "{d}");
    assert_eq!(d["log"][0]["status_code"], 200);

    // An event the endpoint did not subscribe to is not sent…
    let confirm = |st: &'static str| json!({"status": st});
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{number}")), &confirm("confirmed"), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    run_jobs(&app, &t).await;
    assert_eq!(rx.requests().len(), 2);
    // …until it subscribes.
    let patch = json!({"events": ["order.created", "order.status_changed"]});
    let r = app.patch_json(&api(&t, &format!("/admin/webhooks/{id}")), &patch, Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["secret"].as_str()), (200, Some(secret.as_str())), "{}", r.body);
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{number}")), &confirm("in_production"), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    run_jobs(&app, &t).await;
    let got = rx.requests();
    assert_eq!(got.len(), 3);
    let v: Value = serde_json::from_str(&got[2].1).expect("json");
    assert_eq!(v["type"], "order.status_changed");
    assert_eq!(
        (v["data"]["number"].as_str(), v["data"]["from"].as_str(), v["data"]["to"].as_str()),
        (Some(number.as_str()), Some("confirmed"), Some("in_production"))
    );
}

#[actix_web::test]
async fn a_failing_receiver_is_retried_with_the_same_delivery_id_and_logged() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let rx = Receiver::start().await;
    rx.status.store(500, Ordering::SeqCst);
    let (id, secret) = hook(&app, &t, &s, &rx.url, &["order.status_changed"]).await;
    let r = app.post_json(&api(&t, &format!("/admin/webhooks/{id}/test")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 202, "{}", r.body);
    run_jobs(&app, &t).await;
    assert_eq!(rx.requests().len(), 1);
    let log = deliveries(&app, &t, &s, id).await;
    assert_eq!(
        (log[0]["status"].as_str(), log[0]["type"].as_str()),
        (Some("retrying"), Some("webhook.test")),
        "{log:?}"
    );
    assert_eq!((log[0]["log"][0]["status_code"].as_i64(), log[0]["attempts"].as_i64()), (Some(500), Some(1)));
    assert!(log[0]["log"][0]["error"].as_str().is_some_and(|e| e.contains("500")));
    // Not due yet: the queue backs off.
    run_jobs(&app, &t).await;
    assert_eq!(rx.requests().len(), 1);

    // The receiver recovers; once the back-off has passed the same delivery goes through.
    rx.status.store(204, Ordering::SeqCst);
    let tid = t.tenant.id;
    app.db(move |c| {
        diesel::sql_query(format!("UPDATE public.jobs SET run_at = now() WHERE tenant_id = {tid}"))
            .execute(c)
            .expect("due")
    })
    .await;
    run_jobs(&app, &t).await;
    let got = rx.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(header(&got[0].0, "tradeport-delivery"), header(&got[1].0, "tradeport-delivery"));
    assert!(signed(&got[1].0, &got[1].1, &secret));
    let log = deliveries(&app, &t, &s, id).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("delivered"), Some(2)), "{log:?}");
    assert_eq!(log[0]["log"][1]["status_code"], 204);

    // Redelivery on request: the same id again.
    let d = log[0]["id"].as_str().expect("id").to_owned();
    let r =
        app.post_json(&api(&t, &format!("/admin/webhooks/{id}/deliveries/{d}/redeliver")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 202, "{}", r.body);
    run_jobs(&app, &t).await;
    assert_eq!(header(&rx.requests()[2].0, "tradeport-delivery"), d);
}

#[actix_web::test]
async fn a_change_that_rolls_back_sends_nothing() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let rx = Receiver::start().await;
    hook(&app, &t, &s, &rx.url, &["order.created", "stock.changed", "payment.succeeded"]).await;
    let (b, company, _) = buyer(&app, &t, INNS[0]).await;
    // More than the stock: refused, nothing written, nothing queued.
    let r = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 12}]}), Some("big")).await;
    assert_eq!(r.status, 409, "{}", r.body);
    // A payment refused by validation.
    let r = app
        .post_json(
            &api(&t, "/admin/payments"),
            &json!({"customer_id": company, "amount": "-5", "reference": "x"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // An emit inside a transaction that then fails.
    let schema = t.tenant.schema.clone();
    app.db(move |c| {
        let r: Result<(), tradeport::error::AppError> = tradeport::db::in_tenant(c, &schema, |c| {
            tradeport::integrations::webhooks::emit(c, "order.created", &json!({"number": "ghost"}))?;
            Err(tradeport::error::AppError::conflict("injected", "rolled back"))
        });
        assert!(r.is_err());
    })
    .await;
    run_jobs(&app, &t).await;
    assert!(rx.requests().is_empty());
    let tid = t.tenant.id;
    let queued: i64 = app.db(move |c| tradeport::jobs::pending(c, Some(tid)).expect("pending")).await;
    assert_eq!(queued, 0, "no delivery waits either");
}

#[actix_web::test]
async fn approvals_and_payments_are_sent_as_they_happen() {
    let app = TestApp::spawn().await;
    let t = app
        .new_tenant_with(|r| {
            r.mode = Some("closed".into());
            r.plan = Some("business".into());
        })
        .await;
    let s = crate::catalog::staff(&app, &t).await;
    let rx = Receiver::start().await;
    let events = ["customer.approved", "payment.succeeded", "order.status_changed"];
    let (_, secret) = hook(&app, &t, &s, &rx.url, &events).await;
    let (_, r) = crate::identity::register(&app, &t, INNS[2]).await;
    assert_eq!(r.json()["status"], "pending_approval", "{}", r.body);
    let company = r.json()["company_id"].as_i64().expect("company");
    let r = app.post_json(&api(&t, &format!("/admin/customers/{company}/approve")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post_json(
            &api(&t, "/admin/payments"),
            &json!({"customer_id": company, "amount": "150.00", "reference": "п/п 9"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    run_jobs(&app, &t).await;
    let got = rx.requests();
    let kinds: Vec<&str> = got.iter().map(|(h, _)| header(h, "tradeport-event")).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&"customer.approved") && kinds.contains(&"payment.succeeded"), "{kinds:?}");
    for (h, body) in &got {
        assert!(signed(h, body, &secret));
        let v: Value = serde_json::from_str(body).expect("json");
        match v["type"].as_str() {
            Some("customer.approved") => {
                assert_eq!((v["data"]["id"].as_i64(), v["data"]["inn"].as_str()), (Some(company), Some(INNS[2])))
            }
            _ => assert_eq!(
                (v["data"]["amount"].as_str(), v["data"]["customer_id"].as_i64()),
                (Some("150.00"), Some(company))
            ),
        }
    }
}
