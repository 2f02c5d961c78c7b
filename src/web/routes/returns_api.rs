//! The buyer's returns (feature `returns`): request a return of a delivered order's lines
//! (JSON, or multipart with the request as JSON in `request` and images in `photos`), list
//! and read requests, cancel one waiting for a decision, write in its thread, see its photos
//! and download its return note.

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::media;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::ordering::returns::create::{self, Photo, Request};
use crate::ordering::returns::thread::{self, Side};
use crate::ordering::returns::{self, view, MAX_PHOTOS, MAX_PHOTO_BYTES};
use crate::platform::features::Feature;
use crate::web::features::enabled;
use crate::web::roles::BuyerCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::{actor, qty_of, NumberPath, QtyIn};
use crate::web::tenant::TenantCtx;
use crate::web::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/returns")
            .guard(enabled(Feature::Returns))
            .route(web::get().to(list))
            .route(web::post().to(create_request)),
    )
    .service(web::resource("/api/v1/returns/{number}").guard(enabled(Feature::Returns)).route(web::get().to(show)))
    .service(
        web::resource("/api/v1/returns/{number}/cancel").guard(enabled(Feature::Returns)).route(web::post().to(cancel)),
    )
    .service(
        web::resource("/api/v1/returns/{number}/messages")
            .guard(enabled(Feature::Returns))
            .route(web::get().to(messages))
            .route(web::post().to(post_message)),
    )
    .service(
        web::resource("/api/v1/returns/{number}/photos/{id}")
            .guard(enabled(Feature::Returns))
            .route(web::get().to(photo)),
    )
    .service(
        web::resource("/api/v1/returns/{number}/note.pdf").guard(enabled(Feature::Returns)).route(web::get().to(note)),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    pub sku: String,
    pub qty: QtyIn,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestIn {
    pub order: String,
    pub lines: Vec<LineIn>,
    pub reason: String,
    pub comment: Option<String>,
}

impl RequestIn {
    pub fn parse(self) -> AppResult<Request> {
        let mut lines = Vec::with_capacity(self.lines.len());
        for l in &self.lines {
            let qty = qty_of(&l.qty).map_err(|_| {
                AppError::field("lines", format!("{}: the quantity must be a number greater than zero", l.sku))
            })?;
            lines.push((l.sku.trim().to_owned(), qty));
        }
        let r = Request { order: self.order, lines, reason: self.reason, comment: self.comment.unwrap_or_default() };
        create::check(&r)?;
        Ok(r)
    }
}

#[derive(Deserialize)]
pub struct PhotoPath {
    pub number: String,
    pub id: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    pub body: String,
}

/// Checks every photo (decoded as PNG, JPEG, WebP or GIF; size and pixel limits; nothing
/// else, so no SVG or HTML), and only when all pass stores them under the tenant's folder.
pub async fn store_photos(state: &AppState, t: &TenantCtx, files: Vec<upload::Upload>) -> AppResult<Vec<Photo>> {
    if files.len() > MAX_PHOTOS {
        return Err(AppError::field("photos", format!("at most {MAX_PHOTOS} photos")));
    }
    let mut checked = Vec::with_capacity(files.len());
    for f in files {
        if f.bytes.len() > MAX_PHOTO_BYTES {
            return Err(AppError::PayloadTooLarge(format!(
                "photos are limited to {} MB",
                MAX_PHOTO_BYTES / 1024 / 1024
            )));
        }
        let img = web::block(move || media::process_image(&f.bytes))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("image worker: {e}")))?
            .map_err(|e| match e {
                AppError::Validation(_) => {
                    AppError::field("photos", "each photo must be a PNG, JPEG, WebP or GIF image")
                }
                e => e,
            })?;
        checked.push(img);
    }
    let mut stored = Vec::with_capacity(checked.len());
    for img in checked {
        let key = media::new_key(&t.tenant.schema, "returns", img.ext);
        let size = img.original.len();
        state.media.put(&key, img.original).await?;
        stored.push(Photo { key, content_type: img.content_type, size });
    }
    Ok(stored)
}

/// Removes photos stored for a request that was then refused.
pub async fn forget_photos(state: &AppState, photos: &[Photo]) {
    for p in photos {
        if let Err(e) = state.media.delete(&p.key).await {
            tracing::warn!(key = %p.key, error = %e, "a refused request's photo was not removed");
        }
    }
}

