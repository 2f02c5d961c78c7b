//! The worker loop: embedded in `serve` (unless `--no-worker`) and alone in `tradeport worker`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::app::AppState;
use crate::db::read_platform;
use crate::documents::edo::jobs as edo;
use crate::error::AppResult;
use crate::exchange::onec::imports as exchange;
use crate::integrations::{delivery, webhooks};
use crate::ordering::reservations::{self, EXPIRE_JOB, REMIND_JOB};
use crate::ordering::returns;
use crate::ordering::waitlist::{self, ARRIVED_JOB};
use crate::platform::tenants;
use crate::search::{Scope, SearchEngine, INDEX_JOB};

use super::{claim, complete, fail, Job};

/// Claims and runs one batch of ready jobs (of one tenant, in tests), then sends due mail;
/// returns how many jobs and mails were handled.
pub async fn run_once(state: &AppState, tenant: Option<i64>) -> AppResult<usize> {
    let claimed: Vec<Job> = read_platform(&state.pool, move |c| claim(c, tenant, 100)).await?;
    let n = claimed.len();
    // Index jobs of one tenant are merged into one engine call.
    let mut index: BTreeMap<i64, (Vec<i64>, Vec<Job>)> = BTreeMap::new();
    let mut failed: Vec<(Job, String)> = Vec::new();
    let mut tenant_jobs: Vec<Job> = Vec::new();
    let mut exchange_jobs: Vec<Job> = Vec::new();
    let mut hooks: Vec<Job> = Vec::new();
    for job in claimed {
        match (job.kind.as_str(), job.tenant_id) {
            (INDEX_JOB, Some(t)) => {
                let ids: Vec<i64> = job
                    .payload
                    .get("product_ids")
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|v| v.as_i64()).collect())
                    .unwrap_or_default();
                let e = index.entry(t).or_default();
                e.0.extend(ids);
                e.1.push(job);
            }
            (k, Some(_)) if TENANT_JOBS.contains(&k) => tenant_jobs.push(job),
            (exchange::IMPORT_JOB, Some(_)) => exchange_jobs.push(job),
            (webhooks::DELIVER_JOB, Some(_)) => hooks.push(job),
            _ => {
                let msg = format!("unknown job kind {}", job.kind);
                failed.push((job, msg));
            }
        }
    }
    let mut done: Vec<i64> = Vec::new();
    // Webhook deliveries wait on other servers (up to 10 s each): sent side by side.
    let sent = futures_util::future::join_all(hooks.iter().map(|j| delivery::run_job(state, j))).await;
    for (job, result) in hooks.into_iter().zip(sent) {
        match result {
            Ok(()) => done.push(job.id),
            Err(e) => failed.push((job, format!("{e:#}"))),
        }
    }
    for job in tenant_jobs {
        match run_tenant_job(state, &job).await {
            Ok(()) => done.push(job.id),
            Err(e) => {
                let msg = format!("{e:#}");
                failed.push((job, msg));
            }
        }
    }
    // 1C imports (each in its own transactions, possibly long).
    for job in exchange_jobs {
        match exchange::run_job(state, &job).await {
            Ok(()) => done.push(job.id),
            Err(e) => {
                let msg = format!("{e:#}");
                failed.push((job, msg));
            }
        }
    }
    for (tenant_id, (mut ids, jobs)) in index {
        ids.sort_unstable();
        ids.dedup();
        let tenant = read_platform(&state.pool, move |c| tenants::find_by_id(c, tenant_id)).await?;
        let result = match tenant {
            // The tenant is gone: nothing left to index.
            None => Ok(()),
            Some(t) => state.search.index(&Scope { tenant_id, schema: t.schema }, &ids).await,
        };
        match result {
            Ok(()) => done.extend(jobs.iter().map(|j| j.id)),
            Err(e) => failed.extend(jobs.into_iter().map(|j| (j, format!("{e:#}")))),
        }
    }
    read_platform(&state.pool, move |c| {
        complete(c, &done)?;
        for (job, msg) in &failed {
            tracing::warn!(job = job.id, kind = %job.kind, error = %msg, "job failed");
            fail(c, job, msg)?;
        }
        Ok(())
    })
    .await?;
    // The mail outbox (only with SMTP_URL set).
    let mailed = crate::platform::mail_delivery::deliver(state, tenant).await?;
    Ok(n + mailed)
}

/// Jobs that run inside their tenant's transaction, one at a time.
const TENANT_JOBS: &[&str] = &[REMIND_JOB, EXPIRE_JOB, ARRIVED_JOB, edo::SEND_JOB, edo::POLL_JOB, returns::REMIND_JOB];

async fn run_tenant_job(state: &AppState, job: &Job) -> AppResult<()> {
    let Some(tenant_id) = job.tenant_id else { return Ok(()) };
    let Some(tenant) = read_platform(&state.pool, move |c| tenants::find_by_id(c, tenant_id)).await? else {
        return Ok(());
    };
    let (kind, payload) = (job.kind.clone(), job.payload.clone());
    let id = |k: &str| payload.get(k).and_then(|v| v.as_i64()).unwrap_or_default();
    let (reservation, product, document) = (id("reservation_id"), id("product_id"), id("document_id"));
    let ret = id("return_id");
    let edo_dir = crate::config::resource_path(&state.settings.documents.edo_dir);
    let (schema, job_id) = (tenant.schema.as_str().to_owned(), job.id);
    crate::db::with_tenant(&state.pool, &tenant.schema, move |c| match kind.as_str() {
        REMIND_JOB => reservations::remind(c, reservation),
        EXPIRE_JOB => reservations::expire(c, reservation),
        ARRIVED_JOB => waitlist::arrived(c, product).map(|_| ()),
        edo::SEND_JOB => edo::send(c, &edo_dir, &schema, document),
        edo::POLL_JOB => edo::poll(c, &edo_dir, &schema, Some(job_id)).map(|_| ()),
        returns::REMIND_JOB => returns::thread::remind(c, ret),
        _ => Ok(()),
    })
    .await
}

/// Runs until the process stops: drains ready jobs, then polls once a second.
pub async fn run_forever(state: actix_web::web::Data<AppState>) {
    loop {
        match run_once(&state, None).await {
            Ok(0) => actix_web::rt::time::sleep(Duration::from_secs(1)).await,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "job queue unavailable; retrying in 5 s");
                actix_web::rt::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}
