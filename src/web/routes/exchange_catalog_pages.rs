//! `/admin/exchange/price-types`: which of our price types each 1C price type fills (the one
//! on `base` is the catalog price), and what a full 1C catalog does to products it no longer
//! lists. The same checks as `PUT /api/v1/admin/exchange-1c/price-types`; a form with an error
//! stores nothing and shows the choices made.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::admin_pages::staff_or_return;
use super::exchange_catalog_api::{mapping_json, save as save_mapping, PutBody};
use super::order_pages::{param, Tx};
use super::see_other;
use crate::app::AppState;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::exchange::cml_import::price_types::MappingInput;
use crate::identity::staff::SEE_CUSTOMERS;
use crate::platform::features::Feature;
use crate::web::auth::MaybeUser;
use crate::web::features::enabled;
use crate::web::render::{render_status, store_page};
use crate::web::routes::catalog_api::pairs;
use crate::web::tenant::TenantCtx;

const HERE: &str = "/admin/exchange/price-types";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(HERE)
            .guard(enabled(Feature::Exchange1c))
            .route(web::get().to(show))
            .route(web::post().to(submit)),
    );
}

async fn show(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, HERE);
    s.require(SEE_CUSTOMERS)?;
    let data = mapping_json(&state, &s).await?;
    let saved = param(&pairs(&req)?, "saved").is_some();
    page(&state, &req, &t, data, &FieldErrors::new(), saved).await
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    mut data: Value,
    errors: &FieldErrors,
    saved: bool,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, t);
    let ours = data["price_types"].clone();
    if let Some(items) = data["items"].as_array_mut() {
        for (i, it) in items.iter_mut().enumerate() {
            let chosen = it["price_type"].clone();
            let options: Vec<Value> = ours
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| json!({"code": o["code"], "name": o["name"], "selected": o["code"] == chosen}))
                .collect();
            it["options"] = json!(options);
            it["i"] = json!(i);
            it["error"] = json!(errors.get(&format!("items[{i}].price_type")).map(|m| tx.msg(m)));
        }
    }
    let errs: Map<String, Value> = errors.iter().map(|(k, v)| (k.clone(), json!(tx.msg(v)))).collect();
    data["errors"] = Value::Object(errs);
    data["saved"] = json!(saved);
    data["keep"] = json!(data["absent_products"] == "keep");
    let ctx = store_page(req, &tx.t("exchange-price-types-title"), data).await?;
    render_status(state, "admin/exchange_price_types", &ctx, if errors.is_empty() { 200 } else { 422 })
}

/// `ext_<i>` (the 1C id) and `type_<i>` (our code) per row, and `absent_products`.
fn body_of(fields: &[(String, String)]) -> PutBody {
    let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned());
    let mut items = Vec::new();
    for i in 0.. {
        let Some(external_id) = get(&format!("ext_{i}")) else { break };
        items.push(MappingInput { external_id, name: None, price_type: get(&format!("type_{i}")).unwrap_or_default() });
    }
    PutBody::Object { items, absent_products: get("absent_products") }
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, HERE);
    let fields = form.into_inner();
    match save_mapping(&state, &s, body_of(&fields)).await {
        Ok(()) => Ok(see_other(&t.link(&format!("{HERE}?saved=1")))),
        Err(AppError::Validation(errors)) => {
            // Show the choices made over what is stored.
            let mut data = mapping_json(&state, &s).await?;
            if let Some(items) = data["items"].as_array_mut() {
                for it in items.iter_mut() {
                    let ext = it["external_id"].as_str().unwrap_or_default().to_owned();
                    let i = (0..)
                        .map_while(|i| fields.iter().find(|(k, _)| *k == format!("ext_{i}")).map(|(_, v)| (i, v)))
                        .find(|(_, v)| v.trim() == ext)
                        .map(|(i, _)| i);
                    if let Some(chosen) = i.and_then(|i| fields.iter().find(|(k, _)| *k == format!("type_{i}"))) {
                        it["price_type"] = json!(chosen.1);
                    }
                }
            }
            page(&state, &req, &t, data, &errors, false).await
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_body() {
        let f = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let PutBody::Object { items, absent_products } = body_of(&[
            f("ext_0", "a"),
            f("type_0", "base"),
            f("ext_1", "b"),
            f("type_1", "opt"),
            f("absent_products", "keep"),
        ]) else {
            panic!("an object body");
        };
        assert_eq!(items.len(), 2);
        assert_eq!((items[1].external_id.as_str(), items[1].price_type.as_str()), ("b", "opt"));
        assert_eq!(absent_products.as_deref(), Some("keep"));
    }
}
