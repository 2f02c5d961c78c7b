//! The spreadsheet import page: the columns a file may hold, and the report of a file.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::form::{column_label, load, Loaded};
use super::Tx;
use crate::app::AppState;
use crate::catalog::media;
use crate::db::with_tenant;
use crate::error::AppResult;
use crate::identity::staff::MANAGE_CATALOG;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::StaffCtx;
use crate::web::routes::admin_catalog_api::run_import;
use crate::web::routes::admin_pages::staff_or_return;
use crate::web::tenant::TenantCtx;
use crate::web::upload;

/// Largest spreadsheet accepted by the import form (as the API).
const IMPORT_LIMIT: usize = 20 * 1024 * 1024;
/// Import problems listed on the page; the count above the table is always complete.
const SHOWN_PROBLEMS: usize = 1000;

/// What a spreadsheet cell of `col` may hold (the import page's column list).
fn column_format(tx: &Tx, l: &Loaded, col: &str) -> String {
    if let Some(a) = col.strip_prefix("attr:").and_then(|a| l.attrs.iter().find(|x| x.code == a)) {
        return match a.kind.as_str() {
            "list" => tx.t_with("admin-catalog-format-attr-list", "options", &a.options.join(", ")),
            "bool" => tx.t("admin-catalog-format-attr-bool"),
            "number" if a.unit.is_empty() => tx.t("admin-catalog-format-number"),
            "number" => tx.t_with("admin-catalog-format-attr-number", "unit", &a.unit),
            _ => tx.t("admin-catalog-format-attr-text"),
        };
    }
    let key = match col {
        "pack_size" | "min_qty" | "order_multiple" => "positive",
        "weight_kg" | "volume_m3" => "number",
        "description" | "description_en" => "html",
        "name_en" => "optional",
        c if c.starts_with("stock:") => "stock",
        c if c.starts_with("price:") => "extra-price",
        c => return tx.t(&format!("admin-catalog-format-{}", c.replace('_', "-"))),
    };
    tx.t(&format!("admin-catalog-format-{key}"))
}

/// The import page, with the report of a file when there is one.
async fn import_view(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    report: Option<Value>,
    error: Option<String>,
    check_only: bool,
    status: u16,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &s.tenant);
    let l = with_tenant(&state.pool, &s.tenant.tenant.schema, |c| load(c, None)).await?;
    let columns: Vec<Value> = l
        .columns
        .iter()
        .map(|c| {
            json!({"code": c, "label": column_label(&tx, &l, c), "format": column_format(&tx, &l, c),
                "required": (["sku", "name", "price"].contains(&c.as_str()))})
        })
        .collect();
    let data = json!({"columns": columns, "report": report, "error": error, "check_only": check_only,
        "can_manage": MANAGE_CATALOG.contains(&s.role)});
    let ctx = store_page(req, &tx.t("admin-catalog-import-title"), data).await?;
    render_status(state, "admin/import", &ctx, status)
}

pub(super) async fn import_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products/import");
    import_view(&state, &req, &s, None, None, false, 200).await
}

pub(super) async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products/import");
    s.require(MANAGE_CATALOG)?;
    let tx = Tx::new(&state, &req, &t);
    let mut fields = Vec::new();
    let up = match upload::read(multipart, &["file"], IMPORT_LIMIT, &mut fields).await {
        Ok(Some(up)) => up,
        Ok(None) => {
            let message = tx.msg("choose a CSV or XLSX file");
            return import_view(&state, &req, &s, None, Some(message), false, 422).await;
        }
        Err(e) => {
            let (message, status) = tx.problem(e)?;
            return import_view(&state, &req, &s, None, Some(message), false, status).await;
        }
    };
    let check_only = fields.iter().any(|(k, v)| k == "check_only" && !v.is_empty());
    let r = run_import(&state, &s, up.bytes, !check_only).await?;
    let problems: Vec<Value> = r
        .errors
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|e| json!({"line": e.line, "sku": e.sku, "column": e.column, "message": tx.msg(&e.message)}))
        .collect();
    let report = json!({"file": media::safe_file_name(&up.file_name), "rows": r.rows, "created": r.created, "updated": r.updated,
        "applied": r.applied, "encoding": r.encoding.unwrap_or("XLSX"), "problems": problems, "problem_count": r.errors.len(),
        "more": r.errors.len().saturating_sub(SHOWN_PROBLEMS), "valid": r.errors.is_empty()});
    let status = if r.errors.is_empty() { 200 } else { 422 };
    import_view(&state, &req, &s, Some(report), None, check_only, status).await
}
