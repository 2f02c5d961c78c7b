//! Ordering as buyers and staff use it: several carts, quick order, checkout with an
//! Idempotency-Key, stock that is never oversold, the lifecycle, pre-orders, approvals.

use awc::http::Method;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::catalog::{api, product, staff};
use crate::helpers::{unique, TestApp, TestTenant, TEST_PASSWORD};
use crate::identity::{register, INNS};

/// A store that does not ask for e-mail confirmation before ordering, on a plan with
/// pre-orders, with products `PCS-1` (pieces, min 2, multiple 2, 10 in stock), `M-1`
/// (metres, 100 in stock), `UP-1` (upcoming, none in stock).
pub async fn store(app: &TestApp) -> (TestTenant, String) {
    let t = app
        .new_tenant_with(|o| {
            o.plan = Some("business".into());
            o.settings.insert("require_email_confirmation".into(), json!(false));
        })
        .await;
    let s = staff(app, &t).await;
    product(app, &t, &s, json!({"sku": "PCS-1", "name": "Ручка оконная", "price": "100.00", "stock": 10, "min_qty": "2", "order_multiple": "2"})).await;
    product(app, &t, &s, json!({"sku": "M-1", "name": "Уплотнитель", "price": "12.50", "unit": "m", "stock": 100, "order_multiple": "0.5", "min_qty": "0.5"})).await;
    product(app, &t, &s, json!({"sku": "UP-1", "name": "Новинка", "price": "500.00", "status": "upcoming", "available_from": "2099-01-01"})).await;
    (t, s)
}

/// A buyer of an active company: (token, company id, e-mail).
pub async fn buyer(app: &TestApp, t: &TestTenant, inn: &str) -> (String, i64, String) {
    let (email, r) = register(app, t, inn).await;
    assert_eq!(r.status, 201, "{}", r.body);
    (app.login(&email, TEST_PASSWORD).await, r.json()["company_id"].as_i64().expect("company"), email)
}

pub async fn new_cart(app: &TestApp, t: &TestTenant, token: &str, name: &str) -> i64 {
    let r = app.post_json(&api(t, "/carts"), &json!({"name": name}), Some(token)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().expect("cart id")
}

pub async fn add(app: &TestApp, t: &TestTenant, token: &str, cart: i64, sku: &str, qty: Value) -> crate::helpers::Resp {
    app.post_json(&api(t, &format!("/carts/{cart}/items")), &json!({"sku": sku, "qty": qty}), Some(token)).await
}

pub async fn order(
    app: &TestApp,
    t: &TestTenant,
    token: &str,
    body: &Value,
    key: Option<&str>,
) -> crate::helpers::Resp {
    let mut req =
        app.request(Method::POST, &api(t, "/orders")).insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(k) = key {
        req = req.insert_header(("Idempotency-Key", k.to_owned()));
    }
    app.send(req.insert_header(("Content-Type", "application/json")), Some(body.to_string())).await
}

pub async fn stock_of(app: &TestApp, t: &TestTenant, sku: &str) -> String {
    let r = app.get(&api(t, &format!("/admin/products/{sku}")), Some(&staff(app, t).await)).await;
    r.json()["stock_available"].as_str().map(str::to_owned).unwrap_or_else(|| r.body.clone())
}

async fn account_id(app: &TestApp, email: &str) -> i64 {
    use tradeport::db::schema_platform::accounts;
    let email = email.to_owned();
    app.db(move |c| {
        accounts::table.filter(accounts::email.eq(email)).select(accounts::id).first::<i64>(c).expect("account")
    })
    .await
}

/// Adds a new person to `company` with `role`; returns their token.
pub async fn colleague(app: &TestApp, t: &TestTenant, company: i64, role: &'static str) -> String {
    colleague_with_email(app, t, company, role).await.0
}

/// [`colleague`], also answering their e-mail and account id.
async fn colleague_with_email(
    app: &TestApp,
    t: &TestTenant,
    company: i64,
    role: &'static str,
) -> (String, String, i64) {
    let (email, token) = app.user_token().await;
    let id = account_id(app, &email).await;
    let schema = t.tenant.schema.clone();
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| tradeport::identity::companies::add_member(c, company, id, role))
            .expect("member")
    })
    .await;
    (token, email, id)
}

