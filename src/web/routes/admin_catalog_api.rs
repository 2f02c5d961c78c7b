//! The supplier's catalog API: products (CRUD, stock, media), categories, attributes,
//! warehouses, spreadsheet import/export.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::products::{self, Mode, Product, Refs, Row};
use crate::catalog::{attributes, categories, service, stock};
use crate::db::schema_tenant::products as products_t;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::exchange::{catalog_file, table};
use crate::identity::staff::{MANAGE_CATALOG, MANAGE_STOCK};
use crate::web::roles::StaffCtx;
use crate::web::routes::catalog_api::{content_disposition, SkuPath};
use crate::web::upload;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/admin/products").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/api/v1/admin/products/import").route(web::post().to(import)))
        .service(web::resource("/api/v1/admin/products/export").route(web::get().to(export)))
        .service(
            web::resource("/api/v1/admin/products/{sku}")
                .route(web::get().to(show))
                .route(web::patch().to(patch))
                .route(web::delete().to(delete)),
        )
        .service(web::resource("/api/v1/admin/products/{sku}/stock").route(web::put().to(put_stock)))
        .service(web::resource("/api/v1/admin/products/{sku}/images").route(web::post().to(add_image)))
        .service(web::resource("/api/v1/admin/products/{sku}/images/{id}").route(web::delete().to(remove_image)))
        .service(web::resource("/api/v1/admin/products/{sku}/files").route(web::post().to(add_file)))
        .service(
            web::resource("/api/v1/admin/categories")
                .route(web::get().to(list_categories))
                .route(web::post().to(create_category)),
        )
        .service(web::resource("/api/v1/admin/categories/{code}").route(web::delete().to(delete_category)))
        .service(
            web::resource("/api/v1/admin/attributes")
                .route(web::get().to(list_attributes))
                .route(web::post().to(create_attribute)),
        )
        .service(
            web::resource("/api/v1/admin/warehouses")
                .route(web::get().to(list_warehouses))
                .route(web::post().to(create_warehouse)),
        );
}

/// A JSON body as a product row: scalars as text, `attributes`/`prices`/`stock_by_warehouse`
/// objects as `attr:`/`price:`/`stock:` columns, a `barcodes` array joined.
pub fn row_from_json(body: &Value) -> AppResult<Row> {
    let obj = body.as_object().ok_or_else(|| AppError::BadRequest("the body must be a JSON object".into()))?;
    let mut row = Row::new();
    let mut errors = FieldErrors::new();
    let text = |v: &Value| -> Option<String> {
        match v {
            Value::Null => Some(String::new()),
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    for (k, v) in obj {
        let nested = |prefix: &str, row: &mut Row, errors: &mut FieldErrors| match v.as_object() {
            Some(m) => {
                for (code, val) in m {
                    match text(val) {
                        Some(t) => {
                            row.insert(format!("{prefix}:{code}"), t);
                        }
                        None => {
                            errors.insert(format!("{k}.{code}"), "must be text or a number".into());
                        }
                    }
                }
            }
            None => {
                errors.insert(k.clone(), "must be an object".into());
            }
        };
        match k.as_str() {
            "attributes" => nested("attr", &mut row, &mut errors),
            "prices" => nested("price", &mut row, &mut errors),
            "stock_by_warehouse" => nested("stock", &mut row, &mut errors),
            "barcodes" if v.is_array() => {
                let list: Vec<String> = v.as_array().into_iter().flatten().filter_map(text).collect();
                row.insert("barcodes".into(), list.join(";"));
            }
            _ => match text(v) {
                Some(t) => {
                    row.insert(k.clone(), t);
                }
                None => {
                    errors.insert(k.clone(), "must be text or a number".into());
                }
            },
        }
    }
    if errors.is_empty() {
        Ok(row)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The staff view of a product: its row, grouped.
pub fn admin_json(p: &Product, row: &Row) -> Value {
    let mut o = serde_json::Map::new();
    let (mut attrs, mut prices, mut stock) = (serde_json::Map::new(), serde_json::Map::new(), serde_json::Map::new());
    for (k, v) in row {
        if let Some(c) = k.strip_prefix("attr:") {
            if !v.is_empty() {
                attrs.insert(c.into(), json!(v));
            }
        } else if let Some(c) = k.strip_prefix("price:") {
            if !v.is_empty() {
                prices.insert(c.into(), json!(v));
            }
        } else if let Some(c) = k.strip_prefix("stock:") {
            stock.insert(c.into(), json!(v));
        } else {
            o.insert(k.clone(), json!(v));
        }
    }
    o.insert("id".into(), json!(p.id));
    o.insert("attributes".into(), Value::Object(attrs));
    o.insert("prices".into(), Value::Object(prices));
    o.insert("stock_by_warehouse".into(), Value::Object(stock));
    o.insert("stock_available".into(), json!(crate::money::format_qty(p.stock_available)));
    o.insert("updated_at".into(), json!(p.updated_at));
    Value::Object(o)
}

/// The staff view of a product as it is in the database now.
fn admin_view(c: &mut PgConnection, p: &Product) -> AppResult<Value> {
    let refs = Refs::load(c)?;
    let row = products::to_row(c, p, &refs)?;
    Ok(admin_json(p, &row))
}

#[derive(Deserialize)]
pub struct AdminListQuery {
    pub q: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Staff list: every status, filtered by SKU/name text, status and category.
pub async fn admin_list(state: &AppState, s: &StaffCtx, q: AdminListQuery) -> AppResult<(Vec<Value>, i64, i64, i64)> {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    if !(1..=100_000).contains(&page) || !(1..=200).contains(&per_page) {
        return Err(AppError::field("per_page", "page ≥ 1, per_page between 1 and 200"));
    }
    if q.q.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::field("q", "at most 200 characters"));
    }
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let cat_id = match q.category.as_deref().filter(|c| !c.is_empty()) {
            Some(code) => Some(categories::by_code(c, code)?.ok_or_else(|| AppError::not_found("category"))?.id),
            None => None,
        };
        let filtered = || {
            let mut b = products_t::table.into_boxed();
            if let Some(t) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                let pattern = format!("%{}%", crate::db::escape_like(t));
                b = b.filter(products_t::sku.ilike(pattern.clone()).or(products_t::name.ilike(pattern)));
            }
            if let Some(st) = q.status.as_deref().filter(|s| !s.is_empty()) {
                b = b.filter(products_t::status.eq(st.to_owned()));
            }
            if let Some(id) = cat_id {
                b = b.filter(products_t::category_id.eq(id));
            }
            b
        };
        let total: i64 = filtered().count().get_result(c)?;
        let list: Vec<Product> = filtered()
            .select(Product::as_select())
            .order(products_t::sku)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .load(c)?;
        let refs = Refs::load(c)?;
        let rows = products::to_rows(c, &list, &refs)?;
        Ok((list.iter().zip(rows.iter()).map(|(p, r)| admin_json(p, r)).collect(), total, page, per_page))
    })
    .await
}

