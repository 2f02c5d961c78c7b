use crate::helpers::TestApp;

#[actix_web::test]
async fn health_readiness_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, 200);
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["database"], "ok");
    // A request shows up in the metrics under its route pattern, not its raw path.
    let t = app.new_tenant().await;
    app.get(&format!("/s/{}/", t.slug), None).await;
    let m = app.get("/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(m.body.contains("http_requests_total{method=\"GET\",route=\"/s/{tenant}/\",status=\"200\"}"), "{}", m.body);
    assert!(m.body.contains("http_request_duration_seconds_bucket"));
    // Slugs are never route labels; they are tenant labels only, on their own bounded counter.
    let with_slug: Vec<&str> = m.body.lines().filter(|l| l.contains(&t.slug)).collect();
    assert_eq!(with_slug, vec![format!("tenant_http_requests_total{{tenant=\"{}\"}} 1", t.slug)], "{}", m.body);
}

#[actix_web::test]
async fn readiness_fails_when_the_database_is_unreachable() {
    let app = TestApp::spawn_with(|s| {
        s.database.url = secrecy::SecretString::from("postgres://postgres@127.0.0.1:1/nothing".to_owned());
        s.database.connection_timeout_secs = 1;
    })
    .await;
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after").as_deref(), Some("5"));
    // Pages that need the database say so with a 503, not a crash.
    let r = app.get("/", None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("<html"), "an HTML error page for browsers");
    let r = app.get("/api/v1/platform/tenants", Some("x")).await;
    assert!(r.status == 401 || r.status == 503);
    assert_eq!(app.get("/healthz", None).await.status, 200, "the process itself is up");
}

#[actix_web::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = TestApp::spawn().await;
    let r = app.get("/", None).await;
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    assert!(r.header("content-security-policy").is_some_and(|c| c.contains("frame-ancestors 'none'")));
    let r = app.get("/definitely/not/here", None).await;
    assert_eq!(r.status, 404);
    let id = r.header("x-request-id").expect("request id header");
    assert!(r.body.contains(&format!("<code>{id}</code>")), "the 404 page shows the request id: {}", r.body);
}
