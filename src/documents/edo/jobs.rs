//! EDO work on the job queue: `edo.send` hands one document to the store's provider (the
//! queue retries it with back-off when the operator or the folder is unavailable), and
//! `edo.poll` reads the operator's receipts, again every minute while documents wait.

use std::path::Path;

use diesel::prelude::*;
use serde_json::json;

use super::file::FileProvider;
use super::http::HttpProvider;
use super::EdoProvider;
use crate::db::schema_platform::jobs;
use crate::documents::settings;
use crate::error::{AppError, AppResult};

pub const SEND_JOB: &str = "edo.send";
pub const POLL_JOB: &str = "edo.poll";
/// Seconds between polls while documents wait for the operator.
pub const POLL_EVERY: i64 = 60;

/// Enqueues an EDO job in the caller's transaction; a poll is enqueued once per tenant (the
/// running poll job `running` not counted).
pub fn enqueue(conn: &mut PgConnection, kind: &str, document: Option<i64>, delay_secs: i64) -> AppResult<()> {
    enqueue_except(conn, kind, document, delay_secs, None)
}

fn enqueue_except(
    conn: &mut PgConnection,
    kind: &str,
    document: Option<i64>,
    delay_secs: i64,
    running: Option<i64>,
) -> AppResult<()> {
    let tenant = crate::documents::store(conn)?.0;
    if kind == POLL_JOB {
        let pending: bool = diesel::select(diesel::dsl::exists(
            jobs::table
                .filter(jobs::kind.eq(POLL_JOB))
                .filter(jobs::tenant_id.eq(tenant))
                .filter(jobs::id.ne(running.unwrap_or(0))),
        ))
        .get_result(conn)?;
        if pending {
            return Ok(());
        }
    }
    diesel::insert_into(jobs::table)
        .values((
            jobs::queue.eq("documents"),
            jobs::kind.eq(kind),
            jobs::tenant_id.eq(tenant),
            jobs::payload.eq(json!({"document_id": document})),
            jobs::run_at.eq(chrono::Utc::now() + chrono::Duration::seconds(delay_secs)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The store's provider.
pub fn provider(s: &settings::DocSettings, edo_dir: &Path, schema: &str) -> AppResult<Box<dyn EdoProvider + Send>> {
    match s.edo_provider.as_str() {
        "file" => Ok(Box::new(FileProvider::new(edo_dir, schema))),
        "http" => {
            Ok(Box::new(HttpProvider { base_url: s.edo_http_url.clone(), credentials: s.edo_http_credentials.clone() }))
        }
        _ => Err(AppError::Unavailable("EDO is not configured for this store".into())),
    }
}

/// `edo.send`: hands the file over, then marks it sent and schedules a poll. Sending again
/// after a crash between the two replaces the same file name (idempotent at the operator).
pub fn send(conn: &mut PgConnection, edo_dir: &Path, schema: &str, document: i64) -> AppResult<()> {
    let Some(out) = super::outgoing(conn, document)? else { return Ok(()) };
    let s = settings::load(conn)?;
    provider(&s, edo_dir, schema)?.send(&out)?;
    super::mark_sent(conn, document)?;
    enqueue(conn, POLL_JOB, None, POLL_EVERY)
}

/// `edo.poll`: applies the receipts that arrived; polls again later while documents wait
/// (when run as the job `again`). Answers how many receipts were applied.
pub fn poll(conn: &mut PgConnection, edo_dir: &Path, schema: &str, again: Option<i64>) -> AppResult<usize> {
    let s = settings::load(conn)?;
    if s.edo_provider == "none" {
        return Ok(0);
    }
    let p = provider(&s, edo_dir, schema)?;
    let mut applied = 0;
    for (key, receipt) in p.receipts()? {
        let ok = super::apply(conn, &receipt)?;
        applied += usize::from(ok);
        p.done(&key, ok)?;
    }
    if again.is_some() && super::open_count(conn)? > 0 {
        enqueue_except(conn, POLL_JOB, None, POLL_EVERY, again)?;
    }
    Ok(applied)
}
