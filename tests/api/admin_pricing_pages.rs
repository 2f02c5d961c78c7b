//! Pricing in the supplier's back office as staff use it in a browser: a customer group with
//! a discount, a promotion created and deleted, contract prices typed into a textarea,
//! quantity breaks on the product form; buyers and the warehouse role are kept out.

use serde_json::{json, Value};

use crate::catalog::{api, buyer, product, staff};
use crate::helpers::{Browser, TestApp, TestTenant, TEST_PASSWORD};
use crate::identity::{register, INNS};
use tradeport::identity::staff::{self, StaffRole};

/// Signs in through the store's login form.
async fn signed_in<'a>(app: &'a TestApp, t: &TestTenant, email: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    b.get(&format!("/s/{}/login", t.slug)).await;
    let r = b.post(&format!("/s/{}/login", t.slug), &[("email", email), ("password", TEST_PASSWORD)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    b
}

/// The tenant with its admin signed in, a product RH-70 at 1000.00 and an active buyer.
async fn setup(app: &TestApp) -> (TestTenant, Browser<'_>, String, i64) {
    let t = app.new_tenant().await;
    let s = staff(app, &t).await;
    product(app, &t, &s, json!({"sku": "RH-70", "name": "Профиль Rehau 70", "price": "1000.00", "stock": 50})).await;
    let (token, company) = buyer(app, &t, INNS[0]).await;
    let b = signed_in(app, &t, &t.admin_email).await;
    (t, b, token, company)
}

async fn price(app: &TestApp, t: &TestTenant, token: &str, query: &str) -> Value {
    app.get(&api(t, &format!("/products/RH-70{query}")), Some(token)).await.json()
}

#[actix_web::test]
async fn a_group_discount_set_through_the_form_reaches_the_buyers_in_the_group() {
    let app = TestApp::spawn().await;
    let (t, mut b, token, company) = setup(&app).await;
    let base = format!("/s/{}", t.slug);

    let page = b.get(&format!("{base}/admin/pricing")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"group-form\"") && page.body.contains("/admin/products/import"), "{}", page.body);
    assert!(page.body.contains("href=\"/s/") && page.body.contains("/admin/pricing\""), "a menu link");

    let r = b
        .post(
            &format!("{base}/admin/pricing/groups"),
            &[("code", "dealer"), ("name", "Дилеры"), ("discount_percent", "5")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.header("location").unwrap_or_default().ends_with("/admin/pricing?saved=1#groups"));
    // The same code again: refused, what was typed stays in the form.
    let again = b
        .post(
            &format!("{base}/admin/pricing/groups"),
            &[("code", "dealer"), ("name", "Вторые"), ("discount_percent", "")],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(
        again.body.contains("value=\"Вторые\"") && again.body.contains("Группа с таким кодом уже есть"),
        "{}",
        again.body
    );
    // A bad discount on the group's row: reported next to it, the typed value kept.
    let bad = b
        .post(&format!("{base}/admin/pricing/groups/dealer"), &[("name", "Дилеры"), ("discount_percent", "150")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("value=\"150\"") && bad.body.contains("не больше 100"), "{}", bad.body);

    // The buyer's company joins the group on the customer page.
    let r = b.post(&format!("{base}/admin/customers/{company}"), &[("price_group", "dealer")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let d = price(&app, &t, &token, "").await;
    assert_eq!(d["price"], "950.00", "{d}");
    let kinds: Vec<&str> =
        d["price_breakdown"]["steps"].as_array().expect("steps").iter().filter_map(|s| s["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["group_discount"], "{d}");

    let r = b
        .post(&format!("{base}/admin/pricing/groups/dealer"), &[("name", "Дилеры"), ("discount_percent", "7,5")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(price(&app, &t, &token, "").await["price"], "925.00");
    let page = b.get(&format!("{base}/admin/pricing")).await;
    let row = page.body.split("data-group=\"dealer\"").nth(1).unwrap_or_default();
    assert!(row.contains("value=\"7.50\"") && row.contains(">1</td>"), "one customer in the group: {row}");
}

#[actix_web::test]
async fn a_promotion_created_through_the_form_changes_the_price_until_deleted() {
    let app = TestApp::spawn().await;
    let (t, mut b, token, _) = setup(&app).await;
    let base = format!("/s/{}", t.slug);
    let promo = |kind: &'static str, cats: &'static str| {
        vec![
            ("name", "Весенняя распродажа"),
            ("kind", kind),
            ("value", "20"),
            ("starts_at", "2020-01-01"),
            ("ends_at", "2099-12-31"),
            ("skus", "RH-70"),
            ("categories", cats),
        ]
    };
    let bad = b.post(&format!("{base}/admin/pricing/promotions"), &promo("fixed_price", "nope")).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("value=\"Весенняя распродажа\"")
            && bad.body.contains("фиксированная цена задаётся для товаров"),
        "{}",
        bad.body
    );
    assert_eq!(price(&app, &t, &token, "").await["price"], "1000.00", "nothing was created");

    let r = b.post(&format!("{base}/admin/pricing/promotions"), &promo("percent", "")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let p = price(&app, &t, &token, "").await;
    assert_eq!(p["price"], "800.00", "{p}");
    let page = b.get(&format!("{base}/admin/pricing")).await;
    assert!(page.body.contains("Весенняя распродажа") && page.body.contains("31.12.2099"), "the inclusive end date");

    let s = staff(&app, &t).await;
    let list = app.get(&api(&t, "/admin/promotions"), Some(&s)).await.json();
    let id = list["items"][0]["id"].as_i64().expect("promotion id");
    assert_eq!(list["items"][0]["ends_at"], "2100-01-01T00:00:00Z", "runs through the last day");
    let r = b.post(&format!("{base}/admin/pricing/promotions/{id}/delete"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(price(&app, &t, &token, "").await["price"], "1000.00");
    assert_eq!(b.post(&format!("{base}/admin/pricing/promotions/{id}/delete"), &[]).await.status, 404);
}

#[actix_web::test]
async fn contract_prices_with_a_bad_line_change_nothing_and_good_ones_apply() {
    let app = TestApp::spawn().await;
    let (t, mut b, token, company) = setup(&app).await;
    let base = format!("/s/{}", t.slug);
    let s = staff(&app, &t).await;
    product(&app, &t, &s, json!({"sku": "RH-60", "name": "Профиль Rehau 60", "price": "800.00"})).await;

    let card = b.get(&format!("{base}/admin/customers/{company}")).await;
    assert!(card.body.contains(&format!("/admin/customers/{company}/prices")), "linked from the customer page");
    let page = b.get(&format!("{base}/admin/customers/{company}/prices")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"contract-form\""));

    let path = format!("{base}/admin/customers/{company}/prices");
    let bad = b.post(&path, &[("lines", "RH-70;920\nNOPE;5\n\nRH-60;abc;2026-01-01")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Строка 2: артикул: нет товара с артикулом NOPE"), "{}", bad.body);
    assert!(bad.body.contains("Строка 4: цена:"), "{}", bad.body);
    assert!(!bad.body.contains("Строка 1"), "the good line is not reported");
    assert!(bad.body.contains("NOPE;5"), "the text stays as typed");
    let stored = app.get(&api(&t, &format!("/admin/customers/{company}/prices")), Some(&s)).await.json();
    assert_eq!(stored["total"], 0, "nothing applied: {stored}");
    assert_eq!(price(&app, &t, &token, "").await["price"], "1000.00");

    let r = b.post(&path, &[("lines", "RH-70;920,50;01.01.2020;2099-12-31;договор 15\nRH-60;700")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let p = price(&app, &t, &token, "").await;
    assert_eq!((p["price"].as_str(), p["price_breakdown"]["rule"].as_str()), (Some("920.50"), Some("contract")), "{p}");
    let page = b.get(&path).await;
    assert!(page.body.contains("договор 15") && page.body.contains("Профиль Rehau 60"), "{}", page.body);
    assert!(page.body.contains("RH-70;920.50;2020-01-01;2099-12-31;договор 15"), "the stored list in the textarea");
}

#[actix_web::test]
async fn quantity_breaks_are_set_on_the_product_form() {
    let app = TestApp::spawn().await;
    let (t, mut b, token, _) = setup(&app).await;
    let base = format!("/s/{}", t.slug);
    let page = b.get(&format!("{base}/admin/products/RH-70")).await;
    assert!(page.body.contains("id=\"breaks-form\""), "{}", page.body);
    let path = format!("{base}/admin/products/RH-70/quantity-breaks");
    let bad = b.post(&path, &[("quantity_breaks", "10;3\n50;120")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Строка 2: процент:") && bad.body.contains("50;120"), "{}", bad.body);
    let r = b.post(&path, &[("quantity_breaks", "10;3\n100;5 %")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(price(&app, &t, &token, "?qty=10").await["price"], "970.00");
    assert_eq!(price(&app, &t, &token, "?qty=100").await["price"], "950.00");
    let page = b.get(&format!("{base}/admin/products/RH-70")).await;
    assert!(page.body.contains("10;3.00\n100;5.00"), "{}", page.body);
}

/// A new account with `role` among the tenant's staff; returns its e-mail.
async fn add_staff(app: &TestApp, t: &TestTenant, role: StaffRole) -> String {
    use diesel::prelude::*;
    use tradeport::db::schema_platform::accounts;
    let (email, _) = app.user_token().await;
    let (e, schema) = (email.clone(), t.tenant.schema.clone());
    app.db(move |conn| {
        let id: i64 = accounts::table.filter(accounts::email.eq(&e)).select(accounts::id).first(conn).expect("account");
        tradeport::db::in_tenant(conn, &schema, |c| staff::add(c, id, role)).expect("staff");
    })
    .await;
    email
}

#[actix_web::test]
async fn buyers_and_the_warehouse_keep_out_of_pricing() {
    let app = TestApp::spawn().await;
    let (t, _, _, company) = setup(&app).await;
    let base = format!("/s/{}", t.slug);
    let (email, _) = register(&app, &t, INNS[1]).await;
    let mut buyer = signed_in(&app, &t, &email).await;
    for page in ["/admin/pricing".to_string(), format!("/admin/customers/{company}/prices")] {
        assert_eq!(buyer.get(&format!("{base}{page}")).await.status, 403, "{page}");
    }
    let r = buyer.post(&format!("{base}/admin/pricing/groups"), &[("code", "x"), ("discount_percent", "50")]).await;
    assert_eq!(r.status, 403);

    // Staff of other roles: the warehouse neither sees nor changes prices; an accountant sees.
    let keeper_email = add_staff(&app, &t, StaffRole::Warehouse).await;
    let accountant_email = add_staff(&app, &t, StaffRole::Accountant).await;
    let mut keeper = signed_in(&app, &t, &keeper_email).await;
    assert_eq!(keeper.get(&format!("{base}/admin/pricing")).await.status, 403);
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/admin/pricing/groups".into(), vec![("code", "dealer"), ("discount_percent", "50")]),
        ("/admin/pricing/promotions".into(), vec![("name", "x"), ("kind", "percent"), ("value", "50")]),
        (format!("/admin/customers/{company}/prices"), vec![("lines", "RH-70;1")]),
        ("/admin/products/RH-70/quantity-breaks".into(), vec![("quantity_breaks", "1;50")]),
    ];
    for (path, fields) in &posts {
        assert_eq!(keeper.post(&format!("{base}{path}"), fields).await.status, 403, "{path}");
    }
    let page = keeper.get(&format!("{base}/admin/products/RH-70")).await;
    assert!(page.status == 200 && !page.body.contains("id=\"breaks-form\""), "breaks shown, not editable");

    let mut accountant = signed_in(&app, &t, &accountant_email).await;
    let page = accountant.get(&format!("{base}/admin/pricing")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"read-only\"") && !page.body.contains("id=\"group-form\""));
    let r = accountant.post(&format!("{base}/admin/pricing/groups"), &posts[0].1).await;
    assert_eq!(r.status, 403);
    let groups = app.get(&api(&t, "/admin/price-groups"), Some(&staff(&app, &t).await)).await.json();
    assert_eq!(groups["total"], 0, "nothing was created: {groups}");
}
