//! The product list and the product form: show, create, update, and stock alone for the
//! warehouse role.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::form::{field, group_of, load, Posted, GROUPS};
use super::{category_options, option, product_link, product_path, SkuPath, Tx};
use crate::app::AppState;
use crate::catalog::products::{self, Mode, Row};
use crate::catalog::{categories, stock, STATUSES};
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::staff::{MANAGE_CATALOG, MANAGE_STOCK};
use crate::search::marketplace::urlencode;
use crate::web::auth::MaybeUser;
use crate::web::render::{render_status, store_page};
use crate::web::roles::StaffCtx;
use crate::web::routes::admin_catalog_api::{admin_list, save_row, AdminListQuery};
use crate::web::routes::admin_pages::staff_or_return;
use crate::web::routes::see_other;
use crate::web::tenant::TenantCtx;

const PER_PAGE: i64 = 50;

fn file_size(tx: &Tx, bytes: i64) -> String {
    match bytes {
        b if b < 1024 => tx.t_with("admin-catalog-bytes", "size", &b.to_string()),
        b if b < 1024 * 1024 => tx.t_with("admin-catalog-kb", "size", &format!("{:.0}", b as f64 / 1024.0)),
        b => tx.t_with("admin-catalog-mb", "size", &format!("{:.1}", b as f64 / 1048576.0)),
    }
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    category: Option<String>,
    page: Option<i64>,
}

pub(super) async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products");
    let tx = Tx::new(&state, &req, &t);
    let q = q.into_inner();
    let (text, status, category) =
        (q.q.clone().unwrap_or_default(), q.status.clone().unwrap_or_default(), q.category.clone().unwrap_or_default());
    let query =
        AdminListQuery { q: q.q, status: q.status, category: q.category, page: q.page, per_page: Some(PER_PAGE) };
    let (items, total, page, per_page) = admin_list(&state, &s, query).await?;
    let cats = with_tenant(&state.pool, &s.tenant.tenant.schema, categories::all).await?;
    let rows: Vec<Value> = items
        .iter()
        .map(|p| {
            let sku = p["sku"].as_str().unwrap_or_default();
            let code = p["category"].as_str().unwrap_or_default();
            let cat = cats.iter().find(|c| c.code == code).map(|c| c.name_in(&tx.lang).to_owned()).unwrap_or_default();
            let st = p["status"].as_str().unwrap_or_default();
            json!({"sku": sku, "href": t.link(&format!("/admin/products/{}", urlencode(sku))), "name": p["name"], "category": cat,
                "price": p["price"], "stock": p["stock_available"], "status": st, "status_label": tx.status(st)})
        })
        .collect();
    let statuses: Vec<Value> = std::iter::once(option("", tx.t("admin-catalog-all"), status.is_empty()))
        .chain(STATUSES.iter().map(|c| option(c, tx.status(c), *c == status)))
        .collect();
    let pages = ((total + per_page - 1) / per_page).max(1);
    let href = |p: i64| {
        let qs = serde_urlencoded::to_string([
            ("q", text.as_str()),
            ("status", &status),
            ("category", &category),
            ("page", &p.to_string()),
        ])
        .unwrap_or_default();
        t.link(&format!("/admin/products?{qs}"))
    };
    let data = json!({"products": rows, "total": total, "page": page, "pages": pages, "q": text,
        "statuses": statuses, "categories": category_options(&cats, &tx.lang, &category, tx.t("admin-catalog-all")),
        "prev": (page > 1).then(|| href(page - 1)), "next": (page < pages).then(|| href(page + 1)),
        "can_manage": MANAGE_CATALOG.contains(&s.role)});
    let ctx = store_page(&req, &tx.t("admin-catalog-products-title"), data).await?;
    render_status(&state, "admin/products", &ctx, 200)
}

fn done_is(req: &HttpRequest, what: &str) -> bool {
    req.query_string().split('&').any(|p| p == format!("done={what}"))
}