async fn list(state: web::Data<AppState>, s: StaffCtx, q: web::Query<AdminListQuery>) -> AppResult<HttpResponse> {
    let (items, total, page, per_page) = admin_list(&state, &s, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"items": items, "total": total, "page": page, "per_page": per_page})))
}

/// Creates or updates from a row; answers the staff view.
pub async fn save_row(
    state: &AppState,
    s: &StaffCtx,
    row: Row,
    mode: Mode,
    existing: Option<String>,
) -> AppResult<Value> {
    s.require(MANAGE_CATALOG)?;
    let tenant_id = s.tenant.tenant.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let refs = Refs::load(c)?;
        let mut full = match existing.as_deref() {
            Some(sku) => {
                let p = products::find_by_sku(c, sku)?.ok_or_else(|| AppError::not_found("product"))?;
                products::to_row(c, &p, &refs)?
            }
            None => Row::new(),
        };
        // Stock and extra prices the request does not mention are left as they are now in
        // the database (an order or a 1C exchange may have changed them since the form was read).
        let sent_stock: Vec<i64> = row
            .keys()
            .filter_map(|k| k.strip_prefix("stock:").or((k == "stock").then_some("main")))
            .filter_map(|w| refs.warehouses.get(w).copied())
            .collect();
        let sent_prices: Vec<String> = row.keys().filter_map(|k| k.strip_prefix("price:")).map(str::to_owned).collect();
        if row.contains_key("stock") {
            full.remove("stock:main");
        }
        full.extend(row);
        let mut draft = products::parse_row(&full, &refs).map_err(AppError::Validation)?;
        draft.stock.retain(|(w, _)| sent_stock.contains(w));
        draft.prices.retain(|(t, _)| sent_prices.contains(t));
        let (id, _) = products::save(c, tenant_id, &draft, mode, existing.as_deref())?;
        let p = products::by_ids(c, &[id])?.pop().ok_or_else(|| AppError::not_found("product"))?;
        let row = products::to_row(c, &p, &refs)?;
        Ok(admin_json(&p, &row))
    })
    .await
}

async fn create(state: web::Data<AppState>, s: StaffCtx, body: web::Json<Value>) -> AppResult<HttpResponse> {
    let row = row_from_json(&body)?;
    let v = save_row(&state, &s, row, Mode::Create, None).await?;
    Ok(HttpResponse::Created().json(v))
}

