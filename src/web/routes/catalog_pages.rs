//! The storefront catalog: category browsing and search with facets (a plain GET form, no
//! script needed), and the product page with "why this price".

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::categories::Category;
use crate::catalog::service::{self, Page};
use crate::error::{AppError, AppResult};
use crate::pricing::load::Buyer;
use crate::search::marketplace::urlencode;
use crate::web::auth::generations;
use crate::web::render::{locale, render, render_owned, store_page, tr};
use crate::web::roles::MaybeBuyer;
use crate::web::routes::catalog_api::{pairs, SkuPath};
use crate::web::tenant::TenantCtx;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/catalog").route(web::get().to(catalog)))
        .service(web::resource("/catalog/{code}").route(web::get().to(category)))
        .service(web::resource("/products/{sku}").route(web::get().to(product)));
}

fn buyer_of(b: &MaybeBuyer) -> Option<Buyer> {
    b.0.as_ref().map(|b| Buyer::of(&b.company))
}

/// A query string of `pairs` (for pagination and sort links that keep the filters).
fn qs(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&")
}

fn children(cats: &[Category], parent: Option<i64>, locale: &str, base: &str) -> Vec<Value> {
    cats.iter()
        .filter(|c| c.parent_id == parent)
        .map(|c| json!({"code": c.code, "name": c.name_in(locale), "href": format!("{base}/catalog/{}", c.code)}))
        .collect()
}

