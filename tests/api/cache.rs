//! The in-process caches (`tradeport::cache`) are never stale: a list, a search, a
//! buyer's prices and their access follow every committed change at once, whoever made it
//! (the API, another process, `psql`), and a cached answer never reaches another tenant,
//! another buyer or a guest (SECURITY.md T5).

use awc::http::Method;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::catalog::{api, buyer, product, staff};
use crate::helpers::{TestApp, TestTenant};
use crate::identity::INNS;

/// Runs SQL in the tenant's schema as another process would (its own transaction).
async fn sql(app: &TestApp, t: &TestTenant, statement: &str) {
    let (schema, statement) = (t.tenant.schema.clone(), statement.to_owned());
    app.db(move |c| tradeport::db::in_tenant(c, &schema, |c| Ok(c.batch_execute(&statement)?)).expect("sql")).await;
}

async fn list(app: &TestApp, t: &TestTenant, token: Option<&str>) -> Value {
    let r = app.get(&api(t, "/products?category=profiles"), token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn first(list: &Value, field: &str) -> String {
    list["items"][0][field].as_str().unwrap_or("").to_owned()
}

/// A store with a `profiles` category, product RH-70 (base 1000, dealer 850) and a dealer
/// buyer; returns (staff token, dealer token, dealer company id).
async fn store(app: &TestApp, t: &TestTenant) -> (String, String, i64) {
    let s = staff(app, t).await;
    let r =
        app.post_json(&api(t, "/admin/categories"), &json!({"code": "profiles", "name": "Профили"}), Some(&s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    product(
        app,
        t,
        &s,
        json!({"sku": "RH-70", "name": "Профиль Rehau 70", "price": "1000.00", "category": "profiles", "stock": 50}),
    )
    .await;
    let r = app
        .json_request(
            Method::PUT,
            &api(t, "/admin/price-groups/dealer/prices"),
            &json!([{"sku": "RH-70", "price": "850.00"}]),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (dealer, co) = buyer(app, t, INNS[0]).await;
    let r =
        app.patch_json(&api(t, &format!("/admin/customers/{co}")), &json!({"price_group": "dealer"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (s, dealer, co)
}

#[actix_web::test]
async fn cached_lists_and_prices_follow_changes_made_outside_the_process() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (_, dealer, co) = store(&app, &t).await;

    // Warm every cache: the dealer's page, the guest's page, the search.
    for _ in 0..2 {
        assert_eq!(first(&list(&app, &t, Some(&dealer)).await, "price"), "850.00");
        assert_eq!(first(&list(&app, &t, None).await, "price"), "1000.00", "a guest never gets the dealer's price");
    }
    let s = app.get(&api(&t, "/search?q=Rehau"), None).await.json();
    assert_eq!(s["total"], 1, "{s}");

    // Another process changes the dealer price list, the stock and the name.
    sql(&app, &t, "UPDATE product_prices SET price = 800 WHERE price_type = 'dealer'").await;
    assert_eq!(first(&list(&app, &t, Some(&dealer)).await, "price"), "800.00", "a new price list shows at once");
    sql(&app, &t, "UPDATE stock SET quantity = 0").await;
    assert_eq!(first(&list(&app, &t, Some(&dealer)).await, "stock_status"), "out_of_stock");
    sql(&app, &t, "UPDATE products SET name = 'Профиль Veka 70', brand = 'Veka'").await;
    let s = app.get(&api(&t, "/search?q=Rehau"), None).await.json();
    assert_eq!(s["total"], 0, "a cached search is not answered after the catalog changed: {s}");
    let s = app.get(&api(&t, "/search?q=Veka"), None).await.json();
    assert_eq!(s["total"], 1, "{s}");

    // A contract price for this company only; the guest keeps the base price.
    sql(
        &app,
        &t,
        &format!("INSERT INTO customer_prices (company_id, product_id, price) SELECT {co}, id, 777 FROM products"),
    )
    .await;
    assert_eq!(first(&list(&app, &t, Some(&dealer)).await, "price"), "777.00");
    assert_eq!(first(&list(&app, &t, None).await, "price"), "1000.00");

    // A promotion that starts in two seconds: the cached page changes when it starts.
    sql(
        &app,
        &t,
        "INSERT INTO promotions (name, kind, value, starts_at, ends_at, category_ids) \
         SELECT 'Flash', 'percent', 50, now() + interval '2 seconds', now() + interval '1 day', array_agg(id) FROM categories",
    )
    .await;
    assert_eq!(first(&list(&app, &t, None).await, "price"), "1000.00", "not yet");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(first(&list(&app, &t, None).await, "price"), "500.00", "the promotion started");
}

#[actix_web::test]
async fn access_removed_elsewhere_is_gone_on_the_next_request() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (s, dealer, co) = store(&app, &t).await;
    for _ in 0..2 {
        assert_eq!(first(&list(&app, &t, Some(&dealer)).await, "price"), "850.00");
        assert_eq!(app.get(&api(&t, "/admin/products"), Some(&s)).await.status, 200);
    }

    // The company leaves the dealer group in 1C: the next page has the base price.
    sql(&app, &t, &format!("UPDATE companies SET price_group = NULL WHERE id = {co}")).await;
    assert_eq!(first(&list(&app, &t, Some(&dealer)).await, "price"), "1000.00");
    // The membership is disabled: the person is a guest again (no buyer prices, no cart).
    sql(&app, &t, "INSERT INTO settings (key, value) VALUES ('guest_prices', 'false') ON CONFLICT (key) DO UPDATE SET value = 'false'").await;
    sql(&app, &t, &format!("UPDATE company_members SET status = 'disabled' WHERE company_id = {co}")).await;
    let l = list(&app, &t, Some(&dealer)).await;
    assert_eq!(l["items"][0]["price"], Value::Null, "{l}");
    // A staff member removed elsewhere loses the back office at once.
    sql(&app, &t, "UPDATE staff SET status = 'disabled'").await;
    assert_eq!(app.get(&api(&t, "/admin/products"), Some(&s)).await.status, 403);
}

#[actix_web::test]
async fn two_stores_with_the_same_catalog_never_share_cached_answers() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.new_tenant().await, app.new_tenant().await);
    let (_, dealer_a, _) = store(&app, &a).await;
    let (sb, _, _) = store(&app, &b).await;
    let r = app.patch_json(&api(&b, "/admin/products/RH-70"), &json!({"price": "2000.00"}), Some(&sb)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for _ in 0..2 {
        assert_eq!(first(&list(&app, &a, None).await, "price"), "1000.00");
        assert_eq!(first(&list(&app, &b, None).await, "price"), "2000.00");
        assert_eq!(first(&list(&app, &a, Some(&dealer_a)).await, "price"), "850.00");
    }
    // A's token is not a buyer of B: B's guest price, not A's dealer price.
    assert_eq!(first(&list(&app, &b, Some(&dealer_a)).await, "price"), "2000.00");
}

#[actix_web::test]
async fn without_caches_the_answers_are_the_same() {
    let app = TestApp::spawn_with(|s| s.server.cache = false).await;
    let t = app.new_tenant().await;
    let (_, dealer, _) = store(&app, &t).await;
    assert_eq!(first(&list(&app, &t, Some(&dealer)).await, "price"), "850.00");
    sql(&app, &t, "UPDATE product_prices SET price = 800 WHERE price_type = 'dealer'").await;
    assert_eq!(first(&list(&app, &t, Some(&dealer)).await, "price"), "800.00");
    assert!(!app.state.caches.enabled());
}

fn form_tokens(html: &str) -> Vec<String> {
    html.split("name=\"csrf_token\" value=\"").skip(1).filter_map(|s| s.split('"').next()).map(str::to_owned).collect()
}

#[actix_web::test]
async fn cached_catalog_pages_keep_each_viewers_prices_and_each_sessions_csrf_token() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (_, dealer, _) = store(&app, &t).await;
    let page = format!("/s/{}/catalog/profiles", t.slug);
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let r = app.get(&page, Some(&dealer)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("850.00"), "the dealer's price");
        let cookie = r.cookie("tp_csrf").expect("a fresh session gets a CSRF cookie");
        let in_forms = form_tokens(&r.body);
        assert!(!in_forms.is_empty() && in_forms.iter().all(|x| *x == cookie), "forms carry this session's token");
        assert!(!r.body.contains("TPCSRFPLACEHOLDER"), "the placeholder never reaches a page");
        tokens.push(cookie);
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 3, "three sessions, three tokens, one cached page");
    let guest = app.get(&page, None).await;
    assert!(guest.body.contains("1000.00") && !guest.body.contains("850.00"), "a guest never gets the dealer's page");
    sql(&app, &t, "UPDATE product_prices SET price = 800 WHERE price_type = 'dealer'").await;
    let r = app.get(&page, Some(&dealer)).await;
    assert!(r.body.contains("800.00") && !r.body.contains("850.00"), "a new price list shows at once");
}
