//! The pages a person sees: landing, storefront, operator console, in Russian and English.

use crate::helpers::{csrf_of, unique, TestApp, TEST_PASSWORD};

#[actix_web::test]
async fn the_language_switch_changes_the_page_language() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let home = format!("/s/{}/", t.slug);
    let ru = app.get(&home, None).await;
    assert!(ru.body.contains("lang=\"ru\"") && ru.body.contains("Открытый портал"));
    let r = app.get(&format!("/s/{}/lang/en?next=/s/{}/", t.slug, t.slug), None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some(home.clone()));
    let lang = r.cookie("tp_lang").expect("language cookie");
    let req = app.request(awc::http::Method::GET, &home).insert_header(("Cookie", format!("tp_lang={lang}")));
    let en = app.send(req, None).await;
    assert!(en.body.contains("lang=\"en\"") && en.body.contains("Open portal"));
    // Accept-Language is honoured without a cookie; unknown languages are refused.
    let req = app.request(awc::http::Method::GET, &home).insert_header(("Accept-Language", "en-GB,en;q=0.9"));
    assert!(app.send(req, None).await.body.contains("Open portal"));
    assert_eq!(app.get(&format!("/s/{}/lang/de", t.slug), None).await.status, 404);
    // The redirect never leaves the site.
    let r = app.get("/lang/en?next=https://evil.example/", None).await;
    assert_eq!(r.header("location").as_deref(), Some("/"));
}

