//! `POST /webhooks/stripe` on the platform host: the signature is checked over the raw body
//! before anything is parsed (400 and nothing recorded otherwise); the event is routed to
//! the tenant that owns its PaymentIntent by our own record of it (`public.stripe_intents`),
//! never by its metadata, and applied there once (`finance::card::events`).

use actix_web::{web, HttpRequest, HttpResponse};
use diesel::prelude::*;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::db::{read_platform, with_platform, with_tenant, TenantSchema};
use crate::error::{AppError, AppResult};
use crate::finance::card::events::{self, Event, Outcome};
use crate::finance::card::signature;

/// Stripe's events are a few kilobytes; anything much larger is not one.
const MAX_BODY: usize = 256 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhooks/stripe").app_data(web::PayloadConfig::new(MAX_BODY)).route(web::post().to(receive)),
    );
}

fn refused(message: &str) -> AppError {
    AppError::Detailed {
        status: 400,
        code: "invalid_signature",
        message: message.to_owned(),
        details: serde_json::Map::new(),
    }
}

async fn receive(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> AppResult<HttpResponse> {
    let Some(secret) = state.settings.stripe.webhook_secret.as_ref() else {
        return Err(AppError::not_found("Stripe webhooks are not configured here"));
    };
    let header = req.headers().get("stripe-signature").and_then(|h| h.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    signature::verify(secret.expose_secret().as_bytes(), header, &body, now).map_err(|e| refused(e.message()))?;
    let v: Value = serde_json::from_slice(&body).map_err(|_| AppError::BadRequest("the body is not JSON".into()))?;
    let ev = Event::parse(&v).map_err(AppError::BadRequest)?;
    let outcome = process(&state, ev).await?;
    Ok(HttpResponse::Ok().json(json!({"received": true, "outcome": outcome.as_str()})))
}

/// Applies a verified event in the tenant that owns its PaymentIntent.
pub async fn process(state: &AppState, ev: Event) -> AppResult<Outcome> {
    let intent = ev.intent_id.clone();
    let route = read_platform(&state.pool, move |c| {
        use crate::db::schema_platform::{stripe_intents as si, tenants};
        let Some(intent) = intent else { return Ok(None) };
        Ok(si::table
            .inner_join(tenants::table.on(tenants::id.eq(si::tenant_id)))
            .filter(si::intent_id.eq(intent))
            .select((si::tenant_id, si::attempt_id, tenants::schema_name, tenants::slug))
            .first::<(i64, i64, String, String)>(c)
            .optional()?)
    })
    .await?;
    match route {
        None => with_platform(&state.pool, move |c| events::orphan(c, &ev)).await,
        Some((tenant_id, attempt, schema, slug)) => {
            let schema = TenantSchema::parse(&schema).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
            with_tenant(&state.pool, &schema, move |c| events::apply(c, tenant_id, &slug, attempt, &ev)).await
        }
    }
}