#[actix_web::test]
async fn a_buyer_keeps_several_carts_with_live_prices_and_clear_quantity_errors() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let site_a = new_cart(&app, &t, &b, "Объект на Ленина").await;
    let site_b = new_cart(&app, &t, &b, "Object B").await;

    let r = add(&app, &t, &b, site_a, "PCS-1", json!("4")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cart = r.json();
    assert_eq!(
        (cart["total"].as_str(), cart["lines"][0]["amount"].as_str()),
        (Some("400.00"), Some("400.00")),
        "{cart}"
    );
    assert_eq!(cart["vat_total"], "66.67", "VAT 20 % included in 400.00");

    // Bad quantities: a clear message, nothing changed.
    for (qty, expect) in [
        (json!("0"), "greater than zero"),
        (json!("-2"), "greater than zero"),
        (json!("1.5"), "whole number"),
        (json!("1"), "minimum"),
        (json!("3"), "multiple"),
        (json!("1000000000"), "too large"),
        (json!("lots"), "number"),
    ] {
        let r = add(&app, &t, &b, site_b, "PCS-1", qty.clone()).await;
        assert_eq!(r.status, 422, "{qty}: {}", r.body);
        let msg = r.json()["error"]["fields"]["qty"].as_str().unwrap_or_default().to_owned();
        assert!(msg.contains(expect), "{qty}: {msg}");
    }
    let r = add(&app, &t, &b, site_b, "NO-SUCH", json!(1)).await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["fields"]["sku"].is_string()), (422, true), "{}", r.body);
    let r = app.get(&api(&t, &format!("/carts/{site_b}")), Some(&b)).await;
    assert_eq!(r.json()["lines"].as_array().map(Vec::len), Some(0), "nothing was added");

    // Fractional metres are fine; the same product twice adds up.
    assert_eq!(add(&app, &t, &b, site_b, "M-1", json!("2.5")).await.status, 200);
    let r = add(&app, &t, &b, site_b, "m-1", json!(1.5)).await;
    assert_eq!(r.json()["lines"][0]["qty"], "4", "{}", r.body);

    // Move one line, copy another; quantities add up in the target.
    let r = app
        .post_json(&api(&t, &format!("/carts/{site_a}/transfer")), &json!({"to": site_b, "mode": "copy"}), Some(&b))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post_json(&api(&t, &format!("/carts/{site_b}/transfer")), &json!({"to": site_a, "skus": ["M-1"]}), Some(&b))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = app.get(&api(&t, &format!("/carts/{site_a}")), Some(&b)).await.json();
    let bb = app.get(&api(&t, &format!("/carts/{site_b}")), Some(&b)).await.json();
    let skus = |c: &Value| {
        c["lines"].as_array().map(|l| l.iter().map(|x| x["sku"].as_str().unwrap_or("").to_owned()).collect::<Vec<_>>())
    };
    assert_eq!(skus(&a), Some(vec!["PCS-1".to_owned(), "M-1".to_owned()]), "{a}");
    assert_eq!(skus(&bb), Some(vec!["PCS-1".to_owned()]), "{bb}");
    let list = app.get(&api(&t, "/carts"), Some(&b)).await.json();
    assert_eq!(list["total"], 2, "{list}");

    // Carts survive a new login.
    let again = app.login(&t.admin_email, TEST_PASSWORD).await;
    assert_ne!(again, b);
}

#[actix_web::test]
async fn colleagues_share_carts_other_companies_never_see_them() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[0]).await;
    let cart = new_cart(&app, &t, &b, "Общая").await;
    add(&app, &t, &b, cart, "PCS-1", json!(2)).await;

    let mate = colleague(&app, &t, company, "buyer").await;
    let r = app.get(&api(&t, &format!("/carts/{cart}")), Some(&mate)).await;
    assert_eq!(r.status, 200, "a colleague sees the shared cart: {}", r.body);
    assert_eq!(r.json()["mine"], false);
    let viewer = colleague(&app, &t, company, "viewer").await;
    assert_eq!(app.get(&api(&t, &format!("/carts/{cart}")), Some(&viewer)).await.status, 200);
    assert_eq!(add(&app, &t, &viewer, cart, "PCS-1", json!(2)).await.status, 403, "a viewer only looks");
    assert_eq!(app.post_json(&api(&t, "/carts"), &json!({"name": "x"}), Some(&viewer)).await.status, 403);

    let (other, _, _) = buyer(&app, &t, INNS[1]).await;
    assert_eq!(app.get(&api(&t, &format!("/carts/{cart}")), Some(&other)).await.status, 404);
    assert_eq!(add(&app, &t, &other, cart, "PCS-1", json!(2)).await.status, 404);
    let r = order(&app, &t, &other, &json!({"cart_id": cart}), None).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(app.get(&api(&t, "/carts"), Some(&other)).await.json()["total"], 0);
}

#[actix_web::test]
async fn quick_order_adds_good_lines_and_reports_each_bad_one() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let cart = new_cart(&app, &t, &b, "Быстрый").await;
    let text = "PCS-1 4\nNOPE 1\nM-1\t2,5\nPCS-1 3\nUP-1 ноль\n";
    let r = app.post_json(&api(&t, &format!("/carts/{cart}/quick-order")), &json!({"text": text}), Some(&b)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["added"], 2, "{v}");
    let lines: Vec<i64> =
        v["rejected"].as_array().expect("rejected").iter().filter_map(|x| x["line"].as_i64()).collect();
    assert_eq!(lines, vec![2, 4, 5], "{v}");
    assert_eq!(v["cart"]["lines"].as_array().map(Vec::len), Some(2));

    let csv = "Артикул;Количество\nM-1;1\nPCS-1;x\n";
    let req = app
        .request(Method::POST, &api(&t, &format!("/carts/{cart}/quick-order")))
        .insert_header(("Authorization", format!("Bearer {b}")))
        .insert_header(("Content-Type", "text/csv"));
    let r = app.send(req, Some(csv.into())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["added"].as_i64(), r.json()["rejected"][0]["line"].as_i64()),
        (Some(1), Some(3)),
        "{}",
        r.body
    );
}