#[actix_web::test]
async fn an_operator_onboards_suspends_and_resumes_a_supplier_from_the_console() {
    let app = TestApp::spawn().await;
    let cookies = app.operator_browser_session().await;
    let csrf = csrf_of(&cookies);
    let console = app
        .send(app.request(awc::http::Method::GET, "/platform").insert_header(("Cookie", cookies.clone())), None)
        .await;
    assert_eq!(console.status, 200);
    assert!(console.body.contains("/platform/tenants/new"));
    let form = app
        .send(
            app.request(awc::http::Method::GET, "/platform/tenants/new").insert_header(("Cookie", cookies.clone())),
            None,
        )
        .await;
    assert!(form.body.contains("name=\"f_preorders\""), "feature flags on the form");

    // A mistake first: the form comes back with the message and what was typed.
    let slug = unique("zt");
    let r = app
        .post_form(
            "/platform/tenants",
            &cookies,
            &[
                ("csrf_token", &csrf),
                ("slug", "Bad Slug!"),
                ("name", "Текстиль Опт"),
                ("mode", "closed"),
                ("plan", "business"),
                ("locale_ru", "on"),
                ("default_locale", "ru"),
                ("admin_email", "x@x.test"),
                ("admin_password", TEST_PASSWORD),
                ("primary_color", "#123456"),
                ("accent_color", "#654321"),
                ("tagline", "Ткани оптом"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("field-error")
            && r.body.contains("value=\"Текстиль Опт\"")
            && r.body.contains("value=\"Ткани оптом\"")
    );

    let admin = format!("{slug}@console.test");
    let r = app
        .post_form(
            "/platform/tenants",
            &cookies,
            &[
                ("csrf_token", &csrf),
                ("slug", &slug),
                ("name", "Текстиль Опт"),
                ("mode", "closed"),
                ("plan", "business"),
                ("locale_ru", "on"),
                ("locale_en", "on"),
                ("default_locale", "ru"),
                ("admin_email", &admin),
                ("admin_password", TEST_PASSWORD),
                ("primary_color", "#123456"),
                ("accent_color", "#654321"),
                ("tagline", "Ткани оптом"),
                ("f_edo", "on"),
                ("f_multicart", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("/platform/tenants/{slug}?created=1")));
    let store = app.get(&format!("/s/{slug}/"), None).await;
    assert_eq!(store.status, 200);
    assert!(
        store.body.contains("Текстиль Опт")
            && store.body.contains("--brand:#123456")
            && store.body.contains("Закрытый портал")
    );
    app.login(&admin, TEST_PASSWORD).await;

    // Flags: the form's ticks become the tenant's features.
    let op = app.operator_token().await;
    let t = app.get(&format!("/api/v1/platform/tenants/{slug}"), Some(&op)).await.json();
    assert_eq!(t["features"]["edo"], true);
    assert_eq!(t["features"]["invoices"], false, "unticked on the form");
    assert_eq!(t["plan"], "business");

    // Edit: untick edo, rename.
    let r = app
        .post_form(
            &format!("/platform/tenants/{slug}"),
            &cookies,
            &[
                ("csrf_token", &csrf),
                ("name", "Текстиль Опт+"),
                ("mode", "open"),
                ("plan", "business"),
                ("locale_ru", "on"),
                ("default_locale", "ru"),
                ("primary_color", "#123456"),
                ("accent_color", "#654321"),
                ("tagline", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let t = app.get(&format!("/api/v1/platform/tenants/{slug}"), Some(&op)).await.json();
    assert_eq!(t["name"], "Текстиль Опт+");
    assert_eq!(t["features"]["edo"], false);
    assert_eq!(t["locales"], serde_json::json!(["ru"]));

    // Suspend and resume from the list.
    let r = app.post_form(&format!("/platform/tenants/{slug}/suspend"), &cookies, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.get(&format!("/s/{slug}/"), None).await.status, 403);
    let r = app.post_form(&format!("/platform/tenants/{slug}/resume"), &cookies, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.get(&format!("/s/{slug}/"), None).await.status, 200);

    // The welcome mail is visible in the outbox page.
    let mail = app
        .send(app.request(awc::http::Method::GET, "/platform/mail").insert_header(("Cookie", cookies.clone())), None)
        .await;
    assert!(mail.body.contains(&admin));
}

#[actix_web::test]
async fn the_console_refuses_non_operators() {
    let app = TestApp::spawn().await;
    let (email, _) = app.user_token().await;
    let csrf = app.csrf_cookie("/platform").await;
    let cookies = format!("tp_csrf={csrf}");
    let r = app
        .post_form(
            "/platform/login",
            &cookies,
            &[("csrf_token", &csrf), ("email", &email), ("password", TEST_PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.cookie("tp_session").is_none());
    assert!(r.body.contains("not a platform operator") || r.body.contains("не является оператором"));
    let r = app
        .post_form(
            "/platform/login",
            &cookies,
            &[("csrf_token", &csrf), ("email", &email), ("password", "wrong-wrong")],
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains(&format!("value=\"{email}\"")), "the e-mail typed is kept");
    // Pages behind the console send anonymous visitors to the sign-in page.
    let r = app.get("/platform/tenants/new", None).await;
    assert_eq!(r.status, 303);
}

#[actix_web::test]
async fn templates_escape_everything_a_tenant_or_user_typed() {
    let app = TestApp::spawn().await;
    let poison = "'\"><svg onload=alert(1)>`=";
    let t = app
        .new_tenant_with(|r| {
            r.name = poison.into();
            r.branding = Some(tradeport::platform::tenants::Branding { tagline: poison.into(), ..Default::default() });
        })
        .await;
    let page = app.get(&format!("/s/{}/", t.slug), None).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<svg onload"), "raw markup reached the page");
    assert!(page.body.contains("&lt;svg onload&#x3D;alert(1)&gt;"));
    let landing = app.get("/", None).await;
    assert!(!landing.body.contains("<svg onload"));
}

#[actix_web::test]
async fn the_console_uploads_a_logo_and_adds_a_domain() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let cookies = app.operator_browser_session().await;
    let csrf = csrf_of(&cookies);
    let upload = |token: &str, content: &[u8]| {
        let boundary = "----tradeport-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"logo.svg\"\r\nContent-Type: image/svg+xml\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = app
            .request(awc::http::Method::POST, &format!("/platform/tenants/{}/logo?csrf_token={token}", t.slug))
            .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
            .insert_header(("Cookie", cookies.clone()));
        app.send_bytes(req, body)
    };
    let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="4" height="4" fill="#0a0"/></svg>"##;
    assert_eq!(upload("wrong", svg).await.status, 403, "the token in the action URL is checked");
    let r = upload(&csrf, br#"<svg><script>alert(1)</script></svg>"#).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("field-error"));
    let r = upload(&csrf, svg).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let logo = app.get(&format!("/s/{}/logo", t.slug), None).await;
    assert_eq!(logo.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(app.get(&format!("/s/{}/", t.slug), None).await.body.contains("brand-logo"));

    let host = format!("shop.{}.example", t.slug);
    let r = app
        .post_form(
            &format!("/platform/tenants/{}/domains/add", t.slug),
            &cookies,
            &[("csrf_token", &csrf), ("domain", &host)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!app.get_host(&host, "/").await.body.contains("hero-store"), "not verified yet");
    let r = app
        .post_form(
            &format!("/platform/tenants/{}/domains/verify", t.slug),
            &cookies,
            &[("csrf_token", &csrf), ("domain", &host)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(app.get_host(&host, "/").await.body.contains("hero-store"));
    let r = app
        .post_form(
            &format!("/platform/tenants/{}/domains/add", t.slug),
            &cookies,
            &[("csrf_token", &csrf), ("domain", "bad domain")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("shop.example.com"), "the domain error explains the format");
}
