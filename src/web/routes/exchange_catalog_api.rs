//! The mapping of 1C price types to ours, for staff (issue 8):
//! `GET`/`PUT /api/v1/admin/exchange-1c/price-types`. Behind the `exchange_1c` feature.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::AppResult;
use crate::exchange::cml_import::price_types::{self, MappingInput};
use crate::identity::staff::{MANAGE_PRICES, SEE_CUSTOMERS};
use crate::platform::features::Feature;
use crate::web::features::enabled;
use crate::web::roles::StaffCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/api/v1/admin/exchange-1c/price-types")
            .guard(enabled(Feature::Exchange1c))
            .route(web::get().to(get))
            .route(web::put().to(put)),
    );
}

/// The mapping, our price types to choose from, and the absent-products option.
pub async fn mapping_json(state: &AppState, s: &StaffCtx) -> AppResult<Value> {
    with_tenant(&state.pool, &s.tenant.tenant.schema, |c| {
        let items = price_types::list(c)?;
        let ours: Vec<Value> =
            price_types::ours(c)?.into_iter().map(|(code, name)| json!({"code": code, "name": name})).collect();
        Ok(json!({"items": items, "price_types": ours, "absent_products": price_types::absent_products(c)?}))
    })
    .await
}

async fn get(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    Ok(HttpResponse::Ok().json(mapping_json(&state, &s).await?))
}

/// The body of PUT: the list of mappings, or an object with it and the absent-products option.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum PutBody {
    List(Vec<MappingInput>),
    Object {
        #[serde(default)]
        items: Vec<MappingInput>,
        #[serde(default)]
        absent_products: Option<String>,
    },
}

/// Saves staff's mapping (and the option) in one transaction; nothing on a validation error.
pub async fn save(state: &AppState, s: &StaffCtx, body: PutBody) -> AppResult<()> {
    s.require(MANAGE_PRICES)?;
    let (items, absent) = match body {
        PutBody::List(items) => (items, None),
        PutBody::Object { items, absent_products } => (items, absent_products),
    };
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        if let Some(a) = absent.as_deref() {
            price_types::set_absent_products(c, a)?;
        }
        price_types::save(c, &items)?;
        Ok(())
    })
    .await
}

async fn put(state: web::Data<AppState>, s: StaffCtx, body: web::Json<PutBody>) -> AppResult<HttpResponse> {
    save(&state, &s, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(mapping_json(&state, &s).await?))
}
