//! Quick order on the carts page: pasted "SKU quantity" lines or a CSV/XLSX file; the lines
//! that could not be added are listed with their line number and reason, and stay in the box.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::cart::{page, refusal, words, Extra};
use super::{actor, buyer_or_return, Tx};
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::money::parse_qty;
use crate::ordering::quick;
use crate::web::auth::MaybeUser;
use crate::web::roles::BuyerCtx;
use crate::web::routes::order_api::CartPath;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;
use crate::web::upload;

/// Largest quick-order spreadsheet.
const UPLOAD_LIMIT: usize = 5 * 1024 * 1024;

#[derive(Deserialize)]
pub(super) struct QuickForm {
    #[serde(default)]
    text: String,
}

/// Quick order from pasted "SKU quantity" lines.
pub(super) async fn quick(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
    form: web::Form<QuickForm>,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let entries = quick::parse_text(&form.text);
    quick_add(&state, &req, &b, path.id, entries).await
}

/// Quick order from a CSV or XLSX file (SKU, quantity).
pub(super) async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<CartPath>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    let b = buyer_or_return!(req, t, user, "/cart");
    let tx = Tx::new(&state, &req, &t);
    let id = path.id;
    let mut fields = Vec::new();
    let file = match upload::read(multipart, &["file"], UPLOAD_LIMIT, &mut fields).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return page(&state, &req, &b, Some(id), Extra::alert(tx.msg("choose a CSV or XLSX file"), 422)).await
        }
        Err(AppError::PayloadTooLarge(_)) => {
            return page(&state, &req, &b, Some(id), Extra::alert(tx.t("cart-upload-too-large"), 413)).await
        }
        Err(AppError::BadRequest(m)) => return page(&state, &req, &b, Some(id), Extra::alert(m, 400)).await,
        Err(e) => return Err(e),
    };
    match quick::parse_file(&file.bytes) {
        Ok(entries) => quick_add(&state, &req, &b, id, entries).await,
        Err(m) => page(&state, &req, &b, Some(id), Extra::alert(tx.msg(&m), 422)).await,
    }
}

async fn quick_add(
    state: &AppState,
    req: &HttpRequest,
    b: &BuyerCtx,
    id: i64,
    entries: Vec<quick::Entry>,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &b.tenant);
    let a = actor(b);
    let r = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let report = match quick::add(c, &a, id, &entries) {
            Ok(r) => r,
            Err(AppError::Validation(f)) => return Ok(Err(f)),
            Err(e) => return Err(e),
        };
        let mut rejected = Vec::new();
        for r in report["rejected"].as_array().cloned().unwrap_or_default() {
            let (sku, qty) = (r["sku"].as_str().unwrap_or(""), r["qty"].as_str().unwrap_or(""));
            let why = match parse_qty(qty) {
                Ok(q) => refusal(c, Some(id), sku, q, AppError::field("qty", r["reason"].as_str().unwrap_or("")))?,
                Err(m) => json!({"code": "", "message": format!("quantity {m}")}),
            };
            rejected.push((r, why));
        }
        Ok(Ok((report["added"].as_u64().unwrap_or(0), rejected)))
    })
    .await?;
    let (added, rejected) = match r {
        Ok(x) => x,
        Err(f) => {
            let text = f.into_values().map(|m| tx.msg(&m)).collect::<Vec<_>>().join("; ");
            return page(state, req, b, Some(id), Extra::alert(text, 422)).await;
        }
    };
    if rejected.is_empty() {
        return Ok(see_other(&b.tenant.link(&format!("/cart?id={id}&done=quick&n={added}"))));
    }
    let lines: Vec<Value> = rejected
        .iter()
        .map(|(r, why)| json!({"line": r["line"], "sku": r["sku"], "qty": r["qty"], "reason": words(&tx, why)}))
        .collect();
    let text: String = rejected
        .iter()
        .map(|(r, _)| format!("{} {}\n", r["sku"].as_str().unwrap_or(""), r["qty"].as_str().unwrap_or("")))
        .collect();
    let notice = (added > 0).then(|| tx.t_args("cart-done-quick", &[("n", added.to_string())]));
    let quick = json!({"rejected": lines, "text": text, "count": lines.len()});
    page(state, req, b, Some(id), Extra { notice, quick: Some(quick), status: 422, ..Extra::default() }).await
}
