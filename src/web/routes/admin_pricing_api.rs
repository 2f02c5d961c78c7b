//! The supplier's pricing API: price groups and their price lists, contract prices of a
//! customer, quantity breaks, promotions; and the catalog/portal settings.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::catalog::products;
use crate::catalog::settings as cs;
use crate::db::schema_tenant::{
    categories, companies, customer_prices, price_groups, price_types, product_prices, products as products_t,
    promotions, quantity_breaks,
};
use crate::db::with_tenant;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::staff::{MANAGE_PRICES, SEE_CUSTOMERS};
use crate::money::{format, parse_amount, parse_percent, parse_qty};
use crate::platform::tenant_settings;
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

fn money_of(v: &Value) -> Result<Decimal, String> {
    match v {
        Value::String(s) => parse_amount(s),
        Value::Number(n) if n.is_i64() || n.is_u64() => parse_amount(&n.to_string()),
        _ => Err("must be a decimal string like \"1234.50\"".into()),
    }
}

fn percent_of(v: &Value) -> Result<Decimal, String> {
    match v {
        Value::String(s) => parse_percent(s),
        Value::Number(n) => parse_percent(&n.to_string()),
        _ => Err("must be a percentage like \"7.5\"".into()),
    }
}

fn valid_code(code: &str) -> bool {
    (1..=40).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

#[derive(Deserialize)]
struct CodePath {
    code: String,
}

async fn list_groups(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let rows: Vec<(String, String, String, Decimal, i64)> = with_tenant(&state.pool, &s.tenant.tenant.schema, |c| {
        let groups: Vec<(String, String, String, Decimal)> = price_groups::table
            .select((price_groups::code, price_groups::name, price_groups::price_type, price_groups::discount_percent))
            .order(price_groups::code)
            .load(c)?;
        let mut out = Vec::new();
        for (code, name, t, d) in groups {
            let n: i64 = product_prices::table.filter(product_prices::price_type.eq(&t)).count().get_result(c)?;
            out.push((code, name, t, d, n));
        }
        Ok(out)
    })
    .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|(code, name, t, d, n)| json!({"code": code, "name": name, "price_type": t, "discount_percent": format(*d), "prices": n}))
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({"items": items, "total": items.len(), "page": 1, "per_page": items.len().max(1)})))
}

/// Creates the group (and its price type of the same code) when missing.
fn ensure_group(c: &mut PgConnection, code: &str) -> AppResult<String> {
    if !valid_code(code) {
        return Err(AppError::field("code", "use 1–40 lowercase latin letters, digits, - or _"));
    }
    let t: Option<String> = price_groups::table.find(code).select(price_groups::price_type).first(c).optional()?;
    if let Some(t) = t {
        return Ok(t);
    }
    diesel::insert_into(price_types::table)
        .values((price_types::code.eq(code), price_types::name.eq(code)))
        .on_conflict_do_nothing()
        .execute(c)?;
    diesel::insert_into(price_groups::table)
        .values((price_groups::code.eq(code), price_groups::name.eq(code), price_groups::price_type.eq(code)))
        .execute(c)?;
    Ok(code.to_owned())
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
    let mut errors = FieldErrors::new();
    let name = b.get("name").and_then(Value::as_str).map(str::trim).map(str::to_owned);
    if name.as_deref().is_some_and(|n| n.is_empty() || n.chars().count() > 100) {
        errors.insert("name".into(), "must be 1–100 characters".into());
    }
    let discount = match b.get("discount_percent") {
        Some(v) => match percent_of(v) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.insert("discount_percent".into(), e);
                None
            }
        },
        None => None,
    };
    let price_type = b.get("price_type").and_then(Value::as_str).map(str::to_owned);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let v = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        ensure_group(c, &code)?;
        if let Some(n) = name {
            diesel::update(price_groups::table.find(&code)).set(price_groups::name.eq(n)).execute(c)?;
        }
        if let Some(d) = discount {
            diesel::update(price_groups::table.find(&code)).set(price_groups::discount_percent.eq(d)).execute(c)?;
        }
        if let Some(t) = price_type {
            let exists: i64 = price_types::table.filter(price_types::code.eq(&t)).count().get_result(c)?;
            if exists == 0 {
                return Err(AppError::field("price_type", format!("unknown price type {t}")));
            }
            diesel::update(price_groups::table.find(&code)).set(price_groups::price_type.eq(t)).execute(c)?;
        }
        let (code, name, t, d): (String, String, String, Decimal) = price_groups::table
            .find(&code)
            .select((price_groups::code, price_groups::name, price_groups::price_type, price_groups::discount_percent))
            .first(c)?;
        Ok(json!({"code": code, "name": name, "price_type": t, "discount_percent": format(d)}))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
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
    let lines = body.into_inner();
    if lines.len() > 100_000 {
        return Err(AppError::PayloadTooLarge("at most 100,000 prices per request".into()));
    }
    let tenant_id = s.tenant.tenant.id;
    let n = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let t = ensure_group(c, &code)?;
        if t == "base" {
            return Err(AppError::field("code", "this group uses base prices; change base prices on the products"));
        }
        let ids: std::collections::HashMap<String, i64> = products_t::table
            .select((products_t::sku, products_t::id))
            .load::<(String, i64)>(c)?
            .into_iter()
            .map(|(s, i)| (s.to_lowercase(), i))
            .collect();
        let mut errors = FieldErrors::new();
        let mut rows = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let sku = l.get("sku").and_then(Value::as_str).unwrap_or("");
            match (ids.get(&sku.to_lowercase()), l.get("price").map(money_of)) {
                (Some(id), Some(Ok(p))) => rows.push((*id, p)),
                (None, _) => {
                    errors.insert(format!("{i}.sku"), format!("unknown SKU {sku}"));
                }
                (_, Some(Err(e))) => {
                    errors.insert(format!("{i}.price"), e);
                }
                (_, None) => {
                    errors.insert(format!("{i}.price"), "is required".into());
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        for (id, p) in &rows {
            diesel::insert_into(product_prices::table)
                .values((
                    product_prices::product_id.eq(id),
                    product_prices::price_type.eq(&t),
                    product_prices::price.eq(p),
                ))
                .on_conflict((product_prices::product_id, product_prices::price_type))
                .do_update()
                .set(product_prices::price.eq(p))
                .execute(c)?;
        }
        let _ = tenant_id;
        Ok(rows.len())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"updated": n})))
}