#[actix_web::test]
async fn placing_an_order_takes_stock_once_per_key_and_never_oversells() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, email) = buyer(&app, &t, INNS[0]).await;
    let cart = new_cart(&app, &t, &b, "Главная").await;
    add(&app, &t, &b, cart, "PCS-1", json!(4)).await;
    add(&app, &t, &b, cart, "M-1", json!("2.5")).await;
    let body = json!({"cart_id": cart, "comment": "к 9 утра", "po_number": "PO-77"});

    // The buyer confirmed a total that is no longer right: refused with the new cart.
    let r = order(&app, &t, &b, &json!({"cart_id": cart, "expected_total": "1.00"}), Some("k0")).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "prices_changed".to_owned()), "{}", r.body);
    assert_eq!(r.json()["error"]["total"], "431.25");

    let r = order(&app, &t, &b, &body, Some("key-1")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let o = r.json();
    assert_eq!(
        (o["status"].as_str(), o["kind"].as_str(), o["total"].as_str()),
        (Some("new"), Some("order"), Some("431.25")),
        "{o}"
    );
    assert!(o["number"].as_str().is_some_and(|n| n.starts_with("Z-")), "{o}");
    assert_eq!(o["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "6");

    // The same key again: the same order, nothing taken twice; another body: 422.
    let again = order(&app, &t, &b, &body, Some("key-1")).await;
    assert_eq!((again.status.as_u16(), again.json()["number"].clone()), (201, o["number"].clone()));
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    let other = order(&app, &t, &b, &json!({"cart_id": cart, "comment": "другое"}), Some("key-1")).await;
    assert_eq!(
        (other.status.as_u16(), other.error_code()),
        (422, "idempotency_key_reused".to_owned()),
        "{}",
        other.body
    );
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "6");

    // The cart is empty now; an empty cart cannot be ordered.
    let r = order(&app, &t, &b, &json!({"cart_id": cart}), Some("key-2")).await;
    assert_eq!(r.status, 422, "{}", r.body);

    // More than there is: 409 naming the line; nothing taken, the cart kept.
    add(&app, &t, &b, cart, "PCS-1", json!(8)).await;
    add(&app, &t, &b, cart, "M-1", json!(1)).await;
    let r = order(&app, &t, &b, &json!({"cart_id": cart}), Some("key-3")).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "insufficient_stock".to_owned()), "{}", r.body);
    assert_eq!(r.json()["error"]["lines"], json!([{"sku": "PCS-1", "requested": "8", "available": "6"}]));
    assert_eq!(stock_of(&app, &t, "M-1").await, "97.5", "the other line's stock is untouched");
    let c = app.get(&api(&t, &format!("/carts/{cart}")), Some(&b)).await.json();
    assert_eq!(c["lines"].as_array().map(Vec::len), Some(2));
    // The cart says the line is short, without the exact stock the store does not show.
    assert_eq!(c["lines"][0]["problem"]["code"], "short", "{c}");
    assert!(!c["lines"][0]["problem"]["message"].as_str().unwrap_or("6").contains('6'), "{c}");

    // The buyer was told, in the cabinet's mail too; the order is in the history.
    let op = app.operator_token().await;
    let mail = app.get(&format!("/api/v1/platform/mail?to={email}"), Some(&op)).await.json();
    assert!(
        mail["items"].as_array().is_some_and(|m| m
            .iter()
            .any(|x| x["subject"].as_str().is_some_and(|s| s.contains(o["number"].as_str().unwrap_or("?"))))),
        "{mail}"
    );
    let list = app.get(&api(&t, "/orders?sku=pcs-1"), Some(&b)).await.json();
    assert_eq!(list["total"], 1, "{list}");
    let staff_list = app.get(&api(&t, "/admin/orders?status=new"), Some(&s)).await.json();
    assert_eq!(staff_list["total"], 1, "{staff_list}");
}

