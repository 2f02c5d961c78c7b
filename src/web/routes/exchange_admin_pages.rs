//! `/admin/exchange`: everything a store needs to point its 1C at Tradeport — the switch,
//! the login and password, the answer encoding, the address to enter in 1C with the steps
//! to take there, and the exchange log (sessions, files, counts, warnings, errors).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::admin_pages::staff_or_return;
use super::exchange_admin_api::{allowed, current, save};
use super::order_pages::Tx;
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::exchange::onec::log;
use crate::exchange::onec::setup::SetupBody;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::routes::account_api::IdPath;
use crate::web::routes::catalog_api::pairs;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/exchange").route(web::get().to(show)).route(web::post().to(submit)))
        .service(web::resource("/admin/exchange/sessions/{id}").route(web::get().to(session)));
}

async fn show(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/exchange");
    let values = current(&state, &s).await?;
    let saved = pairs(&req)?.iter().any(|(k, _)| k == "saved");
    page(&state, &req, &t, values, FieldErrors::new(), saved).await
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    values: Value,
    errors: FieldErrors,
    saved: bool,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, t);
    let status = if errors.is_empty() { 200 } else { 422 };
    let errors: Map<String, Value> = errors.into_iter().map(|(k, v)| (k, json!(tx.msg(&v)))).collect();
    let (sessions, refused) =
        with_tenant(&state.pool, &t.tenant.schema, |c| Ok((log::sessions(c, 30)?, log::refused(c, 10)?))).await?;
    let sessions: Vec<Value> = sessions.iter().map(|x| session_view(&tx, json!(x))).collect();
    let refused: Vec<Value> = refused.iter().map(|x| request_view(&tx, json!(x))).collect();
    let mut values = values;
    values["file_limit_kb"] = json!(values["file_limit"].as_u64().unwrap_or(0) / 1024);
    let data = json!({
        "v": values,
        "errors": errors,
        "saved": saved,
        "sessions": sessions,
        "refused": refused,
        "url": values["urls"][0],
        "url_path": values["urls"][1],
    });
    let ctx = store_page(req, &tx.t("exchange-title"), data).await?;
    render_status(state, "admin/exchange", &ctx, status)
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/exchange");
    let f = form.into_inner();
    let get = |k: &str| f.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned());
    let limit_kb = get("file_limit_kb").unwrap_or_default();
    let body = SetupBody {
        enabled: get("enabled").is_some(),
        login: get("login").unwrap_or_default(),
        password: get("password"),
        encoding: get("encoding"),
        zip: Some(get("zip").is_some()),
        file_limit: limit_kb.parse::<u64>().ok().map(|kb| kb * 1024),
    };
    let mut bad_limit = FieldErrors::new();
    if !limit_kb.is_empty() && body.file_limit.is_none() {
        bad_limit.insert("file_limit".into(), "enter a whole number of kilobytes".into());
    }
    let result =
        if bad_limit.is_empty() { save(&state, &s, body.clone()).await } else { Err(AppError::Validation(bad_limit)) };
    match result {
        Ok(_) => Ok(see_other(&t.link("/admin/exchange?saved=1"))),
        Err(AppError::Validation(errors)) => {
            // What was typed stays on the form (never the password).
            let mut values = current(&state, &s).await?;
            values["enabled"] = json!(body.enabled);
            values["login"] = json!(body.login);
            values["encoding"] = json!(body.encoding);
            values["zip"] = json!(body.zip);
            page(&state, &req, &t, values, errors, false).await
        }
        Err(e) => Err(e),
    }
}

async fn session(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/exchange");
    allowed(&s)?;
    let id = path.id;
    let detail = with_tenant(&state.pool, &t.tenant.schema, move |c| log::session(c, id)).await?;
    let tx = Tx::new(&state, &req, &t);
    let mut v = session_view(&tx, json!(detail));
    let files: Vec<Value> = detail.files.iter().map(|f| file_view(&tx, json!(f))).collect();
    let log: Vec<Value> = detail.log.iter().map(|r| request_view(&tx, json!(r))).collect();
    v["files"] = json!(files);
    v["log"] = json!(log);
    let ctx = store_page(&req, &format!("{} #{id}", tx.t("exchange-session-title")), json!({"s": v})).await?;
    render_status(&state, "admin/exchange_session", &ctx, 200)
}

/// Bytes as people read them: 812 B, 14.2 KB, 3.1 MB (Б, КБ, МБ in Russian).
fn size(tx: &Tx, bytes: &Value) -> String {
    let b = bytes.as_i64().unwrap_or(0) as f64;
    let units = if tx.lang == "ru" { ["Б", "КБ", "МБ"] } else { ["B", "KB", "MB"] };
    let text = match b {
        b if b < 1024.0 => format!("{b} {}", units[0]),
        b if b < 1024.0 * 1024.0 => format!("{:.1} {}", b / 1024.0, units[1]),
        b => format!("{:.1} {}", b / (1024.0 * 1024.0), units[2]),
    };
    if tx.lang == "ru" {
        text.replace('.', ",")
    } else {
        text
    }
}

fn session_view(tx: &Tx, mut v: Value) -> Value {
    v["started"] = json!(tx.when(&v["started_at"]));
    v["size"] = json!(size(tx, &v["bytes_received"]));
    v["type_label"] = json!(tx.t(&format!("exchange-type-{}", v["type"].as_str().unwrap_or("catalog"))));
    v["status_label"] = json!(tx.t(&format!("exchange-status-{}", v["status"].as_str().unwrap_or("open"))));
    v
}

fn file_view(tx: &Tx, mut v: Value) -> Value {
    v["size"] = json!(size(tx, &v["size_bytes"]));
    v["status_label"] = json!(tx.t(&format!("exchange-file-{}", v["status"].as_str().unwrap_or("received"))));
    let counts: Vec<Value> = v["report"]["counts"]
        .as_object()
        .map(|m| m.iter().map(|(k, c)| json!({"what": k, "c": c})).collect())
        .unwrap_or_default();
    v["counts"] = json!(counts);
    if v["report"].is_null() {
        v["report"] = json!({"warnings": [], "schema_version": ""});
    }
    v
}

fn request_view(tx: &Tx, mut v: Value) -> Value {
    v["when"] = json!(tx.when(&v["at"]));
    v["size"] = json!(size(tx, &v["bytes"]));
    v
}
