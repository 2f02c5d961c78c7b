//! Integrations as a supplier's ERP uses them: API keys that act as staff with their scope,
//! webhooks signed and delivered to a receiver (retried when it fails, never sent for a
//! change that rolled back), and validation that changes nothing.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use awc::http::Method;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::catalog::api;
use crate::helpers::{Resp, TestApp, TestTenant};
use crate::identity::INNS;
use crate::ordering::{buyer, order, store};

pub async fn new_key(app: &TestApp, t: &TestTenant, s: &str, scope: &str) -> (i64, String) {
    let r = app
        .post_json(&api(t, "/admin/api-keys"), &json!({"name": format!("ERP {scope}"), "scope": scope}), Some(s))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    (v["id"].as_i64().expect("id"), v["key"].as_str().expect("the key, shown once").to_owned())
}

async fn set_status(app: &TestApp, t: &TestTenant, token: &str, number: &str, status: &str) -> Resp {
    app.patch_json(&api(t, &format!("/admin/orders/{number}")), &json!({"status": status}), Some(token)).await
}

pub async fn placed(app: &TestApp, t: &TestTenant, b: &str, key: &str) -> String {
    let r = order(app, t, b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some(key)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["number"].as_str().expect("number").to_owned()
}

#[actix_web::test]
async fn api_keys_act_as_staff_within_their_scope_until_revoked() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let number = placed(&app, &t, &b, "k1").await;

    let (read_id, read) = new_key(&app, &t, &s, "read").await;
    assert!(read.starts_with("tp_live_"), "{read}");
    // Listed without the secret; nothing in the list lets anyone rebuild the key.
    let list = app.get(&api(&t, "/admin/api-keys"), Some(&s)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(!list.body.contains(&read) && !list.body.contains(&read[20..]), "{}", list.body);
    assert_eq!(list.json()["items"][0]["last_used_at"], Value::Null);

    // A read key reads the admin API…
    let r = app.get(&api(&t, "/admin/orders"), Some(&read)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&number));
    // …but may not change anything, and the order stays as it was.
    let r = set_status(&app, &t, &read, &number, "confirmed").await;
    assert_eq!((r.status.as_u16(), r.error_code()), (403, "insufficient_scope".into()), "{}", r.body);
    let r = app.get(&api(&t, &format!("/admin/orders/{number}")), Some(&s)).await;
    assert_eq!(r.json()["status"], "new");
    // A write key may.
    let (_, write) = new_key(&app, &t, &s, "write").await;
    let r = set_status(&app, &t, &write, &number, "confirmed").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Keys never act as buyers, nor manage keys or webhooks.
    assert_eq!(app.get(&api(&t, "/account"), Some(&write)).await.status, 401);
    let r = app.post_json(&api(&t, "/admin/api-keys"), &json!({"name": "more", "scope": "write"}), Some(&write)).await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The last use is noted.
    let list = app.get(&api(&t, "/admin/api-keys"), Some(&s)).await.json();
    let used = list["items"].as_array().expect("items").iter().find(|k| k["id"] == read_id).expect("key").clone();
    assert!(used["last_used_at"].is_string(), "{used}");

    // Revoked: refused at once.
    let r =
        app.json_request(Method::DELETE, &api(&t, &format!("/admin/api-keys/{read_id}")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["active"].clone()), (200, json!(false)), "{}", r.body);
    assert_eq!(app.get(&api(&t, "/admin/orders"), Some(&read)).await.status, 401);
    // A key that only looks right, and another store's key, are refused too.
    let forged = format!("{}{}", &write[..write.len() - 4], "0000");
    assert_eq!(app.get(&api(&t, "/admin/orders"), Some(&forged)).await.status, 401);
    let (t2, s2) = store(&app).await;
    let (_, other) = new_key(&app, &t2, &s2, "write").await;
    assert_eq!(app.get(&api(&t, "/admin/orders"), Some(&other)).await.status, 401);
    assert_eq!(app.get(&api(&t2, "/admin/orders"), Some(&other)).await.status, 200);
}

