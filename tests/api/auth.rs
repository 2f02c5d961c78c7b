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
