//! End to end in a real browser (headless Chromium through WebDriver, see `webdriver.rs`):
//! what an operator, a buyer and a supplier's staff click through. Screenshots of the key
//! pages land in `target/screenshots/<test>/`.

use crate::helpers::{unique, TestApp, TEST_PASSWORD};
use crate::identity::{mail_link, INNS};
use crate::webdriver::{path_of, Browser, Driver};

const KPP: &str = "773601001";

/// The operator console's sign-in form.
async fn operator_signs_in(b: &Browser, email: &str) {
    b.goto("/platform").await;
    let form = "form[action=\"/platform/login\"]";
    b.wait_for(form).await;
    b.screenshot("console-sign-in").await;
    b.fill_form(form, &[("email", email), ("password", TEST_PASSWORD)]).await;
    b.submit(form).await;
    b.wait_for("a[href=\"/platform/tenants/new\"]").await;
}

/// Fills and sends the registration form of the store under `base` (`/s/<slug>`).
async fn buyer_registers(b: &Browser, base: &str, email: &str, company: &str, inn: &str) {
    b.goto(&format!("{base}/register")).await;
    b.wait_for("form#register").await;
    b.screenshot("buyer-register-form").await;
    b.fill_form(
        "form#register",
        &[
            ("name", "Пётр Смирнов"),
            ("email", email),
            ("password", TEST_PASSWORD),
            ("company_name", company),
            ("inn", inn),
            ("kpp", KPP),
            ("address", "Москва, ул. Ленина, 1"),
            ("phone", "+7 495 123-45-67"),
            ("contact_person", "Пётр Смирнов"),
        ],
    )
    .await;
    b.submit("form#register").await;
    b.wait_path(&format!("{base}/account")).await;
}

/// Signs in through the store's login form; `next` is where it should land.
async fn signs_in(b: &Browser, base: &str, email: &str, next: Option<&str>) {
    match next {
        Some(n) => b.goto(&format!("{base}/login?next={n}")).await,
        None => b.goto(&format!("{base}/login")).await,
    }
    b.wait_for("form#login").await;
    b.fill_form("form#login", &[("email", email), ("password", TEST_PASSWORD)]).await;
    b.submit("form#login").await;
    let landing = next.map_or_else(|| format!("{base}/account"), str::to_owned);
    b.wait_path(&landing).await;
}

#[actix_web::test]
async fn browser_an_operator_onboards_a_supplier_and_opens_its_storefront() {
    let app = TestApp::spawn().await;
    let email = format!("{}@operators.test", unique("op"));
    let e = email.clone();
    app.db(move |conn| {
        tradeport::cli::operator::ensure_operator(conn, &e, TEST_PASSWORD, "Browser operator").expect("operator")
    })
    .await;
    let driver = Driver::start("operator_onboards_a_supplier").await;
    let b = driver.session(&app.address, "operator").await;

    operator_signs_in(&b, &email).await;
    b.screenshot("console").await;

    b.click("a[href=\"/platform/tenants/new\"]").await;
    b.wait_path("/platform/tenants/new").await;
    let slug = unique("zt");
    let name = format!("Лесоторг {slug}");
    let form = "form[action=\"/platform/tenants\"]";
    b.fill_form(
        form,
        &[
            ("slug", &slug),
            ("name", &name),
            ("admin_email", &format!("{slug}@supplier.test")),
            ("admin_password", TEST_PASSWORD),
        ],
    )
    .await;
    b.screenshot("new-supplier-filled").await;
    b.submit(form).await;

    b.wait_path(&format!("/platform/tenants/{slug}")).await;
    assert!(b.path().await.ends_with("?created=1"), "lands on the new tenant's page: {}", b.path().await);
    b.wait_for(".notice").await;
    assert_eq!(b.text("main h1").await, name, "the edit page names the supplier");
    b.screenshot("supplier-created").await;

    b.click(&format!("a[href=\"/s/{slug}/\"]")).await;
    b.wait_path(&format!("/s/{slug}/")).await;
    assert_eq!(b.text("main h1").await, name, "the storefront shows the store's name");
    b.screenshot("storefront").await;
}