async fn show(state: web::Data<AppState>, s: StaffCtx, path: web::Path<SkuPath>) -> AppResult<HttpResponse> {
    let sku = path.into_inner().sku;
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let p = products::find_by_sku(c, &sku)?.ok_or_else(|| AppError::not_found("product"))?;
        admin_view(c, &p)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn patch(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<SkuPath>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    let row = row_from_json(&body)?;
    let v = save_row(&state, &s, row, Mode::Update, Some(path.into_inner().sku)).await?;
    Ok(HttpResponse::Ok().json(v))
}

async fn delete(state: web::Data<AppState>, s: StaffCtx, path: web::Path<SkuPath>) -> AppResult<HttpResponse> {
    s.require(MANAGE_CATALOG)?;
    let sku = path.into_inner().sku;
    let tenant_id = s.tenant.tenant.id;
    let keys = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let p = products::find_by_sku(c, &sku)?.ok_or_else(|| AppError::not_found("product"))?;
        let keys = service::media_keys_of(c, p.id)?;
        products::delete(c, tenant_id, &sku)?;
        Ok(keys)
    })
    .await?;
    service::delete_stored(&state, keys).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockLine {
    warehouse: String,
    quantity: Value,
}

/// `[{warehouse, quantity}]`: sets the quantity on hand per warehouse.
async fn put_stock(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<SkuPath>,
    body: web::Json<Vec<StockLine>>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_STOCK)?;
    let sku = path.into_inner().sku;
    let tenant_id = s.tenant.tenant.id;
    let lines = body.into_inner();
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let p = products::find_by_sku(c, &sku)?.ok_or_else(|| AppError::not_found("product"))?;
        let whs = stock::warehouses(c)?;
        let mut errors = FieldErrors::new();
        let mut parsed = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let q = match &l.quantity {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            let qty = crate::money::parse_qty(&q).or_else(|e| {
                if q.trim() == "0" {
                    Ok(rust_decimal::Decimal::ZERO)
                } else {
                    Err(e)
                }
            });
            match (whs.iter().find(|w| w.code == l.warehouse), qty) {
                (Some(w), Ok(q)) => parsed.push((w.id, q)),
                (None, _) => {
                    errors.insert(format!("{i}.warehouse"), format!("unknown warehouse {}", l.warehouse));
                }
                (_, Err(e)) => {
                    errors.insert(format!("{i}.quantity"), e);
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        for (w, q) in parsed {
            stock::set(c, p.id, w, q)?;
        }
        products::after_change(c, tenant_id, &[p.id])?;
        let p = products::by_ids(c, &[p.id])?.pop().ok_or_else(|| AppError::not_found("product"))?;
        admin_view(c, &p)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Multipart field `image`: checked by its bytes, stored with a thumbnail.
async fn add_image(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<SkuPath>,
    multipart: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_CATALOG)?;
    let img = service::add_image(&state, &s.tenant, path.into_inner().sku, multipart).await?;
    Ok(HttpResponse::Created()
        .json(json!({"id": img.id, "width": img.width, "height": img.height, "content_type": img.content_type})))
}

#[derive(Deserialize)]
struct ImagePath {
    sku: String,
    id: i64,
}

async fn remove_image(state: web::Data<AppState>, s: StaffCtx, path: web::Path<ImagePath>) -> AppResult<HttpResponse> {
    s.require(MANAGE_CATALOG)?;
    let ImagePath { sku, id } = path.into_inner();
    service::remove_image(&state, &s.tenant, sku, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Multipart field `file` (certificate, manual …; optional text field `title`). Served only
/// as a download.
async fn add_file(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<SkuPath>,
    multipart: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_CATALOG)?;
    let f = service::add_file(&state, &s.tenant, path.into_inner().sku, multipart).await?;
    Ok(HttpResponse::Created().json(json!({"id": f.id, "size": f.size, "content_type": f.content_type})))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    /// `1`: check only, never apply.
    pub dry_run: Option<String>,
}

/// Checks and (when the whole file is valid) applies a CSV/XLSX file (multipart field `file`).
pub async fn run_import(
    state: &AppState,
    s: &StaffCtx,
    bytes: Vec<u8>,
    apply: bool,
) -> AppResult<catalog_file::Report> {
    s.require(MANAGE_CATALOG)?;
    let tenant_id = s.tenant.tenant.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| catalog_file::import(c, tenant_id, &bytes, apply)).await
}

async fn import(
    state: web::Data<AppState>,
    s: StaffCtx,
    q: web::Query<ImportQuery>,
    multipart: actix_multipart::Multipart,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_CATALOG)?;
    let up = upload::read(multipart, &["file"], 20 * 1024 * 1024, &mut Vec::new())
        .await?
        .ok_or_else(|| AppError::field("file", "choose a CSV or XLSX file"))?;
    let apply = !matches!(q.dry_run.as_deref(), Some("1" | "true"));
    let report = run_import(&state, &s, up.bytes, apply).await?;
    let status = if report.errors.is_empty() { 200 } else { 422 };
    let body = json!({
        "applied": report.applied, "rows": report.rows, "created": report.created, "updated": report.updated,
        "encoding": report.encoding, "errors": report.errors,
        "error": (!report.errors.is_empty()).then(|| json!({"code": "import_invalid", "message": format!("{} problems found; nothing was changed", report.errors.len())})),
    });
    Ok(HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default()).json(body))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
}

