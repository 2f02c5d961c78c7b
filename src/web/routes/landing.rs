//! The marketplace landing: open, active suppliers.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::app::AppState;
use crate::db::{read_platform, with_platform};
use crate::error::{AppError, AppResult};
use crate::platform::tenants;
use crate::search::marketplace;
use crate::web::auth::MaybeUser;
use crate::web::render::{page, render, tr};

#[derive(serde::Deserialize)]
pub struct MarketQuery {
    pub q: Option<String>,
}

/// Checks the search text of the marketplace (the same limit as a store's search).
fn market_q(q: Option<String>) -> AppResult<String> {
    let q = q.unwrap_or_default().trim().to_owned();
    if q.chars().count() > crate::search::query::MAX_Q {
        return Err(AppError::field("q", format!("at most {} characters", crate::search::query::MAX_Q)));
    }
    Ok(q)
}

/// `GET /api/v1/marketplace/search?q=`: products of open, listed suppliers, each linking to
/// its store (no prices: those are each store's and each buyer's).
pub async fn marketplace_search(state: web::Data<AppState>, q: web::Query<MarketQuery>) -> AppResult<HttpResponse> {
    let q = market_q(q.into_inner().q)?;
    let hits = read_platform(&state.pool, move |c| marketplace::search(c, &q, 50)).await?;
    Ok(HttpResponse::Ok().json(json!({"items": hits, "total": hits.len(), "page": 1, "per_page": 50})))
}

pub async fn landing(
    state: web::Data<AppState>,
    req: HttpRequest,
    _user: MaybeUser,
    q: web::Query<MarketQuery>,
) -> AppResult<HttpResponse> {
    let query = market_q(q.into_inner().q).unwrap_or_default();
    let text = query.clone();
    let hits = if text.is_empty() {
        Vec::new()
    } else {
        read_platform(&state.pool, move |c| marketplace::search(c, &text, 50)).await?
    };
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
    let ctx = page(
        &req,
        &tr(&state, &req, "landing-title"),
        json!({"suppliers": suppliers, "q": query, "hits": hits, "searched": !query.is_empty()}),
    );
    render(&state, "landing", &ctx)
}