async fn customer_prices_list(
    state: web::Data<AppState>,
    s: StaffCtx,
    path: web::Path<IdPath>,
) -> AppResult<HttpResponse> {
    s.require(SEE_CUSTOMERS)?;
    let id = path.id;
    let rows = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let exists: i64 = companies::table.filter(companies::id.eq(id)).count().get_result(c)?;
        if exists == 0 {
            return Err(AppError::not_found("customer"));
        }
        Ok(customer_prices::table
            .inner_join(products_t::table.on(products_t::id.eq(customer_prices::product_id)))
            .filter(customer_prices::company_id.eq(id))
            .select((
                products_t::sku,
                customer_prices::price,
                customer_prices::valid_from,
                customer_prices::valid_to,
                customer_prices::note,
            ))
            .order(products_t::sku)
            .load::<(String, Decimal, Option<chrono::NaiveDate>, Option<chrono::NaiveDate>, String)>(c)?)
    })
    .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|(sku, p, f, t, n)| json!({"sku": sku, "price": format(*p), "valid_from": f, "valid_to": t, "note": n}))
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({"items": items, "total": items.len(), "page": 1, "per_page": items.len().max(1)})))
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
    let lines = body.into_inner();
    let n = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let exists: i64 = companies::table.filter(companies::id.eq(id)).count().get_result(c)?;
        if exists == 0 {
            return Err(AppError::not_found("customer"));
        }
        let mut errors = FieldErrors::new();
        let mut rows = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let sku = l.get("sku").and_then(Value::as_str).unwrap_or("");
            let p = products::find_by_sku(c, sku)?;
            let price = l.get("price").map(money_of).unwrap_or(Err("is required".into()));
            let date = |k: &str| -> Result<Option<chrono::NaiveDate>, String> {
                match l.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()) {
                    Some(s) => products::parse_date(s).map(Some).ok_or_else(|| "must be a date like 2026-12-31".into()),
                    None => Ok(None),
                }
            };
            let (from, to) = (date("valid_from"), date("valid_to"));
            let note: String = l.get("note").and_then(Value::as_str).unwrap_or("").chars().take(200).collect();
            match (p, price, from, to) {
                (Some(p), Ok(price), Ok(f), Ok(t)) => {
                    if matches!((f, t), (Some(f), Some(t)) if t < f) {
                        errors.insert(format!("{i}.valid_to"), "must not be before valid_from".into());
                    } else {
                        rows.push((p.id, price, f, t, note));
                    }
                }
                (None, ..) => {
                    errors.insert(format!("{i}.sku"), format!("unknown SKU {sku}"));
                }
                (_, Err(e), ..) => {
                    errors.insert(format!("{i}.price"), e);
                }
                (_, _, Err(e), _) => {
                    errors.insert(format!("{i}.valid_from"), e);
                }
                (_, _, _, Err(e)) => {
                    errors.insert(format!("{i}.valid_to"), e);
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        diesel::delete(customer_prices::table.filter(customer_prices::company_id.eq(id))).execute(c)?;
        for (pid, price, f, t, note) in &rows {
            diesel::insert_into(customer_prices::table)
                .values((
                    customer_prices::company_id.eq(id),
                    customer_prices::product_id.eq(pid),
                    customer_prices::price.eq(price),
                    customer_prices::valid_from.eq(f),
                    customer_prices::valid_to.eq(t),
                    customer_prices::note.eq(note),
                ))
                .execute(c)?;
        }
        Ok(rows.len())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"updated": n})))
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
    let lines = body.into_inner();
    let mut errors = FieldErrors::new();
    let mut rows = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let q = match l.get("min_qty") {
            Some(Value::String(s)) => parse_qty(s),
            Some(Value::Number(n)) => parse_qty(&n.to_string()),
            _ => Err("is required".into()),
        };
        let p = l.get("discount_percent").map(percent_of).unwrap_or(Err("is required".into()));
        match (q, p) {
            (Ok(q), Ok(p)) if p > Decimal::ZERO && p < Decimal::ONE_HUNDRED => rows.push((q, p)),
            (Ok(_), Ok(_)) => {
                errors.insert(format!("{i}.discount_percent"), "must be between 0 and 100".into());
            }
            (Err(e), _) => {
                errors.insert(format!("{i}.min_qty"), e);
            }
            (_, Err(e)) => {
                errors.insert(format!("{i}.discount_percent"), e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let n = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let p = products::find_by_sku(c, &sku)?.ok_or_else(|| AppError::not_found("product"))?;
        diesel::delete(quantity_breaks::table.filter(quantity_breaks::product_id.eq(p.id))).execute(c)?;
        for (q, d) in &rows {
            diesel::insert_into(quantity_breaks::table)
                .values((
                    quantity_breaks::product_id.eq(p.id),
                    quantity_breaks::min_qty.eq(q),
                    quantity_breaks::discount_percent.eq(d),
                ))
                .on_conflict((quantity_breaks::product_id, quantity_breaks::min_qty))
                .do_update()
                .set(quantity_breaks::discount_percent.eq(d))
                .execute(c)?;
        }
        Ok(rows.len())
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"updated": n})))
}