#[actix_web::test]
async fn fifty_buyers_racing_for_ten_units_never_oversell() {
    // T8: 20 rounds of 50 concurrent orders of one unit each, for 10 units in stock.
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let mut buyers = Vec::new();
    for inn in INNS.iter().take(5) {
        buyers.push(buyer(&app, &t, inn).await.0);
    }
    let (mut accepted, mut refused) = (0, 0);
    for round in 0..20 {
        let r = app
            .json_request(
                Method::PUT,
                &api(&t, "/admin/products/M-1/stock"),
                &json!([{"warehouse": "main", "quantity": "10"}]),
                Some(&s),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        let mut handles = Vec::new();
        for i in 0..50 {
            let (addr, token, path) = (app.address.clone(), buyers[i % buyers.len()].clone(), api(&t, "/orders"));
            handles.push(actix_web::rt::spawn(async move {
                let mut r = awc::Client::builder()
                    .timeout(std::time::Duration::from_secs(120))
                    .finish()
                    .post(format!("{addr}{path}"))
                    .insert_header(("Authorization", format!("Bearer {token}")))
                    .insert_header(("Idempotency-Key", format!("race-{round}-{i}")))
                    .send_json(&json!({"lines": [{"sku": "M-1", "qty": 1}]}))
                    .await
                    .expect("send");
                let _ = r.body().await;
                r.status().as_u16()
            }));
        }
        let mut codes = Vec::new();
        for h in handles {
            codes.push(h.await.expect("join"));
        }
        let ok = codes.iter().filter(|c| **c == 201).count();
        let short = codes.iter().filter(|c| **c == 409).count();
        assert_eq!((ok, short), (10, 40), "round {round}: {codes:?}");
        assert_eq!(stock_of(&app, &t, "M-1").await, "0", "round {round}");
        accepted += ok;
        refused += short;
    }
    let schema = t.tenant.schema.clone();
    let sold: i64 = app
        .db(move |c| {
            tradeport::db::in_tenant(c, &schema, |c| {
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let sql = "SELECT coalesce(sum(l.qty), 0)::bigint AS n FROM order_lines l JOIN products p ON p.id = l.product_id WHERE p.sku = 'M-1'";
                Ok(diesel::sql_query(sql).get_result::<N>(c)?.n)
            })
            .expect("sold")
        })
        .await;
    assert_eq!((accepted, refused, sold), (200, 800, 200), "200 accepted for 200 units, never more");
}

#[actix_web::test]
async fn the_same_key_sent_ten_times_at_once_makes_one_order() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let cart = new_cart(&app, &t, &b, "Один").await;
    add(&app, &t, &b, cart, "M-1", json!(2)).await;
    let key = unique("k");
    let mut handles = Vec::new();
    for _ in 0..10 {
        let (addr, token, path, key) = (app.address.clone(), b.clone(), api(&t, "/orders"), key.clone());
        handles.push(actix_web::rt::spawn(async move {
            let mut r = awc::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .finish()
                .post(format!("{addr}{path}"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .insert_header(("Idempotency-Key", key))
                .send_json(&json!({"cart_id": cart}))
                .await
                .expect("send");
            let body: Value = r.json().await.unwrap_or_default();
            (r.status().as_u16(), body["number"].as_str().unwrap_or("").to_owned())
        }));
    }
    let mut numbers = Vec::new();
    for h in handles {
        let (status, number) = h.await.expect("join");
        assert_eq!(status, 201);
        numbers.push(number);
    }
    numbers.dedup();
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    assert_eq!(app.get(&api(&t, "/orders"), Some(&b)).await.json()["total"], 1);
    assert_eq!(stock_of(&app, &t, "M-1").await, "98");
}

#[actix_web::test]
async fn orders_move_through_their_lifecycle_and_cancelling_returns_stock() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let cart = new_cart(&app, &t, &b, "A").await;
    add(&app, &t, &b, cart, "PCS-1", json!(2)).await;
    let first = order(&app, &t, &b, &json!({"cart_id": cart}), Some("a")).await.json();
    add(&app, &t, &b, cart, "PCS-1", json!(4)).await;
    let second = order(&app, &t, &b, &json!({"cart_id": cart}), Some("b")).await.json();
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "4");

    let n1 = first["number"].as_str().expect("number").to_owned();
    let r = app.post_json(&api(&t, &format!("/orders/{n1}/cancel")), &json!({}), Some(&b)).await;
    assert_eq!((r.status.as_u16(), r.json()["status"].as_str()), (200, Some("cancelled")), "{}", r.body);
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "6", "the stock came back");

    let n2 = second["number"].as_str().expect("number").to_owned();
    let r = app
        .patch_json(
            &api(&t, &format!("/admin/orders/{n2}")),
            &json!({"status": "confirmed", "internal_note": "звонить до 18"}),
            Some(&s),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.json()["internal_note"].as_str()), (200, Some("звонить до 18")), "{}", r.body);
    let r = app.post_json(&api(&t, &format!("/orders/{n2}/cancel")), &json!({}), Some(&b)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "not_cancellable".to_owned()));
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{n2}")), &json!({"status": "new"}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "invalid_transition".to_owned()));
    for step in ["assembled", "shipped", "delivered", "completed"] {
        let r = app.patch_json(&api(&t, &format!("/admin/orders/{n2}")), &json!({"status": step}), Some(&s)).await;
        assert_eq!(r.status, 200, "{step}: {}", r.body);
    }
    let v = app.get(&api(&t, &format!("/orders/{n2}")), Some(&b)).await.json();
    let steps: Vec<&str> = v["history"].as_array().expect("history").iter().filter_map(|h| h["to"].as_str()).collect();
    assert_eq!(steps, vec!["new", "confirmed", "assembled", "shipped", "delivered", "completed"], "{v}");
    assert!(v.get("internal_note").is_none(), "buyers never see the internal note");

    // Repeat into a new cart at today's prices.
    let r = app.post_json(&api(&t, &format!("/orders/{n2}/repeat")), &json!({}), Some(&b)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["cart"]["lines"][0]["qty"], "4");
}

#[actix_web::test]
async fn upcoming_products_are_pre_ordered_without_taking_stock_then_converted() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let cart = new_cart(&app, &t, &b, "Pre").await;
    assert_eq!(add(&app, &t, &b, cart, "UP-1", json!(3)).await.status, 200);
    let r = order(&app, &t, &b, &json!({"cart_id": cart}), Some("o")).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (422, "lines_not_orderable".to_owned()), "{}", r.body);
    let r = order(&app, &t, &b, &json!({"cart_id": cart, "kind": "preorder"}), Some("p")).await;
    assert_eq!((r.status.as_u16(), r.json()["kind"].as_str()), (201, Some("preorder")), "{}", r.body);
    let n = r.json()["number"].as_str().expect("number").to_owned();

    let r = app
        .patch_json(&api(&t, &format!("/admin/orders/{n}")), &json!({"expected_date": "2099-02-01"}), Some(&s))
        .await;
    assert_eq!((r.status.as_u16(), r.json()["expected_date"].as_str()), (200, Some("2099-02-01")), "{}", r.body);
    // Converting before the goods arrived: 409 naming the line.
    let r = app.post_json(&api(&t, &format!("/admin/orders/{n}/convert")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "insufficient_stock".to_owned()), "{}", r.body);
    app.json_request(
        Method::PUT,
        &api(&t, "/admin/products/UP-1/stock"),
        &json!([{"warehouse": "main", "quantity": "5"}]),
        Some(&s),
    )
    .await;
    let r = app.post_json(&api(&t, &format!("/admin/orders/{n}/convert")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["kind"].as_str()), (200, Some("order")), "{}", r.body);
    assert_eq!(stock_of(&app, &t, "UP-1").await, "2");
}

