//! The exchange log staff read: sessions with their files (sizes, durations, what each
//! import created, updated and deleted, warnings, errors) and every request.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::schema::{exchange_files as f_t, exchange_requests as r_t, exchange_sessions as s_t};
use crate::error::{AppError, AppResult};
use crate::exchange::report::{Counts, ImportReport};

#[derive(Debug, Serialize)]
pub struct SessionItem {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: Option<String>,
    pub status: String,
    pub remote_addr: String,
    pub user_agent: String,
    pub requests: i32,
    pub bytes_received: i64,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_secs: i64,
    pub files: usize,
    pub failed_files: usize,
    pub warnings: usize,
    pub totals: Counts,
}

#[derive(Debug, Serialize)]
pub struct FileItem {
    pub name: String,
    pub size_bytes: i64,
    pub chunks: i32,
    pub status: String,
    pub from_zip: Option<String>,
    pub error: Option<String>,
    pub report: Option<ImportReport>,
    pub received_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
}

#[derive(Debug, Serialize, Queryable)]
pub struct RequestItem {
    pub at: DateTime<Utc>,
    pub mode: String,
    pub filename: String,
    pub bytes: i64,
    pub status: String,
    pub message: String,
    pub duration_ms: i32,
}

type SessionRow = (
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    i32,
    i64,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

type FileRowFull = (
    i64,
    String,
    i64,
    i32,
    String,
    Option<String>,
    Option<String>,
    Option<Value>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn files_of(conn: &mut PgConnection, ids: &[i64]) -> AppResult<Vec<(i64, FileItem)>> {
    let rows: Vec<FileRowFull> = f_t::table
        .filter(f_t::session_id.eq_any(ids))
        .order(f_t::id)
        .select((
            f_t::session_id,
            f_t::name,
            f_t::size_bytes,
            f_t::chunks,
            f_t::status,
            f_t::from_zip,
            f_t::error,
            f_t::report,
            f_t::received_at,
            f_t::started_at,
            f_t::finished_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(sid, name, size_bytes, chunks, status, from_zip, error, report, received_at, started_at, finished_at)| {
                let duration_ms = started_at.zip(finished_at).map(|(a, b)| (b - a).num_milliseconds());
                let report = report.and_then(|v| serde_json::from_value(v).ok());
                (
                    sid,
                    FileItem {
                        name,
                        size_bytes,
                        chunks,
                        status,
                        from_zip,
                        error,
                        report,
                        received_at,
                        started_at,
                        finished_at,
                        duration_ms,
                    },
                )
            },
        )
        .collect())
}

fn item(r: SessionRow, files: &[&FileItem]) -> SessionItem {
    let (
        id,
        kind,
        version,
        status,
        remote_addr,
        user_agent,
        requests,
        bytes_received,
        error,
        started_at,
        last_seen_at,
        finished_at,
    ) = r;
    let end = finished_at.unwrap_or(last_seen_at);
    let mut totals = Counts::default();
    let mut warnings = 0;
    for f in files {
        if let Some(rep) = &f.report {
            totals += rep.total();
            warnings += rep.warnings.len();
        }
    }
    SessionItem {
        id,
        kind,
        version,
        status,
        remote_addr,
        user_agent,
        requests,
        bytes_received,
        error,
        started_at,
        last_seen_at,
        finished_at,
        duration_secs: (end - started_at).num_seconds().max(0),
        files: files.iter().filter(|f| f.status != "unpacked").count(),
        failed_files: files.iter().filter(|f| f.status == "failed").count(),
        warnings,
        totals,
    }
}

fn session_rows(conn: &mut PgConnection, id: Option<i64>, limit: i64) -> AppResult<Vec<SessionRow>> {
    let mut q = s_t::table
        .select((
            s_t::id,
            s_t::kind,
            s_t::version,
            s_t::status,
            s_t::remote_addr,
            s_t::user_agent,
            s_t::requests,
            s_t::bytes_received,
            s_t::error,
            s_t::started_at,
            s_t::last_seen_at,
            s_t::finished_at,
        ))
        .order(s_t::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(id) = id {
        q = q.filter(s_t::id.eq(id));
    }
    Ok(q.load(conn)?)
}

/// The newest sessions, newest first.
pub fn sessions(conn: &mut PgConnection, limit: i64) -> AppResult<Vec<SessionItem>> {
    let rows = session_rows(conn, None, limit)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let files = files_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine: Vec<&FileItem> = files.iter().filter(|(sid, _)| *sid == r.0).map(|(_, f)| f).collect();
            item(r, &mine)
        })
        .collect())
}

#[derive(Debug, Serialize)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: SessionItem,
    pub files: Vec<FileItem>,
    pub log: Vec<RequestItem>,
}

/// One session with its files and requests.
pub fn session(conn: &mut PgConnection, id: i64) -> AppResult<SessionDetail> {
    let row = session_rows(conn, Some(id), 1)?.pop().ok_or_else(|| AppError::not_found("exchange session"))?;
    let files: Vec<FileItem> = files_of(conn, &[id])?.into_iter().map(|(_, f)| f).collect();
    let session = item(row, &files.iter().collect::<Vec<_>>());
    let log = r_t::table
        .filter(r_t::session_id.eq(id))
        .order(r_t::id)
        .limit(2000)
        .select((r_t::at, r_t::mode, r_t::filename, r_t::bytes, r_t::status, r_t::message, r_t::duration_ms))
        .load(conn)?;
    Ok(SessionDetail { session, files, log })
}

/// Requests refused before any session (bad credentials, exchange off), newest first.
pub fn refused(conn: &mut PgConnection, limit: i64) -> AppResult<Vec<RequestItem>> {
    Ok(r_t::table
        .filter(r_t::session_id.is_null())
        .order(r_t::id.desc())
        .limit(limit)
        .select((r_t::at, r_t::mode, r_t::filename, r_t::bytes, r_t::status, r_t::message, r_t::duration_ms))
        .load(conn)?)
}
