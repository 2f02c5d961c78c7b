//! The finance pages as the supplier's accountant and the buyer use them: a bank payment
//! registered through the form (a wrong amount shown, nothing recorded), reversed, and the
//! buyer's balance and ledger; another company sees none of it.

use serde_json::json;

use crate::catalog::api;

/// Whether the page shows `amount` (like "1500.50") in the element `id`, in either language.
fn shows(body: &str, id: &str, amount: &str) -> bool {
    ["ru", "en"].iter().any(|l| body.contains(&format!("id=\"{id}\">{}", tradeport::money::grouped(amount, l))))
}
use crate::helpers::TestApp;
use crate::identity::INNS;
use crate::order_pages::{post_from, sign_in};
use crate::ordering::{buyer, order, store};

#[actix_web::test]
async fn the_accountant_registers_and_reverses_a_payment_and_the_buyer_sees_it() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (token, company, email) = buyer(&app, &t, INNS[4]).await;
    let placed = order(&app, &t, &token, &serde_json::json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("p1")).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let (_, _, other_email) = buyer(&app, &t, INNS[5]).await;
    let page = format!("/s/{}/admin/finance", t.slug);
    let mut staff = sign_in(&app, &t, &t.admin_email, &page).await;
    let r = staff.get(&page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"payment-form\""), "{}", r.body);

    // A wrong amount: the form comes back with the error and what was typed; nothing recorded.
    let customer = company.to_string();
    let r = post_from(
        &mut staff,
        &page,
        &format!("{page}/payments"),
        &[("customer_id", &customer), ("amount", "12.345"), ("reference", "п/п 5 от 01.11"), ("paid_at", "")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("п/п 5 от 01.11") && r.body.contains("field-error"), "{}", r.body);
    let listed = app.get(&api(&t, "/admin/payments"), Some(&s)).await;
    assert_eq!(listed.json()["total"], 0, "{}", listed.body);

    // The right amount: registered, and the page shows the customer's ledger with it.
    let r = post_from(
        &mut staff,
        &page,
        &format!("{page}/payments"),
        // Typed as a Russian accountant would: a space between thousands, a decimal comma.
        &[("customer_id", &customer), ("amount", "1 500,50"), ("reference", "п/п 5 от 01.11"), ("paid_at", "")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let next = r.header("location").expect("location");
    assert!(next.contains(&format!("customer={company}")) && next.contains("saved=1"), "{next}");
    let r = staff.get(&next).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"finance-notice\"") && r.body.contains("id=\"customer-ledger\""), "{}", r.body);
    assert!(["1\u{a0}500,50", "1,500.50"].iter().any(|a| r.body.contains(a)), "{}", r.body);

    // The buyer: paid 1500.50 ahead of any shipment, the payment in the ledger; a bad period is 422.
    let mut b = sign_in(&app, &t, &email, &format!("/s/{}/account/finance", t.slug)).await;
    let r = b.get(&format!("/s/{}/account/finance", t.slug)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(shows(&r.body, "position-balance", "1500.50"), "{}", r.body);
    assert!(r.body.contains("п/п 5 от 01.11"), "{}", r.body);
    // Its order's invoice is listed, paid from the 1500.50 (oldest unpaid first).
    assert!(r.body.contains("data-invoice=\"1\"") && r.body.contains("invoice-paid"), "{}", r.body);
    let r = b.get(&format!("/s/{}/account", t.slug)).await;
    assert!(shows(&r.body, "cabinet-balance", "1500.50"), "{}", r.body);
    let r = b.get(&format!("/s/{}/account/finance?from=2026-02-01&to=2026-01-01", t.slug)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("field-error"), "{}", r.body);

    // Another company of the same store sees its own zero and nothing of this payment.
    let mut other = sign_in(&app, &t, &other_email, &format!("/s/{}/account/finance", t.slug)).await;
    let r = other.get(&format!("/s/{}/account/finance", t.slug)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(shows(&r.body, "position-balance", "0.00") && !r.body.contains("п/п 5"), "{}", r.body);
    // Nor may a buyer open the staff page or post to it.
    let r = other.get(&page).await;
    assert!(r.status == 403 || r.status == 303, "{}: {}", r.status, r.body);

    // Reversed through the form: the balance is back to zero.
    let id = app.get(&api(&t, "/admin/payments"), Some(&s)).await.json()["items"][0]["id"].as_i64().expect("id");
    let r = post_from(&mut staff, &page, &format!("{page}/payments/{id}/reverse"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = b.get(&format!("/s/{}/account/finance", t.slug)).await;
    assert!(shows(&r.body, "position-balance", "0.00"), "{}", r.body);
}

#[actix_web::test]
async fn the_administrator_keeps_the_store_details_and_terms_on_the_settings_page() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let page = format!("/s/{}/admin/settings", t.slug);
    let mut admin = sign_in(&app, &t, &t.admin_email, &page).await;
    let r = admin.get(&page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("name=\"correspondent_account\"") && r.body.contains("name=\"credit_control\""),
        "{}",
        r.body
    );

    // A wrong INN: the page says which field, keeps what was typed, stores nothing.
    let fields = [
        ("legal_name", "ООО «Окна Профи»"),
        ("inn", "7707083894"),
        ("bic", "044525225"),
        ("account", "40702810200000000001"),
        ("correspondent_account", "30101810400000000225"),
        ("vat_mode", "excluded"),
        ("currency", "rub"),
        ("payment_terms_days", "14"),
        ("invoice_on", "confirmation"),
        ("credit_control", "hold"),
        ("stock_display", "levels"),
        ("low_stock_threshold", "10"),
    ];
    let r = post_from(&mut admin, &page, &page, &fields).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"settings-errors\"") && r.body.contains("value=\"7707083894\""), "{}", r.body);
    let stored = app.get(&api(&t, "/admin/settings"), Some(&s)).await.json();
    assert_eq!((stored["legal_name"].as_str(), stored["vat_mode"].as_str()), (Some(""), Some("included")), "{stored}");

    // Corrected: saved, and the API reads what the page wrote.
    let mut fixed = fields.to_vec();
    fixed[1] = ("inn", "7707083893");
    let r = post_from(&mut admin, &page, &page, &fixed).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let stored = app.get(&api(&t, "/admin/settings"), Some(&s)).await.json();
    for (k, v) in [
        ("legal_name", json!("ООО «Окна Профи»")),
        ("inn", json!("7707083893")),
        ("vat_mode", json!("excluded")),
        ("currency", json!("RUB")),
        ("payment_terms_days", json!(14)),
        ("invoice_on", json!("confirmation")),
        ("credit_control", json!("hold")),
        ("guest_prices", json!(false)),
    ] {
        assert_eq!(stored[k], v, "{k}: {stored}");
    }
    let r = admin.get(&format!("{page}?saved=1")).await;
    assert!(r.body.contains("id=\"settings-saved\"") && r.body.contains("value=\"7707083893\""), "{}", r.body);
}

#[actix_web::test]
async fn the_accountant_imports_a_bank_statement_from_the_finance_page_and_reads_its_report() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"inn": INNS[7]}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (token, _, _) = buyer(&app, &t, INNS[4]).await;
    let placed = order(&app, &t, &token, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("imp-1")).await;
    let invoice = placed.json()["invoice"].as_str().expect("invoice").to_owned();
    let page = format!("/s/{}/admin/finance", t.slug);
    let mut staff = sign_in(&app, &t, &t.admin_email, &page).await;
    staff.get(&page).await;
    let file = crate::finance_docs::statement(&[
        ("31", "200.00", INNS[4], INNS[7], "40702810200000000001", &format!("Оплата по счёту № {invoice}")),
        ("32", "90.00", INNS[6], INNS[7], "40702810200000000001", "Оплата"),
    ]);
    let r = crate::admin_catalog_pages::post_multipart(
        &staff,
        &format!("{page}/import"),
        &[("file", "kl_to_1c.txt", &file)],
        &[],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let next = r.header("location").expect("location");
    let r = staff.get(&next).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"import-report\""), "{}", r.body);
    assert!(
        r.body.contains("data-import-status=\"registered\"") && r.body.contains("data-import-status=\"unmatched\""),
        "{}",
        r.body
    );
    assert!(r.body.contains(INNS[6]), "the unmatched payer is named: {}", r.body);

    // A file that is not a statement: the reason on the page, nothing imported.
    let r = crate::admin_catalog_pages::post_multipart(
        &staff,
        &format!("{page}/import"),
        &[("file", "x.txt", b"hello")],
        &[],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"import-error\"") && r.body.contains("1CClientBankExchange"), "{}", r.body);
    let r = app.get(&api(&t, "/admin/payments/imports"), Some(&s)).await;
    assert_eq!(r.json()["total"], 1, "{}", r.body);
}
