//! Promotions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::Sent;
use crate::catalog::products;
use crate::db::schema_tenant::{categories, products as products_t, promotions};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::money::{parse_amount, parse_percent};

/// A promotion as stored.
#[derive(Debug, Clone, Queryable)]
pub struct Promotion {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub value: Decimal,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub product_ids: Vec<i64>,
    pub category_ids: Vec<i64>,
    pub price_groups: Vec<String>,
    pub active: bool,
}

/// Every promotion, latest start first.
pub fn list_promotions(c: &mut PgConnection) -> AppResult<Vec<Promotion>> {
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
}

/// The SKUs and category codes promotions name, by id (for showing them to people).
pub fn target_names(
    c: &mut PgConnection,
    promos: &[Promotion],
) -> AppResult<(HashMap<i64, String>, HashMap<i64, String>)> {
    let pids: Vec<i64> = promos.iter().flat_map(|p| p.product_ids.iter().copied()).collect();
    let cids: Vec<i64> = promos.iter().flat_map(|p| p.category_ids.iter().copied()).collect();
    let skus = products_t::table
        .filter(products_t::id.eq_any(pids))
        .select((products_t::id, products_t::sku))
        .load::<(i64, String)>(c)?;
    let codes = categories::table
        .filter(categories::id.eq_any(cids))
        .select((categories::id, categories::code))
        .load::<(i64, String)>(c)?;
    Ok((skus.into_iter().collect(), codes.into_iter().collect()))
}

/// A promotion as sent: `kind` is `percent` or `fixed_price`; times are RFC 3339 or dates.
#[derive(Debug, Clone)]
pub struct NewPromotion {
    pub name: String,
    pub kind: String,
    pub value: Sent,
    pub starts_at: String,
    pub ends_at: String,
    pub skus: Vec<String>,
    pub categories: Vec<String>,
    pub price_groups: Vec<String>,
}

fn timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| products::parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc()))
}

/// The checks that need no database: value by kind, period, targets.
fn check_promotion(p: &NewPromotion) -> Result<(Decimal, DateTime<Utc>, DateTime<Utc>), FieldErrors> {
    let mut errors = FieldErrors::new();
    if p.name.trim().is_empty() || p.name.trim().chars().count() > 200 {
        errors.insert("name".into(), "must be 1–200 characters".into());
    }
    let sent = p.value.clone();
    let value = match p.kind.as_str() {
        "percent" => sent.and_then(|s| parse_percent(&s)).and_then(|v| {
            if v > Decimal::ZERO && v < Decimal::ONE_HUNDRED {
                Ok(v)
            } else {
                Err("must be between 0 and 100".into())
            }
        }),
        "fixed_price" => sent.and_then(|s| parse_amount(&s)),
        _ => Err("kind must be percent or fixed_price".into()),
    };
    let value = value.map_err(|e| errors.insert("value".into(), e)).ok();
    let mut ts = |k: &str, s: &str| {
        timestamp(s).or_else(|| {
            errors.insert(k.into(), "must be a date or time like 2026-12-01 or 2026-12-01T00:00:00Z".into());
            None
        })
    };
    let (start, end) = (ts("starts_at", &p.starts_at), ts("ends_at", &p.ends_at));
    if let (Some(a), Some(z)) = (start, end) {
        if z <= a {
            errors.insert("ends_at".into(), "must be after starts_at".into());
        }
    }
    if p.kind == "fixed_price" && !p.categories.is_empty() {
        errors.insert("categories".into(), "a fixed price applies to products, not categories".into());
    }
    if p.skus.is_empty() && p.categories.is_empty() {
        errors.insert("skus".into(), "name the products or categories the promotion is for".into());
    }
    match (value, start, end) {
        (Some(v), Some(a), Some(z)) if errors.is_empty() => Ok((v, a, z)),
        _ => Err(errors),
    }
}

/// Creates a promotion after checking it completely (unknown SKUs and categories included).
pub fn create_promotion(c: &mut PgConnection, p: NewPromotion) -> AppResult<i64> {
    let (value, start, end) = check_promotion(&p).map_err(AppError::Validation)?;
    let mut errors = FieldErrors::new();
    let mut pids = Vec::new();
    for sku in &p.skus {
        match products::find_by_sku(c, sku)? {
            Some(p) => pids.push(p.id),
            None => {
                errors.insert("skus".into(), format!("unknown SKU {sku}"));
            }
        }
    }
    let mut cids = Vec::new();
    for code in &p.categories {
        match categories::table.filter(categories::code.eq(code)).select(categories::id).first::<i64>(c).optional()? {
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
            promotions::name.eq(p.name.trim()),
            promotions::kind.eq(&p.kind),
            promotions::value.eq(value),
            promotions::starts_at.eq(start),
            promotions::ends_at.eq(end),
            promotions::product_ids.eq(pids),
            promotions::category_ids.eq(cids),
            promotions::price_groups.eq(&p.price_groups),
        ))
        .returning(promotions::id)
        .get_result(c)?)
}

/// Deletes a promotion; 404 when there is none of that id.
pub fn delete_promotion(c: &mut PgConnection, id: i64) -> AppResult<()> {
    match diesel::delete(promotions::table.find(id)).execute(c)? {
        0 => Err(AppError::not_found("promotion")),
        _ => Ok(()),
    }
}