#[actix_web::test]
async fn keys_and_webhooks_refuse_bad_input_and_are_absent_without_the_feature() {
    let app = TestApp::spawn_with(|s| s.webhooks.allow_private_addresses = false).await;
    let (t, s) = store(&app).await;
    let r = app.post_json(&api(&t, "/admin/api-keys"), &json!({"name": " ", "scope": "admin"}), Some(&s)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let fields = &r.json()["error"]["fields"];
    assert!(fields["name"].is_string() && fields["scope"].is_string(), "{}", r.body);
    for (body, field) in [
        (json!({"url": "ftp://erp.example.com/", "events": ["order.created"]}), "url"),
        (json!({"url": "http://127.0.0.1:9/hook", "events": ["order.created"]}), "url"),
        (json!({"url": "http://169.254.169.254/latest", "events": ["order.created"]}), "url"),
        (json!({"url": "https://erp.example.com/", "events": ["order.deleted"]}), "events"),
        (json!({"url": "https://erp.example.com/", "events": []}), "events"),
    ] {
        let r = app.post_json(&api(&t, "/admin/webhooks"), &body, Some(&s)).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert!(r.json()["error"]["fields"][field].is_string(), "{}", r.body);
    }
    let list = app.get(&api(&t, "/admin/webhooks"), Some(&s)).await;
    assert_eq!(list.json()["total"], 0, "nothing was stored");
    let list = app.get(&api(&t, "/admin/api-keys"), Some(&s)).await;
    assert_eq!(list.json()["total"], 0, "nothing was stored");

    // A store on the start plan has no integration API: the routes do not exist.
    let small = app.new_tenant().await;
    let s3 = crate::catalog::staff(&app, &small).await;
    let r = app.post_json(&api(&small, "/admin/api-keys"), &json!({"name": "x", "scope": "read"}), Some(&s3)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(app.get(&api(&small, "/admin/webhooks"), Some(&s3)).await.status, 404);
}

/// A request the receiver got: its headers (names lower-cased) and body.
pub type Seen = (Vec<(String, String)>, String);

/// A receiver on 127.0.0.1: records each request's headers and body, answers `status`.
pub struct Receiver {
    pub url: String,
    pub status: Arc<AtomicU16>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
        let (status, seen) = (Arc::new(AtomicU16::new(200)), Arc::new(Mutex::new(Vec::new())));
        let (st, sn) = (status.clone(), seen.clone());
        actix_web::rt::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break (String::new(), String::new());
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if body.len() >= len {
                            break (head.to_owned(), body.to_owned());
                        }
                    }
                };
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| {
                        l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    })
                    .collect();
                sn.lock().expect("lock").push((headers, body));
                let code = st.load(Ordering::SeqCst);
                let answer = format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = sock.write_all(answer.as_bytes()).await;
            }
        });
        Receiver { url, status, seen }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

pub fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// Checks `Tradeport-Signature` over the exact body with the endpoint's secret.
pub fn signed(h: &[(String, String)], body: &str, secret: &str) -> bool {
    let sig = header(h, "tradeport-signature");
    let (Some(t), Some(v1)) =
        (sig.split(',').find_map(|p| p.strip_prefix("t=")), sig.split(',').find_map(|p| p.strip_prefix("v1=")))
    else {
        return false;
    };
    let t: i64 = t.parse().unwrap_or_default();
    if (chrono::Utc::now().timestamp() - t).abs() > 60 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(format!("{t}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

pub async fn run_jobs(app: &TestApp, t: &TestTenant) -> usize {
    tradeport::jobs::worker::run_once(&app.state, Some(t.tenant.id)).await.expect("worker")
}

pub async fn hook(app: &TestApp, t: &TestTenant, s: &str, url: &str, events: &[&str]) -> (i64, String) {
    let r = app.post_json(&api(t, "/admin/webhooks"), &json!({"url": url, "events": events}), Some(s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    (v["id"].as_i64().expect("id"), v["secret"].as_str().expect("secret").to_owned())
}

#[actix_web::test]
async fn the_integrations_page_shows_a_new_key_once_and_manages_webhooks() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let base = format!("/s/{}", t.slug);
    let mut b = crate::order_pages::sign_in(&app, &t, &t.admin_email, &format!("{base}/admin/orders")).await;
    let orders = b.get(&format!("{base}/admin/orders")).await;
    assert!(orders.body.contains(&format!("{base}/admin/integrations\"")), "menu entry");
    assert!(orders.body.contains("id=\"orders-export\""), "download buttons");
    let customers = b.get(&format!("{base}/admin/customers")).await;
    assert!(customers.body.contains("/api/v1/admin/customers/export?format=xlsx"));

    let r = b.post(&format!("{base}/admin/integrations/keys"), &[("name", "1C"), ("scope", "write")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let key =
        r.body.split("id=\"new-key-value\">").nth(1).and_then(|s| s.split('<').next()).expect("key shown").to_owned();
    assert!(key.starts_with("tp_live_"), "{key}");
    assert_eq!(app.get(&api(&t, "/admin/orders"), Some(&key)).await.status, 200, "the key shown works");
    let page = b.get(&format!("{base}/admin/integrations")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("1C") && !page.body.contains(&key), "listed, never shown again");

    // A bad address: the form says why and nothing is stored.
    let r = b
        .post(&format!("{base}/admin/integrations/webhooks"), &[("url", "ftp://x"), ("events", "order.created")])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("field-error"));
    let rx = Receiver::start().await;
    let r = b
        .post(
            &format!("{base}/admin/integrations/webhooks"),
            &[("url", &rx.url), ("events", "order.created"), ("events", "stock.changed")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let hook_page = r.header("location").expect("location");
    let r = b.post(&format!("{hook_page}/test"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    run_jobs(&app, &t).await;
    assert_eq!(rx.requests().len(), 1);
    let page = b.get(&hook_page).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("webhook.test") && page.body.contains("HTTP 200") && page.body.contains("whsec_"),
        "{}",
        page.body
    );
}
