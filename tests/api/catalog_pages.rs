//! The storefront catalog as a buyer sees it in a browser: category browsing with facets,
//! search, the product page with "why this price", the marketplace search on the landing page;
//! everything a supplier typed is escaped.

use serde_json::json;

use crate::catalog::{api, buyer, product, staff};
use crate::helpers::TestApp;
use crate::identity::INNS;

#[actix_web::test]
async fn a_buyer_browses_searches_and_reads_why_this_price() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    app.post_json(
        &api(&t, "/admin/categories"),
        &json!({"code": "sills", "name": "Подоконники", "name_en": "Window sills"}),
        Some(&s),
    )
    .await;
    let poison = "'\"><svg onload=alert(1)>";
    product(
        &app,
        &t,
        &s,
        json!({"sku": "PD-300", "name": format!("Подоконник белый 300 мм {poison}"), "brand": "Moeller", "category": "sills",
               "price": "1000.00", "stock": "4", "description": "<p>Плотный</p><script>alert(1)</script><img src=x onerror=alert(1)>"}),
    )
    .await;
    app.json_request(
        awc::http::Method::PUT,
        &api(&t, "/admin/price-groups/dealer/prices"),
        &json!([{"sku": "PD-300", "price": "900.00"}]),
        Some(&s),
    )
    .await;
    let (dealer, co) = buyer(&app, &t, INNS[4]).await;
    app.patch_json(&api(&t, &format!("/admin/customers/{co}")), &json!({"price_group": "dealer"}), Some(&s)).await;

    // A guest: the category page with facets, the product page with the base price.
    let page = app.get(&format!("/s/{}/catalog/sills", t.slug), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Moeller") && page.body.contains("1000.00"), "brand facet and price");
    assert!(!page.body.contains("<svg onload"), "a supplier's text is escaped");
    let page = app
        .get(&format!("/s/{}/catalog?q=%D0%BF%D0%BE%D0%B4%D0%BE%D0%BA%D0%BE%D0%BD%D0%BD%D0%B8%D0%BA", t.slug), None)
        .await;
    assert!(page.body.contains("PD-300"), "search finds it");
    let p = app.get(&format!("/s/{}/products/PD-300", t.slug), None).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("1000.00") && p.body.contains("166.67"), "price and VAT shown");
    assert!(
        p.body.contains("<p>Плотный</p>") && !p.body.contains("<script>") && !p.body.contains("onerror"),
        "description sanitised"
    );
    assert!(!p.body.contains("<svg onload"));

    // The dealer, with the session cookie of a signed-in browser: their price and its reasons.
    let req = app
        .request(awc::http::Method::GET, &format!("/s/{}/products/PD-300", t.slug))
        .insert_header(("Authorization", format!("Bearer {dealer}")))
        .insert_header(("Accept-Language", "ru"));
    let p = app.send(req, None).await;
    assert!(p.body.contains("900.00"), "the dealer's price");
    assert!(p.body.contains("Почему такая цена") && p.body.contains("Ваш прайс-лист"), "why this price, in Russian");
    // English.
    let req = app
        .request(awc::http::Method::GET, &format!("/s/{}/products/PD-300", t.slug))
        .insert_header(("Authorization", format!("Bearer {dealer}")))
        .insert_header(("Cookie", "tp_lang=en"));
    let p = app.send(req, None).await;
    assert!(p.body.contains("Why this price") && p.body.contains("Window sills"), "why this price, in English");

    // Unknown things are clear 404s and 422s, not errors.
    assert_eq!(app.get(&format!("/s/{}/products/NOPE", t.slug), None).await.status, 404);
    assert_eq!(app.get(&format!("/s/{}/catalog/nope", t.slug), None).await.status, 404);
    let bad = app.get(&format!("/s/{}/catalog?price_min=-1", t.slug), None).await;
    assert_eq!(bad.status, 200, "the page explains instead of failing");
    assert!(bad.body.contains("class=\"alert\""), "the reason is on the page");

    // The landing page finds it at its store.
    let landing = app.get("/?q=%D0%BF%D0%BE%D0%B4%D0%BE%D0%BA%D0%BE%D0%BD%D0%BD%D0%B8%D0%BA", None).await;
    assert!(landing.body.contains(&format!("/s/{}/products/PD-300", t.slug)), "marketplace hit links to the store");
    assert!(!landing.body.contains("<svg onload"));
}
