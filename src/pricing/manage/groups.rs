//! Price groups (customer groups) and their price lists.

use std::collections::HashMap;

use diesel::prelude::*;
use rust_decimal::Decimal;

use super::{valid_code, Sent, MAX_GROUP_PRICES};
use crate::db::schema_tenant::{companies, price_groups, price_types, product_prices, products as products_t};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::money::{parse_amount, parse_percent};

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
