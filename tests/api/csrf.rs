//! Every state-changing form needs the CSRF token; cross-site posts are refused.

use crate::helpers::{csrf_of, TestApp};

#[actix_web::test]
async fn console_forms_without_the_token_or_from_another_site_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let cookies = app.operator_browser_session().await;
    let session_only: String = cookies.split("; ").filter(|c| c.starts_with("tp_session=")).collect();
    let suspend = format!("/platform/tenants/{}/suspend", t.slug);

    // (a) no session at all
    let r = app.post_form(&suspend, "", &[]).await;
    assert!(r.status == 403 || r.status == 401, "{}", r.status);
    // (b) a session but no token, and a wrong token
    let r = app.post_form(&suspend, &session_only, &[]).await;
    assert_eq!(r.status, 403);
    let r = app.post_form(&suspend, &cookies, &[("csrf_token", "0".repeat(64).as_str())]).await;
    assert_eq!(r.status, 403);
    // (c) the right token, but posted from another site
    let csrf = csrf_of(&cookies);
    let req = app
        .request(awc::http::Method::POST, &suspend)
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("Cookie", cookies.clone()))
        .insert_header(("Origin", "http://evil.localhost"));
    let r = app.send(req, Some(format!("csrf_token={csrf}"))).await;
    assert_eq!(r.status, 403);
    // A JSON call riding on the browser session also needs the token.
    let req = app
        .request(awc::http::Method::PATCH, &format!("/api/v1/platform/tenants/{}", t.slug))
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("Cookie", cookies.clone()));
    let r = app.send(req, Some(r#"{"status":"suspended"}"#.into())).await;
    assert_eq!(r.status, 403);

    assert_eq!(app.get(&format!("/s/{}/", t.slug), None).await.status, 200, "nothing was suspended");

    // With the token the same form works.
    let r = app.post_form(&suspend, &cookies, &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.get(&format!("/s/{}/", t.slug), None).await.status, 403);
}

#[actix_web::test]
async fn the_csrf_cookie_is_httponly_and_strict_and_the_session_cookie_httponly() {
    let app = TestApp::spawn().await;
    let r = app.get("/platform", None).await;
    let line = r.set_cookie_line("tp_csrf").expect("csrf cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict"), "{line}");
    assert!(r.body.contains("name=\"csrf_token\""), "the login form carries the token");
    let cookies = app.operator_browser_session().await;
    assert!(cookies.contains("tp_session="));
}

#[actix_web::test]
async fn get_requests_change_nothing() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let cookies = app.operator_browser_session().await;
    for path in
        [format!("/platform/tenants/{}/suspend", t.slug), "/platform/logout".into(), "/api/v1/auth/logout".into()]
    {
        let req = app.request(awc::http::Method::GET, &path).insert_header(("Cookie", cookies.clone()));
        let r = app.send(req, None).await;
        assert!(r.status == 404 || r.status == 405, "{path}: {}", r.status);
    }
    assert_eq!(app.get(&format!("/s/{}/", t.slug), None).await.status, 200);
    let req = app.request(awc::http::Method::GET, "/platform").insert_header(("Cookie", cookies.clone()));
    let r = app.send(req, None).await;
    assert!(r.body.contains("/platform/logout"), "still signed in");
}