/// Creates the request with its photos; a refused request leaves no photo behind.
pub async fn create_with_photos(
    state: &AppState,
    b: &BuyerCtx,
    request: Request,
    files: Vec<upload::Upload>,
) -> AppResult<String> {
    let photos = store_photos(state, &b.tenant, files).await?;
    let (a, kept) = (actor(b), photos.clone());
    let made = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let id = create::create(c, &a, &request, &kept)?;
        Ok(crate::db::schema_tenant::returns::table
            .find(id)
            .select(crate::db::schema_tenant::returns::number)
            .first::<String>(c)?)
    })
    .await;
    if made.is_err() {
        forget_photos(state, &photos).await;
    }
    made
}

async fn create_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    b: BuyerCtx,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let multipart = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (request, files) = if multipart {
        let mut fields = Vec::new();
        let mp = actix_multipart::Multipart::new(req.headers(), payload);
        let files = upload::read_files(mp, "photos", MAX_PHOTO_BYTES, MAX_PHOTOS, &mut fields).await?;
        let text = fields
            .iter()
            .find(|(k, _)| k == "request")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| AppError::field("request", "send the request as JSON in the `request` field"))?;
        let parsed: RequestIn =
            serde_json::from_str(&text).map_err(|e| AppError::BadRequest(format!("the request is malformed: {e}")))?;
        (parsed, files)
    } else {
        let bytes = super::platform_api::read_limited(payload, 256 * 1024).await?;
        let parsed: RequestIn =
            serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest(format!("the body is malformed: {e}")))?;
        (parsed, Vec::new())
    };
    let request = request.parse()?;
    let number = create_with_photos(&state, &b, request, files).await?;
    let company = b.company.id;
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, Some(company), &number, false)?;
        view::show(c, &r, false)
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}

async fn list(state: web::Data<AppState>, req: HttpRequest, b: BuyerCtx) -> AppResult<HttpResponse> {
    let f = view::Filter::parse(&pairs(&req)?, Some(b.company.id))?;
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| view::list(c, &f)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn show(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<NumberPath>) -> AppResult<HttpResponse> {
    let (company, number) = (b.company.id, path.into_inner().number);
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, Some(company), &number, false)?;
        view::show(c, &r, false)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn cancel(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<NumberPath>) -> AppResult<HttpResponse> {
    let (a, number) = (actor(&b), path.into_inner().number);
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = create::cancel(c, &a, &number)?;
        view::show(c, &r, false)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn messages(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<NumberPath>) -> AppResult<HttpResponse> {
    let (company, number) = (b.company.id, path.into_inner().number);
    let v = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, Some(company), &number, false)?;
        view::show(c, &r, false)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"items": v["messages"]})))
}

/// Posts the buyer's message (members who order or pay; viewers only read).
pub async fn buyer_message(state: &AppState, b: &BuyerCtx, number: String, body: String) -> AppResult<Value> {
    b.require(&["admin", "buyer", "accountant"])?;
    let (company, me) = (b.company.id, b.user.account.id);
    with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, Some(company), &number, true)?;
        let id = thread::post(c, &r, Side::Buyer, me, &body)?;
        Ok(json!({"id": id}))
    })
    .await
}

async fn post_message(
    state: web::Data<AppState>,
    b: BuyerCtx,
    path: web::Path<NumberPath>,
    body: web::Json<MessageIn>,
) -> AppResult<HttpResponse> {
    let v = buyer_message(&state, &b, path.into_inner().number, body.into_inner().body).await?;
    Ok(HttpResponse::Created().json(v))
}

/// A photo: the checked image bytes, as a download that is never rendered as a page.
pub fn photo_response(ct: &str, id: i64, bytes: bytes::Bytes) -> HttpResponse {
    let ext = ct.rsplit('/').next().unwrap_or("bin");
    HttpResponse::Ok()
        .content_type(ct.to_owned())
        .insert_header(("Content-Disposition", format!("attachment; filename=\"return-photo-{id}.{ext}\"")))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .body(bytes)
}

pub fn note_response(number: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"return-note-{number}.pdf\"")))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes)
}

async fn photo(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<PhotoPath>) -> AppResult<HttpResponse> {
    let (company, p) = (b.company.id, path.into_inner());
    let id = p.id;
    let (key, ct) = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, Some(company), &p.number, false)?;
        view::photo(c, &r, p.id)
    })
    .await?;
    Ok(photo_response(&ct, id, state.media.get(&key).await?))
}

async fn note(state: web::Data<AppState>, b: BuyerCtx, path: web::Path<NumberPath>) -> AppResult<HttpResponse> {
    let (company, number) = (b.company.id, path.into_inner().number);
    let (doc, bytes) = with_tenant(&state.pool, &b.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, Some(company), &number, false)?;
        let (_, pdf) = view::note(c, &r)?;
        Ok((r.number, pdf))
    })
    .await?;
    Ok(note_response(&doc, bytes))
}
