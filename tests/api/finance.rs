//! Finance as buyers and the supplier's accountant use it: balance, debt and overdue after
//! shipments and payments, the ledger for a period, payments registered and reversed, the
//! credit limit for orders on account, and bad input that changes nothing.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::catalog::api;
use crate::helpers::{TestApp, TestTenant};
use crate::identity::INNS;
use crate::ordering::{buyer, colleague, order, store};

async fn ship(app: &TestApp, t: &TestTenant, s: &str, number: &str) {
    let r = app.patch_json(&api(t, &format!("/admin/orders/{number}")), &json!({"status": "shipped"}), Some(s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn pay(app: &TestApp, t: &TestTenant, s: &str, body: Value) -> crate::helpers::Resp {
    app.post_json(&api(t, "/admin/payments"), &body, Some(s)).await
}

/// `(balance, debt, overdue)` as the buyer's cabinet shows them.
async fn standing(app: &TestApp, t: &TestTenant, token: &str) -> (String, String, String) {
    let r = app.get(&api(t, "/account"), Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (s("balance"), s("debt"), s("overdue"))
}

/// An opening balance as 1C would send it: a debt booked `days` ago, due 30 days before today.
async fn opening_debt(app: &TestApp, t: &TestTenant, company: i64, amount: &str, days: i64) {
    let (schema, amount) = (t.tenant.schema.clone(), amount.to_owned());
    let (booked, due) = (Utc::now().date_naive() - Duration::days(days), Utc::now().date_naive() - Duration::days(30));
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| {
            Ok(diesel::sql_query(format!(
                "INSERT INTO ledger_entries (company_id, side, kind, amount, booked_on, due_on, document) \
                 VALUES ({company}, 'debit', 'opening', {amount}, '{booked}', '{due}', 'Сальдо на начало')"
            ))
            .execute(c)?)
        })
        .expect("opening balance")
    })
    .await;
}

#[actix_web::test]
async fn balance_debt_and_overdue_follow_shipments_and_payments() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[0]).await;
    assert_eq!(standing(&app, &t, &b).await, ("0.00".into(), "0.00".into(), "0.00".into()));

    // 500.00 owed from before, due a month ago; then an order of 200.00 shipped today.
    opening_debt(&app, &t, company, "500.00", 40).await;
    let placed = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("f1")).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let number = placed.json()["number"].as_str().expect("number").to_owned();
    assert_eq!(standing(&app, &t, &b).await, ("-500.00".into(), "500.00".into(), "500.00".into()), "not shipped yet");
    ship(&app, &t, &s, &number).await;
    // Shipped today with prepayment terms: due today, not overdue yet.
    assert_eq!(standing(&app, &t, &b).await, ("-700.00".into(), "700.00".into(), "500.00".into()));
    // Marking it delivered books nothing more.
    let r =
        app.patch_json(&api(&t, &format!("/admin/orders/{number}")), &json!({"status": "delivered"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(standing(&app, &t, &b).await.0, "-700.00");

    // Payments go to the oldest debt first.
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "300.00", "reference": "п/п 17"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["position"]["overdue"], "200.00");
    assert_eq!(standing(&app, &t, &b).await, ("-400.00".into(), "400.00".into(), "200.00".into()));
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": 250, "reference": "п/п 18"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let second = r.json()["id"].as_i64().expect("payment id");
    assert_eq!(standing(&app, &t, &b).await, ("-150.00".into(), "150.00".into(), "0.00".into()));

    // A payment registered by mistake is reversed, once.
    let r = app.post_json(&api(&t, &format!("/admin/payments/{second}/reverse")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["status"].as_str()), (200, Some("reversed")), "{}", r.body);
    assert_eq!(standing(&app, &t, &b).await, ("-400.00".into(), "400.00".into(), "200.00".into()));
    let r = app.post_json(&api(&t, &format!("/admin/payments/{second}/reverse")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["code"].as_str()), (409, Some("already_reversed")), "{}", r.body);

    // The ledger for the last 60 days: every movement with its document and running balance.
    let today = Utc::now().date_naive();
    let from = today - Duration::days(60);
    let r = app.get(&api(&t, &format!("/account/ledger?from={from}&to={today}")), Some(&b)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let l = r.json();
    let rows: Vec<(String, String, String, String, String)> = l["movements"]
        .as_array()
        .expect("movements")
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            (s("kind"), s("document"), s("debit"), s("credit"), s("balance"))
        })
        .collect();
    let row = |k: &str, d: &str, debit: &str, credit: &str, bal: &str| {
        (k.to_owned(), d.to_owned(), debit.to_owned(), credit.to_owned(), bal.to_owned())
    };
    assert_eq!(
        rows,
        vec![
            row("opening", "Сальдо на начало", "500.00", "0.00", "-500.00"),
            row("shipment", &number, "200.00", "0.00", "-700.00"),
            row("payment", "п/п 17", "0.00", "300.00", "-400.00"),
            row("payment", "п/п 18", "0.00", "250.00", "-150.00"),
            row("reversal", "п/п 18", "0.00", "-250.00", "-400.00"),
        ]
    );
    assert_eq!(
        (&l["opening_balance"], &l["debit_turnover"], &l["credit_turnover"], &l["closing_balance"]),
        (&json!("0.00"), &json!("700.00"), &json!("300.00"), &json!("-400.00"))
    );
    // From today only: what was booked before is the opening balance.
    let r = app.get(&api(&t, &format!("/account/ledger?from={today}")), Some(&b)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((&r.json()["opening_balance"], &r.json()["closing_balance"]), (&json!("-500.00"), &json!("-400.00")));

    // The accountant's view: the debtors list and the customer's ledger say the same.
    let r = app.get(&api(&t, "/admin/finance/debtors"), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["items"][0]["customer"]["id"], company);
    assert_eq!((&r.json()["items"][0]["debt"], &r.json()["items"][0]["overdue"]), (&json!("400.00"), &json!("200.00")));
    let r = app.get(&api(&t, &format!("/admin/customers/{company}/ledger?from={from}")), Some(&s)).await;
    assert_eq!((r.status.as_u16(), &r.json()["closing_balance"]), (200, &json!("-400.00")), "{}", r.body);
    let r = app.get(&api(&t, &format!("/admin/payments?customer_id={company}")), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["total"].as_i64()), (200, Some(2)), "{}", r.body);
    assert_eq!(r.json()["items"][0]["status"], "reversed");
}

