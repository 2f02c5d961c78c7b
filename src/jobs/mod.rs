//! The PostgreSQL job queue (outbox). Jobs are inserted in the transaction of the change that
//! causes them; the worker claims ready jobs with `FOR UPDATE SKIP LOCKED`, leasing them by
//! moving `run_at` forward (a crashed worker's jobs come back when the lease ends), deletes
//! them when done, retries failures with exponential back-off, and moves a job that failed
//! `max_attempts` times to `public.dead_jobs`.

mod batch;
pub mod worker;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Double, Int4, Jsonb, Nullable, Text, Timestamptz};

use crate::error::AppResult;

/// How long a claimed job is hidden from other workers unless `jobs.lease_secs` says
/// otherwise: a worker that dies (`kill -9`, a lost node) leaves its jobs invisible this long.
pub const LEASE_SECS: i64 = 300;

#[derive(Debug, Clone, QueryableByName)]
pub struct Job {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub tenant_id: Option<i64>,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Int4)]
    pub max_attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// The tenant's slug, for the job's log line.
    #[diesel(sql_type = Nullable<Text>)]
    pub tenant_slug: Option<String>,
}

/// Claims up to `limit` ready jobs (optionally of one tenant), leasing them for `lease_secs`.
pub fn claim(conn: &mut PgConnection, tenant: Option<i64>, limit: i64, lease_secs: i64) -> AppResult<Vec<Job>> {
    Ok(diesel::sql_query(
        "UPDATE public.jobs j SET attempts = j.attempts + 1, run_at = now() + make_interval(secs => $1) \
         FROM (SELECT id FROM public.jobs WHERE run_at <= now() AND ($2::bigint IS NULL OR tenant_id = $2) \
               ORDER BY priority DESC, run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) ready \
         WHERE j.id = ready.id \
         RETURNING j.id, j.kind, j.tenant_id, j.payload, j.attempts, j.max_attempts, j.created_at, \
         (SELECT t.slug FROM public.tenants t WHERE t.id = j.tenant_id) AS tenant_slug",
    )
    .bind::<BigInt, _>(lease_secs.max(1))
    .bind::<Nullable<BigInt>, _>(tenant)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

/// A job is done: it disappears.
pub fn complete(conn: &mut PgConnection, ids: &[i64]) -> AppResult<()> {
    use crate::db::schema_platform::jobs;
    diesel::delete(jobs::table.filter(jobs::id.eq_any(ids))).execute(conn)?;
    Ok(())
}

/// Claimed jobs that were not started (the worker is stopping): their lease is cleared and
/// the claim's attempt given back, so another worker runs them at once.
pub fn release(conn: &mut PgConnection, ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query("UPDATE public.jobs SET run_at = now(), attempts = greatest(attempts - 1, 0) WHERE id = ANY($1)")
        .bind::<Array<BigInt>, _>(ids)
        .execute(conn)?;
    Ok(())
}

/// A job failed: retry later (2^attempts seconds, at most an hour), or bury it.
pub fn fail(conn: &mut PgConnection, job: &Job, error: &str) -> AppResult<()> {
    let error: String = error.chars().take(2000).collect();
    if job.attempts >= job.max_attempts {
        diesel::sql_query(
            "WITH gone AS (DELETE FROM public.jobs WHERE id = $1 RETURNING *) \
             INSERT INTO public.dead_jobs (id, queue, kind, tenant_id, payload, attempts, last_error, created_at) \
             SELECT id, queue, kind, tenant_id, payload, attempts, $2, created_at FROM gone",
        )
        .bind::<BigInt, _>(job.id)
        .bind::<Text, _>(&error)
        .execute(conn)?;
    } else {
        let delay = 2_i64.pow(job.attempts.clamp(0, 12) as u32).min(3600);
        diesel::sql_query(
            "UPDATE public.jobs SET run_at = now() + make_interval(secs => $2), last_error = $3 WHERE id = $1",
        )
        .bind::<BigInt, _>(job.id)
        .bind::<BigInt, _>(delay)
        .bind::<Text, _>(&error)
        .execute(conn)?;
    }
    Ok(())
}

/// Jobs waiting (for tests and `/metrics`).
pub fn pending(conn: &mut PgConnection, tenant: Option<i64>) -> AppResult<i64> {
    use crate::db::schema_platform::jobs;
    let mut q = jobs::table.into_boxed();
    if let Some(t) = tenant {
        q = q.filter(jobs::tenant_id.eq(t));
    }
    Ok(q.count().get_result(conn)?)
}

/// The queue of one kind (or its dead letters) as `/metrics` shows it.
#[derive(Debug, Clone, QueryableByName)]
pub struct QueueStat {
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// A row of `dead_jobs` (then `ready` is the count of dead jobs).
    #[diesel(sql_type = Bool)]
    pub dead: bool,
    #[diesel(sql_type = BigInt)]
    pub ready: i64,
    #[diesel(sql_type = BigInt)]
    pub scheduled: i64,
    #[diesel(sql_type = Double)]
    pub oldest_ready_secs: f64,
}

/// Ready and scheduled jobs, the age of the oldest ready one, and dead jobs, per kind: one
/// statement at scrape time.
pub fn queue_stats(conn: &mut PgConnection) -> AppResult<Vec<QueueStat>> {
    Ok(diesel::sql_query(
        "SELECT kind, false AS dead, count(*) FILTER (WHERE run_at <= now()) AS ready, \
                count(*) FILTER (WHERE run_at > now()) AS scheduled, \
                coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::float8 \
                  AS oldest_ready_secs \
         FROM public.jobs GROUP BY kind \
         UNION ALL \
         SELECT kind, true, count(*), 0, 0 FROM public.dead_jobs GROUP BY kind",
    )
    .load(conn)?)
}