#[actix_web::test]
async fn who_may_order_unconfirmed_e_mail_and_unapproved_customers() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    product(&app, &t, &s, json!({"sku": "A-1", "name": "A", "price": "10.00", "stock": 5})).await;
    let (b, company, _) = buyer(&app, &t, INNS[0]).await;
    let cart = new_cart(&app, &t, &b, "c").await;
    add(&app, &t, &b, cart, "A-1", json!(1)).await;
    let r = order(&app, &t, &b, &json!({"cart_id": cart}), Some("x")).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (403, "email_not_confirmed".to_owned()), "{}", r.body);
    let viewer = colleague(&app, &t, company, "viewer").await;
    let r = order(&app, &t, &viewer, &json!({"cart_id": cart}), Some("y")).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = order(&app, &t, &b, &json!({"cart_id": cart, "bogus": 1}), None).await;
    assert_eq!(r.status, 400, "unknown fields are refused: {}", r.body);
    assert_eq!(stock_of(&app, &t, "A-1").await, "5");
}

/// Runs the tenant's queued jobs now, whatever their time (as if the clock had moved on).
async fn run_jobs_now(app: &TestApp, t: &TestTenant) -> usize {
    let tid = t.tenant.id;
    app.db(move |c| {
        diesel::sql_query(format!("UPDATE public.jobs SET run_at = now() WHERE tenant_id = {tid}"))
            .execute(c)
            .expect("jobs")
    })
    .await;
    tradeport::jobs::worker::run_once(&app.state, Some(tid)).await.expect("worker")
}

