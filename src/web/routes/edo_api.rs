//! EDO (feature `edo`) and the images on documents, for staff: send a document to the buyer
//! through the store's EDO provider, read the operator's receipts now, set a customer's EDO
//! participant id; upload, show and remove the logo, signatures and stamp.

use actix_multipart::Multipart;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::with_tenant;
use crate::documents::edo::{self, jobs};
use crate::documents::{assets, settings};
use crate::error::{AppError, AppResult};
use crate::identity::staff::{MANAGE_FINANCE, MANAGE_STAFF, SEE_FINANCE};
use crate::platform::features::Feature;
use crate::web::roles::StaffCtx;
use crate::web::routes::account_api::IdPath;
use crate::web::routes::documents_api::DocPath;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/admin/documents/{id}/edo").route(web::post().to(send)))
        .service(web::resource("/api/v1/admin/edo/poll").route(web::post().to(poll)))
        .service(web::resource("/api/v1/admin/customers/{id}/edo").route(web::put().to(set_customer)))
        .service(
            web::resource("/api/v1/admin/document-images/{kind}")
                .route(web::get().to(show_image))
                .route(web::post().to(upload_image))
                .route(web::delete().to(remove_image)),
        );
}

/// Queues document `id` for EDO (once); the worker sends it.
pub async fn queue(state: &AppState, s: &StaffCtx, id: i64) -> AppResult<String> {
    s.require(MANAGE_FINANCE)?;
    s.tenant.require(Feature::Edo)?;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        crate::documents::find(c, id, None)?;
        let provider = settings::load(c)?.edo_provider;
        edo::queue(c, id, &provider)
    })
    .await
}

async fn send(state: web::Data<AppState>, s: StaffCtx, p: web::Path<DocPath>) -> AppResult<HttpResponse> {
    let status = queue(&state, &s, p.id).await?;
    Ok(HttpResponse::Accepted().json(json!({"id": p.id, "edo": {"status": status}})))
}

/// Reads the operator's receipts now (the worker does it every minute while documents wait).
pub async fn poll_now(state: &AppState, s: &StaffCtx) -> AppResult<usize> {
    s.require(SEE_FINANCE)?;
    s.tenant.require(Feature::Edo)?;
    let edo_dir = crate::config::resource_path(&state.settings.documents.edo_dir);
    let schema = s.tenant.tenant.schema.as_str().to_owned();
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| jobs::poll(c, &edo_dir, &schema, None)).await
}

async fn poll(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    let applied = poll_now(&state, &s).await?;
    Ok(HttpResponse::Ok().json(json!({"applied": applied})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerEdo {
    edo_id: String,
}

async fn set_customer(
    state: web::Data<AppState>,
    s: StaffCtx,
    p: web::Path<IdPath>,
    body: web::Json<CustomerEdo>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_FINANCE)?;
    s.tenant.require(Feature::Edo)?;
    let value = body.into_inner().edo_id.trim().to_owned();
    if value.len() > 46 || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::field("edo_id", "must be up to 46 Latin letters, digits or dashes"));
    }
    let id = p.id;
    let stored = if value.is_empty() { None } else { Some(value.clone()) };
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        use crate::db::schema_tenant::companies;
        use diesel::prelude::*;
        let n = diesel::update(companies::table.find(id)).set(companies::edo_id.eq(stored)).execute(c)?;
        if n == 0 {
            return Err(AppError::not_found("customer"));
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"id": id, "edo_id": value})))
}

#[derive(Deserialize)]
pub struct KindPath {
    pub kind: String,
}

fn kind_of(p: &KindPath) -> AppResult<String> {
    if assets::KINDS.contains(&p.kind.as_str()) {
        Ok(p.kind.clone())
    } else {
        Err(AppError::not_found("document image"))
    }
}

/// Stores an uploaded image of `kind` (the `image` file field of a multipart form).
pub async fn store_image(state: &AppState, s: &StaffCtx, kind: String, form: Multipart) -> AppResult<i64> {
    s.require(MANAGE_STAFF)?;
    s.tenant.require(Feature::Documents)?;
    let mut fields = Vec::new();
    let upload = crate::web::upload::read(form, &["image"], assets::MAX_BYTES, &mut fields)
        .await?
        .ok_or_else(|| AppError::field("image", "choose a PNG or JPEG file"))?;
    let me = s.user.account.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| assets::upload(c, &kind, &upload.bytes, me)).await
}

async fn upload_image(
    state: web::Data<AppState>,
    s: StaffCtx,
    p: web::Path<KindPath>,
    form: Multipart,
) -> AppResult<HttpResponse> {
    let kind = kind_of(&p)?;
    let id = store_image(&state, &s, kind.clone(), form).await?;
    Ok(HttpResponse::Created().json(json!({"kind": kind, "id": id})))
}

async fn remove_image(state: web::Data<AppState>, s: StaffCtx, p: web::Path<KindPath>) -> AppResult<HttpResponse> {
    s.require(MANAGE_STAFF)?;
    s.tenant.require(Feature::Documents)?;
    let kind = kind_of(&p)?;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| assets::remove(c, &kind)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn show_image(state: web::Data<AppState>, s: StaffCtx, p: web::Path<KindPath>) -> AppResult<HttpResponse> {
    s.require(SEE_FINANCE)?;
    s.tenant.require(Feature::Documents)?;
    let kind = kind_of(&p)?;
    let (ct, data) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let current = assets::current(c)?;
        let id = match kind.as_str() {
            "logo" => current.logo,
            "director_signature" => current.director_signature,
            "accountant_signature" => current.accountant_signature,
            _ => current.stamp,
        };
        assets::get(c, id.ok_or_else(|| AppError::not_found("document image"))?)
    })
    .await?;
    // Only PNG or JPEG is ever stored; never sniffed as anything else.
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(data))
}