type PromoRow = (i64, String, String, Decimal, DateTime<Utc>, DateTime<Utc>, Vec<i64>, Vec<i64>, Vec<String>, bool);

async fn list_promotions(state: web::Data<AppState>, s: StaffCtx) -> AppResult<HttpResponse> {
    let rows: Vec<PromoRow> = with_tenant(&state.pool, &s.tenant.tenant.schema, |c| {
        Ok(promotions::table
            .select((
                promotions::id,
                promotions::name,
                promotions::kind,
                promotions::value,
                promotions::starts_at,
                promotions::ends_at,
                promotions::product_ids,
                promotions::category_ids,
                promotions::price_groups,
                promotions::active,
            ))
            .order(promotions::starts_at.desc())
            .load(c)?)
    })
    .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|r| json!({"id": r.0, "name": r.1, "kind": r.2, "value": format(r.3), "starts_at": r.4, "ends_at": r.5, "product_ids": r.6, "category_ids": r.7, "price_groups": r.8, "active": r.9}))
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({"items": items, "total": items.len(), "page": 1, "per_page": items.len().max(1)})))
}

/// `{name, kind: percent|fixed_price, value, starts_at, ends_at, skus?, categories?, price_groups?}`.
async fn create_promotion(state: web::Data<AppState>, s: StaffCtx, body: web::Json<Value>) -> AppResult<HttpResponse> {
    s.require(MANAGE_PRICES)?;
    let b = body.into_inner();
    let mut errors = FieldErrors::new();
    let name = b.get("name").and_then(Value::as_str).unwrap_or("").trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        errors.insert("name".into(), "must be 1–200 characters".into());
    }
    let kind = b.get("kind").and_then(Value::as_str).unwrap_or("").to_owned();
    let value = match kind.as_str() {
        "percent" => b.get("value").map(percent_of).unwrap_or(Err("is required".into())).and_then(|v| {
            if v > Decimal::ZERO && v < Decimal::ONE_HUNDRED {
                Ok(v)
            } else {
                Err("must be between 0 and 100".into())
            }
        }),
        "fixed_price" => b.get("value").map(money_of).unwrap_or(Err("is required".into())),
        _ => Err("kind must be percent or fixed_price".into()),
    };
    let value = value.map_err(|e| errors.insert("value".into(), e)).ok();
    let ts = |k: &str, errors: &mut FieldErrors| -> Option<DateTime<Utc>> {
        let s = b.get(k).and_then(Value::as_str).unwrap_or("");
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| products::parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc()))
            .or_else(|| {
                errors.insert(k.into(), "must be a date or time like 2026-12-01 or 2026-12-01T00:00:00Z".into());
                None
            })
    };
    let (start, end) = (ts("starts_at", &mut errors), ts("ends_at", &mut errors));
    if let (Some(a), Some(z)) = (start, end) {
        if z <= a {
            errors.insert("ends_at".into(), "must be after starts_at".into());
        }
    }
    let list = |k: &str| -> Vec<String> {
        b.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let (skus, cats, groups) = (list("skus"), list("categories"), list("price_groups"));
    if kind == "fixed_price" && !cats.is_empty() {
        errors.insert("categories".into(), "a fixed price applies to products, not categories".into());
    }
    if skus.is_empty() && cats.is_empty() {
        errors.insert("skus".into(), "name the products or categories the promotion is for".into());
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (value, start, end) = (value.unwrap_or_default(), start.unwrap_or_default(), end.unwrap_or_default());
    let id: i64 = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        let mut errors = FieldErrors::new();
        let mut pids = Vec::new();
        for sku in &skus {
            match products::find_by_sku(c, sku)? {
                Some(p) => pids.push(p.id),
                None => {
                    errors.insert("skus".into(), format!("unknown SKU {sku}"));
                }
            }
        }
        let mut cids = Vec::new();
        for code in &cats {
            match categories::table
                .filter(categories::code.eq(code))
                .select(categories::id)
                .first::<i64>(c)
                .optional()?
            {
                Some(id) => cids.push(id),
                None => {
                    errors.insert("categories".into(), format!("unknown category {code}"));
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(diesel::insert_into(promotions::table)
            .values((
                promotions::name.eq(&name),
                promotions::kind.eq(&kind),
                promotions::value.eq(value),
                promotions::starts_at.eq(start),
                promotions::ends_at.eq(end),
                promotions::product_ids.eq(pids),
                promotions::category_ids.eq(cids),
                promotions::price_groups.eq(groups),
            ))
            .returning(promotions::id)
            .get_result(c)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({"id": id})))
}

async fn delete_promotion(state: web::Data<AppState>, s: StaffCtx, path: web::Path<IdPath>) -> AppResult<HttpResponse> {
    s.require(MANAGE_PRICES)?;
    let id = path.id;
    let n = with_tenant(&state.pool, &s.tenant.tenant.schema, move |c| {
        Ok(diesel::delete(promotions::table.find(id)).execute(c)?)
    })
    .await?;
    if n == 0 {
        return Err(AppError::not_found("promotion"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The settings this API reads and writes, with their checks.
fn check_setting(key: &str, v: &Value) -> Result<Value, String> {
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
];

pub async fn settings_json(state: &AppState, s: &StaffCtx) -> AppResult<Value> {
    with_tenant(&state.pool, &s.tenant.tenant.schema, |c| {
        let cat = cs::load(c)?;
        Ok(json!({
            "guest_prices": cat.guest_prices,
            "stock_display": if cat.stock_display == crate::catalog::stock::Display::Exact { "exact" } else { "levels" },
            "low_stock_threshold": cat.low_threshold.to_string().parse::<i64>().unwrap_or(10),
            "vat_mode": cat.vat_mode.as_str(),
            "currency": cat.currency,
            "require_email_confirmation": tenant_settings::get_bool(c, tenant_settings::REQUIRE_EMAIL_CONFIRMATION, true)?,
            "search_synonyms": tenant_settings::get(c, "search_synonyms")?.unwrap_or(json!({})),
        }))
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
            Ok(v) if SETTING_KEYS.contains(&k.as_str()) => values.push((k.clone(), v)),
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