async fn mail_to(app: &TestApp, email: &str) -> Vec<String> {
    let op = app.operator_token().await;
    let mail = app.get(&format!("/api/v1/platform/mail?to={email}&per_page=100"), Some(&op)).await.json();
    mail["items"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["subject"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[actix_web::test]
async fn a_reservation_holds_stock_from_others_ends_on_time_or_becomes_an_order() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (b, _, email) = buyer(&app, &t, INNS[0]).await;
    let (other, _, _) = buyer(&app, &t, INNS[1]).await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
    let far = (chrono::Utc::now() + chrono::Duration::days(40)).date_naive().to_string();

    let r = app.post_json(&api(&t, "/reservations"), &json!({"sku": "M-1", "qty": "60", "until": far}), Some(&b)).await;
    assert_eq!(r.status, 422, "beyond the store's 14 days: {}", r.body);
    let r = app
        .post_json(&api(&t, "/reservations"), &json!({"sku": "M-1", "qty": "101", "until": tomorrow}), Some(&b))
        .await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "insufficient_stock".to_owned()), "{}", r.body);
    let r = app
        .post_json(&api(&t, "/reservations"), &json!({"sku": "M-1", "qty": "60", "until": tomorrow}), Some(&b))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let first = r.json()["id"].as_i64().expect("id");
    assert_eq!(stock_of(&app, &t, "M-1").await, "40", "held stock is not sellable");

    // Another buyer cannot take the held units.
    let cart = new_cart(&app, &t, &other, "o").await;
    add(&app, &t, &other, cart, "M-1", json!(41)).await;
    let r = order(&app, &t, &other, &json!({"cart_id": cart}), Some("o1")).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["lines"][0]["available"].as_str()),
        (409, Some("40")),
        "{}",
        r.body
    );

    // The day before, the buyer is reminded; at the end, the stock comes back.
    run_jobs_now(&app, &t).await;
    let l = app.get(&api(&t, "/reservations"), Some(&b)).await.json();
    assert_eq!(l["items"][0]["status"], "active", "not over yet: the expiry job waits for its time: {l}");
    let schema = t.tenant.schema.clone();
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| {
            Ok(diesel::sql_query(format!(
                "UPDATE reservations SET until = now() - interval '1 minute' WHERE id = {first}"
            ))
            .execute(c)?)
        })
        .expect("past")
    })
    .await;
    run_jobs_now(&app, &t).await;
    let l = app.get(&api(&t, "/reservations"), Some(&b)).await.json();
    assert_eq!(l["items"][0]["status"], "expired", "{l}");
    assert_eq!(stock_of(&app, &t, "M-1").await, "100");
    let subjects = mail_to(&app, &email).await;
    assert!(subjects.iter().any(|s| s.contains("ends") || s.contains("заканчивается")), "{subjects:?}");
    assert!(subjects.iter().any(|s| s.contains("has ended")), "{subjects:?}");

    // A second reservation becomes an order: the stock moves from held to sold.
    let r = app
        .post_json(&api(&t, "/reservations"), &json!({"sku": "M-1", "qty": "10", "until": tomorrow}), Some(&b))
        .await;
    let second = r.json()["id"].as_i64().expect("id");
    let r = app.post_json(&api(&t, &format!("/reservations/{second}/order")), &json!({}), Some(&b)).await;
    assert_eq!((r.status.as_u16(), r.json()["lines"][0]["qty"].as_str()), (201, Some("10")), "{}", r.body);
    assert_eq!(stock_of(&app, &t, "M-1").await, "90");
    let r = app.post_json(&api(&t, &format!("/reservations/{second}/order")), &json!({}), Some(&b)).await;
    assert_eq!(r.status, 409, "a converted reservation cannot be ordered twice");
    assert_eq!(
        app.json_request(Method::DELETE, &api(&t, &format!("/reservations/{second}")), &json!({}), Some(&other))
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn waiting_buyers_are_told_once_and_the_first_gets_the_stock_held() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    product(&app, &t, &s, json!({"sku": "OOS-1", "name": "Нет в наличии", "price": "10.00", "stock": 0})).await;
    let (first, _, first_email) = buyer(&app, &t, INNS[0]).await;
    let (second, _, second_email) = buyer(&app, &t, INNS[1]).await;
    let r = app.post_json(&api(&t, "/waitlist"), &json!({"sku": "OOS-1", "qty": 3}), Some(&first)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(app.post_json(&api(&t, "/waitlist"), &json!({"sku": "OOS-1"}), Some(&first)).await.status, 409);
    assert_eq!(
        app.post_json(&api(&t, "/waitlist"), &json!({"sku": "M-1"}), Some(&first)).await.error_code(),
        "in_stock"
    );
    assert_eq!(app.post_json(&api(&t, "/waitlist"), &json!({"sku": "OOS-1"}), Some(&second)).await.status, 201);

    // Three arrive: the first subscriber gets them held for a day, the second is told only.
    let r = app
        .json_request(
            Method::PUT,
            &api(&t, "/admin/products/OOS-1/stock"),
            &json!([{"warehouse": "main", "quantity": "3"}]),
            Some(&s),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert!(run_jobs_now(&app, &t).await >= 1);
    let res = app.get(&api(&t, "/reservations"), Some(&first)).await.json();
    assert_eq!(
        (res["items"][0]["qty"].as_str(), res["items"][0]["source"].as_str()),
        (Some("3"), Some("waitlist")),
        "{res}"
    );
    assert_eq!(app.get(&api(&t, "/reservations"), Some(&second)).await.json()["total"], 0);
    assert_eq!(stock_of(&app, &t, "OOS-1").await, "0");
    run_jobs_now(&app, &t).await;
    let told = |subjects: Vec<String>| subjects.iter().filter(|s| s.contains("OOS-1")).count();
    assert_eq!(told(mail_to(&app, &first_email).await), 1, "told once");
    assert_eq!(told(mail_to(&app, &second_email).await), 1, "told once");
    let w = app.get(&api(&t, "/waitlist"), Some(&second)).await.json();
    assert!(w["items"][0]["notified_at"].is_string(), "{w}");
}

#[actix_web::test]
async fn orders_above_a_buyers_limit_wait_for_the_company_admin() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (admin, company, _) = buyer(&app, &t, INNS[0]).await;
    let (mate, _, mate_id) = colleague_with_email(&app, &t, company, "buyer").await;
    let r = app
        .patch_json(&api(&t, &format!("/account/users/{mate_id}")), &json!({"order_limit": "300"}), Some(&admin))
        .await;
    assert_eq!((r.status.as_u16(), r.json()["order_limit"].as_str()), (200, Some("300.00")), "{}", r.body);
    assert_eq!(
        app.patch_json(&api(&t, &format!("/account/users/{mate_id}")), &json!({"order_limit": "-1"}), Some(&admin))
            .await
            .status,
        422
    );

    let cart = new_cart(&app, &t, &mate, "big").await;
    add(&app, &t, &mate, cart, "PCS-1", json!(4)).await;
    let r = order(&app, &t, &mate, &json!({"cart_id": cart}), Some("big-1")).await;
    assert_eq!(r.json()["status"], "awaiting_approval", "{}", r.body);
    let n = r.json()["number"].as_str().expect("number").to_owned();
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "10", "no stock taken before approval");
    assert_eq!(app.post_json(&api(&t, &format!("/orders/{n}/approve")), &json!({}), Some(&mate)).await.status, 403);
    let r = app.post_json(&api(&t, &format!("/orders/{n}/approve")), &json!({}), Some(&admin)).await;
    assert_eq!((r.status.as_u16(), r.json()["status"].as_str()), (200, Some("new")), "{}", r.body);
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "6");

    add(&app, &t, &mate, cart, "PCS-1", json!(4)).await;
    let n2 = order(&app, &t, &mate, &json!({"cart_id": cart}), Some("big-2")).await.json()["number"]
        .as_str()
        .expect("n")
        .to_owned();
    let r = app.post_json(&api(&t, &format!("/orders/{n2}/decline")), &json!({}), Some(&admin)).await;
    assert_eq!(r.json()["status"], "cancelled", "{}", r.body);
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "6");
}

#[actix_web::test]
async fn an_integration_places_an_order_from_lines_without_a_cart() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let body = json!({"lines": [{"sku": "PCS-1", "qty": 2}, {"sku": "m-1", "qty": "1.5"}], "po_number": "ERP-1"});
    let r = order(&app, &t, &b, &body, Some("erp-1")).await;
    assert_eq!((r.status.as_u16(), r.json()["total"].as_str()), (201, Some("218.75")), "{}", r.body);
    let bad = json!({"lines": [{"sku": "PCS-1", "qty": -2}, {"sku": "NOPE", "qty": 1}, {"sku": "PCS-1", "qty": 2}]});
    let r = order(&app, &t, &b, &bad, Some("erp-2")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let fields = r.json()["error"]["fields"].clone();
    assert!(fields["lines[0].qty"].is_string() && fields["lines[1].sku"].is_string(), "{fields}");
    let both = json!({"cart_id": 1, "lines": [{"sku": "PCS-1", "qty": 2}]});
    assert_eq!(order(&app, &t, &b, &both, Some("erp-3")).await.status, 422);
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "8");
}

