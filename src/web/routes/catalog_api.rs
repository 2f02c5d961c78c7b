//! The buyer's catalog API: products, search with facets, suggestions, categories, and the
//! product media (images, thumbnails, attached files).

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::catalog::service;
use crate::db::schema_tenant::{product_files, product_images, products};
use crate::db::with_tenant;
use crate::error::{AppError, AppResult};
use crate::pricing::load::Buyer;
use crate::search::SearchEngine;
use crate::web::auth::generations;
use crate::web::render::locale;
use crate::web::roles::MaybeBuyer;
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/products").route(web::get().to(list)))
        .service(web::resource("/api/v1/products/{sku}").route(web::get().to(show)))
        .service(web::resource("/api/v1/search").route(web::get().to(search)))
        .service(web::resource("/api/v1/search/suggest").route(web::get().to(suggest)))
        .service(web::resource("/api/v1/categories").route(web::get().to(categories)))
        .service(web::resource("/products/{sku}/images/{id}").route(web::get().to(image)))
        .service(web::resource("/products/{sku}/images/{id}/thumb").route(web::get().to(thumb)))
        .service(web::resource("/products/{sku}/files/{id}").route(web::get().to(file)));
}

/// The query string as pairs (repeated keys kept); a malformed one is a 400.
pub fn pairs(req: &HttpRequest) -> AppResult<Vec<(String, String)>> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .map_err(|_| AppError::BadRequest("the query string is malformed".into()))
}

fn buyer_of(b: &MaybeBuyer) -> Option<Buyer> {
    b.0.as_ref().map(|b| Buyer::of(&b.company))
}

async fn list(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, b: MaybeBuyer) -> AppResult<HttpResponse> {
    let mut p = pairs(&req)?;
    // The list answers no facets: do not compute them.
    p.retain(|(k, _)| k != "facets");
    p.push(("facets".into(), "0".into()));
    let page = service::search(&state, &t, buyer_of(&b), &locale(&req, Some(&t)), &p, generations(&req)).await?;
    let (pg, per) = page_of(&p);
    Ok(HttpResponse::Ok().json(json!({
        "items": page.items, "total": page.total, "total_capped": page.results.capped, "page": pg, "per_page": per,
    })))
}

fn page_of(p: &[(String, String)]) -> (i64, i64) {
    let get = |k: &str, d: i64| p.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.parse().ok()).unwrap_or(d);
    (get("page", 1), get("per_page", 20))
}

async fn search(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, b: MaybeBuyer) -> AppResult<HttpResponse> {
    let p = pairs(&req)?;
    let page = service::search(&state, &t, buyer_of(&b), &locale(&req, Some(&t)), &p, generations(&req)).await?;
    let (pg, per) = page_of(&p);
    let f = &page.results.facets;
    Ok(HttpResponse::Ok().json(json!({
        "items": page.items,
        "total": page.total,
        "page": pg,
        "per_page": per,
        "total_capped": page.results.capped,
        "took_ms": page.took_ms,
        // The engine that answered: `postgres` while Meilisearch is unavailable.
        "engine": if page.results.fallback { "postgres" } else { state.search.name() },
        "facets": {
            "category": f.category,
            "brand": f.brand,
            "availability": f.availability,
            "attributes": f.attributes,
            "price": f.price.as_ref().map(|(lo, hi)| json!({"min": lo, "max": hi})),
        },
    })))
}

#[derive(Deserialize)]
struct SuggestQuery {
    q: Option<String>,
}