pub async fn run_export(state: &AppState, s: &StaffCtx, format: &str) -> AppResult<HttpResponse> {
    let rows = with_tenant(&state.pool, &s.tenant.tenant.schema, catalog_file::export_rows).await?;
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let (bytes, ct, ext) = match format {
        "xlsx" => (
            web::block(move || table::write_xlsx(&rows, "Товары"))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "csv" => (table::write_csv(&rows), "text/csv; charset=utf-8", "csv"),
        _ => return Err(AppError::field("format", "must be csv or xlsx")),
    };
    let bytes = bytes.map_err(|e| AppError::Internal(anyhow::anyhow!("export: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header((
            "Content-Disposition",
            content_disposition(&format!("{}-products-{date}.{ext}", s.tenant.tenant.slug)),
        ))
        .body(bytes))
}

async fn export(state: web::Data<AppState>, s: StaffCtx, q: web::Query<ExportQuery>) -> AppResult<HttpResponse> {
    run_export(&state, &s, q.format.as_deref().unwrap_or("csv")).await
}

/// A list that is never paged, in the envelope of the paged ones.
fn whole_list<T: Serialize>(items: &[T]) -> HttpResponse {
    HttpResponse::Ok().json(json!({"items": items, "total": items.len(), "page": 1, "per_page": items.len().max(1)}))
}

fn text_of(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

async fn list_categories(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    let cats = with_tenant(&state.pool, &s.tenant.tenant.schema, categories::all).await?;
    let items: Vec<Value> = cats
        .iter()
        .map(|c| {
            let parent = c.parent_id.and_then(|p| cats.iter().find(|x| x.id == p)).map(|p| p.code.clone());
            json!({"code": c.code, "name": c.name, "name_i18n": c.name_i18n, "parent": parent, "position": c.position})
        })
        .collect();
    Ok(whole_list(&items))
}

async fn create_category(state: web::Data<AppState>, s: StaffCtx, body: web::Json<Value>) -> AppResult<HttpResponse> {
    s.require(MANAGE_CATALOG)?;
    let b = body.into_inner();
    let new = categories::NewCategory {
        code: text_of(&b, "code").unwrap_or_default(),
        name: text_of(&b, "name").unwrap_or_default(),
        name_en: text_of(&b, "name_en"),
        parent: text_of(&b, "parent"),
        position: b.get("position").and_then(Value::as_i64).unwrap_or(0).clamp(0, 100_000) as i32,
    };
    let c = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| categories::create(c, new)).await?;
    Ok(HttpResponse::Created().json(json!({"code": c.code, "name": c.name})))
}

#[derive(Deserialize)]
struct CodePath {
    code: String,
}

async fn delete_category(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<CodePath>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_CATALOG)?;
    let code = path.into_inner().code;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| categories::delete(c, &code)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_attributes(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    let items = with_tenant(&state.pool, &s.tenant.tenant.schema, attributes::all).await?;
    Ok(whole_list(&items))
}

async fn create_attribute(state: web::Data<AppState>, s: StaffCtx, body: web::Json<Value>) -> AppResult<HttpResponse> {
    s.require(MANAGE_CATALOG)?;
    let b = body.into_inner();
    let new = attributes::NewAttribute {
        code: text_of(&b, "code").unwrap_or_default(),
        name: text_of(&b, "name").unwrap_or_default(),
        name_en: text_of(&b, "name_en"),
        kind: text_of(&b, "kind").unwrap_or_else(|| "text".into()),
        unit: text_of(&b, "unit").unwrap_or_default(),
        options: b
            .get("options")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        filterable: b.get("filterable").and_then(Value::as_bool).unwrap_or(true),
    };
    let a = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| attributes::create(c, new)).await?;
    Ok(HttpResponse::Created().json(a))
}

async fn list_warehouses(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    let items = with_tenant(&state.pool, &s.tenant.tenant.schema, stock::warehouses).await?;
    Ok(whole_list(&items))
}

async fn create_warehouse(state: web::Data<AppState>, s: StaffCtx, body: web::Json<Value>) -> AppResult<HttpResponse> {
    s.require(MANAGE_STOCK)?;
    let b = body.into_inner();
    let (code, name) = (text_of(&b, "code").unwrap_or_default(), text_of(&b, "name").unwrap_or_default());
    let w =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| stock::create_warehouse(c, &code, &name)).await?;
    Ok(HttpResponse::Created().json(w))
}