#[actix_web::test]
async fn on_account_orders_stay_within_what_is_left_of_the_credit_limit() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[1]).await;
    let r = app
        .patch_json(&api(&t, &format!("/admin/customers/{company}")), &json!({"credit_limit": "1000.00"}), Some(&s))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    opening_debt(&app, &t, company, "700.00", 40).await;
    let left = |v: Value| v["credit_left"].as_str().unwrap_or_default().to_owned();
    assert_eq!(left(app.get(&api(&t, "/account"), Some(&b)).await.json()), "300.00");
    // 400.00 on account is more than the 300.00 left: refused, nothing taken.
    let body = json!({"lines": [{"sku": "PCS-1", "qty": 4}], "payment_method": "on_account"});
    let r = order(&app, &t, &b, &body, Some("oa1")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("300.00"), "{}", r.body);
    // After a payment of 200.00 the same order fits, and counts against the limit until shipped.
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "200.00", "reference": "п/п 1"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = order(&app, &t, &b, &body, Some("oa2")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let number = r.json()["number"].as_str().expect("number").to_owned();
    let v = app.get(&api(&t, "/account"), Some(&b)).await.json();
    assert_eq!((left(v.clone()), v["debt"].as_str()), ("100.00".to_owned(), Some("500.00")));
    ship(&app, &t, &s, &number).await;
    let v = app.get(&api(&t, "/account"), Some(&b)).await.json();
    assert_eq!((left(v.clone()), v["debt"].as_str()), ("100.00".to_owned(), Some("900.00")), "shipped: now debt");
}

