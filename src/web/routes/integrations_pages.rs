//! `/admin/integrations` for the store's administrators: API keys (created with the key shown
//! once, listed with their last use, revoked) and webhooks (added, edited, tested, with each
//! endpoint's delivery log and a redelivery button). Behind the `api_access` feature; writes
//! through the same domain functions as `integrations_api`. A form with an error stores
//! nothing and shows the reason next to the field.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::admin_pages::staff_or_return;
use super::integrations_api::MANAGE_INTEGRATIONS;
use super::order_pages::Tx;
use super::see_other;
use crate::app::AppState;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::integrations::api_keys::{self, NewKey};
use crate::integrations::webhooks::{self, EndpointIn, EVENTS};
use crate::platform::features::Feature;
use crate::web::auth::MaybeUser;
use crate::web::features::enabled;
use crate::web::render::{render_status, store_page};
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    let gated = || enabled(Feature::ApiAccess);
    cfg.service(web::resource("/admin/integrations").guard(gated()).route(web::get().to(show)))
        .service(web::resource("/admin/integrations/keys").guard(gated()).route(web::post().to(create_key)))
        .service(web::resource("/admin/integrations/keys/{id}/revoke").guard(gated()).route(web::post().to(revoke_key)))
        .service(web::resource("/admin/integrations/webhooks").guard(gated()).route(web::post().to(create_hook)))
        .service(
            web::resource("/admin/integrations/webhooks/{id}")
                .guard(gated())
                .route(web::get().to(hook_page))
                .route(web::post().to(update_hook)),
        )
        .service(
            web::resource("/admin/integrations/webhooks/{id}/test").guard(gated()).route(web::post().to(test_hook)),
        )
        .service(
            web::resource("/admin/integrations/webhooks/{id}/delete").guard(gated()).route(web::post().to(delete_hook)),
        )
        .service(
            web::resource("/admin/integrations/webhooks/{id}/deliveries/{delivery}/redeliver")
                .guard(gated())
                .route(web::post().to(redeliver)),
        );
}

type Form = web::Form<Vec<(String, String)>>;

fn field(form: &[(String, String)], k: &str) -> Option<String> {
    form.iter().find(|(key, _)| key == k).map(|(_, v)| v.trim().to_owned())
}

/// The endpoint form as the API takes it: the ticked events, `active` as a checkbox.
fn endpoint_in(form: &[(String, String)], creating: bool) -> EndpointIn {
    let events: Vec<String> = form.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect();
    EndpointIn {
        url: field(form, "url"),
        description: field(form, "description"),
        events: Some(events),
        active: Some(creating || field(form, "active").is_some()),
        rotate_secret: !creating && field(form, "rotate_secret").is_some(),
    }
}

/// What the main page shows besides the lists: a key just created, a form's errors.
#[derive(Default)]
struct Extra {
    new_key: Option<String>,
    errors: FieldErrors,
    typed: Value,
    notice: Option<&'static str>,
}

async fn render_main(state: &AppState, req: &HttpRequest, t: &TenantCtx, extra: Extra) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, t);
    let (keys, hooks) =
        with_tenant(&state.pool, &t.tenant.schema, |c| Ok((api_keys::list(c)?, webhooks::list(c)?))).await?;
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut v = k.json();
            v["created"] = json!(tx.when(&v["created_at"]));
            v["last_used"] = json!(tx.when(&v["last_used_at"]));
            v
        })
        .collect();
    let hooks: Vec<Value> = hooks.iter().map(webhooks::Endpoint::json).collect();
    let status = if extra.errors.is_empty() { 200 } else { 422 };
    let mut typed = json!({"name": "", "scope": "read", "url": "", "description": ""});
    if let (Some(t), Some(given)) = (typed.as_object_mut(), extra.typed.as_object()) {
        t.extend(given.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())));
    }
    let errors: Map<String, Value> = extra.errors.into_iter().map(|(k, v)| (k, json!(tx.msg(&v)))).collect();
    let events: Vec<Value> = EVENTS.iter().map(|e| json!({"code": e})).collect();
    let data = json!({
        "keys": keys, "hooks": hooks, "events": events, "new_key": extra.new_key, "errors": errors,
        "typed": typed, "notice": extra.notice.map(|n| tx.t(n)),
    });
    let ctx = store_page(req, &tx.t("integrations-title"), data).await?;
    render_status(state, "admin/integrations", &ctx, status)
}

async fn show(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, user: MaybeUser) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/integrations");
    s.require(MANAGE_INTEGRATIONS)?;
    render_main(&state, &req, &t, Extra::default()).await
}

