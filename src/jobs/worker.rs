//! The worker loop: embedded in `serve` (unless `--no-worker`) and alone in `tradeport worker`.

use std::collections::BTreeMap;
use std::pin::pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use tracing::Instrument;

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

use super::batch::{release_on_shutdown, span, timed, Outcomes, Pending};
use super::{claim, complete, fail, Job};

/// Claims and runs one batch of ready jobs (of one tenant, in tests), then sends due mail;
/// returns how many jobs and mails were handled. Once shutdown begins it claims nothing, and
/// the jobs of the batch not started yet go back to the queue at once while the running one
/// finishes.
pub async fn run_once(state: &AppState, tenant: Option<i64>) -> AppResult<usize> {
    if state.lifecycle.is_stopping() {
        return Ok(0);
    }
    let lease = state.settings.jobs.lease_secs;
    let claimed: Vec<Job> = read_platform(&state.pool, move |c| claim(c, tenant, 100, lease)).await?;
    let n = claimed.len();
    let pending = Pending::new(&claimed);
    let work = run_claimed(state, claimed, &pending);
    let Outcomes { done, failed } = match select(pin!(work), pin!(release_on_shutdown(state, &pending))).await {
        Either::Left((outcomes, _)) => outcomes?,
        Either::Right((never, _)) => match never {},
    };
    read_platform(&state.pool, move |c| {
        complete(c, &done)?;
        for (job, msg) in &failed {
            fail(c, job, msg)?;
        }
        Ok(())
    })
    .await?;
    // The mail outbox (only with SMTP_URL set); none is claimed once shutdown has begun.
    if state.lifecycle.is_stopping() {
        return Ok(n);
    }
    let mailed = crate::platform::mail_delivery::deliver(state, tenant).await?;
    Ok(n + mailed)
}

async fn run_claimed(state: &AppState, claimed: Vec<Job>, pending: &Pending) -> AppResult<Outcomes> {
    let mut out = Outcomes::default();
    // Index jobs of one tenant are merged into one engine call.
    let mut index: BTreeMap<i64, (Vec<i64>, Vec<Job>)> = BTreeMap::new();
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
                if pending.start(job.id) {
                    let msg = format!("unknown job kind {}", job.kind);
                    out.record(state, job, Duration::ZERO, Err(msg));
                }
            }
        }
    }
    // Webhook deliveries wait on other servers (up to 10 s each): sent side by side.
    hooks.retain(|j| pending.start(j.id));
    let sent =
        futures_util::future::join_all(hooks.iter().map(|j| timed(delivery::run_job(state, j).instrument(span(j)))))
            .await;
    for (job, (result, took)) in hooks.into_iter().zip(sent) {
        out.record(state, job, took, result.map_err(|e| format!("{e:#}")));
    }
    // One at a time: tenant jobs, then 1C imports (each in its own transactions, possibly long).
    for job in tenant_jobs.into_iter().chain(exchange_jobs) {
        if pending.start(job.id) {
            let run = async {
                if job.kind == exchange::IMPORT_JOB {
                    exchange::run_job(state, &job).await
                } else {
                    run_tenant_job(state, &job).await
                }
            };
            let (result, took) = timed(run.instrument(span(&job))).await;
            out.record(state, job, took, result.map_err(|e| format!("{e:#}")));
        }
    }
    for (tenant_id, (mut ids, mut jobs)) in index {
        jobs.retain(|j| pending.start(j.id));
        let Some(first) = jobs.first() else { continue };
        let job_span = span(first);
        ids.sort_unstable();
        ids.dedup();
        let (result, took) = timed(
            async {
                let tenant = read_platform(&state.pool, move |c| tenants::find_by_id(c, tenant_id)).await?;
                match tenant {
                    // The tenant is gone: nothing left to index.
                    None => Ok(()),
                    Some(t) => state.search.index(&Scope { tenant_id, schema: t.schema }, &ids).await,
                }
            }
            .instrument(job_span),
        )
        .await;
        // Merged jobs share one run: each records its result and duration.
        let result = result.map_err(|e| format!("{e:#}"));
        for job in jobs {
            out.record(state, job, took, result.clone());
        }
    }
    Ok(out)
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

/// Runs until shutdown begins: drains ready jobs, then polls once a second. Returns when the
/// batch it was running is finished (its unstarted jobs handed back).
pub async fn run_forever(state: actix_web::web::Data<AppState>) {
    tracing::info!(target: "tradeport::jobs", "job worker started");
    while !state.lifecycle.is_stopping() {
        let pause = match run_once(&state, None).await {
            Ok(0) => Duration::from_secs(1),
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "job queue unavailable; retrying in 5 s");
                Duration::from_secs(5)
            }
        };
        if !pause.is_zero() {
            select(pin!(actix_web::rt::time::sleep(pause)), pin!(state.lifecycle.stopped())).await;
        }
    }
    tracing::info!(target: "tradeport::jobs", "job worker stopped");
}