#[actix_web::test]
async fn stock_changed_from_psql_outside_the_tenant_door_still_updates_availability() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let schema = t.tenant.schema.as_str().to_owned();
    // A maintenance session: the default search_path, schema-qualified names only.
    let r = app
        .db(move |c| {
            diesel::sql_query(format!("UPDATE \"{schema}\".stock SET quantity = 7"))
                .execute(c)
                .map_err(|e| e.to_string())
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "7");
}

#[actix_web::test]
async fn a_new_order_is_supplemented_by_the_buyer_and_edited_by_staff_with_stock_following() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, email) = buyer(&app, &t, INNS[0]).await;
    let placed =
        order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}, {"sku": "M-1", "qty": 1}]}), Some("s1"))
            .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let n = placed.json()["number"].as_str().expect("number").to_owned();
    let lines = |v: &Value| -> Vec<(String, String)> {
        v["lines"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|x| (x["sku"].as_str().unwrap_or("").to_owned(), x["qty"].as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };

    // The buyer adds two more handles: the line grows, stock and total follow.
    let r = app
        .post_json(&api(&t, &format!("/orders/{n}/lines")), &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some(&b))
        .await;
    assert_eq!((r.status.as_u16(), r.json()["total"].as_str()), (200, Some("412.50")), "{}", r.body);
    assert_eq!(lines(&r.json()), vec![("PCS-1".into(), "4".into()), ("M-1".into(), "1".into())]);
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "6");
    for bad in [
        json!({"lines": [{"sku": "PCS-1", "qty": 0}]}),
        json!({"lines": [{"sku": "NOPE", "qty": 1}]}),
        json!({"lines": [{"sku": "UP-1", "qty": 1}]}),
    ] {
        let r = app.post_json(&api(&t, &format!("/orders/{n}/lines")), &bad, Some(&b)).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
    }

    // Staff drop the handles and make it 3 m of seal before confirming; the buyer is told.
    let edit_path = api(&t, &format!("/admin/orders/{n}/lines"));
    let body = json!({"lines": [{"sku": "PCS-1", "qty": 0}, {"sku": "M-1", "qty": "3"}]});
    let r = app.json_request(Method::PUT, &edit_path, &body, Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["total"].as_str()), (200, Some("37.50")), "{}", r.body);
    assert_eq!(lines(&r.json()), vec![("M-1".into(), "3".into())]);
    assert_eq!((stock_of(&app, &t, "PCS-1").await, stock_of(&app, &t, "M-1").await), ("10".into(), "97".into()));
    let history: Vec<String> = r.json()["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["note"].as_str().map(str::to_owned))
        .collect();
    assert!(
        history.iter().any(|h| h.starts_with("supplemented")) && history.iter().any(|h| h.starts_with("lines changed")),
        "{history:?}"
    );
    assert!(mail_to(&app, &email).await.iter().any(|s| s.contains("was changed")), "the buyer is told");
    let r = app.json_request(Method::PUT, &edit_path, &json!({"lines": [{"sku": "M-1", "qty": 0}]}), Some(&s)).await;
    assert_eq!(r.status, 422, "an order keeps a line: {}", r.body);
    assert_eq!(stock_of(&app, &t, "M-1").await, "97", "a refused edit changes nothing");

    // Once confirmed, the lines are fixed.
    app.patch_json(&api(&t, &format!("/admin/orders/{n}")), &json!({"status": "confirmed"}), Some(&s)).await;
    let r = app
        .post_json(&api(&t, &format!("/orders/{n}/lines")), &json!({"lines": [{"sku": "M-1", "qty": 1}]}), Some(&b))
        .await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "order_not_editable".to_owned()));
}

#[actix_web::test]
async fn an_order_takes_stock_across_warehouses_and_a_cancellation_puts_it_back_where_it_was() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let r = app
        .post_json(&api(&t, "/admin/warehouses"), &json!({"code": "north", "name": "Северный склад"}), Some(&s))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let put = json!([{"warehouse": "main", "quantity": "4"}, {"warehouse": "north", "quantity": "6"}]);
    assert!(app
        .json_request(Method::PUT, &api(&t, "/admin/products/PCS-1/stock"), &put, Some(&s))
        .await
        .status
        .is_success());
    let by_warehouse = |v: Value| v["stock_by_warehouse"].clone();
    let r = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 8}]}), Some("w1")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let n = r.json()["number"].as_str().expect("number").to_owned();
    let p = app.get(&api(&t, "/admin/products/PCS-1"), Some(&s)).await.json();
    assert_eq!(by_warehouse(p), json!({"main": "0", "north": "2"}), "4 from the first warehouse, 4 from the next");
    let r = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 4}]}), Some("w2")).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["lines"][0]["available"].as_str()),
        (409, Some("2")),
        "{}",
        r.body
    );
    app.post_json(&api(&t, &format!("/orders/{n}/cancel")), &json!({}), Some(&b)).await;
    let p = app.get(&api(&t, "/admin/products/PCS-1"), Some(&s)).await.json();
    assert_eq!(by_warehouse(p), json!({"main": "4", "north": "6"}), "every unit back where it came from");
}

