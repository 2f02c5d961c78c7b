//! Tenant resolution: `/s/<slug>/…` always, `<slug>.<base domain>` and verified custom
//! domains by host. Unknown tenants get 404, suspended ones 403; a host that is not ours
//! is treated as the platform host and never echoed into links.

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::guard::GuardContext;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};

use crate::app::AppState;
use crate::db::with_platform;
use crate::error::AppError;
use crate::platform::tenants::{self, Tenant};

/// How the tenant of a request was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Path,
    Host,
}

/// The request's tenant and the prefix its links need (`/s/<slug>` or nothing).
#[derive(Debug, Clone)]
pub struct TenantCtx {
    pub tenant: Arc<Tenant>,
    pub via: Via,
    pub base: String,
}

impl TenantCtx {
    /// A path inside the tenant, e.g. `link("/login")`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl FromRequest for TenantCtx {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<TenantCtx>().cloned().ok_or_else(|| AppError::not_found("store")))
    }
}

/// When a lookup was made, and what it found (`None`: no such tenant).
type CacheEntry = (Instant, Option<Arc<Tenant>>);

/// Short-lived cache of tenant lookups (positive and negative), so routing costs no query
/// on most requests. Changes made through this process invalidate it at once.
pub struct TenantCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl TenantCache {
    pub fn new(ttl: Duration) -> Self {
        TenantCache { ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, key: &str) -> Option<Option<Arc<Tenant>>> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, t)| t.clone())
    }

    /// Stores a lookup. When full, expired entries go first; a flood of unknown names then
    /// stops being remembered instead of evicting the stores that exist.
    fn put(&self, key: String, value: Option<Arc<Tenant>>) {
        const MAX: usize = 10_000;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX {
                let ttl = self.ttl;
                entries.retain(|_, (at, _)| at.elapsed() < ttl);
            }
            if entries.len() >= MAX {
                if value.is_none() {
                    return;
                }
                entries.retain(|_, (_, t)| t.is_some());
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    pub fn invalidate(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The host of the request without port, lower-cased; `None` when absent or malformed.
pub fn request_host(req: &HttpRequest) -> Option<String> {
    let host = req.headers().get("host")?.to_str().ok()?;
    let host = host
        .rsplit_once(':')
        .map(|(h, p)| if p.chars().all(|c| c.is_ascii_digit()) { h } else { host })
        .unwrap_or(host);
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let sane = !host.is_empty()
        && host.len() <= 253
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    sane.then_some(host)
}

enum Lookup {
    Slug(String),
    Domain(String),
}

fn lookup_for(req: &HttpRequest, base_domain: &str) -> Option<(Lookup, Via, String)> {
    if let Some(rest) = req.path().strip_prefix("/s/") {
        let slug = rest.split('/').next().unwrap_or("").to_owned();
        return Some((Lookup::Slug(slug.clone()), Via::Path, format!("/s/{slug}")));
    }
    let host = request_host(req)?;
    if host == base_domain || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    if let Some(label) = host.strip_suffix(base_domain).and_then(|h| h.strip_suffix('.')) {
        if label.contains('.') || label == "www" {
            return None;
        }
        return Some((Lookup::Slug(label.to_owned()), Via::Host, String::new()));
    }
    Some((Lookup::Domain(host), Via::Host, String::new()))
}

async fn find(state: &AppState, lookup: Lookup) -> Result<Option<Arc<Tenant>>, AppError> {
    let key = match &lookup {
        Lookup::Slug(s) => format!("slug:{s}"),
        Lookup::Domain(d) => format!("host:{d}"),
    };
    if let Some(hit) = state.tenants.get(&key) {
        return Ok(hit);
    }
    let found = with_platform(&state.pool, move |conn| match lookup {
        Lookup::Slug(s) => tenants::find_by_slug(conn, &s),
        Lookup::Domain(d) => tenants::find_by_domain(conn, &d),
    })
    .await?
    .map(Arc::new);
    state.tenants.put(key, found.clone());
    Ok(found)
}

/// Middleware: resolves the tenant and stores a [`TenantCtx`] in the request.
pub async fn resolve(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let Some((lookup, via, base)) = lookup_for(req.request(), &state.settings.server.base_domain) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let is_domain = matches!(lookup, Lookup::Domain(_));
    let outcome = match find(&state, lookup).await {
        Ok(Some(t)) if !t.is_active() => Err(AppError::TenantSuspended),
        Ok(Some(t)) => Ok(Some(t)),
        // A host that is not ours is the platform host.
        Ok(None) if is_domain => Ok(None),
        Ok(None) => Err(AppError::not_found("store")),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(Some(tenant)) => {
            super::telemetry::record(&req, "tenant", &tenant.slug);
            req.extensions_mut().insert(TenantCtx { tenant, via, base });
            next.call(req).await.map(ServiceResponse::map_into_left_body)
        }
        Ok(None) => next.call(req).await.map(ServiceResponse::map_into_left_body),
        Err(e) => Ok(req.into_response(e.error_response()).map_into_right_body()),
    }
}

/// Guard for the root-mounted tenant routes: the host resolved to a tenant.
pub fn resolved_by_host(ctx: &GuardContext<'_>) -> bool {
    ctx.req_data().get::<TenantCtx>().is_some_and(|t| t.via == Via::Host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_never_evict_known_stores() {
        let cache = TenantCache::new(Duration::from_secs(60));
        for i in 0..10_000 {
            cache.put(format!("slug:unknown-{i}"), None);
        }
        cache.put("slug:unknown-extra".into(), None);
        assert!(cache.get("slug:unknown-extra").is_none(), "a full cache stops remembering misses");
        assert!(cache.get("slug:unknown-1").is_some(), "and keeps what it had");
    }
}