#[actix_web::test]
async fn bad_payments_and_periods_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[2]).await;
    let tomorrow = Utc::now().date_naive() + Duration::days(1);
    for (body, field) in [
        (json!({"customer_id": company, "amount": "12.345"}), "amount"),
        (json!({"customer_id": company, "amount": "-5"}), "amount"),
        (json!({"customer_id": company, "amount": 0}), "amount"),
        (json!({"customer_id": company, "amount": "abc"}), "amount"),
        (json!({"customer_id": company, "amount": "10", "currency": "USD"}), "currency"),
        (json!({"customer_id": company, "amount": "10", "paid_at": tomorrow}), "paid_at"),
        (json!({"customer_id": company, "amount": "10", "reference": "x".repeat(201)}), "reference"),
    ] {
        let r = pay(&app, &t, &s, body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert!(r.json()["error"]["fields"][field].is_string(), "{body}: {}", r.body);
    }
    let r = pay(&app, &t, &s, json!({"customer_id": 999_999, "amount": "10"})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "10", "bank": "x"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Only the owner, admins and the accountant register payments; buyers none at all.
    let keeper = app.user_token().await.0;
    let keeper_token = {
        let (e, schema) = (keeper.clone(), t.tenant.schema.clone());
        app.db(move |conn| {
            use tradeport::db::schema_platform::accounts;
            let id: i64 = accounts::table.filter(accounts::email.eq(&e)).select(accounts::id).first(conn).expect("id");
            tradeport::db::in_tenant(conn, &schema, |c| {
                tradeport::identity::staff::add(c, id, tradeport::identity::staff::StaffRole::Warehouse)
            })
            .expect("staff");
        })
        .await;
        app.login(&keeper, crate::helpers::TEST_PASSWORD).await
    };
    let r = pay(&app, &t, &keeper_token, json!({"customer_id": company, "amount": "10"})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = pay(&app, &t, &b, json!({"customer_id": company, "amount": "10"})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = app.get(&api(&t, "/admin/payments"), Some(&s)).await;
    assert_eq!(r.json()["total"], 0, "nothing was recorded: {}", r.body);

    // Periods: from after to, and dates that are not dates.
    for q in ["from=2026-02-01&to=2026-01-01", "from=yesterday", "to=2026-13-01"] {
        let r = app.get(&api(&t, &format!("/account/ledger?{q}")), Some(&b)).await;
        assert_eq!(r.status, 422, "{q}: {}", r.body);
    }
    // Every member of the company reads its ledger, a viewer too.
    let viewer = colleague(&app, &t, company, "viewer").await;
    let r = app.get(&api(&t, "/account/ledger"), Some(&viewer)).await;
    assert_eq!((r.status.as_u16(), &r.json()["closing_balance"]), (200, &json!("0.00")), "{}", r.body);

    // The ledger is append-only even for SQL run inside the tenant.
    let schema = t.tenant.schema.clone();
    opening_debt(&app, &t, company, "10.00", 1).await;
    let r = app
        .db(move |c| {
            tradeport::db::in_tenant(c, &schema, |c| {
                Ok(diesel::sql_query("UPDATE ledger_entries SET amount = 1").execute(c)?)
            })
        })
        .await;
    assert!(r.is_err(), "an entry was changed: {r:?}");
}

#[actix_web::test]
async fn supplier_details_are_checked_like_an_accountant_would_and_terms_set_due_dates() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let details = json!({
        "legal_name": "ООО «Окна Профи»", "inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195",
        "address": "117997, Москва, ул. Вавилова, 19", "bank": "ПАО Сбербанк", "bic": "044525225",
        "correspondent_account": "30101810400000000225", "account": "40702810200000000001",
        "director": "Иванов И. И.", "accountant": "Петрова А. А.", "payment_terms_days": 10,
    });
    let r = app.patch_json(&api(&t, "/admin/settings"), &details, Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (k, v) in details.as_object().expect("object") {
        assert_eq!(&r.json()[k], v, "{k}");
    }
    // Each wrong detail is named; nothing of that request is stored.
    for (body, field) in [
        (json!({"account": "40702810300000000001"}), "account"),
        (json!({"bic": "044525974"}), "account"),
        (json!({"correspondent_account": "30101810400000000226"}), "correspondent_account"),
        (json!({"inn": "7707083894", "legal_name": "Другое"}), "inn"),
        (json!({"kpp": "77360100"}), "kpp"),
        (json!({"ogrn": "1027700132196"}), "ogrn"),
        (json!({"bic": "04452522"}), "bic"),
        (json!({"payment_terms_days": 400}), "payment_terms_days"),
        (json!({"director": 5}), "director"),
    ] {
        let r = app.patch_json(&api(&t, "/admin/settings"), &body, Some(&s)).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert!(r.json()["error"]["fields"][field].is_string(), "{body}: {}", r.body);
    }
    let r = app.get(&api(&t, "/admin/settings"), Some(&s)).await;
    assert_eq!((&r.json()["legal_name"], &r.json()["bic"]), (&details["legal_name"], &details["bic"]));
    // Another bank with its own accounts, in one request, is accepted.
    let r = app
        .patch_json(
            &api(&t, "/admin/settings"),
            &json!({"bic": "044525974", "correspondent_account": "30101810145250000974", "account": "40702810610000012345"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The store's terms (10 days) date a shipment; a customer's own terms win over them.
    let (b, company, _) = buyer(&app, &t, INNS[3]).await;
    let today = Utc::now().date_naive();
    let due_of_next_shipment = |key: &'static str| {
        let (app, t, s, b) = (&app, &t, &s, &b);
        async move {
            let placed = order(app, t, b, &json!({"lines": [{"sku": "M-1", "qty": 1}]}), Some(key)).await;
            assert_eq!(placed.status, 201, "{}", placed.body);
            ship(app, t, s, placed.json()["number"].as_str().expect("number")).await;
            let l = app.get(&api(t, "/account/ledger"), Some(b)).await.json();
            l["movements"].as_array().and_then(|m| m.last()).map(|m| m["due_on"].clone()).unwrap_or_default()
        }
    };
    assert_eq!(due_of_next_shipment("t1").await, json!(today + Duration::days(10)));
    let r = app
        .patch_json(&api(&t, &format!("/admin/customers/{company}")), &json!({"payment_terms_days": 30}), Some(&s))
        .await;
    assert_eq!((r.status.as_u16(), &r.json()["payment_terms_days"]), (200, &json!(30)), "{}", r.body);
    assert_eq!(due_of_next_shipment("t2").await, json!(today + Duration::days(30)));
    let r = app
        .patch_json(&api(&t, &format!("/admin/customers/{company}")), &json!({"payment_terms_days": null}), Some(&s))
        .await;
    assert_eq!((r.status.as_u16(), &r.json()["payment_terms_days"]), (200, &Value::Null), "{}", r.body);
    let r = app
        .patch_json(&api(&t, &format!("/admin/customers/{company}")), &json!({"payment_terms_days": -1}), Some(&s))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
}

/// `(number, status, paid)` of the buyer's invoices, oldest first.
async fn invoices(app: &TestApp, t: &TestTenant, token: &str) -> Vec<(String, String, String)> {
    let r = app.get(&api(t, "/invoices"), Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut v: Vec<(String, String, String)> = r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or_default().to_owned();
            (s("number"), s("status"), s("paid"))
        })
        .collect();
    v.reverse();
    v
}

#[actix_web::test]
async fn invoices_are_issued_numbered_and_paid_oldest_first() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[5]).await;
    // Two orders: 200.00 and 25.00, each with its invoice numbered in turn.
    let first = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("i1")).await;
    assert_eq!((first.status.as_u16(), first.json()["invoice"].as_str()), (201, Some("1")), "{}", first.body);
    let second = order(&app, &t, &b, &json!({"lines": [{"sku": "M-1", "qty": 2}]}), Some("i2")).await;
    assert_eq!(second.json()["invoice"], "2", "{}", second.body);
    let n1 = first.json()["number"].as_str().expect("number").to_owned();
    let shown = app.get(&api(&t, &format!("/orders/{n1}")), Some(&b)).await;
    assert_eq!(shown.json()["invoice"], "1", "the order page names its invoice");
    // A replay of the first request answers the same order and makes no third invoice.
    let again = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("i1")).await;
    assert_eq!((again.status.as_u16(), &again.json()["invoice"]), (201, &json!("1")));
    let row = |n: &str, st: &str, paid: &str| (n.to_owned(), st.to_owned(), paid.to_owned());
    assert_eq!(invoices(&app, &t, &b).await, vec![row("1", "unpaid", "0.00"), row("2", "unpaid", "0.00")]);

    // 150.00 goes to the oldest; 100.00 finishes it and starts the next.
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "150.00", "reference": "п/п 1"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(invoices(&app, &t, &b).await, vec![row("1", "partly_paid", "150.00"), row("2", "unpaid", "0.00")]);
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "60.00", "reference": "п/п 2"})).await;
    let second_payment = r.json()["id"].as_i64().expect("id");
    assert_eq!(invoices(&app, &t, &b).await, vec![row("1", "paid", "200.00"), row("2", "partly_paid", "10.00")]);
    // Reversed: both invoices get back what it paid.
    let r = app.post_json(&api(&t, &format!("/admin/payments/{second_payment}/reverse")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(invoices(&app, &t, &b).await, vec![row("1", "partly_paid", "150.00"), row("2", "unpaid", "0.00")]);
    // A payment naming an invoice pays that one first; naming one that is not open is 422
    // and records nothing.
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "25.00", "invoice": "2"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(invoices(&app, &t, &b).await, vec![row("1", "partly_paid", "150.00"), row("2", "paid", "25.00")]);
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "5.00", "invoice": "2"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"]["fields"]["invoice"].is_string(), "{}", r.body);
    let listed = app.get(&api(&t, &format!("/admin/payments?customer_id={company}")), Some(&s)).await;
    assert_eq!(listed.json()["total"], 3, "the refused payment was not recorded: {}", listed.body);

    // A new order cancelled by the buyer takes its unpaid invoice with it.
    let third = order(&app, &t, &b, &json!({"lines": [{"sku": "M-1", "qty": 1}]}), Some("i3")).await;
    assert_eq!(third.json()["invoice"], "3");
    let n3 = third.json()["number"].as_str().expect("number").to_owned();
    let r = app.post_json(&api(&t, &format!("/orders/{n3}/cancel")), &json!({}), Some(&b)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(invoices(&app, &t, &b).await.last(), Some(&row("3", "cancelled", "0.00")));

    // A store that invoices on confirmation: none at placement, one when staff confirm.
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"invoice_on": "confirmation"}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), &r.json()["invoice_on"]), (200, &json!("confirmation")), "{}", r.body);
    let fourth = order(&app, &t, &b, &json!({"lines": [{"sku": "M-1", "qty": 1}]}), Some("i4")).await;
    assert_eq!(fourth.json()["invoice"], Value::Null, "{}", fourth.body);
    let n4 = fourth.json()["number"].as_str().expect("number").to_owned();
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{n4}")), &json!({"status": "confirmed"}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), &r.json()["invoice"]), (200, &json!("4")), "{}", r.body);
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"invoice_on": "sometimes"}), Some(&s)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    // Staff see every customer's invoices; another company sees none of these.
    let r = app.get(&api(&t, &format!("/admin/invoices?customer_id={company}")), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["total"].as_u64()), (200, Some(4)), "{}", r.body);
    let (other, _, _) = buyer(&app, &t, INNS[6]).await;
    assert_eq!(invoices(&app, &t, &other).await, vec![]);
}