#[actix_web::test]
async fn browser_an_open_portal_buyer_registers_confirms_and_signs_back_in() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let base = format!("/s/{}", t.slug);
    let driver = Driver::start("open_portal_buyer").await;
    let b = driver.session(&app.address, "buyer").await;
    let email = format!("{}@buyer.test", unique("b"));
    let company = "ООО «Стройка Открытая»";

    buyer_registers(&b, &base, &email, company, INNS[0]).await;
    b.wait_attr("#company-status", "data-status", "active").await;
    b.screenshot("buyer-cabinet-after-registration").await;

    // The confirmation link from the mail (it names the public host; the path is what matters).
    let link = mail_link(&app, &email, "confirm-email").await;
    b.goto(&path_of(&link)).await;
    b.wait_for("form#confirm-email").await;
    b.screenshot("buyer-confirm-email").await;
    b.submit("form#confirm-email").await;
    b.wait_for("#confirmed").await;
    b.screenshot("buyer-email-confirmed").await;

    // Sign out from the cabinet's header.
    b.goto(&format!("{base}/account")).await;
    b.wait_for("#company-status").await;
    b.submit("form#logout").await;
    b.wait_gone("form#logout").await;
    b.screenshot("buyer-signed-out").await;
    b.goto(&format!("{base}/account")).await;
    b.wait_gone("form#logout").await;
    assert!(!b.page_text().await.contains(company), "a signed-out visitor does not see the cabinet");

    signs_in(&b, &base, &email, None).await;
    b.wait_attr("#company-status", "data-status", "active").await;
    let page = b.page_text().await;
    assert!(page.contains(company) || page.contains(INNS[0]), "the cabinet names the company:\n{page}");
    b.screenshot("buyer-cabinet-signed-in").await;
}

#[actix_web::test]
async fn browser_a_closed_portal_buyer_is_approved_by_the_suppliers_staff() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant_with(|r| r.mode = Some("closed".into())).await;
    let base = format!("/s/{}", t.slug);
    let driver = Driver::start("closed_portal_approval").await;
    let buyer = driver.session(&app.address, "buyer").await;
    let email = format!("{}@buyer.test", unique("b"));
    let company = "ООО «Стройка Закрытая»";

    buyer_registers(&buyer, &base, &email, company, INNS[1]).await;
    buyer.wait_attr("#company-status", "data-status", "pending_approval").await;
    buyer.screenshot("buyer-cabinet-pending").await;

    // The supplier's administrator, in a browser of their own.
    let staff = driver.session(&app.address, "staff").await;
    let customers = format!("{base}/admin/customers");
    signs_in(&staff, &base, &t.admin_email, Some(&customers)).await;
    let pending = "tr[data-customer-id] form.approve";
    staff.wait_for(pending).await;
    let row = staff.text("tr[data-customer-id]").await;
    assert!(row.contains(company) || row.contains(INNS[1]), "the pending row is the new company: {row}");
    let id = staff.attr("tr[data-customer-id]", "data-customer-id").await;
    staff.screenshot("staff-customers-pending").await;
    staff.submit(pending).await;
    // Approving lands on the customer's own page.
    staff.wait_path(&format!("{customers}/{id}")).await;
    staff.screenshot("staff-customer-approved").await;
    // Back on the list the row is no longer pending.
    staff.goto(&customers).await;
    let row = format!("tr[data-customer-id=\"{id}\"]");
    staff.wait_for(&row).await;
    staff.wait_gone(&format!("{row} form.approve")).await;
    staff.wait_for(&format!("{row} .badge-active")).await;
    staff.screenshot("staff-customers-approved").await;

    buyer.goto(&format!("{base}/account")).await;
    buyer.wait_attr("#company-status", "data-status", "active").await;
    buyer.screenshot("buyer-cabinet-active").await;
}

