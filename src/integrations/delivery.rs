//! Sending one webhook delivery (the `webhook.deliver` job): POST the event as JSON with
//! `Tradeport-Event`, `Tradeport-Delivery` (the same id on every retry) and
//! `Tradeport-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, 10 s timeout,
//! no redirects. A 2xx answer is delivered; anything else is logged and the job fails, so the
//! queue retries it with its back-off and finally buries it (the delivery becomes `dead`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use super::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events};
use super::webhooks::{check_url, is_private};
use crate::app::AppState;
use crate::db::{read_platform, with_tenant};
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::platform::tenants;

const TIMEOUT: Duration = Duration::from_secs(10);

/// What one attempt sends.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub delivery: Uuid,
    pub url: String,
    pub secret: String,
    pub kind: String,
    pub body: String,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub started_at: DateTime<Utc>,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// `t=<unix>,v1=<hex>` over `"<t>.<body>"`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A delivery's status and attempts, its endpoint (url, secret, active) and its event.
type ToSend = (String, i32, String, String, bool, Uuid, String, serde_json::Value, DateTime<Utc>);

/// Reads the delivery to send; `None` when there is nothing to do (the endpoint was deleted
/// or switched off, or the delivery already went through).
pub fn prepare(conn: &mut PgConnection, delivery: Uuid, tenant_slug: &str) -> AppResult<Option<Prepared>> {
    let row: Option<ToSend> = webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::id.eq(delivery))
        .select((
            webhook_deliveries::status,
            webhook_deliveries::attempts,
            webhook_endpoints::url,
            webhook_endpoints::secret,
            webhook_endpoints::active,
            webhook_events::id,
            webhook_events::kind,
            webhook_events::data,
            webhook_events::created_at,
        ))
        .first(conn)
        .optional()?;
    let Some((status, _, url, secret, active, event, kind, data, created_at)) = row else { return Ok(None) };
    if status == "delivered" || !active {
        return Ok(None);
    }
    let body = json!({"id": event, "type": kind, "created_at": created_at, "tenant": tenant_slug, "data": data});
    let body = serde_json::to_string(&body).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some(Prepared { delivery, url, secret, kind, body }))
}

/// The addresses to connect to, checked: a name that resolves to a private address is
/// refused unless the configuration allows private addresses.
async fn target(url: &reqwest::Url, allow_private: bool) -> Result<Option<(String, Vec<SocketAddr>)>, String> {
    let Some(url::Host::Domain(host)) = url.host() else { return Ok(None) };
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.map_err(|e| format!("cannot resolve {host}: {e}"))?.collect();
    if addrs.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if !allow_private && addrs.iter().any(|a| is_private(a.ip())) {
        return Err(format!("{host} resolves to a private address"));
    }
    Ok(Some((host.to_owned(), addrs)))
}

/// Sends one attempt; never fails (what went wrong is in the outcome).
pub async fn send(p: &Prepared, allow_private: bool) -> Outcome {
    let started_at = Utc::now();
    let clock = Instant::now();
    let result = attempt(p, allow_private).await;
    let duration_ms = clock.elapsed().as_millis().min(i32::MAX as u128) as i32;
    match result {
        Ok(status) => Outcome {
            status: Some(status),
            error: (!(200..300).contains(&status)).then(|| format!("the receiver answered {status}")),
            duration_ms,
            started_at,
        },
        Err(e) => Outcome { status: None, error: Some(e), duration_ms, started_at },
    }
}

async fn attempt(p: &Prepared, allow_private: bool) -> Result<u16, String> {
    let url = check_url(&p.url, allow_private)?;
    let mut client = reqwest::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none());
    if let Some((host, addrs)) = target(&url, allow_private).await? {
        client = client.resolve_to_addrs(&host, &addrs);
    }
    let client = client.build().map_err(|e| format!("client: {e}"))?;
    let t = Utc::now().timestamp();
    let res = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Tradeport-Webhooks/1")
        .header("Tradeport-Event", &p.kind)
        .header("Tradeport-Delivery", p.delivery.to_string())
        .header("Tradeport-Signature", signature(&p.secret, t, &p.body))
        .body(p.body.clone())
        .send()
        .await
        .map_err(|e| if e.is_timeout() { "no answer within 10 s".to_owned() } else { format!("{e}") })?;
    Ok(res.status().as_u16())
}

/// Runs a `webhook.deliver` job: reads the delivery, sends it outside any transaction, logs
/// the attempt. Not delivered → an error, so the queue retries it with its back-off.
pub async fn run_job(state: &AppState, job: &Job) -> AppResult<()> {
    let Some(tenant_id) = job.tenant_id else { return Ok(()) };
    let Some(tenant) = read_platform(&state.pool, move |c| tenants::find_by_id(c, tenant_id)).await? else {
        return Ok(());
    };
    let id = job.payload.get("delivery_id").and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok());
    let Some(id) = id else { return Ok(()) };
    let slug = tenant.slug.clone();
    let Some(p) = with_tenant(&state.pool, &tenant.schema, move |c| prepare(c, id, &slug)).await? else {
        return Ok(());
    };
    let outcome = send(&p, state.settings.webhooks.allow_private_addresses).await;
    let last = job.attempts >= job.max_attempts;
    let o = outcome.clone();
    with_tenant(&state.pool, &tenant.schema, move |c| record(c, id, &o, last)).await?;
    match outcome.error {
        None => Ok(()),
        Some(e) => Err(AppError::Unavailable(format!("webhook {id}: {e}"))),
    }
}

/// Logs an attempt on the delivery; `last` says the queue gives up after this one.
pub fn record(conn: &mut PgConnection, delivery: Uuid, o: &Outcome, last: bool) -> AppResult<()> {
    let status = match (o.delivered(), last) {
        (true, _) => "delivered",
        (false, true) => "dead",
        (false, false) => "retrying",
    };
    let attempt: i32 = diesel::update(webhook_deliveries::table.find(delivery))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::last_attempt_at.eq(o.started_at),
            webhook_deliveries::delivered_at.eq(o.delivered().then_some(Utc::now())),
        ))
        .returning(webhook_deliveries::attempts)
        .get_result(conn)
        .optional()?
        .unwrap_or(0);
    if attempt == 0 {
        return Ok(());
    }
    let error: Option<String> = o.error.as_ref().map(|e| e.chars().take(500).collect());
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::delivery_id.eq(delivery),
            webhook_attempts::attempt.eq(attempt),
            webhook_attempts::status_code.eq(o.status.map(i32::from)),
            webhook_attempts::error.eq(error),
            webhook_attempts::duration_ms.eq(o.duration_ms),
            webhook_attempts::started_at.eq(o.started_at),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // Known answer computed independently (python: hmac.new(b"s", b"1.{}", sha256)).
        let sig = signature("s", 1, "{}");
        assert_eq!(sig, "t=1,v1=b253639bcd705ed1cda3073f66104f16988bd40272584dea7d0d345ae93e61cc");
        assert_ne!(signature("s", 2, "{}"), sig);
        assert_ne!(signature("x", 1, "{}"), sig);
    }
}
