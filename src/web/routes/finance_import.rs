//! Bank statement import (1CClientBankExchange) over JSON: upload a file, see what became of
//! each of its documents; the latest imports and their reports.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::settings as catalog_settings;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::finance::bank_import::{self, Payee};
use crate::finance::{bank_statement, requisites};
use crate::identity::staff::{MANAGE_FINANCE, SEE_FINANCE};
use crate::web::roles::StaffCtx;
use crate::web::routes::account_api::IdPath;
use crate::web::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/admin/payments/import").route(web::post().to(import)))
        .service(web::resource("/api/v1/admin/payments/imports").route(web::get().to(list)))
        .service(web::resource("/api/v1/admin/payments/imports/{id}").route(web::get().to(show)));
}

/// Parses and imports a statement file for the staff member `s`: the stored report, or a
/// field error on `file` when the file cannot be used (nothing imported then).
pub async fn run(state: &AppState, s: &StaffCtx, file_name: String, bytes: Vec<u8>) -> AppResult<Value> {
    s.require(MANAGE_FINANCE)?;
    let st = web::block(move || bank_statement::parse(&bytes))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::field("file", e))?;
    let me = s.user.account.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let details = requisites::load(c)?;
        let get = |k: &str| details.get(k).and_then(Value::as_str).unwrap_or_default().trim().to_owned();
        let (inn, account) = (get("inn"), get("account"));
        let currency = catalog_settings::load(c)?.currency;
        bank_import::import(c, Some(me), &file_name, &st, &Payee { inn: &inn, account: &account, currency: &currency })
    })
    .await
}

/// `multipart/form-data` with the statement in `file`: 201 with the report.
async fn import(
    state: web::Data<AppState>,
    s: StaffCtx,
    multipart: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_FINANCE)?;
    let up = upload::read(multipart, &["file"], bank_statement::MAX_BYTES, &mut Vec::new())
        .await?
        .ok_or_else(|| AppError::field("file", "choose the statement file (1CClientBankExchange, kl_to_1c.txt)"))?;
    let report = run(&state, &s, up.file_name, up.bytes).await?;
    Ok(HttpResponse::Created().json(report))
}

async fn list(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let items = with_tenant(&state.pool, &s.tenant.tenant.schema, |c| bank_import::list(c, 50)).await?;
    Ok(HttpResponse::Ok().json(json!({"total": items.len(), "items": items})))
}

async fn show(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    let id = path.id;
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| bank_import::find(c, id)).await?;
    Ok(HttpResponse::Ok().json(v))
}
