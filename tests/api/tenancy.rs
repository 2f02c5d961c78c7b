use serde_json::json;

use crate::helpers::{unique, TestApp, TEST_PASSWORD};

#[actix_web::test]
async fn a_storefront_answers_by_path_and_by_host() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let by_path = app.get(&format!("/s/{}/", t.slug), None).await;
    let by_host = app.get_host(&format!("{}.localhost:8080", t.slug), "/").await;
    for r in [&by_path, &by_host] {
        assert_eq!(r.status, 200);
        assert!(r.body.contains(&t.tenant.name));
    }
    // Links inside the page follow the way the store was reached.
    assert!(by_path.body.contains(&format!("href=\"/s/{}/\"", t.slug)));
    assert!(by_host.body.contains("class=\"brand\" href=\"/\""));
    let api = app.get_host(&format!("{}.localhost", t.slug), "/api/v1/storefront").await;
    assert_eq!(api.json()["slug"], t.slug);
    // Without the slash, /s/<slug> redirects to the store.
    let r = app.get(&format!("/s/{}", t.slug), None).await;
    assert_eq!(r.status, 308);
}

#[actix_web::test]
async fn unknown_stores_are_404_in_html_and_json() {
    let app = TestApp::spawn().await;
    let page = app.get("/s/zt-does-not-exist/", None).await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("<html"));
    let api = app.get("/s/zt-does-not-exist/api/v1/storefront", None).await;
    assert_eq!(api.status, 404);
    assert_eq!(api.error_code(), "not_found");
    let host = app.get_host("zt-does-not-exist.localhost", "/").await;
    assert_eq!(host.status, 404);
}

#[actix_web::test]
async fn hosts_that_are_not_ours_are_the_platform_and_never_echoed() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    for host in ["evil.example", "localhost", "127.0.0.1", "www.localhost", "a.b.localhost"] {
        let r = app.get_host(host, "/").await;
        assert_eq!(r.status, 200, "{host}");
        assert!(r.body.contains("Tradeport"), "{host} shows the platform");
        if host.contains("evil") {
            assert!(!r.body.contains("evil.example"), "the foreign host was echoed");
        }
    }
    // Malformed hosts do not break anything either.
    let r = app.get_host("<script>alert(1)</script>", "/").await;
    assert!(r.status == 200 || r.status == 400, "{}", r.status);
    assert!(!r.body.contains("<script>alert(1)"));

    // Mail links use the configured platform address, whatever Host the request had.
    let slug = unique("zt");
    let req = app
        .request(awc::http::Method::POST, "/api/v1/platform/tenants")
        .insert_header(("Host", "evil.example"))
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("Authorization", format!("Bearer {op}")));
    let body = json!({"slug": slug, "name": "Hosted", "admin_email": format!("{slug}@x.test"), "admin_password": TEST_PASSWORD});
    let r = app.send(req, Some(body.to_string())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mail = app.get(&format!("/api/v1/platform/mail?to={slug}@x.test"), Some(&op)).await;
    assert!(!mail.body.contains("evil.example"));
    assert!(mail.body.contains("http://localhost:8080/s/"));
}

#[actix_web::test]
async fn verified_custom_domains_route_to_their_tenant() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let verified = format!("shop.{}.test", t.slug);
    let pending = format!("pending.{}.test", t.slug);
    let id = t.tenant.id;
    let (v, p) = (verified.clone(), pending.clone());
    app.db(move |conn| {
        tradeport::platform::tenants::add_domain(conn, id, &v, "localhost", true).expect("domain");
        tradeport::platform::tenants::add_domain(conn, id, &p, "localhost", false).expect("domain");
    })
    .await;
    let r = app.get_host(&verified, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&t.tenant.name));
    assert!(r.body.contains("hero-store"), "the storefront, not the landing");
    let r = app.get_host(&pending, "/").await;
    assert!(!r.body.contains("hero-store"), "an unverified domain does not route to the store");
}

#[actix_web::test]
async fn the_marketplace_lists_open_active_listed_suppliers_only() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let open = app.new_tenant().await;
    let closed = app.new_tenant_with(|r| r.mode = Some("closed".into())).await;
    let unlisted = app.new_tenant_with(|r| r.features = Some(json!({"marketplace_listing": false}))).await;
    let suspended = app.new_tenant().await;
    app.patch_json(&format!("/api/v1/platform/tenants/{}", suspended.slug), &json!({"status": "suspended"}), Some(&op))
        .await;
    let landing = app.get("/", None).await;
    assert!(landing.body.contains(&format!("/s/{}/", open.slug)));
    for hidden in [&closed, &unlisted, &suspended] {
        assert!(!landing.body.contains(&format!("/s/{}/", hidden.slug)), "{} is listed", hidden.slug);
    }
    // Closed and unlisted stores still open by their address.
    assert_eq!(app.get(&format!("/s/{}/", closed.slug), None).await.status, 200);
    assert_eq!(app.get(&format!("/s/{}/", unlisted.slug), None).await.status, 200);
}
