//! `mode=import`: each call takes one step and answers at once, so 1C never times out.
//! A zip is unpacked first (one call); then the file is queued as a job (`exchange.import`),
//! and later calls answer `progress` until the job has finished: `success` with what it
//! changed, or `failure` with why nothing was applied. A file imported once in a session is
//! not imported again however often 1C asks.

use std::path::Path;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::files::{self, Unpacked};
use super::schema::exchange_files as f_t;
use super::sessions::Session;
use super::{Answer, Kind};
use crate::app::AppState;
use crate::db::schema_platform::jobs;
use crate::db::{with_tenant, TenantSchema};
use crate::error::AppResult;
use crate::exchange::report::{ImportError, ImportReport};
use crate::jobs::Job;

/// The job kind of a queued exchange import.
pub const IMPORT_JOB: &str = "exchange.import";
/// An import that failed on our side is tried this many times.
const MAX_ATTEMPTS: i32 = 3;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = f_t)]
pub struct FileRow {
    pub id: i64,
    pub session_id: i64,
    pub name: String,
    pub size_bytes: i64,
    pub status: String,
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
}

pub fn find_file(conn: &mut PgConnection, session_id: i64, name: &str) -> AppResult<Option<FileRow>> {
    Ok(f_t::table
        .filter(f_t::session_id.eq(session_id).and(f_t::name.eq(name)))
        .select(FileRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a received chunk: a new file, or more bytes of one (`fresh`: it started again).
pub fn received(conn: &mut PgConnection, session_id: i64, name: &str, size: u64, fresh: bool) -> AppResult<()> {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    diesel::insert_into(f_t::table)
        .values((f_t::session_id.eq(session_id), f_t::name.eq(name), f_t::size_bytes.eq(size), f_t::chunks.eq(1)))
        .on_conflict((f_t::session_id, f_t::name))
        .do_update()
        .set((
            f_t::size_bytes.eq(size),
            // A fresh start counts one chunk; otherwise one more.
            f_t::chunks.eq(f_t::chunks * i32::from(!fresh) + 1),
            f_t::status.eq("received"),
            f_t::report.eq(None::<serde_json::Value>),
            f_t::error.eq(None::<String>),
            f_t::received_at.eq(diesel::dsl::now),
            f_t::started_at.eq(None::<DateTime<Utc>>),
            f_t::finished_at.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)?;
    Ok(())
}

/// `mode=init` again: forget files not yet imported.
pub fn forget_pending(conn: &mut PgConnection, session_id: i64) -> AppResult<()> {
    diesel::delete(f_t::table.filter(f_t::session_id.eq(session_id).and(f_t::status.eq_any(["received", "unpacked"]))))
        .execute(conn)?;
    Ok(())
}

fn finish(conn: &mut PgConnection, id: i64, outcome: Result<&ImportReport, &str>) -> AppResult<()> {
    let (status, report, error) = match outcome {
        Ok(r) => ("done", serde_json::to_value(r).ok(), None),
        Err(e) => ("failed", None, Some(e.to_owned())),
    };
    diesel::update(f_t::table.find(id))
        .set((
            f_t::status.eq(status),
            f_t::report.eq(report),
            f_t::error.eq(error),
            f_t::finished_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// One call of `mode=import&filename=name`: the answer, and whether this call queued the
/// file (the caller then starts the job rather than wait for the worker's next poll).
pub async fn step(
    state: &AppState,
    tenant_id: i64,
    schema: &TenantSchema,
    s: &Session,
    name: &str,
) -> AppResult<(Answer, bool)> {
    if let Some(answer) = unpack_next_zip(state, schema, s).await? {
        return Ok((answer, false));
    }
    let (sid, name_owned) = (s.id, name.to_owned());
    with_tenant(&state.pool, schema, move |c| {
        let Some(file) = find_file(c, sid, &name_owned)? else {
            return Ok((Answer::failure(format!("Файл «{name_owned}» не получен в этом сеансе (mode=file)")), false));
        };
        if file.status == "received" {
            queue(c, tenant_id, &file)?;
            let kb = file.size_bytes / 1024;
            return Ok((Answer::progress(format!("Файл «{name_owned}» ({kb} КБ) поставлен в очередь загрузки")), true));
        }
        let answer = match file.status.as_str() {
            "queued" => Answer::progress(format!("Файл «{name_owned}» ожидает загрузки")),
            "running" => {
                let secs = file.started_at.map(|t| (Utc::now() - t).num_seconds()).unwrap_or(0);
                Answer::progress(format!("Файл «{name_owned}» загружается ({secs} с)"))
            }
            "done" => {
                let report: Option<ImportReport> = file.report.and_then(|v| serde_json::from_value(v).ok());
                let summary = report.map(|r| summary_line(&r)).unwrap_or_default();
                Answer::success([format!("Файл «{name_owned}» загружен. {summary}")])
            }
            "unpacked" => Answer::success([format!("Архив «{name_owned}» распакован")]),
            _ => Answer::failure(format!(
                "Файл «{name_owned}» не загружен, ничего не изменено: {}",
                file.error.unwrap_or_default()
            )),
        };
        Ok((answer, false))
    })
    .await
}

/// What 1C writes to its log after a file (in Russian, as 1C is): counts and warnings.
pub fn summary_line(r: &ImportReport) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("products", "товары"),
        ("variants", "характеристики"),
        ("prices", "цены"),
        ("stock", "остатки"),
        ("categories", "группы"),
        ("attributes", "свойства"),
        ("barcodes", "штрихкоды"),
        ("price_types", "типы цен"),
        ("warehouses", "склады"),
        ("images", "картинки"),
        ("orders", "заказы"),
        ("companies", "контрагенты"),
        ("payments", "оплаты"),
    ];
    let parts: Vec<String> = r
        .counts
        .iter()
        .map(|(k, c)| {
            let name = NAMES.iter().find(|(en, _)| en == k).map_or(k.as_str(), |(_, ru)| ru);
            format!(
                "{name}: новых {}, изменено {}, удалено {}, без изменений {}",
                c.created, c.updated, c.deleted, c.unchanged
            )
        })
        .collect();
    let mut out = if parts.is_empty() { "изменений нет".to_owned() } else { parts.join("; ") };
    if !r.warnings.is_empty() {
        out.push_str(&format!("; предупреждений: {}", r.warnings.len()));
    }
    out
}

fn queue(c: &mut PgConnection, tenant_id: i64, file: &FileRow) -> AppResult<()> {
    diesel::update(f_t::table.find(file.id)).set(f_t::status.eq("queued")).execute(c)?;
    diesel::insert_into(jobs::table)
        .values((
            jobs::queue.eq("exchange"),
            jobs::kind.eq(IMPORT_JOB),
            jobs::tenant_id.eq(tenant_id),
            jobs::priority.eq(5i16),
            jobs::max_attempts.eq(MAX_ATTEMPTS),
            jobs::payload.eq(json!({"session_id": file.session_id, "file_id": file.id})),
        ))
        .execute(c)?;
    Ok(())
}

/// Unpacks the session's next zip, if one waits: `Some(answer)` for this call.
async fn unpack_next_zip(state: &AppState, schema: &TenantSchema, s: &Session) -> AppResult<Option<Answer>> {
    let sid = s.id;
    let zip: Option<FileRow> = with_tenant(&state.pool, schema, move |c| {
        Ok(f_t::table
            .filter(f_t::session_id.eq(sid).and(f_t::status.eq("received")).and(f_t::name.ilike("%.zip")))
            .order(f_t::id)
            .select(FileRow::as_select())
            .first(c)
            .optional()?)
    })
    .await?;
    let Some(zip) = zip else { return Ok(None) };
    let dir = files::session_dir(&state.settings.exchange, schema, sid);
    let name = zip.name.clone();
    let quota = state.settings.exchange.session_quota.min(files::MAX_ZIP_BYTES);
    let unpacked: Result<Vec<Unpacked>, String> =
        crate::db::run_blocking(move || Ok(files::unpack(&dir, &name, quota))).await?;
    let zip_name = zip.name.clone();
    with_tenant(&state.pool, schema, move |c| match unpacked {
        Ok(list) => {
            for u in &list {
                received(c, sid, &u.name, u.size, true)?;
                diesel::update(f_t::table.filter(f_t::session_id.eq(sid).and(f_t::name.eq(&u.name))))
                    .set(f_t::from_zip.eq(&zip_name))
                    .execute(c)?;
            }
            diesel::update(f_t::table.find(zip.id))
                .set((f_t::status.eq("unpacked"), f_t::finished_at.eq(diesel::dsl::now)))
                .execute(c)?;
            Ok(Some(Answer::progress(format!("Архив «{zip_name}» распакован: файлов {}", list.len()))))
        }
        Err(e) => {
            finish(c, zip.id, Err(&e))?;
            Ok(Some(Answer::failure(format!("{e}; ничего не загружено"))))
        }
    })
    .await
}

/// The queued import job: runs the file's import and records the outcome. A refused file is
/// final; a failure on our side is retried by the queue, then recorded as failed.
pub async fn run_job(state: &AppState, job: &Job) -> AppResult<()> {
    let Some(tenant_id) = job.tenant_id else { return Ok(()) };
    let Some(tenant) =
        crate::db::read_platform(&state.pool, move |c| crate::platform::tenants::find_by_id(c, tenant_id)).await?
    else {
        return Ok(());
    };
    let file_id = job.payload.get("file_id").and_then(|v| v.as_i64()).unwrap_or_default();
    let last_try = job.attempts >= job.max_attempts;
    run_file(state, tenant_id, &tenant.schema, file_id, last_try).await
}

/// Imports one received file now (the job, or `mode=file` of the old sale protocol).
pub async fn run_file(
    state: &AppState,
    tenant_id: i64,
    schema: &TenantSchema,
    file_id: i64,
    last_try: bool,
) -> AppResult<()> {
    use super::schema::exchange_sessions as s_t;
    let claimed: Option<(FileRow, String)> = with_tenant(&state.pool, schema, move |c| {
        let row: Option<(FileRow, String)> = f_t::table
            .inner_join(s_t::table)
            .filter(f_t::id.eq(file_id))
            .select((FileRow::as_select(), s_t::kind))
            .for_update()
            .first(c)
            .optional()?;
        match row {
            // Done or failed already (a repeated job): nothing to do.
            Some((f, kind)) if matches!(f.status.as_str(), "received" | "queued" | "running") => {
                diesel::update(f_t::table.find(f.id))
                    .set((f_t::status.eq("running"), f_t::started_at.eq(diesel::dsl::now)))
                    .execute(c)?;
                Ok(Some((f, kind)))
            }
            _ => Ok(None),
        }
    })
    .await?;
    let Some((file, kind)) = claimed else { return Ok(()) };
    let dir = files::session_dir(&state.settings.exchange, schema, file.session_id);
    let path = dir.join(&file.name);
    let kind = Kind::parse(&kind).unwrap_or(Kind::Catalog);
    let started = std::time::Instant::now();
    let outcome = dispatch(state, tenant_id, schema, kind, &file.name, &path, &dir).await;
    tracing::info!(file = %file.name, ms = started.elapsed().as_millis() as u64, ok = outcome.is_ok(), "exchange import");
    let id = file.id;
    match outcome {
        Ok(report) => with_tenant(&state.pool, schema, move |c| finish(c, id, Ok(&report))).await,
        Err(ImportError::Refused(msg)) => with_tenant(&state.pool, schema, move |c| finish(c, id, Err(&msg))).await,
        Err(ImportError::App(e)) => {
            let msg = format!("внутренняя ошибка сервера: {e}");
            with_tenant(&state.pool, schema, move |c| {
                if last_try {
                    finish(c, id, Err(&msg))
                } else {
                    diesel::update(f_t::table.find(id))
                        .set((f_t::status.eq("queued"), f_t::error.eq(&msg)))
                        .execute(c)?;
                    Ok(())
                }
            })
            .await?;
            Err(e)
        }
    }
}

/// The importer for the session's type and the file's name.
async fn dispatch(
    state: &AppState,
    tenant_id: i64,
    schema: &TenantSchema,
    kind: Kind,
    name: &str,
    path: &Path,
    dir: &Path,
) -> Result<ImportReport, ImportError> {
    match kind {
        Kind::Sale => crate::exchange::sale::import_file(state, tenant_id, schema, name, path).await,
        Kind::Catalog => crate::exchange::cml_import::import_file(state, tenant_id, schema, name, path, dir).await,
    }
}
