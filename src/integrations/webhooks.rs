//! Outbound webhooks: endpoints the store's administrators configure, and the one way an
//! event is emitted ([`emit`], in the transaction of the change: the tenant function
//! `webhook_emit` writes the event, a delivery per subscribed endpoint and a job each).
//! Sending is [`super::delivery`].

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Jsonb, Text};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events};
use crate::db::schema_platform::jobs;
use crate::error::{AppError, AppResult, FieldErrors};

pub const EVENTS: &[&str] =
    &["order.created", "order.status_changed", "payment.succeeded", "customer.approved", "stock.changed"];
/// The event "send test event" delivers to one endpoint.
pub const TEST_EVENT: &str = "webhook.test";
pub const DELIVER_JOB: &str = "webhook.deliver";

/// Emits `kind` with `data` to every active endpoint that wants it, in the caller's
/// transaction: nothing is sent for a change that rolls back. Costs one indexed read when
/// no endpoint wants the event.
pub fn emit(conn: &mut PgConnection, kind: &str, data: &Value) -> AppResult<i32> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = Int4)]
        n: i32,
    }
    let r: N = diesel::sql_query("SELECT webhook_emit($1, $2) AS n")
        .bind::<Text, _>(kind)
        .bind::<Jsonb, _>(data)
        .get_result(conn)?;
    Ok(r.n)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints, check_for_backend(diesel::pg::Pg))]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub secret: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "url": self.url, "description": self.description, "events": self.events,
            "active": self.active, "secret": self.secret, "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// An endpoint as staff send it (create: `url` and `events` required; patch: any).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointIn {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    /// Patch only: a new signing secret.
    #[serde(default)]
    pub rotate_secret: bool,
}

/// Whether an address is one a store must not make us call (loopback, private, link-local…).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Checks an endpoint URL: http or https, a host, no credentials, and (unless allowed)
/// no private or loopback address. Names are resolved and checked again on each delivery.
pub fn check_url(raw: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let url =
        reqwest::Url::parse(raw).map_err(|_| "must be a full address like https://erp.example.com/hooks".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => return private_ok(IpAddr::V4(ip), allow_private).map(|_| url),
        Some(url::Host::Ipv6(ip)) => return private_ok(IpAddr::V6(ip), allow_private).map(|_| url),
        None => return Err("must name a host".into()),
    };
    let internal = host == "localhost" || [".localhost", ".local", ".internal"].iter().any(|s| host.ends_with(s));
    if internal && !allow_private {
        return Err("must be a public address, not a local or internal one".into());
    }
    Ok(url)
}

fn private_ok(ip: IpAddr, allow_private: bool) -> Result<(), String> {
    if is_private(ip) && !allow_private {
        Err("must be a public address, not a private, loopback or link-local one".into())
    } else {
        Ok(())
    }
}

fn check_events(events: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if !EVENTS.contains(&e.as_str()) {
            return Err(format!("unknown event {e:?}; known: {}", EVENTS.join(", ")));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    if out.is_empty() {
        return Err("choose at least one event".into());
    }
    Ok(out)
}

fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    format!("whsec_{}", hex::encode(b))
}

fn checked(
    input: &EndpointIn,
    creating: bool,
    allow_private: bool,
) -> AppResult<(Option<String>, Option<Vec<String>>)> {
    let mut errors = FieldErrors::new();
    let url = match (&input.url, creating) {
        (Some(u), _) => check_url(u, allow_private).map_err(|e| errors.insert("url".into(), e)).ok().map(String::from),
        (None, true) => {
            errors.insert("url".into(), "is required".into());
            None
        }
        (None, false) => None,
    };
    let events = match (&input.events, creating) {
        (Some(list), _) => check_events(list).map_err(|e| errors.insert("events".into(), e)).ok(),
        (None, true) => {
            errors.insert("events".into(), format!("choose at least one of {}", EVENTS.join(", ")));
            None
        }
        (None, false) => None,
    };
    if input.description.as_ref().is_some_and(|d| d.chars().count() > 200) {
        errors.insert("description".into(), "must be at most 200 characters".into());
    }
    if creating && input.rotate_secret {
        errors.insert("rotate_secret".into(), "only for an existing endpoint".into());
    }
    if errors.is_empty() {
        Ok((url, events))
    } else {
        Err(AppError::Validation(errors))
    }
}

pub fn create(conn: &mut PgConnection, by: i64, input: &EndpointIn, allow_private: bool) -> AppResult<Endpoint> {
    let (url, events) = checked(input, true, allow_private)?;
    Ok(diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::url.eq(url.unwrap_or_default()),
            webhook_endpoints::description.eq(input.description.as_deref().unwrap_or("").trim()),
            webhook_endpoints::events.eq(events.unwrap_or_default()),
            webhook_endpoints::secret.eq(new_secret()),
            webhook_endpoints::active.eq(input.active.unwrap_or(true)),
            webhook_endpoints::created_by.eq(by),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)?)
}

pub fn find(conn: &mut PgConnection, id: i64) -> AppResult<Endpoint> {
    webhook_endpoints::table
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("webhook"))
}

pub fn list(conn: &mut PgConnection) -> AppResult<Vec<Endpoint>> {
    Ok(webhook_endpoints::table.order(webhook_endpoints::id).select(Endpoint::as_select()).load(conn)?)
}