async fn listing(
    state: &AppState,
    req: &HttpRequest,
    t: &TenantCtx,
    b: &MaybeBuyer,
    code: Option<String>,
) -> AppResult<HttpResponse> {
    let lang = locale(req, Some(t));
    let mut p = pairs(req)?;
    p.retain(|(k, v)| !v.trim().is_empty() && k != "category");
    if let Some(c) = &code {
        p.push(("category".into(), c.clone()));
    }
    // A buyer of an active company (not staff, not a company still waiting).
    let can_order = b.0.as_ref().is_some_and(|x| ["admin", "buyer"].contains(&x.role.as_str()));
    let signed_in = crate::web::auth::cached_user(req).is_some();
    // The page below the header is a function of the catalog generation, the viewer and the
    // address: rendered once, then served from memory with this session's CSRF token.
    let fragment_key = service::page_key(state, t, buyer_of(b).as_ref(), &lang, generations(req))
        .await?
        .map(|(g, viewer)| (g, format!("{viewer}|{}|{can_order}|{signed_in}", req.uri())));
    if let Some((g, key)) = &fragment_key {
        let hit = state.caches.fragment(t.tenant.id, *g, key).zip(state.caches.meta(t.tenant.id, *g));
        if let Some((html, meta)) = hit {
            let title = code
                .as_deref()
                .and_then(|c| meta.1.iter().find(|x| x.code == c))
                .map(|c| c.name_in(&lang).to_owned())
                .unwrap_or_else(|| tr(state, req, "catalog-title"));
            let html = html.replace(CSRF_PLACEHOLDER, &crate::web::csrf::token(req));
            let ctx = store_page(req, &title, json!({ "html": html })).await?;
            return render_owned(state, "storefront/catalog", ctx);
        }
    }
    let result = service::search(state, t, buyer_of(b), &lang, &p, generations(req)).await;
    let (page, error) = match result {
        Ok(page) => (Some(page), None),
        Err(AppError::Validation(fields)) => {
            (None, Some(fields.into_values().map(|m| state.i18n.message(&lang, &m)).collect::<Vec<_>>().join("; ")))
        }
        Err(e) => return Err(e),
    };
    let base = t.link("");
    let current: Option<Category> = match (&code, &page) {
        (Some(c), Some(pg)) => pg.categories().iter().find(|x| &x.code == c).cloned(),
        _ => None,
    };
    let title = match &current {
        Some(c) => c.name_in(&lang).to_owned(),
        None => tr(state, req, "catalog-title"),
    };
    let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let checked = |k: &str, v: &str| p.iter().any(|(key, val)| key == k && val == v);
    let data = match page {
        Some(Page { items, total, results, meta, took_ms }) => {
            let (attr_defs, categories, settings) = meta.as_ref();
            let per_page: i64 = get("per_page").parse().unwrap_or(20);
            let page_no: i64 = get("page").parse().unwrap_or(1);
            let keep: Vec<(String, String)> =
                p.iter().filter(|(k, _)| k != "page" && k != "category").cloned().collect();
            let link = |n: i64| {
                let mut q = keep.clone();
                q.push(("page".into(), n.to_string()));
                format!("{}?{}", req.path(), qs(&q))
            };
            let f = &results.facets;
            // A page has a handful of distinct stock and unit labels: each translated once.
            let labels = std::cell::RefCell::new(std::collections::HashMap::<String, String>::new());
            let label = |key: &str| -> String {
                labels.borrow_mut().entry(key.to_owned()).or_insert_with(|| state.i18n.tr(&lang, key, None)).clone()
            };
            let sorts: Vec<Value> = ["relevance", "price_asc", "price_desc", "name", "newest"]
                .iter()
                .map(|s| json!({"value": s, "label": tr(state, req, &format!("sort-{s}")), "selected": get("sort") == *s}))
                .collect();
            let attributes: Vec<Value> = f
                .attributes
                .iter()
                .filter_map(|(code, values)| {
                    let def = attr_defs.iter().find(|a| &a.code == code)?;
                    Some(json!({
                        "code": code, "name": def.name_in(&lang), "unit": def.unit,
                        "values": values.iter().map(|v| json!({"value": v.value, "label": def.render(&json!(v.value)), "count": v.count, "checked": checked(code, &v.value) || checked(&format!("attr.{code}"), &v.value)})).collect::<Vec<_>>(),
                    }))
                })
                .collect();
            let cat_name = |c: &str| {
                categories.iter().find(|x| x.code == c).map(|x| x.name_in(&lang).to_owned()).unwrap_or_default()
            };
            let breadcrumbs: Vec<Value> = current
                .as_ref()
                .map(|c| {
                    crate::catalog::categories::path(categories, c.id)
                        .iter()
                        .map(|x| json!({"name": x.name_in(&lang), "href": format!("{base}/catalog/{}", x.code)}))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "items": items.into_iter().map(|mut i| {
                    let sku = i["sku"].as_str().unwrap_or_default().to_owned();
                    i["href"] = json!(format!("{base}/products/{}", urlencode(&sku)));
                    i["stock_label"] = json!(label(&format!("stock-{}", i["stock_status"].as_str().unwrap_or("out_of_stock"))));
                    i["unit_label"] = json!(label(&format!("unit-{}", i["unit"].as_str().unwrap_or("pcs"))));
                    i
                }).collect::<Vec<_>>(),
                "total": total,
                "capped": results.capped,
                // Meilisearch is down: PostgreSQL answered; the page says so.
                "search_fallback": results.fallback,
                "took_ms": took_ms,
                "q": get("q"),
                "sort": get("sort"),
                "sorts": sorts,
                "price_min": get("price_min"),
                "price_max": get("price_max"),
                "price_range": f.price.as_ref().map(|(lo, hi)| json!({"min": lo, "max": hi})),
                "currency": settings.currency,
                "brands": f.brand.iter().map(|v| json!({"value": v.value, "count": v.count, "checked": checked("brand", &v.value)})).collect::<Vec<_>>(),
                "availability": f.availability.iter().map(|v| json!({"value": v.value, "label": tr(state, req, &format!("stock-{}", v.value)), "count": v.count, "checked": checked("availability", &v.value)})).collect::<Vec<_>>(),
                "categories": f.category.iter().map(|v| json!({"name": cat_name(&v.value), "count": v.count, "href": format!("{base}/catalog/{}?{}", v.value, qs(&keep))})).collect::<Vec<_>>(),
                "attributes": attributes,
                "subcategories": children(categories, current.as_ref().map(|c| c.id), &lang, &base),
                "breadcrumbs": breadcrumbs,
                "category": current.as_ref().map(|c| json!({"code": c.code, "name": c.name_in(&lang)})),
                "prev": (page_no > 1).then(|| link(page_no - 1)),
                "next": (page_no * per_page < total).then(|| link(page_no + 1)),
                "page": page_no,
                "pages": ((total + per_page - 1) / per_page).max(1),
                "action": req.path(),
                "error": Value::Null,
                "can_order": can_order,
            })
        }
        None => {
            json!({"items": [], "total": 0, "capped": false, "error": error, "q": get("q"), "action": req.path(), "subcategories": [], "breadcrumbs": [], "brands": [], "availability": [], "categories": [], "attributes": [], "sorts": [], "price_range": null, "price_min": get("price_min"), "price_max": get("price_max"), "prev": null, "next": null, "category": null, "took_ms": 0, "sort": "", "currency": "", "page": 1, "pages": 1})
        }
    };
    // Neither errors nor answers of the fallback engine are kept: the next request after
    // Meilisearch is back must use it.
    let cacheable = data["error"].is_null() && data["search_fallback"] != json!(true);
    let part = json!({"locale": lang, "base": base, "csrf": CSRF_PLACEHOLDER, "user": signed_in, "data": data});
    let html = state
        .templates
        .render_with_context("storefront/_catalog_body", &handlebars::Context::from(part))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template storefront/_catalog_body: {e}")))?;
    if let (Some((g, key)), true) = (fragment_key, cacheable) {
        state.caches.put_fragment(t.tenant.id, g, key, std::sync::Arc::from(html.as_str()));
    }
    let html = html.replace(CSRF_PLACEHOLDER, &crate::web::csrf::token(req));
    let ctx = store_page(req, &title, json!({ "html": html })).await?;
    render_owned(state, "storefront/catalog", ctx)
}