#[actix_web::test]
async fn on_account_orders_stay_within_the_credit_limit_and_the_cabinet_lists_what_happened() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, co, _) = buyer(&app, &t, INNS[0]).await;
    let r =
        app.patch_json(&api(&t, &format!("/admin/customers/{co}")), &json!({"credit_limit": "500"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let on_account = |n: i64| json!({"lines": [{"sku": "PCS-1", "qty": n}], "payment_method": "on_account"});
    let first = order(&app, &t, &b, &on_account(4), Some("a1")).await;
    assert_eq!(first.status, 201, "400.00 of 500.00: {}", first.body);
    let r = order(&app, &t, &b, &on_account(2), Some("a2")).await;
    assert_eq!(r.status, 422, "600.00 is over the limit: {}", r.body);
    assert!(r.json()["error"]["fields"]["payment_method"].as_str().is_some_and(|m| m.contains("100.00")), "{}", r.body);
    let r =
        order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}], "payment_method": "invoice"}), Some("a3"))
            .await;
    assert_eq!(r.status, 201, "by invoice is fine: {}", r.body);
    let n = first.json()["number"].as_str().expect("number").to_owned();
    app.post_json(&api(&t, &format!("/orders/{n}/cancel")), &json!({}), Some(&b)).await;
    assert_eq!(order(&app, &t, &b, &on_account(2), Some("a4")).await.status, 201, "a cancelled order frees the limit");

    // The cabinet: one notice per order placed plus the cancellation, newest first.
    let v = app.get(&api(&t, "/notifications"), Some(&b)).await.json();
    assert_eq!((v["total"].as_i64(), v["unread"].as_i64()), (Some(4), Some(4)), "{v}");
    assert!(v["items"][0]["link"].as_str().is_some_and(|l| l.starts_with("/orders/")), "{v}");
    let r = app.post_json(&api(&t, "/notifications/read"), &json!({}), Some(&b)).await;
    assert_eq!(r.json()["read"], 4);
    assert_eq!(app.get(&api(&t, "/notifications"), Some(&b)).await.json()["unread"], 0);
    let (other, _, _) = buyer(&app, &t, INNS[1]).await;
    assert_eq!(
        app.get(&api(&t, "/notifications"), Some(&other)).await.json()["total"],
        0,
        "nobody sees another's notices"
    );
}

#[actix_web::test]
async fn the_company_admin_sets_a_buyers_order_limit_on_the_users_page() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (_, company, admin_email) = buyer(&app, &t, INNS[0]).await;
    let (_, _, mate_id) = colleague_with_email(&app, &t, company, "buyer").await;
    let mut b = crate::helpers::Browser::new(&app);
    b.get(&format!("/s/{}/login", t.slug)).await;
    let r =
        b.post(&format!("/s/{}/login", t.slug), &[("email", admin_email.as_str()), ("password", TEST_PASSWORD)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let users = format!("/s/{}/account/users", t.slug);
    b.get(&users).await;
    let path = format!("{users}/{mate_id}");
    let r = b.post(&path, &[("role", "buyer"), ("order_limit", "много")]).await;
    assert_eq!(r.status, 422, "a bad limit is refused on the page");
    assert!(r.body.contains("Лимит заказа"), "and named: {}", r.body.len());
    let r = b.post(&path, &[("role", "buyer"), ("order_limit", "25 000,50")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get(&users).await;
    assert!(page.body.contains("value=\"25000.50\""), "the limit is shown back");
    let r = b.post(&path, &[("role", "buyer"), ("order_limit", "")]).await;
    assert_eq!(r.status, 303);
    assert!(!b.get(&users).await.body.contains("value=\"25000.50\""), "an empty field removes it");
}

#[actix_web::test]
async fn a_statement_cancelled_by_its_timeout_is_a_503_to_retry_not_a_500() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let schema = t.tenant.schema.clone();
    let err = app
        .db(move |c| {
            tradeport::db::in_tenant(c, &schema, |c| {
                diesel::sql_query("SELECT set_config('statement_timeout', '20ms', true)").execute(c)?;
                diesel::sql_query("SELECT pg_sleep(1)").execute(c)?;
                Ok(())
            })
            .err()
        })
        .await;
    assert!(matches!(err, Some(tradeport::error::AppError::Unavailable(_))), "{err:?}");
}

#[actix_web::test]
async fn reservations_and_the_waitlist_are_absent_where_the_plan_has_none() {
    let app = TestApp::spawn().await;
    let t = app
        .new_tenant_with(|o| {
            o.plan = Some("start".into());
            o.settings.insert("require_email_confirmation".into(), json!(false));
        })
        .await;
    let s = staff(&app, &t).await;
    product(&app, &t, &s, json!({"sku": "A-1", "name": "A", "price": "10.00", "stock": 5})).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive().to_string();
    let r =
        app.post_json(&api(&t, "/reservations"), &json!({"sku": "A-1", "qty": 1, "until": tomorrow}), Some(&b)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(app.post_json(&api(&t, "/waitlist"), &json!({"sku": "A-1"}), Some(&b)).await.status, 404);
    assert_eq!(app.get(&format!("/s/{}/reservations", t.slug), Some(&b)).await.status, 404);
    assert_eq!(stock_of(&app, &t, "A-1").await, "5", "nothing was held");
}
