//! Contract prices of a customer and quantity breaks of a product.

use chrono::NaiveDate;
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::Sent;
use crate::catalog::products;
use crate::db::schema_tenant::{companies, customer_prices, products as products_t, quantity_breaks};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::money::{parse_amount, parse_percent, parse_qty};

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
