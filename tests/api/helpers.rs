//! TestApp: a real server on a random port against the `tradeport_test` database, with
//! helpers that read like what a user does. Every test makes its own tenants and accounts.

use std::net::TcpListener;
use std::sync::{Mutex, OnceLock};

use awc::http::StatusCode;
use diesel::prelude::*;
use serde_json::Value;

use tradeport::app::{build_server, AppState};
use tradeport::config::{config_dir, Settings};
use tradeport::db::{build_pool, migrate, PgPool};
use tradeport::platform::onboarding::{self, OnboardContext, OnboardRequest};
use tradeport::platform::tenants::Tenant;
use tradeport::web::Data;

pub const TEST_PASSWORD: &str = "test-password-1";

pub fn database_url() -> String {
    std::env::var("TRADEPORT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/tradeport_test".into())
}

/// Test settings: the test profile with the test database and nothing from the environment.
pub fn settings(database_url: &str) -> Settings {
    let db = database_url.to_owned();
    Settings::load_from(&config_dir(), "test", move |name| match name {
        "DATABASE_URL" => Some(db.clone()),
        _ => None,
    })
    .expect("test settings load")
}

/// Creates a database if needed and brings `public` up to date, once per process.
pub fn prepare_database(url: &str) {
    static DONE: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let done = DONE.get_or_init(|| Mutex::new(Vec::new()));
    let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
    if done.iter().any(|u| u == url) {
        return;
    }
    let s = settings(url);
    tradeport::cli::database::ensure_database(&s.database).expect("database exists");
    let mut conn = PgConnection::establish(url).expect("connect to test database");
    let mut lock = migrate::MigrationLock::acquire(&mut conn).expect("lock");
    migrate::migrate_platform(lock.conn()).expect("platform migrations");
    sweep_stale_tenants(lock.conn());
    drop(lock);
    done.push(url.to_owned());
}

/// Drops tenants left by crashed runs (test slugs start with `zt`, older than an hour).
fn sweep_stale_tenants(conn: &mut PgConnection) {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        schema_name: String,
    }
    let stale: Vec<Row> = diesel::sql_query(
        "DELETE FROM public.tenants WHERE slug LIKE 'zt%' AND created_at < now() - interval '1 hour' RETURNING schema_name",
    )
    .load(conn)
    .unwrap_or_default();
    for row in stale {
        if let Ok(schema) = tradeport::db::TenantSchema::parse(&row.schema_name) {
            let _ = tradeport::db::tenant::drop_schema(conn, &schema);
        }
    }
}

pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &id[..12])
}

pub struct TestApp {
    pub address: String,
    pub state: Data<AppState>,
    pub pool: PgPool,
    pub client: awc::Client,
}

pub struct TestTenant {
    pub slug: String,
    pub tenant: Tenant,
    pub admin_email: String,
}

