//! The supplier's pricing API: price groups and their price lists, contract prices of a
//! customer, quantity breaks, promotions; and the catalog/portal settings.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::settings as cs;
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::staff::{MANAGE_PRICES, SEE_CUSTOMERS};
use crate::money::format;
use crate::platform::tenant_settings;
use crate::pricing::manage::{self, Sent};
use crate::web::roles::StaffCtx;
use crate::web::routes::account_api::IdPath;
use crate::web::routes::catalog_api::SkuPath;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/admin/price-groups").route(web::get().to(list_groups)))
        .service(web::resource("/api/v1/admin/price-groups/{code}").route(web::patch().to(patch_group)))
        .service(web::resource("/api/v1/admin/price-groups/{code}/prices").route(web::put().to(put_group_prices)))
        .service(
            web::resource("/api/v1/admin/customers/{id}/prices")
                .route(web::get().to(customer_prices_list))
                .route(web::put().to(put_customer_prices)),
        )
        .service(web::resource("/api/v1/admin/products/{sku}/quantity-breaks").route(web::put().to(put_breaks)))
        .service(
            web::resource("/api/v1/admin/promotions")
                .route(web::get().to(list_promotions))
                .route(web::post().to(create_promotion)),
        )
        .service(web::resource("/api/v1/admin/promotions/{id}").route(web::delete().to(delete_promotion)))
        .service(
            web::resource("/api/v1/admin/settings")
                .route(web::get().to(get_settings))
                .route(web::patch().to(patch_settings)),
        );
}

/// A money value as sent: a decimal string or a whole number.
fn money_text(v: &Value) -> Sent {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        _ => Err("must be a decimal string like \"1234.50\"".into()),
    }
}

/// A percentage as sent: a string or any number.
fn percent_text(v: &Value) -> Sent {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err("must be a percentage like \"7.5\"".into()),
    }
}

/// `body[key]` converted by `text`, or "is required".
fn required(body: &Value, key: &str, text: fn(&Value) -> Sent) -> Sent {
    body.get(key).map(text).unwrap_or(Err("is required".into()))
}

fn str_of(body: &Value, key: &str) -> String {
    body.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn list_json<T: serde::Serialize>(items: Vec<T>) -> HttpResponse {
    let n = items.len();
    HttpResponse::Ok().json(json!({"items": items, "total": n, "page": 1, "per_page": n.max(1)}))
}

#[derive(Deserialize)]
struct CodePath {
    code: String,
}

async fn list_groups(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let groups = with_tenant(&state.pool, &s.tenant.tenant.schema, manage::list_groups).await?;
    Ok(list_json(
        groups
            .iter()
            .map(|g| json!({"code": g.code, "name": g.name, "price_type": g.price_type, "discount_percent": format(g.discount_percent), "prices": g.prices}))
            .collect(),
    ))
}

async fn patch_group(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<CodePath>,
    body: web::Json<Value>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_PRICES)?;
    let code = path.into_inner().code;
    let b = body.into_inner();
    let patch = manage::GroupPatch {
        name: b.get("name").and_then(Value::as_str).map(str::to_owned),
        discount_percent: b.get("discount_percent").map(percent_text),
        price_type: b.get("price_type").and_then(Value::as_str).map(str::to_owned),
    };
    let (code, name, t, d) =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::patch_group(c, &code, patch)).await?;
    Ok(HttpResponse::Ok().json(json!({"code": code, "name": name, "price_type": t, "discount_percent": format(d)})))
}

/// `[{sku, price}]`: the group's price list (its price type's prices). Checked completely;
/// nothing is applied unless every line is valid.
async fn put_group_prices(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<CodePath>,
    body: web::Json<Vec<Value>>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_PRICES)?;
    let code = path.into_inner().code;
    let lines: Vec<(String, Sent)> =
        body.into_inner().iter().map(|l| (str_of(l, "sku"), required(l, "price", money_text))).collect();
    let n =
        with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::set_group_prices(c, &code, &lines)).await?;
    Ok(HttpResponse::Ok().json(json!({"updated": n})))
}

async fn customer_prices_list(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let id = path.id;
    let rows = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::contract_prices(c, id)).await?;
    Ok(list_json(
        rows.iter()
            .map(|p| json!({"sku": p.sku, "price": format(p.price), "valid_from": p.valid_from, "valid_to": p.valid_to, "note": p.note}))
            .collect(),
    ))
}