pub fn update(conn: &mut PgConnection, id: i64, input: &EndpointIn, allow_private: bool) -> AppResult<Endpoint> {
    let (url, events) = checked(input, false, allow_private)?;
    let old = find(conn, id)?;
    let secret = if input.rotate_secret { new_secret() } else { old.secret };
    Ok(diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::url.eq(url.unwrap_or(old.url)),
            webhook_endpoints::description.eq(input
                .description
                .as_deref()
                .map(str::trim)
                .unwrap_or(old.description.as_str())),
            webhook_endpoints::events.eq(events.unwrap_or(old.events)),
            webhook_endpoints::active.eq(input.active.unwrap_or(old.active)),
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)?)
}

/// Deletes an endpoint with its log; deliveries still queued find nothing and end.
pub fn delete(conn: &mut PgConnection, id: i64) -> AppResult<()> {
    let n = diesel::delete(webhook_endpoints::table.find(id)).execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("webhook"));
    }
    Ok(())
}

/// Queues delivery `id` for sending (a new job; the delivery keeps its id).
pub fn enqueue(conn: &mut PgConnection, tenant_id: i64, id: Uuid) -> AppResult<()> {
    diesel::insert_into(jobs::table)
        .values((
            jobs::queue.eq("webhooks"),
            jobs::kind.eq(DELIVER_JOB),
            jobs::tenant_id.eq(tenant_id),
            jobs::payload.eq(json!({"delivery_id": id})),
        ))
        .execute(conn)?;
    Ok(())
}

/// "Send test event": a `webhook.test` event to this endpoint alone, whatever it subscribed to.
pub fn send_test(conn: &mut PgConnection, tenant_id: i64, id: i64) -> AppResult<Uuid> {
    let endpoint = find(conn, id)?;
    let (event, delivery) = (Uuid::new_v4(), Uuid::new_v4());
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::id.eq(event),
            webhook_events::kind.eq(TEST_EVENT),
            webhook_events::data.eq(json!({"message": "a test event from Tradeport", "endpoint_id": endpoint.id})),
        ))
        .execute(conn)?;
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(delivery),
            webhook_deliveries::endpoint_id.eq(id),
            webhook_deliveries::event_id.eq(event),
        ))
        .execute(conn)?;
    enqueue(conn, tenant_id, delivery)?;
    Ok(delivery)
}

/// Sends a delivery of this endpoint again (same delivery id, so receivers can dedupe).
pub fn redeliver(conn: &mut PgConnection, tenant_id: i64, endpoint: i64, delivery: Uuid) -> AppResult<()> {
    let n = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint)),
    )
    .set(webhook_deliveries::status.eq("pending"))
    .execute(conn)?;
    if n == 0 {
        return Err(AppError::not_found("delivery"));
    }
    enqueue(conn, tenant_id, delivery)
}

type DeliveryRow = (Uuid, Uuid, String, String, i32, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
type AttemptRow = (Uuid, i32, Option<i32>, Option<String>, i32, DateTime<Utc>);

/// The endpoint's delivery log, newest first, each delivery with its attempts.
pub fn deliveries(conn: &mut PgConnection, endpoint: i64, offset: i64, limit: i64) -> AppResult<(Vec<Value>, i64)> {
    find(conn, endpoint)?;
    let total: i64 =
        webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(endpoint)).count().get_result(conn)?;
    let rows: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .inner_join(webhook_events::table)
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::id))
        .offset(offset)
        .limit(limit)
        .select((
            webhook_deliveries::id,
            webhook_events::id,
            webhook_events::kind,
            webhook_deliveries::status,
            webhook_deliveries::attempts,
            webhook_deliveries::created_at,
            webhook_deliveries::last_attempt_at,
            webhook_deliveries::delivered_at,
        ))
        .load(conn)?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let attempts: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(&ids))
        .order(webhook_attempts::id)
        .select((
            webhook_attempts::delivery_id,
            webhook_attempts::attempt,
            webhook_attempts::status_code,
            webhook_attempts::error,
            webhook_attempts::duration_ms,
            webhook_attempts::started_at,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(id, event, kind, status, n, created, last, delivered)| {
            let tries: Vec<Value> = attempts
                .iter()
                .filter(|a| a.0 == id)
                .map(|a| json!({"attempt": a.1, "status_code": a.2, "error": a.3, "duration_ms": a.4, "started_at": a.5}))
                .collect();
            json!({
                "id": id, "event_id": event, "type": kind, "status": status, "attempts": n, "created_at": created,
                "last_attempt_at": last, "delivered_at": delivered, "log": tries,
            })
        })
        .collect();
    Ok((items, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_public_http_addresses_unless_allowed() {
        assert!(check_url("https://erp.example.com/hooks", false).is_ok());
        assert!(check_url("http://203.0.113.9/x", true).is_ok());
        for bad in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "http://127.0.0.1:9000/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost/",
            "http://db.internal/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9000/", true).is_ok());
    }

    #[test]
    fn events_are_the_known_ones() {
        assert!(check_events(&["order.created".into(), "order.created".into()]).is_ok_and(|e| e.len() == 1));
        assert!(check_events(&[]).is_err());
        assert!(check_events(&["order.deleted".into()]).is_err());
    }
}