async fn create_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: Form,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/integrations");
    s.require(MANAGE_INTEGRATIONS)?;
    let input =
        NewKey { name: field(&form, "name").unwrap_or_default(), scope: field(&form, "scope").unwrap_or_default() };
    let typed = json!({"name": input.name, "scope": input.scope});
    let me = s.user.account.id;
    match with_tenant(&state.pool, &t.tenant.schema, move |c| api_keys::create(c, me, &input)).await {
        // Shown on this answer only: never in a URL, never again.
        Ok((_, full)) => render_main(&state, &req, &t, Extra { new_key: Some(full), ..Extra::default() }).await,
        Err(AppError::Validation(errors)) => {
            render_main(&state, &req, &t, Extra { errors, typed, ..Extra::default() }).await
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
struct IdPath {
    id: i64,
}

async fn revoke_key(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/integrations");
    s.require(MANAGE_INTEGRATIONS)?;
    let (id, me) = (path.id, s.user.account.id);
    with_tenant(&state.pool, &t.tenant.schema, move |c| api_keys::revoke(c, id, me)).await?;
    Ok(see_other(&t.link("/admin/integrations#keys")))
}

async fn create_hook(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: Form,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/integrations");
    s.require(MANAGE_INTEGRATIONS)?;
    let input = endpoint_in(&form, true);
    let typed = json!({"url": input.url, "description": input.description, "events": input.events});
    let (me, private) = (s.user.account.id, state.settings.webhooks.allow_private_addresses);
    match with_tenant(&state.pool, &t.tenant.schema, move |c| webhooks::create(c, me, &input, private)).await {
        Ok(e) => Ok(see_other(&t.link(&format!("/admin/integrations/webhooks/{}", e.id)))),
        Err(AppError::Validation(errors)) => {
            render_main(&state, &req, &t, Extra { errors, typed, ..Extra::default() }).await
        }
        Err(e) => Err(e),
    }
}

async fn render_hook(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    id: i64,
    errors: FieldErrors,
    notice: Option<&str>,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, t);
    let (hook, (deliveries, total)) = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        Ok((webhooks::find(c, id)?, webhooks::deliveries(c, id, 0, 50)?))
    })
    .await?;
    let deliveries: Vec<Value> = deliveries
        .into_iter()
        .map(|mut d| {
            d["created"] = json!(tx.when(&d["created_at"]));
            d["status_label"] =
                json!(tx.t(&format!("integrations-status-{}", d["status"].as_str().unwrap_or("pending"))));
            d["redeliverable"] = json!(d["status"] != "pending");
            d
        })
        .collect();
    let events: Vec<Value> =
        EVENTS.iter().map(|e| json!({"code": e, "checked": hook.events.iter().any(|x| x == e)})).collect();
    let status = if errors.is_empty() { 200 } else { 422 };
    let errors: Map<String, Value> = errors.into_iter().map(|(k, v)| (k, json!(tx.msg(&v)))).collect();
    let data = json!({
        "hook": hook.json(), "events": events, "deliveries": deliveries, "total": total, "errors": errors,
        "notice": notice.map(|n| tx.t(n)),
    });
    let ctx = store_page(req, &tx.t("integrations-webhook-title"), data).await?;
    render_status(state, "admin/webhook", &ctx, status)
}

async fn hook_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let here = format!("/admin/integrations/webhooks/{}", path.id);
    let s = staff_or_return!(req, t, user, &here);
    s.require(MANAGE_INTEGRATIONS)?;
    let notice = req.query_string().strip_prefix("done=").filter(|n| ["saved", "test", "redeliver"].contains(n));
    let notice = notice.map(|n| match n {
        "saved" => "integrations-saved",
        "test" => "integrations-test-queued",
        _ => "integrations-redeliver-queued",
    });
    render_hook(&state, &req, &t, path.id, FieldErrors::new(), notice).await
}

async fn update_hook(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
    form: Form,
) -> AppResult<HttpResponse> {
    let here = format!("/admin/integrations/webhooks/{}", path.id);
    let s = staff_or_return!(req, t, user, &here);
    s.require(MANAGE_INTEGRATIONS)?;
    let (id, input, private) = (path.id, endpoint_in(&form, false), state.settings.webhooks.allow_private_addresses);
    match with_tenant(&state.pool, &t.tenant.schema, move |c| webhooks::update(c, id, &input, private)).await {
        Ok(_) => Ok(see_other(&t.link(&format!("{here}?done=saved")))),
        Err(AppError::Validation(errors)) => render_hook(&state, &req, &t, id, errors, None).await,
        Err(e) => Err(e),
    }
}

async fn test_hook(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let here = format!("/admin/integrations/webhooks/{}", path.id);
    let s = staff_or_return!(req, t, user, &here);
    s.require(MANAGE_INTEGRATIONS)?;
    let (id, tenant) = (path.id, t.tenant.id);
    with_tenant(&state.pool, &t.tenant.schema, move |c| webhooks::send_test(c, tenant, id)).await?;
    Ok(see_other(&t.link(&format!("{here}?done=test"))))
}

async fn delete_hook(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/integrations");
    s.require(MANAGE_INTEGRATIONS)?;
    let id = path.id;
    with_tenant(&state.pool, &t.tenant.schema, move |c| webhooks::delete(c, id)).await?;
    Ok(see_other(&t.link("/admin/integrations#webhooks")))
}

#[derive(serde::Deserialize)]
struct DeliveryPath {
    id: i64,
    delivery: String,
}

async fn redeliver(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<DeliveryPath>,
) -> AppResult<HttpResponse> {
    let here = format!("/admin/integrations/webhooks/{}", path.id);
    let s = staff_or_return!(req, t, user, &here);
    s.require(MANAGE_INTEGRATIONS)?;
    let delivery = Uuid::parse_str(&path.delivery).map_err(|_| AppError::not_found("delivery"))?;
    let (id, tenant) = (path.id, t.tenant.id);
    with_tenant(&state.pool, &t.tenant.schema, move |c| webhooks::redeliver(c, tenant, id, delivery)).await?;
    Ok(see_other(&t.link(&format!("{here}?done=redeliver"))))
}