/// `[{sku, price, valid_from?, valid_to?, note?}]`: replaces the customer's contract prices.
async fn put_customer_prices(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<IdPath>,
    body: web::Json<Vec<Value>>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_PRICES)?;
    let id = path.id;
    let lines: Vec<manage::ContractLine> = body
        .into_inner()
        .iter()
        .map(|l| manage::ContractLine {
            sku: str_of(l, "sku"),
            price: required(l, "price", money_text),
            valid_from: l.get("valid_from").and_then(Value::as_str).map(str::to_owned),
            valid_to: l.get("valid_to").and_then(Value::as_str).map(str::to_owned),
            note: str_of(l, "note"),
        })
        .collect();
    let n = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::replace_contract_prices(c, id, &lines))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"updated": n})))
}

/// A quantity as sent: a string or a number.
fn qty_text(v: &Value) -> Sent {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err("is required".into()),
    }
}

/// `[{min_qty, discount_percent}]`: replaces the product's quantity breaks.
async fn put_breaks(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<SkuPath>,
    body: web::Json<Vec<Value>>,
) -> AppResult<HttpResponse> {
    s.require(MANAGE_PRICES)?;
    let sku = path.into_inner().sku;
    let lines: Vec<manage::BreakLine> = body
        .into_inner()
        .iter()
        .map(|l| manage::BreakLine {
            min_qty: required(l, "min_qty", qty_text),
            discount_percent: required(l, "discount_percent", percent_text),
        })
        .collect();
    let n = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::replace_breaks(c, &sku, &lines)).await?;
    Ok(HttpResponse::Ok().json(json!({"updated": n})))
}

async fn list_promotions(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    let rows = with_tenant(&state.pool, &s.tenant.tenant.schema, manage::list_promotions).await?;
    Ok(list_json(
        rows.iter()
            .map(|r| json!({"id": r.id, "name": r.name, "kind": r.kind, "value": format(r.value), "starts_at": r.starts_at, "ends_at": r.ends_at, "product_ids": r.product_ids, "category_ids": r.category_ids, "price_groups": r.price_groups, "active": r.active}))
            .collect(),
    ))
}

/// `{name, kind: percent|fixed_price, value, starts_at, ends_at, skus?, categories?, price_groups?}`.
async fn create_promotion(state: web::Data<AppState>, s: StaffCtx, body: web::Json<Value>) -> AppResult<HttpResponse> {
    s.require(MANAGE_PRICES)?;
    let b = body.into_inner();
    let kind = str_of(&b, "kind");
    let list = |k: &str| -> Vec<String> {
        b.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let new = manage::NewPromotion {
        name: str_of(&b, "name"),
        value: required(&b, "value", if kind == "percent" { percent_text } else { money_text }),
        kind,
        starts_at: str_of(&b, "starts_at"),
        ends_at: str_of(&b, "ends_at"),
        skus: list("skus"),
        categories: list("categories"),
        price_groups: list("price_groups"),
    };
    let id = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::create_promotion(c, new)).await?;
    Ok(HttpResponse::Created().json(json!({"id": id})))
}