/// Stands for the session's CSRF token in cached page parts (letters and digits only, so
/// HTML escaping leaves it as it is).
const CSRF_PLACEHOLDER: &str = "TPCSRFPLACEHOLDER7f3c9e";

async fn catalog(state: web::Data<AppState>, req: HttpRequest, t: TenantCtx, b: MaybeBuyer) -> AppResult<HttpResponse> {
    listing(&state, &req, &t, &b, None).await
}

#[derive(serde::Deserialize)]
struct CodePath {
    code: String,
}

async fn category(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    b: MaybeBuyer,
    path: web::Path<CodePath>,
) -> AppResult<HttpResponse> {
    listing(&state, &req, &t, &b, Some(path.into_inner().code)).await
}

async fn product(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    b: MaybeBuyer,
    path: web::Path<SkuPath>,
) -> AppResult<HttpResponse> {
    let lang = locale(&req, Some(&t));
    let qty = match pairs(&req)?.into_iter().find(|(k, _)| k == "qty").map(|(_, v)| v).filter(|v| !v.is_empty()) {
        Some(v) => crate::money::parse_qty(&v).ok(),
        None => None,
    };
    let (mut p, product, cats) = service::product(&state, &t, buyer_of(&b), &lang, path.into_inner().sku, qty).await?;
    let base = t.link("");
    if let Some(steps) = p["price_breakdown"]["steps"].as_array_mut() {
        for s in steps.iter_mut() {
            let kind = s["kind"].as_str().unwrap_or("").to_owned();
            s["label"] = json!(tr(&state, &req, &format!("why-{kind}")));
        }
    }
    p["stock_label"] =
        json!(tr(&state, &req, &format!("stock-{}", p["stock_status"].as_str().unwrap_or("out_of_stock"))));
    p["unit_label"] = json!(tr(&state, &req, &format!("unit-{}", product.unit)));
    p["signed_in"] = json!(b.0.is_some());
    p["breadcrumbs"] = json!(product
        .category_id
        .map(|id| crate::catalog::categories::path(&cats, id)
            .iter()
            .map(|c| json!({"name": c.name_in(&lang), "href": format!("{base}/catalog/{}", c.code)}))
            .collect::<Vec<_>>())
        .unwrap_or_default());
    p["has_breakdown"] = json!(p["price_breakdown"].is_object());
    // The reservation form's dates: from today to the store's longest reservation, tomorrow first.
    if b.0.is_some() && t.tenant.has(crate::platform::features::Feature::Reservations) {
        let days =
            crate::db::with_tenant(&state.pool, &t.tenant.schema, crate::ordering::reservations::max_days).await?;
        let today = chrono::Utc::now().date_naive();
        p["reserve"] = json!({"min": today, "default": today + chrono::Duration::days(1), "max": today + chrono::Duration::days(days)});
    }
    p["first_image"] = p["images"].get(0).cloned().unwrap_or(Value::Null);
    let title = p["name"].as_str().unwrap_or("").to_owned();
    let ctx = store_page(&req, &title, p).await?;
    render(&state, "storefront/product", &ctx)
}