#[actix_web::test]
async fn money_paid_ahead_pays_the_invoices_issued_later() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[7]).await;
    // 250.00 paid before any order: the next invoice (200.00) is paid at once, the one after
    // (25.00) too, and the third (100.00) gets what is left (25.00).
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "250.00", "reference": "аванс"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let advance = r.json()["id"].as_i64().expect("id");
    let row = |n: &str, st: &str, paid: &str| (n.to_owned(), st.to_owned(), paid.to_owned());
    for (key, lines) in [
        ("a1", json!([{"sku": "PCS-1", "qty": 2}])),
        ("a2", json!([{"sku": "M-1", "qty": 2}])),
        ("a3", json!([{"sku": "M-1", "qty": 8}])),
    ] {
        let r = order(&app, &t, &b, &json!({"lines": lines}), Some(key)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    assert_eq!(
        invoices(&app, &t, &b).await,
        vec![row("1", "paid", "200.00"), row("2", "paid", "25.00"), row("3", "partly_paid", "25.00")]
    );
    // Reversing the advance reopens all three; a new payment then pays the oldest first.
    let r = app.post_json(&api(&t, &format!("/admin/payments/{advance}/reverse")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        invoices(&app, &t, &b).await,
        vec![row("1", "unpaid", "0.00"), row("2", "unpaid", "0.00"), row("3", "unpaid", "0.00")]
    );
    let r = pay(&app, &t, &s, json!({"customer_id": company, "amount": "210.00"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        invoices(&app, &t, &b).await,
        vec![row("1", "paid", "200.00"), row("2", "partly_paid", "10.00"), row("3", "unpaid", "0.00")]
    );

    // Money that paid an older debt is not money paid ahead: with 300.00 owed from 1C and
    // 300.00 paid, the next invoice stays unpaid.
    let (b2, company2, _) = buyer(&app, &t, INNS[0]).await;
    opening_debt(&app, &t, company2, "300.00", 40).await;
    let r = pay(&app, &t, &s, json!({"customer_id": company2, "amount": "300.00"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = order(&app, &t, &b2, &json!({"lines": [{"sku": "M-1", "qty": 2}]}), Some("b1")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(invoices(&app, &t, &b2).await, vec![row("4", "unpaid", "0.00")]);
}