async fn delete_promotion(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    s.require(MANAGE_PRICES)?;
    let id = path.id;
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| manage::delete_promotion(c, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The settings this API reads and writes, with their checks.
fn check_setting(key: &str, v: &Value) -> Result<Value, String> {
    if crate::finance::requisites::KEYS.contains(&key) {
        return crate::finance::requisites::check(key, v).unwrap_or_else(|| Err("unknown setting".into()));
    }
    if let Some(checked) = crate::documents::settings::check(key, v) {
        return checked;
    }
    match key {
        cs::GUEST_PRICES | tenant_settings::REQUIRE_EMAIL_CONFIRMATION => {
            v.as_bool().map(Value::Bool).ok_or("must be true or false".into())
        }
        cs::STOCK_DISPLAY => match v.as_str() {
            Some("levels" | "exact") => Ok(v.clone()),
            _ => Err("must be levels or exact".into()),
        },
        cs::LOW_STOCK_THRESHOLD => match v.as_i64() {
            Some(n) if (0..=1_000_000).contains(&n) => Ok(v.clone()),
            _ => Err("must be a whole number from 0".into()),
        },
        cs::VAT_MODE => match v.as_str() {
            Some("included" | "excluded") => Ok(v.clone()),
            _ => Err("must be included or excluded".into()),
        },
        cs::CURRENCY => match v.as_str() {
            Some(c) if c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase()) => Ok(v.clone()),
            _ => Err("must be a currency code like RUB".into()),
        },
        crate::finance::invoices::INVOICE_ON => match v.as_str() {
            Some(s) if crate::finance::invoices::INVOICE_ON_CHOICES.contains(&s) => Ok(v.clone()),
            _ => Err("must be placement, confirmation or manual".into()),
        },
        cs::CREDIT_CONTROL => match v.as_str() {
            Some("refuse" | "hold") => Ok(v.clone()),
            _ => Err("must be refuse or hold".into()),
        },
        crate::finance::card::STRIPE_ACCOUNT => crate::finance::card::check_account(v),
        crate::finance::PAYMENT_TERMS_DAYS => match v.as_i64() {
            Some(n) if (0..=365).contains(&n) => Ok(v.clone()),
            _ => Err("must be 0 (prepayment) to 365 days".into()),
        },
        crate::ordering::returns::WINDOW_DAYS | crate::ordering::returns::DECISION_DAYS => {
            crate::ordering::returns::check_setting(key, v)
        }
        "search_synonyms" => match v.as_object() {
            Some(m)
                if m.len() <= 1000
                    && m.values().all(|x| x.as_array().is_some_and(|a| a.iter().all(Value::is_string))) =>
            {
                Ok(v.clone())
            }
            _ => Err("must be an object of word → [synonyms]".into()),
        },
        _ => Err("unknown setting".into()),
    }
}

const SETTING_KEYS: &[&str] = &[
    cs::GUEST_PRICES,
    cs::STOCK_DISPLAY,
    cs::LOW_STOCK_THRESHOLD,
    cs::VAT_MODE,
    cs::CURRENCY,
    tenant_settings::REQUIRE_EMAIL_CONFIRMATION,
    "search_synonyms",
    crate::finance::PAYMENT_TERMS_DAYS,
    crate::finance::invoices::INVOICE_ON,
    cs::CREDIT_CONTROL,
    crate::finance::card::STRIPE_ACCOUNT,
    crate::ordering::returns::WINDOW_DAYS,
    crate::ordering::returns::DECISION_DAYS,
];

pub async fn settings_json(state: &AppState, s: &StaffCtx) -> AppResult<Value> {
    with_tenant(&state.pool, &s.tenant.tenant.schema, |c| {
        let cat = cs::load(c)?;
        let mut v = json!({
            "guest_prices": cat.guest_prices,
            "stock_display": if cat.stock_display == crate::catalog::stock::Display::Exact { "exact" } else { "levels" },
            "low_stock_threshold": cat.low_threshold.to_string().parse::<i64>().unwrap_or(10),
            "vat_mode": cat.vat_mode.as_str(),
            "currency": cat.currency,
            "require_email_confirmation": tenant_settings::get_bool(c, tenant_settings::REQUIRE_EMAIL_CONFIRMATION, true)?,
            "search_synonyms": tenant_settings::get(c, "search_synonyms")?.unwrap_or(json!({})),
            "payment_terms_days": tenant_settings::get(c, crate::finance::PAYMENT_TERMS_DAYS)?.and_then(|v| v.as_i64()).unwrap_or(0),
            "invoice_on": crate::finance::invoices::issued_on(c)?,
            "credit_control": if cat.credit_hold { "hold" } else { "refuse" },
            "stripe_account": crate::finance::card::account(c)?.unwrap_or_default(),
        });
        let (window, decision) = crate::ordering::returns::terms(c)?;
        v["return_window_days"] = json!(window);
        v["return_decision_days"] = json!(decision);
        // The supplier's legal and bank details, as PATCH takes them, and the document settings.
        if let Some(o) = v.as_object_mut() {
            o.extend(crate::finance::requisites::load(c)?);
            if let Some(d) = crate::documents::settings::load(c)?.json().as_object() {
                o.extend(d.clone());
            }
        }
        Ok(v)
    })
    .await
}

async fn get_settings(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(settings_json(&state, &s).await?))
}

pub async fn apply_settings(state: &AppState, s: &StaffCtx, body: Value) -> AppResult<Value> {
    s.require(crate::identity::staff::MANAGE_STAFF)?;
    let obj = body.as_object().ok_or_else(|| AppError::BadRequest("the body must be a JSON object".into()))?;
    let mut errors = FieldErrors::new();
    let mut values = Vec::new();
    for (k, v) in obj {
        match check_setting(k, v) {
            Ok(v)
                if SETTING_KEYS.contains(&k.as_str())
                    || crate::finance::requisites::KEYS.contains(&k.as_str())
                    || crate::documents::settings::KEYS.contains(&k.as_str()) =>
            {
                values.push((k.clone(), v))
            }
            Ok(_) => {
                errors.insert(k.clone(), "unknown setting".into());
            }
            Err(e) => {
                errors.insert(k.clone(), e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        // The accounts must match the BIC as the details will stand after the change.
        let stored = crate::finance::requisites::load(c)?;
        let mismatched = crate::finance::requisites::check_accounts(&stored, &values);
        if !mismatched.is_empty() {
            return Err(AppError::Validation(mismatched.into_iter().collect()));
        }
        for (k, v) in &values {
            tenant_settings::set(c, k, v)?;
        }
        Ok(())
    })
    .await?;
    settings_json(state, s).await
}

async fn patch_settings(state: web::Data<AppState>, s: StaffCtx, body: web::Json<Value>) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(apply_settings(&state, &s, body.into_inner()).await?))
}
