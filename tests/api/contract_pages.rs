//! Contract pages: the staff's template editor (preview, refusal with the reason and the text
//! kept, saving), the contract panel on a customer's page with "issue" and the PDF, and the
//! buyer's contract on its Finance page.

use serde_json::json;

use crate::catalog::api;
use crate::helpers::TestApp;
use crate::helpers::TestTenant;
use crate::identity::INNS;
use crate::order_pages::sign_in;
use crate::ordering::{buyer, store};

async fn stored_template(app: &TestApp, t: &TestTenant, staff: &str) -> serde_json::Value {
    app.get(&api(t, "/admin/contract-template?kind=agreement&lang=en"), Some(staff)).await.json()
}

#[actix_web::test]
async fn staff_check_and_save_a_template_on_the_page_and_issue_a_contract_from_the_customer_page() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let mut b = sign_in(&app, &t, &t.admin_email, &format!("/s/{}/admin/contract-template", t.slug)).await;
    let page = b.get(&format!("/s/{}/admin/contract-template", t.slug)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"template-form\""));
    assert!(page.body.contains("ДОГОВОР ПОСТАВКИ № Д-2026-0001"), "the sample preview is shown");
    assert!(page.body.contains("<code>terms.credit_limit_words</code>"), "the variables are listed");

    let path = format!("/s/{}/admin/contract-template", t.slug);
    let bad = "# ADDITIONAL AGREEMENT {{agreement.numbr}}";
    let r = b.post(&path, &[("kind", "agreement"), ("lang", "en"), ("body", bad), ("action", "save")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"template-error\"") && r.body.contains("numbr"), "the reason is shown");
    assert!(r.body.contains("{{agreement.numbr}}"), "the typed text is kept");
    assert_eq!(stored_template(&app, &t, &s).await["custom"], false, "nothing stored");

    let good = "# ADDITIONAL AGREEMENT {{agreement.number}} TO {{contract.number}}\nNew terms: {{terms.days_text}}.";
    let r = b.post(&path, &[("kind", "agreement"), ("lang", "en"), ("body", good), ("action", "preview")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("New terms: 30 calendar days."), "{}", r.body);
    assert_eq!(stored_template(&app, &t, &s).await["custom"], false, "a preview stores nothing");
    let r = b.post(&path, &[("kind", "agreement"), ("lang", "en"), ("body", good), ("action", "save")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let kept = stored_template(&app, &t, &s).await;
    assert_eq!((kept["custom"].clone(), kept["body"].clone()), (json!(true), json!(good)));

    // The customer's page: no contract yet, then one issued from the button, with its PDF.
    let (_, id, email) = buyer(&app, &t, INNS[1]).await;
    let customer = format!("/s/{}/admin/customers/{id}", t.slug);
    let page = b.get(&customer).await;
    assert!(page.body.contains("id=\"no-contract\"") && page.body.contains("id=\"issue-contract\""), "{}", page.body);
    let r = b.post(&format!("{customer}/contracts"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get(&customer).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(page.body.contains(&format!("Договор поставки № Д-{year}-0001")), "{}", page.body);
    assert!(page.body.contains(&format!("/s/{}/api/v1/admin/contracts/", t.slug)));

    // The buyer sees it on its Finance page, with the PDF of its own.
    let mut buyer_b = sign_in(&app, &t, &email, &format!("/s/{}/account/finance", t.slug)).await;
    let fin = buyer_b.get(&format!("/s/{}/account/finance", t.slug)).await;
    assert_eq!(fin.status, 200, "{}", fin.body);
    assert!(fin.body.contains("id=\"contracts\"") && fin.body.contains(&format!("Д-{year}-0001")), "{}", fin.body);
    assert!(fin.body.contains(&format!("/s/{}/api/v1/contracts/", t.slug)));
    assert!(fin.body.contains("Предоплата"));
    assert!(fin.body.contains(&format!("Взаиморасчёты по договору поставки № Д-{year}-0001 от ")), "{}", fin.body);
}
