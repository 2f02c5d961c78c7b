//! Supply contracts as the supplier's staff and the buyer meet them: a contract issued at
//! approval with both parties and the terms (read back from the PDF with pdftotext), an
//! additional agreement when the terms change, templates checked before they are kept, and
//! nobody reading another company's contract.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::catalog::api;
use crate::finance_docs::{details, get_raw, has, pdf_text};
use crate::helpers::{TestApp, TestTenant, TEST_PASSWORD};
use crate::identity::{register, INNS};
use crate::ordering::{add, buyer, new_cart, order, store};

fn today_ru() -> String {
    Utc::now().date_naive().format("%d.%m.%Y").to_string()
}

/// A store with the supplier's details (closed when asked: buyers wait for approval).
async fn supplier(app: &TestApp, closed: bool) -> (TestTenant, String) {
    let (t, s) = if closed {
        let t = app
            .new_tenant_with(|o| {
                o.mode = Some("closed".into());
                o.settings.insert("require_email_confirmation".into(), json!(false));
            })
            .await;
        let s = app.login(&t.admin_email, TEST_PASSWORD).await;
        (t, s)
    } else {
        store(app).await
    };
    let r = app.patch_json(&api(&t, "/admin/settings"), &details(), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (t, s)
}

async fn pdf(app: &TestApp, path: &str, token: &str) -> String {
    let (status, bytes, headers) = get_raw(app, path, Some(token)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"));
    pdf_text(&bytes).replace('\u{a0}', " ")
}

async fn contracts_of(app: &TestApp, t: &TestTenant, token: &str) -> Vec<Value> {
    let r = app.get(&api(t, "/contracts"), Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

#[actix_web::test]
async fn approval_issues_a_contract_with_both_parties_and_the_terms_and_the_ledger_names_it() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app, true).await;
    let (email, r) = register(&app, &t, INNS[1]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["company_id"].as_i64().expect("company id");
    // Terms agreed before approval: 21 days of deferral, a credit limit of 250 000.
    let r = app
        .patch_json(
            &api(&t, &format!("/admin/customers/{id}")),
            &json!({"credit_limit": "250000.00", "payment_terms_days": 21}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let none = app.get(&api(&t, &format!("/admin/customers/{id}/contracts")), Some(&s)).await;
    assert_eq!(none.json()["total"], 0, "no contract before approval: {}", none.body);
    let r = app.post_json(&api(&t, &format!("/admin/customers/{id}/approve")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let token = app.login(&email, TEST_PASSWORD).await;
    let items = contracts_of(&app, &t, &token).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let c = &items[0];
    let year = Utc::now().date_naive().format("%Y").to_string();
    let number = format!("Д-{year}-0001");
    assert_eq!(c["number"], json!(number));
    assert_eq!(c["kind"], "contract");
    assert_eq!(c["payment_terms_days"], 21);
    assert_eq!(c["credit_limit"], "250000.00");
    let text = pdf(&app, c["pdf"].as_str().expect("pdf"), &token).await;
    let day = Utc::now().date_naive();
    let long = format!("{} г.", crate::contracts::long_ru(day));
    has(
        &text,
        &[
            &format!("ДОГОВОР ПОСТАВКИ № {number}"),
            &long,
            "ООО «Окна Профи»",
            INNS[7],
            "ООО «Стройка»",
            INNS[1],
            "Москва, ул. Ленина, 1",
            "в течение 21 календарного дня с даты поставки",
            "250 000,00 руб. (Двести пятьдесят тысяч рублей 00 копеек)",
            "БИК 044525225",
            "/ Иванов И. И. /",
        ],
    );
    // The contract is filed in the documents archive too, with the same PDF.
    let docs = app.get(&api(&t, "/documents?type=contract"), Some(&token)).await;
    assert_eq!(docs.status, 200, "{}", docs.body);
    let filed = &docs.json()["items"][0];
    assert_eq!(
        (filed["type"].as_str(), filed["number"].as_str()),
        (Some("contract"), Some(number.as_str())),
        "{}",
        docs.body
    );
    let archived = pdf(&app, filed["files"]["pdf"].as_str().expect("archive pdf"), &token).await;
    has(&archived, &[&format!("ДОГОВОР ПОСТАВКИ № {number}"), INNS[1]]);
    // A second approval (after blocking) does not issue another contract.
    let r = app.patch_json(&api(&t, &format!("/admin/customers/{id}")), &json!({"status": "blocked"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post_json(&api(&t, &format!("/admin/customers/{id}/approve")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(contracts_of(&app, &t, &token).await.len(), 1);

    // The reconciliation statement is drawn "по договору …", and a shipment is booked under it.
    let text = pdf(&app, &api(&t, "/account/reconciliation.pdf"), &token).await;
    has(&text, &[&format!("по договору поставки № {number} от {}", today_ru())]);
    let ledger = app.get(&api(&t, "/account/ledger"), Some(&token)).await.json();
    assert_eq!(ledger["contract"]["number"], json!(number), "{ledger}");
    let p = app
        .post_json(
            &api(&t, "/admin/products"),
            &json!({"sku": "C-1", "name": "Профиль", "price": "100.00", "stock": 10}),
            Some(&s),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cart = new_cart(&app, &t, &token, "main").await;
    assert_eq!(add(&app, &t, &token, cart, "C-1", json!(2)).await.status, 200);
    let placed = order(&app, &t, &token, &json!({"cart_id": cart}), None).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let n = placed.json()["number"].as_str().expect("number").to_owned();
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{n}")), &json!({"status": "shipped"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let schema = t.tenant.schema.clone();
    let booked: Vec<Option<i64>> = app
        .db(move |c| {
            tradeport::db::in_tenant(c, &schema, |c| {
                use tradeport::db::schema_tenant::ledger_entries as le;
                Ok(le::table.filter(le::kind.eq("shipment")).select(le::contract_id).load(c)?)
            })
            .expect("ledger")
        })
        .await;
    assert_eq!(booked, vec![c["id"].as_i64()], "the shipment carries the contract");
}

#[actix_web::test]
async fn changing_the_terms_makes_an_additional_agreement_with_the_old_and_new_values() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app, false).await;
    let (token, id, email) = buyer(&app, &t, INNS[2]).await;
    // An open portal: the company was active at once, so staff issue its contract by hand.
    assert!(contracts_of(&app, &t, &token).await.is_empty());
    let r = app.post_json(&api(&t, &format!("/admin/customers/{id}/contracts")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let number = r.json()["number"].as_str().expect("number").to_owned();
    assert_eq!(r.json()["payment_terms_days"], 0, "the store's default: prepayment");
    // A change that is not about the terms makes no agreement.
    let r = app.patch_json(&api(&t, &format!("/admin/customers/{id}")), &json!({"price_group": "opt"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(contracts_of(&app, &t, &token).await.len(), 1);

    let r = app
        .patch_json(
            &api(&t, &format!("/admin/customers/{id}")),
            &json!({"credit_limit": "100000", "payment_terms_days": 30}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = contracts_of(&app, &t, &token).await;
    assert_eq!(items.len(), 2, "{items:?}");
    let a = &items[0];
    assert_eq!((a["kind"].as_str(), a["number"].as_str()), (Some("agreement"), Some("1")));
    assert_eq!(a["contract_number"], json!(number));
    assert_eq!((a["old_payment_terms_days"].clone(), a["old_credit_limit"].clone()), (json!(0), json!("0.00")));
    assert_eq!((a["payment_terms_days"].clone(), a["credit_limit"].clone()), (json!(30), json!("100000.00")));
    let text = pdf(&app, &api(&t, &format!("/contracts/{}.pdf", a["id"])), &token).await;
    has(
        &text,
        &[
            "ДОПОЛНИТЕЛЬНОЕ СОГЛАШЕНИЕ № 1",
            &format!("к договору поставки № {number}"),
            "в течение 30 календарных дней с даты поставки, отсрочка платежа (ранее: 100 % предоплата)",
            "кредитный лимит: 100 000,00 руб. (Сто тысяч рублей 00 копеек) (ранее: 0,00 руб.)",
        ],
    );
    let docs = app.get(&api(&t, "/documents?type=contract_agreement"), Some(&token)).await.json();
    assert_eq!(docs["items"][0]["number"], json!(format!("{number}/1")), "{docs}");
    // The company's administrator is told, with the page where the PDF is.
    let op = app.operator_token().await;
    let mail = app.get(&format!("/api/v1/platform/mail?to={email}&per_page=100"), Some(&op)).await.json();
    let subjects: Vec<&str> =
        mail["items"].as_array().into_iter().flatten().filter_map(|m| m["subject"].as_str()).collect();
    assert!(subjects.iter().any(|s| s.ends_with(&format!("договор поставки № {number}"))), "{subjects:?}");
    assert!(
        subjects.iter().any(|s| s.ends_with(&format!("дополнительное соглашение № 1 к договору № {number}"))),
        "{subjects:?}"
    );
    assert!(crate::identity::mail_link(&app, &email, "/account/finance#contracts").await.contains(&t.slug));
    // Back to prepayment: agreement № 2 states the 30 days it replaces.
    let r =
        app.patch_json(&api(&t, &format!("/admin/customers/{id}")), &json!({"payment_terms_days": 0}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = contracts_of(&app, &t, &token).await;
    assert_eq!(items[0]["number"], "2");
    let text = pdf(&app, &api(&t, &format!("/admin/contracts/{}.pdf", items[0]["id"])), &s).await;
    has(
        &text,
        &[
            "ДОПОЛНИТЕЛЬНОЕ СОГЛАШЕНИЕ № 2",
            "100 % предоплата (ранее: оплата в течение 30 календарных дней с даты поставки)",
        ],
    );
    // What was issued stays as issued.
    let schema = t.tenant.schema.clone();
    let refused = app
        .db(move |c| {
            tradeport::db::in_tenant(c, &schema, |c| {
                Ok(diesel::sql_query("UPDATE contracts SET credit_limit = 1").execute(c).is_err())
            })
            .expect("tx")
        })
        .await;
    assert!(refused, "an issued contract cannot be changed");
}

#[actix_web::test]
async fn a_template_that_does_not_compile_or_cannot_be_filled_in_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app, false).await;
    let path = api(&t, "/admin/contract-template");
    let before = app.get(&path, Some(&s)).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(before.json()["custom"], false);
    assert!(before.json()["sample"].as_str().unwrap_or_default().contains("ДОГОВОР ПОСТАВКИ"));
    for (body, reason) in [
        ("# ДОГОВОР {{#if buyer.name}}", "does not compile"),
        ("Покупатель: {{buyer.nmae}}", "nmae"),
        ("{{#*inline \"a\"}}{{> a}}{{/inline}}{{> a}}", "partials"),
    ] {
        let r = put(&app, &path, &s, json!({"body": body})).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        let why = r.json()["error"]["fields"]["body"].as_str().unwrap_or_default().to_owned();
        assert!(why.contains(reason), "{body}: {why}");
    }
    assert_eq!(put(&app, &path, &s, json!({"body": "x", "lang": "de"})).await.status, 422);
    assert_eq!(put(&app, &path, &s, json!({"body": "x", "script": true})).await.status, 400);
    let after = app.get(&path, Some(&s)).await;
    assert_eq!(after.json()["custom"], false, "nothing stored");
    assert_eq!(after.json()["body"], before.json()["body"]);
    // A buyer may not touch it.
    let (token, id, _) = buyer(&app, &t, INNS[3]).await;
    let r = app.json_request(awc::http::Method::PUT, &path, &json!({"body": "x"}), Some(&token)).await;
    assert!(r.status == 403 || r.status == 401, "{}", r.status);
    // A good one is kept and used for the next contract.
    let r = put(
        &app,
        &path,
        &s,
        json!({"body": "# ДОГОВОР № {{contract.number}}\n|| {{contract.date}}\nОсобые условия для {{buyer.name}}."}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["sample"].as_str().unwrap_or_default().contains("Особые условия для ООО «Покупатель»."));
    assert_eq!(app.get(&path, Some(&s)).await.json()["custom"], true);
    let r = app.post_json(&api(&t, &format!("/admin/customers/{id}/contracts")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let text = pdf(&app, &api(&t, &format!("/contracts/{}.pdf", r.json()["id"])), &token).await;
    has(&text, &["Особые условия для ООО «Стройка».", "Покупатель", INNS[3]]);
}

#[actix_web::test]
async fn another_companys_contract_is_not_found_and_a_store_without_documents_has_none() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app, false).await;
    let (y, y_id, _) = buyer(&app, &t, INNS[4]).await;
    let (x, _, _) = buyer(&app, &t, INNS[5]).await;
    let r = app.post_json(&api(&t, &format!("/admin/customers/{y_id}/contracts")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let cid = r.json()["id"].as_i64().expect("id");
    assert_eq!(app.get(&api(&t, &format!("/contracts/{cid}.pdf")), Some(&y)).await.status, 200);
    let r = app.get(&api(&t, &format!("/contracts/{cid}.pdf")), Some(&x)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(contracts_of(&app, &t, &x).await.is_empty());
    let r = app.get(&api(&t, &format!("/admin/contracts/{}.pdf", cid + 1000)), Some(&s)).await;
    assert_eq!(r.status, 404);
    // A pending or unknown customer gets no contract.
    let r = app.post_json(&api(&t, "/admin/customers/999999/contracts"), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 404);

    let off = app.new_tenant_with(|o| o.features = Some(json!({"documents": false}))).await;
    let (token, _, _) = buyer(&app, &off, INNS[4]).await;
    assert_eq!(app.get(&api(&off, "/contracts"), Some(&token)).await.status, 404);
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> crate::helpers::Resp {
    app.json_request(awc::http::Method::PUT, path, &body, Some(token)).await
}

/// «28 ноября 2026» as the contract writes its date.
pub fn long_ru(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const M: [&str; 12] = [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ];
    format!("{} {} {}", d.day(), M[d.month0() as usize], d.year())
}
