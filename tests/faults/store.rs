//! A store as its people would set it up, over HTTP against the running binary: an
//! operator (`tradeport operator create`), an open store on the business plan that needs no
//! e-mail confirmation, products with stock, buyers of active companies.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{random_suffix, FaultDb, Http, PASSWORD};

/// A valid organisation INN (10 digits, check digit by the FNS weights), distinct per `n`
/// within a store.
pub fn inn(n: usize) -> String {
    let mut d: Vec<u32> =
        format!("77{:07}", 1_000_000 + n * 7919 % 8_999_999).chars().filter_map(|c| c.to_digit(10)).collect();
    d.truncate(9);
    let sum: u32 = d.iter().zip([2, 4, 10, 3, 5, 9, 4, 6, 8]).map(|(a, w)| a * w).sum();
    d.push(sum % 11 % 10);
    d.iter().map(|x| char::from_digit(*x, 10).unwrap_or('0')).collect()
}

pub struct Store {
    pub base: String,
    pub slug: String,
    pub id: i64,
    pub schema: String,
    pub admin: String,
}

impl Store {
    /// `<base>/s/<slug>/api/v1<path>`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/s/{}/api/v1{path}", self.base, self.slug)
    }
}

pub struct Buyer {
    pub email: String,
    pub token: String,
}

pub async fn login(http: &Http, base: &str, email: &str, password: &str) -> String {
    let r = http
        .post(&format!("{base}/api/v1/auth/login"), &json!({"email": email, "password": password}), None, &[])
        .await;
    match r {
        Ok((200, v)) => v["access_token"].as_str().expect("token").to_owned(),
        other => panic!("login {email}: {other:?}"),
    }
}

/// A platform operator made with the command line; returns its token.
pub async fn operator(db: &FaultDb, http: &Http, base: &str) -> String {
    let email = format!("op-{}@faults.test", random_suffix());
    let out = db.cli(&["operator", "create", "--email", &email, "--password", PASSWORD]).output().expect("operator");
    assert!(out.status.success(), "operator create: {}", String::from_utf8_lossy(&out.stderr));
    login(http, base, &email, PASSWORD).await
}

/// An open store on the business plan (webhooks, reservations) ordering without e-mail
/// confirmation.
pub async fn store(db: &FaultDb, http: &Http, base: &str) -> Store {
    let op = operator(db, http, base).await;
    let slug = format!("f{}", random_suffix());
    let admin_email = format!("admin@{slug}.test");
    let body = json!({
        "slug": slug, "name": format!("Fault store {slug}"), "mode": "open", "plan": "business",
        "admin_email": admin_email, "admin_password": PASSWORD,
        "settings": {"require_email_confirmation": false},
    });
    let r = http.post(&format!("{base}/api/v1/platform/tenants"), &body, Some(&op), &[]).await;
    assert!(matches!(r, Ok((201, _))), "create store: {r:?}");
    let row = db.rows(&format!("SELECT id, schema_name FROM public.tenants WHERE slug = '{slug}'"));
    let admin = login(http, base, &admin_email, PASSWORD).await;
    Store {
        base: base.to_owned(),
        id: row[0]["id"].as_i64().expect("tenant id"),
        schema: row[0]["schema_name"].as_str().expect("schema").to_owned(),
        slug,
        admin,
    }
}

pub async fn product(http: &Http, s: &Store, sku: &str, price: &str, stock: i64) -> Value {
    let body = json!({"sku": sku, "name": format!("Изделие {sku}"), "price": price, "stock": stock});
    match http.post(&s.api("/admin/products"), &body, Some(&s.admin), &[]).await {
        Ok((201, v)) => v,
        other => panic!("product {sku}: {other:?}"),
    }
}

/// A buyer of a new active company (registered from its own loopback address, so the
/// registration limit per address never gets in the way).
pub async fn buyer(s: &Store, n: usize) -> Buyer {
    let ip: IpAddr = format!("127.0.9.{}", 1 + n % 250).parse().expect("ip");
    let http = Http::from(Some(ip), Duration::from_secs(60));
    let email = format!("buyer{n}-{}@faults.test", random_suffix());
    let company = json!({"name": format!("ООО «Покупатель {n}»"), "inn": inn(n), "kpp": "773601001"});
    let body = json!({"email": email, "password": PASSWORD, "name": format!("Buyer {n}"), "company": company});
    let r = http.post(&s.api("/register"), &body, None, &[]).await;
    let v = match r {
        Ok((201, v)) => v,
        other => panic!("register buyer {n}: {other:?}"),
    };
    assert_eq!(v["status"], "active", "{v}");
    let token = login(&http, &s.base, &email, PASSWORD).await;
    Buyer { email, token }
}

/// A webhook endpoint of the store; returns its id.
pub async fn webhook(http: &Http, s: &Store, url: &str, events: &[&str]) -> i64 {
    match http.post(&s.api("/admin/webhooks"), &json!({"url": url, "events": events}), Some(&s.admin), &[]).await {
        Ok((201, v)) => v["id"].as_i64().expect("id"),
        other => panic!("webhook: {other:?}"),
    }
}

/// `POST /orders` with an Idempotency-Key.
pub async fn place(http: &Http, s: &Store, token: &str, key: &str, body: &Value) -> crate::harness::Answer {
    http.post(&s.api("/orders"), body, Some(token), &[("Idempotency-Key", key.to_owned())]).await
}