/// A response with its body read.
pub struct Resp {
    pub status: StatusCode,
    pub headers: awc::http::header::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// The value of a cookie set by this response.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all("set-cookie").filter_map(|v| v.to_str().ok()).find_map(|c| {
            c.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
    }

    pub fn set_cookie_line(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        tradeport::telemetry::init_for_test();
        let url = database_url();
        prepare_database(&url);
        let mut s = settings(&url);
        s.server.workers = 1;
        s.database.pool_max_size = 4;
        tweak(&mut s);
        let pool = build_pool(&s.database, None);
        let state = Data::new(AppState::build(s, Some(pool.clone())).expect("state"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = build_server(state.clone(), listener).expect("server");
        actix_web::rt::spawn(server);
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            state,
            pool,
            client: awc::Client::builder()
                .disable_redirects()
                // Tenant creation runs every tenant migration; on a loaded CI machine that can
                // take longer than awc's default 5 s.
                .timeout(std::time::Duration::from_secs(120))
                .finish(),
        }
    }

    pub fn uses_redis(&self) -> bool {
        self.state.limits.uses_redis()
    }

    /// Onboards a fresh tenant (slug `zt…`) with an admin account.
    pub async fn new_tenant(&self) -> TestTenant {
        self.new_tenant_with(|_| {}).await
    }

    pub async fn new_tenant_with(&self, tweak: impl FnOnce(&mut OnboardRequest)) -> TestTenant {
        let slug = unique("zt");
        let mut req = OnboardRequest {
            slug: slug.clone(),
            name: format!("Store {slug}"),
            admin_email: format!("{slug}@admin.test"),
            admin_password: Some(TEST_PASSWORD.into()),
            ..Default::default()
        };
        tweak(&mut req);
        let admin_email = req.admin_email.clone();
        let pool = self.pool.clone();
        let tenant = actix_web::web::block(move || {
            let mut conn = pool.get().expect("conn");
            onboarding::onboard(
                &mut conn,
                &req,
                None,
                &OnboardContext { platform_url: "http://localhost:8080", actor_account_id: None, fail_at: None },
            )
        })
        .await
        .expect("block")
        .expect("onboard");
        TestTenant { slug: tenant.slug.clone(), tenant, admin_email }
    }

    /// A new operator account; returns its Bearer token.
    pub async fn operator_token(&self) -> String {
        let email = format!("{}@operators.test", unique("op"));
        let pool = self.pool.clone();
        let e = email.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().expect("conn");
            tradeport::cli::operator::ensure_operator(&mut conn, &e, TEST_PASSWORD, "Test operator").expect("operator");
        })
        .await
        .expect("block");
        self.login(&email, TEST_PASSWORD).await
    }

    /// A new ordinary account (registered through the API); returns (email, token).
    pub async fn user_token(&self) -> (String, String) {
        let email = format!("{}@users.test", unique("u"));
        let r = self
            .post_json(
                "/api/v1/auth/register",
                &serde_json::json!({"email": email, "password": TEST_PASSWORD, "name": "Test user"}),
                None,
            )
            .await;
        assert_eq!(r.status, 201, "register: {}", r.body);
        let token = self.login(&email, TEST_PASSWORD).await;
        (email, token)
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .post_json("/api/v1/auth/login", &serde_json::json!({"email": email, "password": password}), None)
            .await;
        assert_eq!(r.status, 200, "login: {}", r.body);
        r.json()["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn send(&self, req: awc::ClientRequest, body: Option<String>) -> Resp {
        let mut res = match body {
            Some(b) => req.send_body(b).await,
            None => req.send().await,
        }
        .expect("request sent");
        let bytes = res.body().limit(8 * 1024 * 1024).await.expect("body");
        Resp {
            status: res.status(),
            headers: res.headers().clone(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn send_bytes(&self, req: awc::ClientRequest, body: Vec<u8>) -> Resp {
        let mut res = req.send_body(body).await.expect("request sent");
        let bytes = res.body().limit(8 * 1024 * 1024).await.expect("body");
        Resp {
            status: res.status(),
            headers: res.headers().clone(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub fn request(&self, method: awc::http::Method, path: &str) -> awc::ClientRequest {
        self.client.request(method, format!("{}{}", self.address, path))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let mut req = self.request(awc::http::Method::GET, path);
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        self.send(req, None).await
    }

    /// GET with an explicit Host header (storefronts by host).
    pub async fn get_host(&self, host: &str, path: &str) -> Resp {
        let req = self.request(awc::http::Method::GET, path).insert_header(("Host", host.to_owned()));
        self.send(req, None).await
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Resp {
        self.json_request(awc::http::Method::POST, path, body, token).await
    }

    pub async fn patch_json(&self, path: &str, body: &Value, token: Option<&str>) -> Resp {
        self.json_request(awc::http::Method::PATCH, path, body, token).await
    }

    pub async fn json_request(&self, method: awc::http::Method, path: &str, body: &Value, token: Option<&str>) -> Resp {
        let mut req = self.request(method, path).insert_header(("Content-Type", "application/json"));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        self.send(req, Some(body.to_string())).await
    }

    /// A browser-like form post with the given cookies (`name=value; …`) and fields.
    pub async fn post_form(&self, path: &str, cookies: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let req = self
            .request(awc::http::Method::POST, path)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .insert_header(("Cookie", cookies.to_owned()));
        self.send(req, Some(body)).await
    }

    /// Opens a page like a browser would and returns the CSRF cookie it was given.
    pub async fn csrf_cookie(&self, path: &str) -> String {
        let r = self.get(path, None).await;
        r.cookie("tp_csrf").expect("csrf cookie set on first visit")
    }

    /// Signs in to the operator console through the form; returns the cookie header.
    pub async fn operator_browser_session(&self) -> String {
        let email = format!("{}@operators.test", unique("op"));
        let pool = self.pool.clone();
        let e = email.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().expect("conn");
            tradeport::cli::operator::ensure_operator(&mut conn, &e, TEST_PASSWORD, "Console operator")
                .expect("operator");
        })
        .await
        .expect("block");
        let csrf = self.csrf_cookie("/platform").await;
        let cookies = format!("tp_csrf={csrf}");
        let r = self
            .post_form(
                "/platform/login",
                &cookies,
                &[("csrf_token", &csrf), ("email", &email), ("password", TEST_PASSWORD)],
            )
            .await;
        assert_eq!(r.status, 303, "console login: {}", r.body);
        let session = r.cookie("tp_session").expect("session cookie");
        format!("tp_csrf={csrf}; tp_session={session}")
    }

    /// Runs blocking database code against the test database.
    pub async fn db<T: Send + 'static>(&self, f: impl FnOnce(&mut PgConnection) -> T + Send + 'static) -> T {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().expect("conn");
            f(&mut conn)
        })
        .await
        .expect("block")
    }
}

/// The `csrf_token` cookie value inside a cookie header built by the helpers.
pub fn csrf_of(cookies: &str) -> String {
    cookies.split("; ").find_map(|c| c.strip_prefix("tp_csrf=")).unwrap_or_default().to_owned()
}

/// A cookie jar over TestApp: forms and pages as a browser would use them.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser { app, cookies: Default::default() }
    }

    fn header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&mut self, r: &Resp) {
        for line in r.headers.get_all("set-cookie").filter_map(|v| v.to_str().ok()) {
            let pair = line.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                let removed = line.contains("Max-Age=0") || v.is_empty();
                if removed {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let req = self.app.request(awc::http::Method::GET, path).insert_header(("Cookie", self.header()));
        let r = self.app.send(req, None).await;
        self.keep(&r);
        r
    }

    /// Posts a form with the CSRF token from the jar (visit a page first).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.cookies.get("tp_csrf").cloned().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        let r = self.app.post_form(path, &self.header(), &all).await;
        self.keep(&r);
        r
    }
}