/// Up to 8 products for a search box as the buyer types.
async fn suggest(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    q: web::Query<SuggestQuery>,
) -> AppResult<HttpResponse> {
    let text = q.into_inner().q.unwrap_or_default();
    if text.trim().chars().count() < 2 {
        return Ok(HttpResponse::Ok().json(json!({"items": []})));
    }
    let p = vec![
        ("q".to_string(), text),
        ("per_page".to_string(), "8".to_string()),
        ("facets".to_string(), "0".to_string()),
    ];
    let page = service::search(&state, &t, None, &locale(&req, Some(&t)), &p, generations(&req)).await?;
    let items: Vec<_> = page
        .items
        .iter()
        .map(|i| {
            let sku = i["sku"].as_str().unwrap_or_default();
            json!({"sku": sku, "name": i["name"], "stock_status": i["stock_status"],
                   "url": t.link(&format!("/products/{}", crate::search::marketplace::urlencode(sku)))})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

#[derive(Deserialize)]
pub struct SkuPath {
    pub sku: String,
}

#[derive(Deserialize)]
struct QtyQuery {
    qty: Option<String>,
}

async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    b: MaybeBuyer,
    path: web::Path<SkuPath>,
    q: web::Query<QtyQuery>,
) -> AppResult<HttpResponse> {
    let qty = match q.into_inner().qty.filter(|s| !s.is_empty()) {
        Some(s) => Some(crate::money::parse_qty(&s).map_err(|e| AppError::field("qty", e))?),
        None => None,
    };
    let (body, _, _) =
        service::product(&state, &t, buyer_of(&b), &locale(&req, Some(&t)), path.into_inner().sku, qty).await?;
    Ok(HttpResponse::Ok().json(body))
}

async fn categories(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx) -> AppResult<HttpResponse> {
    let cats = with_tenant(&state.pool, &t.tenant.schema, crate::catalog::categories::all).await?;
    Ok(HttpResponse::Ok().json(json!({"items": service::tree(&cats, None, &locale(&req, Some(&t)))})))
}

#[derive(Deserialize)]
struct MediaPath {
    sku: String,
    id: i64,
}

/// The storage key and type of a product's image, checked to belong to that product and
/// to a product buyers may see.
async fn image_key(state: &AppState, t: &TenantCtx, path: MediaPath, thumb: bool) -> AppResult<(String, String)> {
    with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let row: Option<(String, String, String)> = product_images::table
            .inner_join(products::table.on(products::id.eq(product_images::product_id)))
            .filter(product_images::id.eq(path.id))
            .filter(products::sku.eq(&path.sku))
            .filter(products::status.ne("archived"))
            .select((product_images::storage_key, product_images::thumb_key, product_images::content_type))
            .first(c)
            .optional()?;
        let (key, thumb_key, ct) = row.ok_or_else(|| AppError::not_found("image"))?;
        Ok(if thumb { (thumb_key, "image/jpeg".to_string()) } else { (key, ct) })
    })
    .await
}

fn cached(ct: &str, bytes: bytes::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ct.to_owned())
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .body(bytes)
}

async fn image(state: web::Data<AppState>, t: TenantCtx, path: web::Path<MediaPath>) -> AppResult<HttpResponse> {
    let (key, ct) = image_key(&state, &t, path.into_inner(), false).await?;
    Ok(cached(&ct, state.media.get(&key).await?))
}

async fn thumb(state: web::Data<AppState>, t: TenantCtx, path: web::Path<MediaPath>) -> AppResult<HttpResponse> {
    let (key, ct) = image_key(&state, &t, path.into_inner(), true).await?;
    Ok(cached(&ct, state.media.get(&key).await?))
}

/// Attached files are always downloads (`Content-Disposition: attachment`), never rendered.
async fn file(state: web::Data<AppState>, t: TenantCtx, path: web::Path<MediaPath>) -> AppResult<HttpResponse> {
    let path = path.into_inner();
    let (key, name, ct) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let row: Option<(String, String, String)> = product_files::table
            .inner_join(products::table.on(products::id.eq(product_files::product_id)))
            .filter(product_files::id.eq(path.id))
            .filter(products::sku.eq(&path.sku))
            .filter(products::status.ne("archived"))
            .select((product_files::storage_key, product_files::file_name, product_files::content_type))
            .first(c)
            .optional()?;
        row.ok_or_else(|| AppError::not_found("file"))
    })
    .await?;
    let bytes = state.media.get(&key).await?;
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header(("Content-Disposition", content_disposition(&name)))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .body(bytes))
}

/// `attachment; filename="…"; filename*=UTF-8''…` with an ASCII fallback.
pub fn content_disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", crate::search::marketplace::urlencode(name))
}