/// The buyer's orders as the JSON API lists them (`total`, `items`).
async fn api_orders(app: &TestApp, t: &crate::helpers::TestTenant, token: &str) -> serde_json::Value {
    let r = app.get(&crate::catalog::api(t, "/orders"), Some(token)).await;
    assert_eq!(r.status, 200, "the buyer's orders: {}", r.body);
    r.json()
}

/// A product's `stock_available` as staff see it through the JSON API.
async fn stock_available(app: &TestApp, t: &crate::helpers::TestTenant, sku: &str) -> String {
    let staff = app.login(&t.admin_email, TEST_PASSWORD).await;
    let r = app.get(&crate::catalog::api(t, &format!("/admin/products/{sku}")), Some(&staff)).await;
    assert_eq!(r.status, 200, "product {sku}: {}", r.body);
    r.json()["stock_available"].as_str().map_or_else(|| r.body.clone(), str::to_owned)
}

/// The value of `key` in the query of `path` (`/s/x/cart?id=7` → `7`).
fn query_param(path: &str, key: &str) -> Option<String> {
    let (_, query) = path.split_once('?')?;
    query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v.to_owned()))
}

#[actix_web::test]
async fn browser_a_buyer_searches_orders_and_repeats_an_order() {
    let app = TestApp::spawn().await;
    let (t, _) = crate::ordering::store(&app).await;
    let (token, _, email) = crate::ordering::buyer(&app, &t, INNS[0]).await;
    let base = format!("/s/{}", t.slug);
    assert_eq!(stock_available(&app, &t, "PCS-1").await, "10", "the store starts with 10 pieces");
    assert_eq!(api_orders(&app, &t, &token).await["total"], 0, "no orders yet");
    let driver = Driver::start("buyer_searches_orders_and_repeats").await;
    let b = driver.session(&app.address, "buyer").await;

    signs_in(&b, &base, &email, None).await;

    // Search from the catalog's search box: the handle is found, the sealant is not.
    b.goto(&format!("{base}/catalog")).await;
    b.fill("form.searchbar [name=\"q\"]", "Ручка").await;
    b.submit("form.searchbar").await;
    b.wait_for("form.searchbar [name=\"q\"][value=\"Ручка\"]").await;
    assert_eq!(query_param(&b.path().await, "q").as_deref(), Some("%D0%A0%D1%83%D1%87%D0%BA%D0%B0"), "the query");
    let card = "li.product-card a.pc-name[href$=\"/products/PCS-1\"]";
    b.wait_for(card).await;
    b.wait_gone("li.product-card a.pc-name[href$=\"/products/M-1\"]").await;
    assert_eq!(b.count("li.product-card").await, 1, "only the handle matches");
    b.screenshot("catalog-search").await;

    // Its product page: 4 pieces into the cart, back at the "added" note.
    b.click(card).await;
    let product = format!("{base}/products/PCS-1");
    b.wait_path(&product).await;
    b.fill("form#add-to-cart [name=\"qty\"]", "4").await;
    b.submit("form#add-to-cart").await;
    b.wait_visible("#in-cart-PCS-1").await;
    assert_eq!(b.path().await, product, "back on the product page");

    // The cart: one line of 4 × 100.00, on to checkout.
    b.goto(&format!("{base}/cart")).await;
    let line = "tr.cart-line[data-sku=\"PCS-1\"]";
    b.wait_for(line).await;
    assert_eq!(b.count("tr.cart-line").await, 1, "one line in the cart");
    assert_eq!(b.attr(&format!("{line} input[name=\"qty\"]"), "value").await, "4");
    assert_eq!(b.text(&format!("{line} .cart-amount")).await, "400.00");
    let total = b.text("#cart-total").await;
    assert!(total.starts_with("400.00"), "the cart's total: {total}");
    b.screenshot("cart").await;
    b.click("#cart-checkout").await;
    b.wait_path(&format!("{base}/checkout")).await;
    let cart_id = query_param(&b.path().await, "cart").expect("the checkout names its cart");

    // Checkout: the same line and total, a PO number and a comment, place the order.
    b.wait_for("li.checkout-line[data-sku=\"PCS-1\"]").await;
    assert_eq!(b.count("li.checkout-line").await, 1, "one line to order");
    let total = b.text("#checkout-total").await;
    assert!(total.starts_with("400.00"), "the checkout's total: {total}");
    let comment = "Позвонить за час до приезда";
    b.fill_form("form#checkout-form", &[("po_number", "PO-E2E-1"), ("comment", comment)]).await;
    b.screenshot("checkout").await;
    b.click("#checkout-place").await;

    // The order page with the thank-you notice; its number from the address.
    b.wait_for("#order-notice").await;
    let at = b.path().await;
    let number = at
        .strip_prefix(&format!("{base}/orders/"))
        .and_then(|rest| rest.strip_suffix("?placed=1"))
        .unwrap_or_else(|| panic!("the checkout lands on the new order: {at}"))
        .to_owned();
    assert!(!number.is_empty() && !number.contains('/'), "an order number: {number:?}");
    assert!(!b.text("#order-notice").await.trim().is_empty(), "the thank-you notice says something");
    assert!(b.text("#order-number").await.contains(&number), "the heading names the order");
    assert_eq!(b.attr("#order-status", "data-status").await, "new");
    let total = b.text("#order-total").await;
    assert!(total.starts_with("400.00"), "the order's total: {total}");
    let page = b.page_text().await;
    assert!(page.contains("PO-E2E-1") && page.contains(comment), "the PO number and the comment:\n{page}");
    assert!(page.contains("PCS-1"), "the order's line:\n{page}");
    b.screenshot("order-placed").await;

    // The history lists it; the number filter finds it by its tail and hides it for another.
    let row = format!("tr[data-order=\"{number}\"]");
    b.goto(&format!("{base}/orders")).await;
    b.wait_for(&row).await;
    assert_eq!(b.count("tr[data-order]").await, 1, "one order in the history");
    let tail: String = number.chars().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect();
    b.fill("form.orders-filter [name=\"number\"]", &tail).await;
    b.submit("form.orders-filter").await;
    b.wait_for(&format!("form.orders-filter [name=\"number\"][value=\"{tail}\"]")).await;
    b.wait_for(&row).await;
    assert!(b.text(&row).await.contains("PO-E2E-1"), "the row shows the PO number");
    b.screenshot("history-filtered").await;
    b.goto(&format!("{base}/orders?number=NO-SUCH-ORDER")).await;
    b.wait_for("form.orders-filter [name=\"number\"][value=\"NO-SUCH-ORDER\"]").await;
    b.wait_gone(&row).await;

    // Open the order from the history and repeat it: a new cart with the same line.
    b.goto(&format!("{base}/orders?number={tail}")).await;
    b.click(&format!("{row} td.order-number a")).await;
    b.wait_path(&format!("{base}/orders/{number}")).await;
    b.click("#order-repeat").await;
    b.wait_for("#repeat-report").await;
    b.wait_path(&format!("{base}/cart")).await;
    let repeated = query_param(&b.path().await, "id").expect("the repeated cart's id");
    assert_ne!(repeated, cart_id, "the order is repeated into a new cart");
    assert!(b.text("#repeat-report").await.contains(&number), "the report names the order");
    assert_eq!(b.count(".cart-skipped li").await, 0, "no line was left out");
    b.wait_for(line).await;
    assert_eq!(b.count("tr.cart-line").await, 1, "one line in the repeated cart");
    assert_eq!(b.attr(&format!("{line} input[name=\"qty\"]"), "value").await, "4");
    let total = b.text("#cart-total").await;
    assert!(total.starts_with("400.00"), "the repeated cart's total: {total}");
    b.screenshot("repeated-cart").await;

    // Exactly one order was placed, and it took 4 of the 10 pieces.
    let orders = api_orders(&app, &t, &token).await;
    assert_eq!(orders["total"], 1, "one order for the buyer: {orders}");
    assert_eq!(orders["items"][0]["number"].as_str(), Some(number.as_str()), "{orders}");
    assert_eq!(stock_available(&app, &t, "PCS-1").await, "6", "4 of 10 pieces reserved by the order");
}