/// Renders the product form (new when `sku` is `None`) with what was posted, if anything.
pub(super) async fn product_view(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    sku: Option<String>,
    posted: Posted,
    media_error: Option<(&str, String)>,
    status: u16,
) -> AppResult<HttpResponse> {
    let tx = Tx::new(state, req, &s.tenant);
    let l = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| load(c, sku)).await?;
    let is_new = l.product.is_none();
    let mut values: Row = match &l.product {
        Some((_, row)) => row.clone(),
        None => [
            ("unit", "pcs"),
            ("vat_rate", "20"),
            ("status", "active"),
            ("pack_size", "1"),
            ("min_qty", "1"),
            ("order_multiple", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    };
    // Stock as first shown: kept across a failed save, so a later save changes only what was typed.
    let was: Row = if posted.input.is_empty() {
        values.iter().filter(|(k, _)| k.starts_with("stock:") && !is_new).map(|(k, v)| (k.clone(), v.clone())).collect()
    } else {
        posted.was.clone()
    };
    values.extend(posted.input);
    let mut errors = posted.errors;
    let can_manage = MANAGE_CATALOG.contains(&s.role);
    // The warehouse role changes stock only, through a form of its own.
    let stock_only = !can_manage && !is_new && MANAGE_STOCK.contains(&s.role);
    let mut groups = Vec::new();
    let mut summary = Vec::new();
    for (g, _) in GROUPS {
        let fields: Vec<Value> = l
            .columns
            .iter()
            .filter(|c| group_of(c) == *g)
            .map(|c| {
                let mut f = field(&tx, &l, c, values.get(c).map_or("", String::as_str), errors.get(c), was.get(c));
                if stock_only && *g == "stock" {
                    f["form"] = json!("stock-form");
                }
                if let Some(e) = errors.remove(c) {
                    summary.push(json!({"id": f["id"], "label": f["label"], "error": e}));
                }
                f
            })
            .collect();
        if !fields.is_empty() {
            groups.push(json!({"id": g, "title": tx.t(&format!("admin-catalog-group-{g}")), "hint": tx.t(&format!("admin-catalog-group-{g}-hint")), "fields": fields,
                "editable": can_manage || (stock_only && *g == "stock")}));
        }
    }
    let breaks = super::breaks::section(&l, &values, &mut errors, s, done_is(req, "breaks"));
    let alerts: Vec<String> = errors.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let current = l.product.as_ref().map(|(sku, _)| sku.clone());
    let path = current.as_deref().map(urlencode).unwrap_or_default();
    let images: Vec<Value> = l.images.iter()
        .map(|(id, w, h)| json!({"id": id, "width": w, "height": h, "thumb": s.tenant.link(&format!("/products/{path}/images/{id}/thumb")),
            "full": s.tenant.link(&format!("/products/{path}/images/{id}"))}))
        .collect();
    let files: Vec<Value> = l
        .files
        .iter()
        .map(|(id, name, title, size)| {
            json!({"id": id, "name": name, "title": title, "size": file_size(&tx, *size),
            "href": s.tenant.link(&format!("/products/{path}/files/{id}"))})
        })
        .collect();
    let done = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.0.into_iter().find(|(k, _)| k == "done").map(|(_, v)| v));
    let notice = match done.as_deref() {
        Some(d @ ("saved" | "image" | "file" | "image-removed" | "file-removed")) => {
            Some(json!({"text": tx.t(&format!("admin-catalog-done-{d}")), "at": d.split('-').next()}))
        }
        _ => None,
    };
    // The heading names the product as stored, not as typed into a form that failed.
    let stored = |k: &str| l.product.as_ref().and_then(|(_, r)| r.get(k)).cloned().unwrap_or_default();
    let (heading, stored_status) = match &current {
        Some(_) => (stored("name"), stored("status")),
        None => (tx.t("admin-catalog-new-title"), String::new()),
    };
    let title = match &current {
        Some(sku) => format!("{heading} · {sku}"),
        None => heading.clone(),
    };
    let (image_error, file_error) = match media_error {
        Some(("image", m)) => (Some(m), None),
        Some((_, m)) => (None, Some(m)),
        None => (None, None),
    };
    let action = match &current {
        Some(_) => s.tenant.link(&format!("/admin/products/{path}")),
        None => s.tenant.link("/admin/products/new"),
    };
    let data = json!({"is_new": is_new, "sku": current, "path": path, "action": action, "groups": groups, "summary": summary, "alerts": alerts,
        "images": images, "files": files, "notice": notice, "image_error": image_error, "file_error": file_error, "heading": heading, "status": stored_status, "status_label": (!stored_status.is_empty()).then(|| tx.status(&stored_status)),
        "can_manage": can_manage, "stock_only": stock_only, "breaks": breaks});
    let ctx = store_page(req, &title, data).await?;
    render_status(state, "admin/product_edit", &ctx, status)
}

