//! Staff and returns (feature `returns`): the list with filters, a request with its thread,
//! decisions (`PATCH`: approved with the way back, rejected with a reason, in transit,
//! received into a warehouse — which credits the ledger and issues the return note),
//! messages, photos and the return note.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::returns_api::{note_response, photo_response, MessageIn, PhotoPath};
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::AppResult;
use crate::identity::staff::{MANAGE_ORDERS, SEE_ORDERS};
use crate::ordering::returns::decide::{self, Decision, DocCtx};
use crate::ordering::returns::thread::{self, Side};
use crate::ordering::returns::{self, view};
use crate::pdf::Fonts;
use crate::platform::features::Feature;
use crate::web::features::enabled;
use crate::web::roles::StaffCtx;
use crate::web::routes::catalog_api::pairs;
use crate::web::routes::order_api::NumberPath;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/admin/returns").guard(enabled(Feature::Returns)).route(web::get().to(list)))
        .service(
            web::resource("/api/v1/admin/returns/{number}")
                .guard(enabled(Feature::Returns))
                .route(web::get().to(show))
                .route(web::patch().to(update)),
        )
        .service(
            web::resource("/api/v1/admin/returns/{number}/messages")
                .guard(enabled(Feature::Returns))
                .route(web::get().to(messages))
                .route(web::post().to(post_message)),
        )
        .service(
            web::resource("/api/v1/admin/returns/{number}/photos/{id}")
                .guard(enabled(Feature::Returns))
                .route(web::get().to(photo)),
        )
        .service(
            web::resource("/api/v1/admin/returns/{number}/note.pdf")
                .guard(enabled(Feature::Returns))
                .route(web::get().to(note)),
        );
}

async fn list(state: web::Data<AppState>, req: HttpRequest, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_ORDERS)?;
    let f = view::Filter::parse(&pairs(&req)?, None)?;
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| view::list(c, &f)).await?;
    Ok(HttpResponse::Ok().json(v))
}

pub async fn staff_view(state: &AppState, s: &StaffCtx, number: String) -> AppResult<Value> {
    s.require(SEE_ORDERS)?;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, None, &number, false)?;
        view::show(c, &r, true)
    })
    .await
}

async fn show(state: web::Data<AppState>, s: StaffCtx, path: web::Path<NumberPath>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(staff_view(&state, &s, path.into_inner().number).await?))
}

/// Applies a staff decision; answers the request after it.
pub async fn decide(state: &AppState, s: &StaffCtx, number: String, d: Decision) -> AppResult<Value> {
    s.require(MANAGE_ORDERS)?;
    let doc =
        DocCtx { fonts: Fonts::get(&state.settings.documents.font_dir)?, store_name: s.tenant.tenant.name.clone() };
    let me = s.user.account.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let r = decide::apply(c, me, &number, &d, &doc)?;
        view::show(c, &r, true)
    })
    .await
}

async fn update(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<NumberPath>,
    body: web::Json<Decision>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(decide(&state, &s, path.into_inner().number, body.into_inner()).await?))
}

async fn messages(state: web::Data<AppState>, s: StaffCtx, path: web::Path<NumberPath>) -> AppResult<HttpResponse> {
    let v = staff_view(&state, &s, path.into_inner().number).await?;
    Ok(HttpResponse::Ok().json(json!({"items": v["messages"]})))
}

pub async fn staff_message(state: &AppState, s: &StaffCtx, number: String, body: String) -> AppResult<Value> {
    s.require(MANAGE_ORDERS)?;
    let me = s.user.account.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, None, &number, true)?;
        Ok(json!({"id": thread::post(c, &r, Side::Staff, me, &body)?}))
    })
    .await
}

async fn post_message(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<NumberPath>,
    body: web::Json<MessageIn>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(staff_message(&state, &s, path.into_inner().number, body.into_inner().body).await?))
}

async fn photo(state: web::Data<AppState>, s: StaffCtx, path: web::Path<PhotoPath>) -> AppResult<HttpResponse> {
    s.require(SEE_ORDERS)?;
    let p = path.into_inner();
    let id = p.id;
    let (key, ct) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, None, &p.number, false)?;
        view::photo(c, &r, p.id)
    })
    .await?;
    Ok(photo_response(&ct, id, state.media.get(&key).await?))
}

async fn note(state: web::Data<AppState>, s: StaffCtx, path: web::Path<NumberPath>) -> AppResult<HttpResponse> {
    s.require(SEE_ORDERS)?;
    let number = path.into_inner().number;
    let (n, bytes) = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let r = returns::find_for(c, None, &number, false)?;
        let (_, pdf) = view::note(c, &r)?;
        Ok((r.number, pdf))
    })
    .await?;
    Ok(note_response(&n, bytes))
}
