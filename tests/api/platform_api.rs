use serde_json::json;

use crate::helpers::{unique, TestApp, TEST_PASSWORD};

#[actix_web::test]
async fn an_operator_onboards_a_supplier_through_the_api() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let slug = unique("zt");
    let admin = format!("{slug}@supplier.test");
    let r = app
        .post_json("/api/v1/platform/tenants", &json!({
            "slug": slug, "name": "Окна и двери", "mode": "closed", "locales": ["en", "ru"],
            "admin_email": admin, "admin_password": TEST_PASSWORD,
            "features": {"edo": true}, "branding": {"primary_color": "#112233", "accent_color": "#445566", "tagline": "Since 1999"}
        }), Some(&op))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let t = r.json();
    assert_eq!(t["slug"], slug);
    assert_eq!(t["mode"], "closed");
    assert_eq!(t["default_locale"], "en");
    assert_eq!(t["features"]["edo"], true);
    assert_eq!(t["feature_overrides"], json!({"edo": true}));

    // The storefront is online under /s/<slug>/ at once, in its default language.
    let page = app.get(&format!("/s/{slug}/"), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Окна и двери"));
    assert!(page.body.contains("lang=\"en\""));

    // The admin can sign in and got a welcome mail with a link on the configured host.
    app.login(&admin, TEST_PASSWORD).await;
    let mail = app.get(&format!("/api/v1/platform/mail?to={admin}"), Some(&op)).await;
    assert_eq!(mail.status, 200, "{}", mail.body);
    let items = mail.json()["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["to"], admin);
    assert_eq!(items[0]["links"][0], format!("http://localhost:8080/s/{slug}/"));

    // It is in the list, and can be fetched.
    let list = app.get("/api/v1/platform/tenants?per_page=100&page=1", Some(&op)).await.json();
    assert!(list["total"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(app.get(&format!("/api/v1/platform/tenants/{slug}"), Some(&op)).await.json()["name"], "Окна и двери");
}

#[actix_web::test]
async fn bad_onboarding_input_gets_clear_errors_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let base = |slug: &str| json!({"slug": slug, "name": "Shop", "admin_email": format!("{}@x.test", unique("a")), "admin_password": TEST_PASSWORD});
    for (slug, why) in [
        ("Bad Slug", "letters"),
        ("admin", "reserved"),
        ("ab", "3 to 40"),
        ("1abc", "start with a letter"),
        ("www", "reserved"),
    ] {
        let r = app.post_json("/api/v1/platform/tenants", &base(slug), Some(&op)).await;
        assert_eq!(r.status, 422, "{slug}: {}", r.body);
        let msg = r.json()["error"]["fields"]["slug"].as_str().unwrap_or_default().to_owned();
        assert!(msg.contains(why), "{slug}: {msg}");
    }
    let mut huge = base(&unique("zt"));
    huge["name"] = json!("x".repeat(10 * 1024));
    let r = app.post_json("/api/v1/platform/tenants", &huge, Some(&op)).await;
    assert_eq!(r.status, 422);
    assert!(r.json()["error"]["fields"]["name"].is_string());

    let mut bad = base(&unique("zt"));
    bad["mode"] = json!("ajar");
    bad["locales"] = json!(["de"]);
    bad["features"] = json!({"teleport": true});
    bad["branding"] = json!({"primary_color": "red;}</style><script>"});
    let r = app.post_json("/api/v1/platform/tenants", &bad, Some(&op)).await;
    assert_eq!(r.status, 422);
    let f = &r.json()["error"]["fields"];
    for key in ["mode", "locales", "features", "branding.primary_color"] {
        assert!(f[key].is_string(), "{key} missing in {f}");
    }
    let slug = bad["slug"].as_str().unwrap_or_default().to_owned();
    assert_eq!(app.get(&format!("/api/v1/platform/tenants/{slug}"), Some(&op)).await.status, 404);

    let mut unknown = base(&unique("zt"));
    unknown["owner"] = json!("me");
    assert_eq!(app.post_json("/api/v1/platform/tenants", &unknown, Some(&op)).await.status, 400);
}

#[actix_web::test]
async fn a_duplicate_slug_is_a_conflict_and_the_first_tenant_is_untouched() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let t = app.new_tenant().await;
    let r = app
        .post_json(
            "/api/v1/platform/tenants",
            &json!({"slug": t.slug, "name": "Impostor", "admin_email": "imp@x.test", "admin_password": TEST_PASSWORD}),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.error_code(), "tenant_exists");
    let page = app.get(&format!("/s/{}/", t.slug), None).await;
    assert!(page.body.contains(&t.tenant.name) && !page.body.contains("Impostor"));
}

#[actix_web::test]
async fn only_operators_may_onboard_or_change_tenants() {
    let app = TestApp::spawn().await;
    let (_, user) = app.user_token().await;
    let t = app.new_tenant().await;
    let body = json!({"slug": unique("zt"), "name": "X", "admin_email": "x@x.test", "admin_password": TEST_PASSWORD});
    assert_eq!(app.post_json("/api/v1/platform/tenants", &body, None).await.status, 401);
    assert_eq!(app.post_json("/api/v1/platform/tenants", &body, Some(&user)).await.status, 403);
    let patch = json!({"status": "suspended"});
    assert_eq!(app.patch_json(&format!("/api/v1/platform/tenants/{}", t.slug), &patch, Some(&user)).await.status, 403);
    // The supplier's own admin is not an operator either.
    let admin = app.login(&t.admin_email, TEST_PASSWORD).await;
    assert_eq!(app.patch_json(&format!("/api/v1/platform/tenants/{}", t.slug), &patch, Some(&admin)).await.status, 403);
    assert_eq!(app.get(&format!("/s/{}/", t.slug), None).await.status, 200, "nothing changed");
    assert_eq!(app.get("/api/v1/platform/mail", Some(&user)).await.status, 403);
}

#[actix_web::test]
async fn suspend_resume_flags_and_branding_through_patch() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let t = app.new_tenant().await;
    let path = format!("/api/v1/platform/tenants/{}", t.slug);

    let r = app.patch_json(&path, &json!({"status": "suspended"}), Some(&op)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = app.get(&format!("/s/{}/", t.slug), None).await;
    assert_eq!(page.status, 403);
    assert!(
        page.body.contains("temporarily unavailable") || page.body.contains("Временно недоступно"),
        "{}",
        page.body
    );
    let api = app.get(&format!("/s/{}/api/v1/storefront", t.slug), None).await;
    assert_eq!(api.status, 403);
    assert_eq!(api.error_code(), "tenant_suspended");

    assert_eq!(app.patch_json(&path, &json!({"status": "active"}), Some(&op)).await.status, 200);
    assert_eq!(app.get(&format!("/s/{}/", t.slug), None).await.status, 200);

    let r = app.patch_json(&path, &json!({"features": {"preorders": true, "invoices": false}, "branding": {"primary_color": "#aa0000", "accent_color": "#00aa00", "tagline": "New look"}}), Some(&op)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let info = app.get(&format!("/s/{}/api/v1/storefront", t.slug), None).await.json();
    let features: Vec<String> = serde_json::from_value(info["features"].clone()).unwrap_or_default();
    assert!(features.contains(&"preorders".to_string()));
    assert!(!features.contains(&"invoices".to_string()));
    assert_eq!(info["branding"]["primary_color"], "#aa0000");
    let page = app.get(&format!("/s/{}/", t.slug), None).await;
    assert!(page.body.contains("--brand:#aa0000"), "branding reaches the page as CSS variables");

    // Invalid changes are refused whole.
    let r = app
        .patch_json(&path, &json!({"features": {"preorders": false, "warp": true}, "mode": "closed"}), Some(&op))
        .await;
    assert_eq!(r.status, 422);
    let after = app.get(&path, Some(&op)).await.json();
    assert_eq!(after["features"]["preorders"], true);
    assert_eq!(after["mode"], "open");
    assert_eq!(
        app.patch_json("/api/v1/platform/tenants/zt-no-such-tenant", &json!({"status": "active"}), Some(&op))
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn operators_set_and_remove_logos_and_custom_domains() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    let t = app.new_tenant().await;
    let logo_path = format!("/api/v1/platform/tenants/{}/logo", t.slug);
    let put = |body: Vec<u8>, token: Option<String>| {
        let mut req =
            app.request(awc::http::Method::PUT, &logo_path).insert_header(("Content-Type", "application/octet-stream"));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        app.send_bytes(req, body)
    };
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let (_, user) = app.user_token().await;
    assert_eq!(put(png.clone(), Some(user)).await.status, 403);
    let r = put(br#"<svg onload="alert(1)"></svg>"#.to_vec(), Some(op.clone())).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"]["fields"]["logo"].as_str().unwrap_or_default().contains("scripts"));
    let r = put(vec![0x89; 600 * 1024], Some(op.clone())).await;
    assert_eq!(r.status, 413);
    assert_eq!(app.get(&format!("/s/{}/logo", t.slug), None).await.status, 404, "nothing stored by refused uploads");
    assert_eq!(put(png.clone(), Some(op.clone())).await.status, 204);
    let logo = app.get(&format!("/s/{}/logo", t.slug), None).await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.header("content-type").as_deref(), Some("image/png"));
    let r = app
        .send(
            app.request(awc::http::Method::DELETE, &logo_path).insert_header(("Authorization", format!("Bearer {op}"))),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(app.get(&format!("/s/{}/logo", t.slug), None).await.status, 404);

    let domains = format!("/api/v1/platform/tenants/{}/domains", t.slug);
    let host = format!("b2b.{}.example", t.slug);
    let r = app.post_json(&domains, &json!({"domain": host.to_uppercase(), "verified": true}), Some(&op)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["domain"], host);
    assert!(app.get_host(&host, "/").await.body.contains(&t.tenant.name));
    let other = app.new_tenant().await;
    let r = app
        .post_json(&format!("/api/v1/platform/tenants/{}/domains", other.slug), &json!({"domain": host}), Some(&op))
        .await;
    assert_eq!(r.status, 409, "a domain belongs to one tenant");
    for bad in ["x.localhost", "127.0.0.1", "not a domain"] {
        let r = app.post_json(&domains, &json!({"domain": bad}), Some(&op)).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
    }
    let shown = app.get(&format!("/api/v1/platform/tenants/{}", t.slug), Some(&op)).await.json();
    assert_eq!(shown["domains"], json!([{"domain": host, "verified": true}]));
    let del = app
        .request(awc::http::Method::DELETE, &format!("{domains}/{host}"))
        .insert_header(("Authorization", format!("Bearer {op}")));
    assert_eq!(app.send(del, None).await.status, 204);
    assert!(!app.get_host(&host, "/").await.body.contains("hero-store"), "a removed domain no longer routes");
}
