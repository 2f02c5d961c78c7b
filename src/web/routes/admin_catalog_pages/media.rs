//! A product's images and attached files: upload and remove, through `catalog::service`
//! (the same use cases as the API), back to the product form.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::form::Posted;
use super::products::product_view;
use super::{product_link, product_path, SkuPath, Tx};
use crate::app::AppState;
use crate::catalog::service;
use crate::error::AppResult;
use crate::identity::staff::MANAGE_CATALOG;
use crate::web::auth::MaybeUser;
use crate::web::routes::admin_pages::staff_or_return;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

/// An image or file upload: back to the product with a notice, or the form with the reason.
async fn upload_media(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    sku: String,
    multipart: Multipart,
    kind: &'static str,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, &product_path(&sku));
    s.require(MANAGE_CATALOG)?;
    let stored = match kind {
        "image" => service::add_image(&state, &s.tenant, sku.clone(), multipart).await.map(drop),
        _ => service::add_file(&state, &s.tenant, sku.clone(), multipart).await.map(drop),
    };
    match stored {
        Ok(()) => Ok(see_other(&product_link(&t, &sku, kind))),
        Err(e) => {
            let (message, status) = Tx::new(&state, &req, &t).problem(e)?;
            product_view(&state, &req, &s, Some(sku), Posted::default(), Some((kind, message)), status).await
        }
    }
}

pub(super) async fn add_image(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    upload_media(state, req, t, user, path.into_inner().sku, multipart, "image").await
}

pub(super) async fn add_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    upload_media(state, req, t, user, path.into_inner().sku, multipart, "file").await
}

#[derive(Deserialize)]
pub(super) struct MediaPath {
    sku: String,
    id: i64,
}

/// Removes an image (both stored files) or an attached file of the product.
async fn remove_media(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: MediaPath,
    image: bool,
) -> AppResult<HttpResponse> {
    let MediaPath { sku, id } = path;
    let s = staff_or_return!(req, t, user, &product_path(&sku));
    s.require(MANAGE_CATALOG)?;
    if image {
        service::remove_image(&state, &s.tenant, sku.clone(), id).await?;
    } else {
        service::remove_file(&state, &s.tenant, sku.clone(), id).await?;
    }
    Ok(see_other(&product_link(&t, &sku, if image { "image-removed" } else { "file-removed" })))
}

pub(super) async fn remove_image(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<MediaPath>,
) -> AppResult<HttpResponse> {
    remove_media(state, req, t, user, path.into_inner(), true).await
}

pub(super) async fn remove_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<MediaPath>,
) -> AppResult<HttpResponse> {
    remove_media(state, req, t, user, path.into_inner(), false).await
}
