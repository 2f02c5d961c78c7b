//! Storefront pages as a person uses them: register, sign in, cabinet, approval, reset.

use crate::helpers::{unique, Browser, TestApp, TEST_PASSWORD};
use crate::identity::{mail_link, INNS};

async fn register<'a>(app: &'a TestApp, slug: &str, inn: &str) -> (Browser<'a>, String) {
    let mut b = Browser::new(app);
    let form = b.get(&format!("/s/{slug}/register")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("id=\"register\""));
    let email = format!("{}@page.test", unique("p"));
    let r = b
        .post(
            &format!("/s/{slug}/register"),
            &[
                ("name", "Мария Иванова"),
                ("email", &email),
                ("password", TEST_PASSWORD),
                ("company_name", "ООО «Вектор»"),
                ("inn", inn),
                ("kpp", "773601001"),
                ("address", "Москва"),
                ("phone", "+7 495 000-00-00"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("/s/{slug}/account")));
    (b, email)
}

#[actix_web::test]
async fn register_in_the_browser_lands_in_the_cabinet_signed_in() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (mut b, email) = register(&app, &t.slug, INNS[0]).await;
    let cab = b.get(&format!("/s/{}/account", t.slug)).await;
    assert_eq!(cab.status, 200, "{}", cab.body);
    assert!(cab.body.contains("data-status=\"active\"") && cab.body.contains("ООО «Вектор»"));
    assert!(cab.body.contains("resend-confirmation"), "asks to confirm the e-mail");
    // Confirm through the page.
    let link = mail_link(&app, &email, "confirm-email").await;
    let path = link.trim_start_matches("http://localhost:8080");
    let page = b.get(path).await;
    assert!(page.body.contains("id=\"confirm-email\""));
    let token = path.rsplit('=').next().unwrap_or_default().to_owned();
    let done = b.post(&format!("/s/{}/confirm-email", t.slug), &[("token", &token)]).await;
    assert!(done.body.contains("id=\"confirmed\""), "{}", done.body);
    // Sign out, then back in.
    let out = b.post(&format!("/s/{}/logout", t.slug), &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(b.get(&format!("/s/{}/account", t.slug)).await.status, 303, "signed out: sent to sign in");
    let bad = b.post(&format!("/s/{}/login", t.slug), &[("email", &email), ("password", "wrong-wrong")]).await;
    assert_eq!(bad.status, 401);
    assert!(bad.body.contains(&email), "the e-mail typed is kept");
    let ok = b.post(&format!("/s/{}/login", t.slug), &[("email", &email), ("password", TEST_PASSWORD)]).await;
    assert_eq!(ok.status, 303);
    let cab = b.get(&format!("/s/{}/account", t.slug)).await;
    assert!(cab.body.contains("data-status=\"active\"") && !cab.body.contains("resend-confirmation"));
}

#[actix_web::test]
async fn the_registration_form_keeps_input_and_explains_errors() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let mut b = Browser::new(&app);
    b.get(&format!("/s/{}/register", t.slug)).await;
    let r = b
        .post(
            &format!("/s/{}/register", t.slug),
            &[
                ("name", "Олег"),
                ("email", "oleg@page.test"),
                ("password", "short"),
                ("company_name", "ИП Олег"),
                ("inn", "7707083894"),
                ("kpp", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("value=\"ИП Олег\"") && r.body.contains("value=\"oleg@page.test\""));
    assert!(r.body.matches("class=\"field-error\"").count() >= 2, "INN and password errors shown");
    assert!(!r.body.contains("value=\"short\""), "passwords are never echoed");
    assert!(r.body.contains("контрольные цифры ИНН не сходятся"), "errors in the page's language (Russian here)");
}

#[actix_web::test]
async fn closed_portal_staff_approve_from_the_back_office() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant_with(|r| r.mode = Some("closed".into())).await;
    let (mut buyer, _) = register(&app, &t.slug, INNS[1]).await;
    let cab = buyer.get(&format!("/s/{}/account", t.slug)).await;
    assert!(cab.body.contains("data-status=\"pending_approval\""));
    // A buyer is not staff.
    assert_eq!(buyer.get(&format!("/s/{}/admin/customers", t.slug)).await.status, 403);

    let mut staff = Browser::new(&app);
    let r = staff.get(&format!("/s/{}/admin/customers", t.slug)).await;
    assert_eq!(r.status, 303, "anonymous: sent to sign in");
    staff.get(&format!("/s/{}/login", t.slug)).await;
    let r = staff
        .post(
            &format!("/s/{}/login", t.slug),
            &[
                ("email", &t.admin_email),
                ("password", TEST_PASSWORD),
                ("next", &format!("/s/{}/admin/customers", t.slug)),
            ],
        )
        .await;
    assert_eq!(r.header("location"), Some(format!("/s/{}/admin/customers", t.slug)));
    let list = staff.get(&format!("/s/{}/admin/customers?status=pending_approval", t.slug)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let id = list
        .body
        .split("data-customer-id=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a pending row")
        .to_owned();
    assert!(list.body.contains("class=\"inline approve\""));
    let r = staff.post(&format!("/s/{}/admin/customers/{id}/approve", t.slug), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cab = buyer.get(&format!("/s/{}/account", t.slug)).await;
    assert!(cab.body.contains("data-status=\"active\""));
    // Terms from the customer page; a bad amount is explained.
    let r = staff
        .post(
            &format!("/s/{}/admin/customers/{id}", t.slug),
            &[
                ("price_group", "opt"),
                ("credit_limit", "12,5"),
                ("discount_percent", "3"),
                ("manager_id", "0"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("field-error"));
    let r = staff
        .post(
            &format!("/s/{}/admin/customers/{id}", t.slug),
            &[
                ("price_group", "opt"),
                ("credit_limit", "50000"),
                ("discount_percent", "3"),
                ("manager_id", "0"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cab = buyer.get(&format!("/s/{}/account", t.slug)).await;
    assert!(
        ["50\u{a0}000,00", "50,000.00"].iter().any(|a| cab.body.contains(a)),
        "the buyer sees the new credit limit: {}",
        cab.body
    );
    let staff_page = staff.get(&format!("/s/{}/admin/staff", t.slug)).await;
    assert_eq!(staff_page.status, 200);
    assert!(staff_page.body.contains(&t.admin_email));
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_from_the_pages() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (mut b, email) = register(&app, &t.slug, INNS[2]).await;
    b.post(&format!("/s/{}/logout", t.slug), &[]).await;
    b.get(&format!("/s/{}/reset-password", t.slug)).await;
    let r = b.post(&format!("/s/{}/reset-password", t.slug), &[("email", &email)]).await;
    assert_eq!(r.status, 200);
    let link = mail_link(&app, &email, "reset-password/new").await;
    assert!(link.starts_with(&format!("http://localhost:8080/s/{}/reset-password/new?token=", t.slug)));
    let path = link.trim_start_matches("http://localhost:8080");
    let form = b.get(path).await;
    assert!(form.body.contains("id=\"new-password\""));
    let token = path.rsplit('=').next().unwrap_or_default().to_owned();
    let weak = b.post(&format!("/s/{}/reset-password/new", t.slug), &[("token", &token), ("password", "12345")]).await;
    assert_eq!(weak.status, 422);
    let done = b
        .post(&format!("/s/{}/reset-password/new", t.slug), &[("token", &token), ("password", "brand new secret")])
        .await;
    assert!(done.body.contains("id=\"password-changed\""), "{}", done.body);
    let ok = b.post(&format!("/s/{}/login", t.slug), &[("email", &email), ("password", "brand new secret")]).await;
    assert_eq!(ok.status, 303);
}

#[actix_web::test]
async fn an_expired_access_cookie_is_renewed_from_the_refresh_cookie() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (mut b, _) = register(&app, &t.slug, INNS[3]).await;
    let old_refresh = b.cookies.get("tp_refresh").cloned().expect("refresh cookie");
    b.cookies.remove("tp_session");
    let cab = b.get(&format!("/s/{}/account", t.slug)).await;
    assert_eq!(cab.status, 200, "still signed in");
    assert!(b.cookies.contains_key("tp_session"), "a new access cookie was set");
    assert_ne!(b.cookies.get("tp_refresh"), Some(&old_refresh), "the refresh token rotated");
    let line = cab.set_cookie_line("tp_refresh").expect("refresh cookie set");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax"), "{line}");
}

#[actix_web::test]
async fn an_invited_colleague_creates_an_account_from_the_invitation_page() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (mut admin, _) = register(&app, &t.slug, INNS[4]).await;
    admin.get(&format!("/s/{}/account/users", t.slug)).await;
    let colleague = format!("{}@page.test", unique("c"));
    let r =
        admin.post(&format!("/s/{}/account/users/invite", t.slug), &[("email", &colleague), ("role", "buyer")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let link = mail_link(&app, &colleague, "/invitations/").await;
    let path = link.trim_start_matches("http://localhost:8080");
    let mut b = Browser::new(&app);
    let page = b.get(path).await;
    assert!(page.body.contains("id=\"join\""), "{}", page.body);
    let r = b.post(&format!("{path}/join"), &[("name", "Коллега"), ("password", "colleague secret 1")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cab = b.get(&format!("/s/{}/account", t.slug)).await;
    assert!(cab.body.contains("data-status=\"active\""));
    assert!(cab.body.contains("Закупщик") || cab.body.contains("Buyer"));
}

#[actix_web::test]
async fn staff_add_a_company_and_its_administrator_joins_from_the_invitation() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant_with(|r| r.mode = Some("closed".into())).await;
    let mut staff = Browser::new(&app);
    staff.get(&format!("/s/{}/login", t.slug)).await;
    staff.post(&format!("/s/{}/login", t.slug), &[("email", &t.admin_email), ("password", TEST_PASSWORD)]).await;
    let list = staff.get(&format!("/s/{}/admin/customers", t.slug)).await;
    assert!(list.body.contains("/admin/customers/add"));
    let bad = staff
        .post(
            &format!("/s/{}/admin/customers/add", t.slug),
            &[("company_name", "ООО Тест"), ("inn", "123"), ("kpp", ""), ("admin_email", "x@y.test")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("ИНН"), "the reason is shown in the page's language: {}", bad.body);
    let admin = format!("{}@added.test", unique("a"));
    let r = staff
        .post(
            &format!("/s/{}/admin/customers/add", t.slug),
            &[("company_name", "ООО «Добавленная»"), ("inn", INNS[5]), ("kpp", "773601001"), ("admin_email", &admin)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let link = mail_link(&app, &admin, "/invitations/").await;
    let path = link.trim_start_matches("http://localhost:8080").to_owned();
    let mut b = Browser::new(&app);
    b.get(&path).await;
    let r = b.post(&format!("{path}/join"), &[("name", "Новый админ"), ("password", "added admin secret")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cab = b.get(&format!("/s/{}/account", t.slug)).await;
    assert!(
        cab.body.contains("data-status=\"active\"") && cab.body.contains("Добавленная"),
        "active at once on a closed portal"
    );
}
