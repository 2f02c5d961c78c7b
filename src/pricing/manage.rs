//! Managing prices: price groups and their price lists, contract prices of a customer,
//! quantity breaks and promotions. Use cases over a tenant connection, validation included;
//! the pricing API and the back-office pages parse their input into these types and render
//! the result. Validation messages are English (pages translate them).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::catalog::products;
use crate::db::schema_tenant::{
    categories, companies, customer_prices, price_groups, price_types, product_prices, products as products_t,
    promotions, quantity_breaks,
};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::money::{parse_amount, parse_percent, parse_qty};

/// One value as sent: its text, or why there is none (missing, a JSON value of the wrong type).
pub type Sent = Result<String, String>;

/// Most prices one group price list request may carry.
pub const MAX_GROUP_PRICES: usize = 100_000;

fn valid_code(code: &str) -> bool {
    (1..=40).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A customer group: its price type (price list), discount, and how much uses it.
#[derive(Debug, Clone)]
pub struct Group {
    pub code: String,
    pub name: String,
    pub price_type: String,
    pub price_type_name: String,
    pub discount_percent: Decimal,
    /// Products with a price of the group's price type.
    pub prices: i64,
    /// Customers in the group.
    pub customers: i64,
}

/// Every group, by code.
pub fn list_groups(c: &mut PgConnection) -> AppResult<Vec<Group>> {
    let groups: Vec<(String, String, String, Decimal)> = price_groups::table
        .select((price_groups::code, price_groups::name, price_groups::price_type, price_groups::discount_percent))
        .order(price_groups::code)
        .load(c)?;
    let type_names: HashMap<String, String> = price_types::table
        .select((price_types::code, price_types::name))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect();
    let prices: HashMap<String, i64> = product_prices::table
        .group_by(product_prices::price_type)
        .select((product_prices::price_type, diesel::dsl::count_star()))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect();
    let customers: HashMap<String, i64> = companies::table
        .filter(companies::price_group.is_not_null())
        .group_by(companies::price_group)
        .select((companies::price_group.assume_not_null(), diesel::dsl::count_star()))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect();
    Ok(groups
        .into_iter()
        .map(|(code, name, t, d)| Group {
            price_type_name: type_names.get(&t).cloned().unwrap_or_else(|| t.clone()),
            prices: prices.get(&t).copied().unwrap_or(0),
            customers: customers.get(&code).copied().unwrap_or(0),
            code,
            name,
            price_type: t,
            discount_percent: d,
        })
        .collect())
}

/// Creates the group (and its price type of the same code) when missing; returns its price type.
pub fn ensure_group(c: &mut PgConnection, code: &str) -> AppResult<String> {
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

/// What to change in a group; `None` leaves it.
#[derive(Debug, Default)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub discount_percent: Option<Sent>,
    pub price_type: Option<String>,
}

/// Creates the group when missing and applies `patch`; returns (code, name, price type, discount).
pub fn patch_group(
    c: &mut PgConnection,
    code: &str,
    patch: GroupPatch,
) -> AppResult<(String, String, String, Decimal)> {
    let mut errors = FieldErrors::new();
    let name = patch.name.map(|n| n.trim().to_owned());
    if name.as_deref().is_some_and(|n| n.is_empty() || n.chars().count() > 100) {
        errors.insert("name".into(), "must be 1–100 characters".into());
    }
    let discount = match patch.discount_percent.map(|d| d.and_then(|s| parse_percent(&s))) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            errors.insert("discount_percent".into(), e);
            None
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    ensure_group(c, code)?;
    if let Some(n) = name {
        diesel::update(price_groups::table.find(code)).set(price_groups::name.eq(n)).execute(c)?;
    }
    if let Some(d) = discount {
        diesel::update(price_groups::table.find(code)).set(price_groups::discount_percent.eq(d)).execute(c)?;
    }
    if let Some(t) = patch.price_type {
        let exists: i64 = price_types::table.filter(price_types::code.eq(&t)).count().get_result(c)?;
        if exists == 0 {
            return Err(AppError::field("price_type", format!("unknown price type {t}")));
        }
        diesel::update(price_groups::table.find(code)).set(price_groups::price_type.eq(t)).execute(c)?;
    }
    Ok(price_groups::table
        .find(code)
        .select((price_groups::code, price_groups::name, price_groups::price_type, price_groups::discount_percent))
        .first(c)?)
}

fn group_exists(c: &mut PgConnection, code: &str) -> AppResult<bool> {
    let n: i64 = price_groups::table.filter(price_groups::code.eq(code)).count().get_result(c)?;
    Ok(n > 0)
}

/// A new group (409 `group_exists` when the code is taken) with `patch` applied.
pub fn create_group(
    c: &mut PgConnection,
    code: &str,
    patch: GroupPatch,
) -> AppResult<(String, String, String, Decimal)> {
    if group_exists(c, code)? {
        return Err(AppError::conflict("group_exists", format!("a group {code} already exists")));
    }
    patch_group(c, code, patch)
}

/// `patch` applied to an existing group (404 when there is none).
pub fn update_group(
    c: &mut PgConnection,
    code: &str,
    patch: GroupPatch,
) -> AppResult<(String, String, String, Decimal)> {
    if !group_exists(c, code)? {
        return Err(AppError::not_found("price group"));
    }
    patch_group(c, code, patch)
}

/// Sets prices of the group's price list from `(sku, price)` lines. Checked completely first:
/// nothing is applied unless every line is valid (errors keyed `<index>.sku`/`<index>.price`).
pub fn set_group_prices(c: &mut PgConnection, code: &str, lines: &[(String, Sent)]) -> AppResult<usize> {
    if lines.len() > MAX_GROUP_PRICES {
        return Err(AppError::PayloadTooLarge("at most 100,000 prices per request".into()));
    }
    let t = ensure_group(c, code)?;
    if t == "base" {
        return Err(AppError::field("code", "this group uses base prices; change base prices on the products"));
    }
    let ids: HashMap<String, i64> = products_t::table
        .select((products_t::sku, products_t::id))
        .load::<(String, i64)>(c)?
        .into_iter()
        .map(|(s, i)| (s.to_lowercase(), i))
        .collect();
    let mut errors = FieldErrors::new();
    let mut rows = Vec::new();
    for (i, (sku, price)) in lines.iter().enumerate() {
        match (ids.get(&sku.to_lowercase()), price.as_ref().map_err(Clone::clone).and_then(|s| parse_amount(s))) {
            (Some(id), Ok(p)) => rows.push((*id, p)),
            (None, _) => {
                errors.insert(format!("{i}.sku"), format!("unknown SKU {sku}"));
            }
            (_, Err(e)) => {
                errors.insert(format!("{i}.price"), e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    for (id, p) in &rows {
        diesel::insert_into(product_prices::table)
            .values((product_prices::product_id.eq(id), product_prices::price_type.eq(&t), product_prices::price.eq(p)))
            .on_conflict((product_prices::product_id, product_prices::price_type))
            .do_update()
            .set(product_prices::price.eq(p))
            .execute(c)?;
    }
    Ok(rows.len())
}

/// A customer's individual price of one product.
#[derive(Debug, Clone, Queryable)]
pub struct ContractPrice {
    pub sku: String,
    pub product_name: String,
    pub price: Decimal,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub note: String,
}

fn customer_exists(c: &mut PgConnection, company_id: i64) -> AppResult<()> {
    let exists: i64 = companies::table.filter(companies::id.eq(company_id)).count().get_result(c)?;
    if exists == 0 {
        return Err(AppError::not_found("customer"));
    }
    Ok(())
}

/// The customer's contract prices by SKU; 404 for an unknown customer.
pub fn contract_prices(c: &mut PgConnection, company_id: i64) -> AppResult<Vec<ContractPrice>> {
    customer_exists(c, company_id)?;
    Ok(customer_prices::table
        .inner_join(products_t::table.on(products_t::id.eq(customer_prices::product_id)))
        .filter(customer_prices::company_id.eq(company_id))
        .select((
            products_t::sku,
            products_t::name,
            customer_prices::price,
            customer_prices::valid_from,
            customer_prices::valid_to,
            customer_prices::note,
        ))
        .order(products_t::sku)
        .load(c)?)
}

/// One contract price as sent; empty dates mean open-ended.
#[derive(Debug, Clone)]
pub struct ContractLine {
    pub sku: String,
    pub price: Sent,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
    pub note: String,
}

fn date_of(s: Option<&str>) -> Result<Option<NaiveDate>, String> {
    match s.filter(|s| !s.is_empty()) {
        Some(s) => products::parse_date(s).map(Some).ok_or_else(|| "must be a date like 2026-12-31".into()),
        None => Ok(None),
    }
}

type ContractRow = (i64, Decimal, Option<NaiveDate>, Option<NaiveDate>, String);

/// Replaces the customer's contract prices with `lines`. Every line is checked first (one
/// error per line, keyed `<index>.<field>`); nothing is applied unless all are valid.
pub fn replace_contract_prices(c: &mut PgConnection, company_id: i64, lines: &[ContractLine]) -> AppResult<usize> {
    customer_exists(c, company_id)?;
    let mut errors = FieldErrors::new();
    let mut rows: Vec<ContractRow> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let p = products::find_by_sku(c, &l.sku)?;
        let price = l.price.as_ref().map_err(Clone::clone).and_then(|s| parse_amount(s));
        let (from, to) = (date_of(l.valid_from.as_deref()), date_of(l.valid_to.as_deref()));
        let note: String = l.note.chars().take(200).collect();
        match (p, price, from, to) {
            (Some(p), Ok(price), Ok(f), Ok(t)) => {
                if matches!((f, t), (Some(f), Some(t)) if t < f) {
                    errors.insert(format!("{i}.valid_to"), "must not be before valid_from".into());
                } else {
                    rows.push((p.id, price, f, t, note));
                }
            }
            (None, ..) => {
                errors.insert(format!("{i}.sku"), format!("unknown SKU {}", l.sku));
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
    diesel::delete(customer_prices::table.filter(customer_prices::company_id.eq(company_id))).execute(c)?;
    for (pid, price, f, t, note) in &rows {
        diesel::insert_into(customer_prices::table)
            .values((
                customer_prices::company_id.eq(company_id),
                customer_prices::product_id.eq(pid),
                customer_prices::price.eq(price),
                customer_prices::valid_from.eq(f),
                customer_prices::valid_to.eq(t),
                customer_prices::note.eq(note),
            ))
            .execute(c)?;
    }
    Ok(rows.len())
}

/// One quantity break as sent.
#[derive(Debug, Clone)]
pub struct BreakLine {
    pub min_qty: Sent,
    pub discount_percent: Sent,
}

/// The product's quantity breaks `(min qty, percent)`, smallest quantity first.
pub fn breaks(c: &mut PgConnection, product_id: i64) -> AppResult<Vec<(Decimal, Decimal)>> {
    Ok(quantity_breaks::table
        .filter(quantity_breaks::product_id.eq(product_id))
        .select((quantity_breaks::min_qty, quantity_breaks::discount_percent))
        .order(quantity_breaks::min_qty)
        .load(c)?)
}

/// Replaces the quantity breaks of the product `sku`. Lines are checked first (errors keyed
/// `<index>.min_qty`/`<index>.discount_percent`), then the product is looked up (404).
pub fn replace_breaks(c: &mut PgConnection, sku: &str, lines: &[BreakLine]) -> AppResult<usize> {
    let mut errors = FieldErrors::new();
    let mut rows = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let q = l.min_qty.as_ref().map_err(Clone::clone).and_then(|s| parse_qty(s));
        let p = l.discount_percent.as_ref().map_err(Clone::clone).and_then(|s| parse_percent(s));
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
    let p = products::find_by_sku(c, sku)?.ok_or_else(|| AppError::not_found("product"))?;
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
}

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
