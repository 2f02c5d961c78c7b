//! Catalog and pricing as staff and buyers use them: products through the API, prices per
//! customer group with their breakdown, contract prices, promotions, bad input.

use awc::http::Method;
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestTenant, TEST_PASSWORD};
use crate::identity::{register, INNS};

pub async fn staff(app: &TestApp, t: &TestTenant) -> String {
    app.login(&t.admin_email, TEST_PASSWORD).await
}

pub fn api(t: &TestTenant, path: &str) -> String {
    format!("/s/{}/api/v1{path}", t.slug)
}

pub async fn product(app: &TestApp, t: &TestTenant, token: &str, body: Value) -> Value {
    let r = app.post_json(&api(t, "/admin/products"), &body, Some(token)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

/// A buyer of an active company; returns (token, company id).
pub async fn buyer(app: &TestApp, t: &TestTenant, inn: &str) -> (String, i64) {
    let (email, r) = register(app, t, inn).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["status"], "active");
    (app.login(&email, TEST_PASSWORD).await, r.json()["company_id"].as_i64().expect("company id"))
}

#[actix_web::test]
async fn a_dealer_and_a_plain_buyer_see_different_prices_and_why() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    let r =
        app.post_json(&api(&t, "/admin/categories"), &json!({"code": "profiles", "name": "Профили"}), Some(&s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    product(
        &app,
        &t,
        &s,
        json!({"sku": "RH-70", "name": "Профиль Rehau 70", "price": "1000.00", "category": "profiles", "stock": 50}),
    )
    .await;

    // The dealer group: its own price list (850) and a 5 % group discount.
    let r = app
        .json_request(
            Method::PUT,
            &api(&t, "/admin/price-groups/dealer/prices"),
            &json!([{"sku": "RH-70", "price": "850.00"}]),
            Some(&s),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.json()["updated"].as_i64()), (200, Some(1)), "{}", r.body);
    let r = app
        .patch_json(
            &api(&t, "/admin/price-groups/dealer"),
            &json!({"name": "Дилеры", "discount_percent": "5"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let (dealer, dealer_co) = buyer(&app, &t, INNS[0]).await;
    let (plain, plain_co) = buyer(&app, &t, INNS[1]).await;
    let r = app
        .patch_json(&api(&t, &format!("/admin/customers/{dealer_co}")), &json!({"price_group": "dealer"}), Some(&s))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let d = app.get(&api(&t, "/products/RH-70"), Some(&dealer)).await.json();
    assert_eq!(d["price"], "807.50", "{d}");
    let steps: Vec<(String, String)> = d["price_breakdown"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["kind"].as_str().unwrap_or("").to_owned(), s["price"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(steps, vec![("price_type".into(), "850.00".into()), ("group_discount".into(), "807.50".into())]);
    assert_eq!(d["price_breakdown"]["base"], "1000.00");
    assert_eq!(d["price_breakdown"]["vat"], "134.58", "VAT 20 % included in 807.50");

    let p = app.get(&api(&t, "/products/RH-70"), Some(&plain)).await.json();
    assert_eq!((p["price"].as_str(), p["price_breakdown"]["rule"].as_str()), (Some("1000.00"), Some("base")), "{p}");
    assert_eq!(p["price_breakdown"]["steps"].as_array().map(Vec::len), Some(0));

    // The list shows each buyer their own price too.
    let list = app.get(&api(&t, "/products"), Some(&dealer)).await.json();
    assert_eq!(list["items"][0]["price"], "807.50", "{list}");
    assert_eq!(list["total"], 1);

    // A contract price for the plain buyer, valid now; and a quantity break for everybody.
    let r = app
        .json_request(
            Method::PUT,
            &api(&t, &format!("/admin/customers/{plain_co}/prices")),
            &json!([{"sku": "RH-70", "price": "920.00", "valid_from": "2020-01-01", "valid_to": "2099-12-31"}]),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = app.get(&api(&t, "/products/RH-70"), Some(&plain)).await.json();
    assert_eq!((p["price"].as_str(), p["price_breakdown"]["rule"].as_str()), (Some("920.00"), Some("contract")));
    let r = app
        .json_request(
            Method::PUT,
            &api(&t, "/admin/products/RH-70/quantity-breaks"),
            &json!([{"min_qty": "10", "discount_percent": "3"}]),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = app.get(&api(&t, "/products/RH-70?qty=10"), Some(&dealer)).await.json();
    // 850 − 3 % = 824.50 − 5 % (41.23) = 783.27
    assert_eq!(d["price"], "783.27", "{d}");

    // A promotion for everybody: 25 % off; cheaper than every computed price, so it wins.
    let r = app
        .post_json(&api(&t, "/admin/promotions"), &json!({"name": "Чёрная пятница", "kind": "percent", "value": "25", "starts_at": "2020-01-01", "ends_at": "2099-01-01", "categories": ["profiles"]}), Some(&s))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let p = app.get(&api(&t, "/products/RH-70"), Some(&plain)).await.json();
    assert_eq!(
        (p["price"].as_str(), p["price_breakdown"]["rule"].as_str().map(|r| r.starts_with("promotion"))),
        (Some("750.00"), Some(true))
    );

    // Guests see the base price (with the promotion), or nothing when the store says so.
    let g = app.get(&api(&t, "/products/RH-70"), None).await.json();
    assert_eq!(g["price"], "750.00");
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"guest_prices": false}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let g = app.get(&api(&t, "/products/RH-70"), None).await.json();
    assert_eq!((g["price"].clone(), g["price_hidden"].clone()), (Value::Null, json!(true)), "{g}");
    let d = app.get(&api(&t, "/products/RH-70"), Some(&dealer)).await.json();
    assert!(d["price"].is_string());
}

#[actix_web::test]
async fn bad_product_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    product(&app, &t, &s, json!({"sku": "A-1", "name": "Кирпич", "price": "10.00"})).await;
    let dup = app
        .post_json(&api(&t, "/admin/products"), &json!({"sku": "a-1", "name": "Другой", "price": "5"}), Some(&s))
        .await;
    assert_eq!((dup.status.as_u16(), dup.error_code()), (409, "duplicate_sku".to_string()), "{}", dup.body);
    let cases = [
        (json!({"sku": "B-1", "name": "X", "price": "-5"}), "price"),
        (json!({"sku": "B-1", "name": "X", "price": "abc"}), "price"),
        (json!({"sku": "B-1", "name": "X", "price": "1.999"}), "price"),
        (json!({"sku": "B-1", "name": "X", "price": "1", "category": "nope"}), "category"),
        (json!({"sku": "B 1; DROP", "name": "X", "price": "1"}), "sku"),
        (json!({"sku": "B-1", "name": "", "price": "1"}), "name"),
        (json!({"sku": "B-1", "name": "X", "price": "1", "vat_rate": "18"}), "vat_rate"),
        (json!({"sku": "B-1", "name": "X", "price": "1", "status": "upcoming"}), "available_from"),
        (json!({"sku": "B-1", "name": "X", "price": "1", "colour": "red"}), "colour"),
        (json!({"sku": "B-1", "name": "X", "price": "1", "barcodes": ["12ab"]}), "barcodes"),
    ];
    for (body, field) in cases {
        let r = app.post_json(&api(&t, "/admin/products"), &body, Some(&s)).await;
        assert_eq!(r.status, 422, "{body} → {}", r.body);
        assert!(r.json()["error"]["fields"][field].is_string(), "{body} → {}", r.body);
    }
    let list = app.get(&api(&t, "/admin/products"), Some(&s)).await.json();
    assert_eq!(list["total"], 1, "nothing was created: {list}");
    // Buyers and strangers cannot write the catalog.
    let (b, _) = buyer(&app, &t, INNS[2]).await;
    let r =
        app.post_json(&api(&t, "/admin/products"), &json!({"sku": "C-1", "name": "X", "price": "1"}), Some(&b)).await;
    assert_eq!(r.status, 403);
    let r = app.post_json(&api(&t, "/admin/products"), &json!({"sku": "C-1", "name": "X", "price": "1"}), None).await;
    assert_eq!(r.status, 401);
    // A change keeps what it does not mention; archiving hides the product from buyers.
    let r = app.patch_json(&api(&t, "/admin/products/A-1"), &json!({"name": "Кирпич красный"}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["price"].as_str()), (200, Some("10.00")), "{}", r.body);
    let r = app.patch_json(&api(&t, "/admin/products/A-1"), &json!({"status": "archived"}), Some(&s)).await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get(&api(&t, "/products/A-1"), None).await.status, 404);
    assert_eq!(app.get(&api(&t, "/products"), None).await.json()["total"], 0);
    let r = app.json_request(Method::DELETE, &api(&t, "/admin/products/A-1"), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 204);
    assert_eq!(app.get(&api(&t, "/admin/products/A-1"), Some(&s)).await.status, 404);
}

#[actix_web::test]
async fn upcoming_products_and_stock_levels_are_shown_as_the_store_chooses() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    product(
        &app,
        &t,
        &s,
        json!({"sku": "UP-1", "name": "Новинка", "price": "100", "status": "upcoming", "available_from": "2099-03-01"}),
    )
    .await;
    product(&app, &t, &s, json!({"sku": "LOW-1", "name": "Почти всё", "price": "100", "stock": "3"})).await;
    product(&app, &t, &s, json!({"sku": "MANY-1", "name": "Много", "price": "100", "stock": "500"})).await;
    let get = |sku: &'static str| {
        let app = &app;
        let t = &t;
        async move { app.get(&api(t, &format!("/products/{sku}")), None).await.json() }
    };
    let up = get("UP-1").await;
    assert_eq!(
        (up["stock_status"].as_str(), up["available_from"].as_str(), up["available"].as_bool()),
        (Some("upcoming"), Some("2099-03-01"), Some(false))
    );
    assert_eq!(get("LOW-1").await["stock_status"], "low");
    assert_eq!(get("MANY-1").await["stock_status"], "in_stock");
    assert!(get("MANY-1").await.get("stock").is_none(), "levels only by default");
    app.patch_json(&api(&t, "/admin/settings"), &json!({"stock_display": "exact"}), Some(&s)).await;
    assert_eq!(get("MANY-1").await["stock"], "500");
    // Stock per warehouse: a second warehouse adds up.
    let r = app.post_json(&api(&t, "/admin/warehouses"), &json!({"code": "spb", "name": "Склад СПб"}), Some(&s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .json_request(
            Method::PUT,
            &api(&t, "/admin/products/MANY-1/stock"),
            &json!([{"warehouse": "spb", "quantity": "25"}]),
            Some(&s),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.json()["stock_available"].as_str()), (200, Some("525")), "{}", r.body);
    let r = app
        .json_request(
            Method::PUT,
            &api(&t, "/admin/products/MANY-1/stock"),
            &json!([{"warehouse": "spb", "quantity": "-1"}]),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(get("MANY-1").await["stock"], "525");
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"stock_display": "all of it"}), Some(&s)).await;
    assert_eq!(r.status, 422);
}

/// A product change that does not mention stock never writes back a stale quantity.
#[actix_web::test]
async fn changing_a_product_leaves_stock_it_does_not_mention_alone() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    product(&app, &t, &s, json!({"sku": "ST-1", "name": "Товар", "price": "10", "stock": "5"})).await;
    // Meanwhile stock changes (an order, a 1C exchange)…
    let r = app
        .json_request(
            Method::PUT,
            &api(&t, "/admin/products/ST-1/stock"),
            &json!([{"warehouse": "main", "quantity": "3"}]),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // …and a rename must not bring the old 5 back.
    let r = app.patch_json(&api(&t, "/admin/products/ST-1"), &json!({"name": "Товар новый"}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["stock_available"].as_str()), (200, Some("3")), "{}", r.body);
    let r = app.patch_json(&api(&t, "/admin/products/ST-1"), &json!({"stock": "7"}), Some(&s)).await;
    assert_eq!(r.json()["stock_available"], "7");
}
