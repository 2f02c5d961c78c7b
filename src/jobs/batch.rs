//! One claimed batch as the worker runs it: which jobs are not started yet (so a shutdown can
//! hand them back to the queue at once), and what became of each job (its log line, target
//! `tradeport::jobs`, and its metrics).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::app::AppState;
use crate::db::read_platform;

use super::{release, Job};

/// Claimed jobs not started yet: id → kind.
pub(super) struct Pending(Mutex<HashMap<i64, String>>);

impl Pending {
    pub fn new(jobs: &[Job]) -> Pending {
        Pending(Mutex::new(jobs.iter().map(|j| (j.id, j.kind.clone())).collect()))
    }

    /// Marks a job started; `false` when a shutdown has handed it back already.
    pub fn start(&self, id: i64) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&id).is_some()
    }

    fn take_all(&self) -> Vec<(i64, String)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).drain().collect()
    }
}

/// Waits for shutdown, then returns every unstarted job of the batch to the queue (lease
/// cleared). Never resolves: it runs beside the batch and is dropped with it.
pub(super) async fn release_on_shutdown(state: &AppState, pending: &Pending) -> Infallible {
    state.lifecycle.stopped().await;
    let jobs = pending.take_all();
    if !jobs.is_empty() {
        let ids: Vec<i64> = jobs.iter().map(|(id, _)| *id).collect();
        let count = ids.len();
        match read_platform(&state.pool, move |c| release(c, &ids)).await {
            Ok(()) => {
                for (_, kind) in &jobs {
                    state.metrics.job_released(kind);
                }
                tracing::info!(target: "tradeport::jobs", count, "stopping: claimed jobs returned to the queue unstarted");
            }
            Err(e) => tracing::warn!(
                target: "tradeport::jobs",
                error = %e,
                count,
                "stopping: could not return claimed jobs to the queue; they come back when their lease ends"
            ),
        }
    }
    std::future::pending::<Infallible>().await
}

/// What became of the jobs of a batch, written back in one transaction at its end.
#[derive(Default)]
pub(super) struct Outcomes {
    pub done: Vec<i64>,
    pub failed: Vec<(Job, String)>,
}

impl Outcomes {
    /// Records one run: its log line, its metrics, and whether it is done or failed.
    pub fn record(&mut self, state: &AppState, job: Job, took: Duration, result: Result<(), String>) {
        let outcome = match &result {
            Ok(()) => "ok",
            Err(_) if job.attempts >= job.max_attempts => "dead",
            Err(_) => "failed",
        };
        state.metrics.job_finished(&job.kind, outcome, took);
        let duration_ms = (took.as_secs_f64() * 1_000_000.0).round() / 1000.0;
        let (job_id, kind, tenant, attempt) = (job.id, job.kind.as_str(), tenant_of(&job), job.attempts);
        let tenant_id = job.tenant_id;
        match result {
            Ok(()) => {
                tracing::info!(target: "tradeport::jobs", job_id, kind, tenant, tenant_id, attempt, outcome, duration_ms, "job");
                self.done.push(job.id);
            }
            Err(error) => {
                tracing::warn!(target: "tradeport::jobs", job_id, kind, tenant, tenant_id, attempt, outcome, duration_ms, error = %error, "job");
                self.failed.push((job, error));
            }
        }
    }
}

/// The tenant's slug, `platform` for platform jobs, `deleted` for a tenant that is gone.
fn tenant_of(job: &Job) -> &str {
    match (&job.tenant_slug, job.tenant_id) {
        (Some(slug), _) => slug,
        (None, Some(_)) => "deleted",
        (None, None) => "platform",
    }
}

/// The span a job runs in: what it logs (a statement timing out, say) carries its id.
pub(super) fn span(job: &Job) -> tracing::Span {
    tracing::info_span!("job", job_id = job.id, kind = %job.kind, tenant = tenant_of(job))
}

/// Runs `fut`, answering its output and how long it took.
pub(super) async fn timed<F: Future>(fut: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let out = fut.await;
    (out, started.elapsed())
}
