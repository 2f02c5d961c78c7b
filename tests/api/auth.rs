use serde_json::json;

use crate::helpers::{unique, TestApp, TEST_PASSWORD};

#[actix_web::test]
async fn register_login_use_and_logout() {
    let app = TestApp::spawn().await;
    let email = format!("{}@users.test", unique("u"));
    let r = app
        .post_json("/api/v1/auth/register", &json!({"email": email, "password": TEST_PASSWORD, "name": "Anna"}), None)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["email"], email);

    // The same e-mail again, in another case: 409, and the first password still works.
    let r = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": email.to_uppercase(), "password": "another-pass-9", "name": "Mallory"}),
            None,
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.error_code(), "email_taken");

    let r = app.post_json("/api/v1/auth/login", &json!({"email": email, "password": TEST_PASSWORD}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap_or(0) > 0);
    let token = body["access_token"].as_str().expect("token").to_owned();

    // Not an operator: 403 on operator routes; no token: 401.
    assert_eq!(app.get("/api/v1/platform/tenants", Some(&token)).await.status, 403);
    assert_eq!(app.get("/api/v1/platform/tenants", None).await.status, 401);

    let r = app.post_json("/api/v1/auth/logout", &json!({}), Some(&token)).await;
    assert_eq!(r.status, 204);
    // The revoked token is refused from now on.
    let r = app.post_json("/api/v1/auth/logout", &json!({}), Some(&token)).await;
    assert_eq!(r.status, 401);
}

#[actix_web::test]
async fn wrong_passwords_and_unknown_accounts_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let (email, _) = app.user_token().await;
    let wrong = app.post_json("/api/v1/auth/login", &json!({"email": email, "password": "wrong-password"}), None).await;
    let unknown = app
        .post_json("/api/v1/auth/login", &json!({"email": "nobody@nowhere.test", "password": "wrong-password"}), None)
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.body, unknown.body);
}

#[actix_web::test]
async fn bad_registration_input_is_refused_with_fields() {
    let app = TestApp::spawn().await;
    let r = app
        .post_json("/api/v1/auth/register", &json!({"email": "not-an-email", "password": "short", "name": ""}), None)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let fields = &r.json()["error"]["fields"];
    assert!(fields["email"].is_string() && fields["password"].is_string() && fields["name"].is_string(), "{fields}");
    let r = app
        .post_json(
            "/api/v1/auth/register",
            &json!({"email": "a@b.test", "password": TEST_PASSWORD, "name": "x", "is_operator": true}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "unknown fields are refused: {}", r.body);
    let r = app
        .send(
            app.request(awc::http::Method::POST, "/api/v1/auth/login")
                .insert_header(("Content-Type", "application/json")),
            Some("{not json".into()),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "bad_request");
}

#[actix_web::test]
async fn brute_force_is_rate_limited_even_with_the_right_password() {
    let app = TestApp::spawn_with(|s| s.auth.login_attempts = 5).await;
    let (email, _) = app.user_token().await;
    for _ in 0..5 {
        let r = app.post_json("/api/v1/auth/login", &json!({"email": email, "password": "guess-guess"}), None).await;
        assert_eq!(r.status, 401);
    }
    let r = app.post_json("/api/v1/auth/login", &json!({"email": email, "password": TEST_PASSWORD}), None).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some_and(|v| v.parse::<u64>().unwrap_or(0) > 0));
    assert_eq!(r.error_code(), "rate_limited");
}

#[actix_web::test]
async fn forged_and_tampered_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let op = app.operator_token().await;
    assert_eq!(app.get("/api/v1/platform/tenants", Some(&op)).await.status, 200);
    let parts: Vec<&str> = op.split('.').collect();
    let forged = [
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]),
        format!("{}.{}.{}", parts[0], parts[1], "AAAA"),
        format!("{}.{}x.{}", parts[0], parts[1], parts[2]),
        "garbage".to_string(),
        String::new(),
    ];
    for token in &forged {
        let r = app.get("/api/v1/platform/tenants", Some(token)).await;
        assert_eq!(r.status, 401, "forged token accepted: {token}");
    }
    // A token signed with another secret is refused too.
    let other = TestApp::spawn_with(|s| {
        s.auth.jwt_secret = secrecy::SecretString::from("another-secret-another-secret-0042".to_owned())
    })
    .await;
    assert_eq!(other.get("/api/v1/platform/tenants", Some(&op)).await.status, 401);
}

/// Behind a trusted proxy (the Ingress) each client has its own login limit, read from the
/// right end of `X-Forwarded-For`; a header sent by a client itself changes nothing, and an
/// untrusted peer's header is ignored.
#[actix_web::test]
async fn login_limits_follow_x_forwarded_for_only_from_trusted_proxies() {
    async fn attempt(app: &TestApp, forwarded: &str) -> u16 {
        // A new e-mail each time: only the per-address limit can refuse.
        let email = format!("{}@nobody.test", unique("xff"));
        let req = app
            .request(awc::http::Method::POST, "/api/v1/auth/login")
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("X-Forwarded-For", forwarded.to_owned()));
        let body = json!({"email": email, "password": "guess-guess"}).to_string();
        app.send(req, Some(body)).await.status.as_u16()
    }
    let n = unique("");
    let octet = |i: u32| (n.bytes().map(u32::from).sum::<u32>() + i) % 250 + 1;
    let (a, b) = (format!("198.51.100.{}", octet(0)), format!("203.0.113.{}", octet(1)));

    // The test client's peer is 127.0.0.1: trusted here.
    let app = TestApp::spawn_with(|s| {
        s.auth.login_attempts = 3;
        s.server.trusted_proxies = "127.0.0.1/32, ::1".into();
    })
    .await;
    for _ in 0..3 {
        assert_eq!(attempt(&app, &a).await, 401);
    }
    assert_eq!(attempt(&app, &a).await, 429, "client A is limited");
    // A forged left-most entry does not help A.
    assert_eq!(attempt(&app, &format!("{b}, {a}")).await, 429);
    // Client B behind the same proxy still has its own attempts.
    assert_eq!(attempt(&app, &b).await, 401, "client B is not limited by A");

    // Without trusted proxies the header is ignored: every attempt counts against the peer.
    let (c, d) = (format!("192.0.2.{}", octet(2)), format!("192.0.2.{}", octet(3)));
    let plain = TestApp::spawn_with(|s| s.auth.login_attempts = 3).await;
    for (i, forwarded) in [&c, &d, &c].into_iter().enumerate() {
        assert_eq!(attempt(&plain, forwarded).await, 401, "attempt {i}");
    }
    assert_eq!(attempt(&plain, &d).await, 429, "the header must not give each attempt a new address");

    // A trusted-proxies entry that is not an address is refused at start-up.
    let url = crate::helpers::database_url();
    let mut s = crate::helpers::settings(&url);
    s.server.trusted_proxies = "10.0.0.0/8, ingress.local".into();
    let refused = tradeport::app::AppState::build(s, None).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("ingress.local"), "{refused}");
}
