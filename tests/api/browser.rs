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