pub(super) async fn new_product(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products/new");
    product_view(&state, &req, &s, None, Posted::default(), None, 200).await
}

pub(super) async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
) -> AppResult<HttpResponse> {
    let sku = path.into_inner().sku;
    let s = staff_or_return!(req, t, user, &product_path(&sku));
    product_view(&state, &req, &s, Some(sku), Posted::default(), None, 200).await
}

pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let s = staff_or_return!(req, t, user, "/admin/products/new");
    save(&state, &req, &s, None, form.into_inner()).await
}

pub(super) async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let sku = path.into_inner().sku;
    let s = staff_or_return!(req, t, user, &product_path(&sku));
    save(&state, &req, &s, Some(sku), form.into_inner()).await
}

/// Saves a posted form; on bad input shows it again with everything typed and the reasons.
async fn save(
    state: &AppState,
    req: &HttpRequest,
    s: &StaffCtx,
    existing: Option<String>,
    pairs: Vec<(String, String)>,
) -> AppResult<HttpResponse> {
    let mut posted = Posted::from(pairs);
    let row = posted.changed();
    let mode = if existing.is_some() { Mode::Update } else { Mode::Create };
    let tx = Tx::new(state, req, &s.tenant);
    let status = match save_row(state, s, row, mode, existing.clone()).await {
        Ok(v) => return Ok(see_other(&product_link(&s.tenant, v["sku"].as_str().unwrap_or_default(), "saved"))),
        Err(AppError::Validation(errors)) => {
            posted.errors = tx.errors(errors);
            422
        }
        Err(AppError::Conflict { code, message }) => {
            posted.errors.insert("sku".into(), tx.conflict(code, &message));
            409
        }
        Err(e) => return Err(e),
    };
    product_view(state, req, s, existing, posted, None, status).await
}

/// Stock only (the warehouse role): sets the figures changed since the form was opened.
pub(super) async fn update_stock(
    state: web::Data<AppState>,
    req: HttpRequest,
    t: TenantCtx,
    user: MaybeUser,
    path: web::Path<SkuPath>,
    form: web::Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let sku = path.into_inner().sku;
    let s = staff_or_return!(req, t, user, &product_path(&sku));
    s.require(MANAGE_STOCK)?;
    let mut posted = Posted::from(form.into_inner());
    posted.input.retain(|k, _| k.starts_with("stock:"));
    let changed: Vec<(String, String)> = posted.changed().into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let (tenant_id, key) = (s.tenant.tenant.id, sku.clone());
    let saved = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let p = products::find_by_sku(c, &key)?.ok_or_else(|| AppError::not_found("product"))?;
        let warehouses = stock::warehouses(c)?;
        let mut errors = FieldErrors::new();
        let mut parsed = Vec::new();
        for (col, raw) in &changed {
            let code = col.trim_start_matches("stock:");
            let qty = if raw.trim() == "0" { Ok(rust_decimal::Decimal::ZERO) } else { crate::money::parse_qty(raw) };
            match (warehouses.iter().find(|w| w.code == code), qty) {
                (Some(w), Ok(q)) => parsed.push((w.id, q)),
                (None, _) => {
                    errors.insert(col.clone(), format!("unknown warehouse {code}"));
                }
                (_, Err(e)) => {
                    errors.insert(col.clone(), e);
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        for (w, q) in parsed {
            stock::set(c, p.id, w, q)?;
        }
        products::after_change(c, tenant_id, &[p.id])
    })
    .await;
    match saved {
        Ok(()) => Ok(see_other(&product_link(&t, &sku, "saved"))),
        Err(AppError::Validation(errors)) => {
            posted.errors = Tx::new(&state, &req, &t).errors(errors);
            product_view(&state, &req, &s, Some(sku), posted, None, 422).await
        }
        Err(e) => Err(e),
    }
}
