//! The marketplace landing: open, active suppliers.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::app::AppState;
use crate::db::with_platform;
use crate::error::AppResult;
use crate::platform::tenants;
use crate::web::auth::MaybeUser;
use crate::web::render::{page, render, tr};

pub async fn landing(state: web::Data<AppState>, req: HttpRequest, _user: MaybeUser) -> AppResult<HttpResponse> {
    let list = with_platform(&state.pool, tenants::list_marketplace).await?;
    let suppliers: Vec<_> = list
        .iter()
        .map(|t| {
            json!({
                "slug": t.slug,
                "name": t.name,
                "tagline": t.branding.tagline,
                "primary_color": t.branding.primary_color,
                "has_logo": t.has_logo,
                "href": format!("/s/{}/", t.slug),
            })
        })
        .collect();
    let ctx = page(&req, &tr(&state, &req, "landing-title"), json!({"suppliers": suppliers}));
    render(&state, "landing", &ctx)
}
