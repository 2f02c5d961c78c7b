//! Loads what applies today for a batch of products and one buyer, then runs the engine.
//! Five small queries per batch whatever its size (a page of 20 or a cart of 200).

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::engine::{compute, Breakdown, GroupTerms, Inputs, Promo};
use super::VatMode;
use crate::catalog::categories;
use crate::catalog::products::Product;
use crate::db::schema_tenant::{
    customer_prices, price_groups, price_types, product_prices, promotions, quantity_breaks,
};
use crate::error::AppResult;

/// `(id, name, kind, value, product ids, category ids, price groups)` of a running promotion.
type PromoRow = (i64, String, String, Decimal, Vec<i64>, Vec<i64>, Vec<String>);

/// The pricing terms of the company a buyer acts for.
#[derive(Debug, Clone)]
pub struct Buyer {
    pub company_id: i64,
    pub price_group: Option<String>,
    pub discount_percent: Decimal,
}

impl Buyer {
    pub fn of(company: &crate::identity::companies::Company) -> Buyer {
        Buyer {
            company_id: company.id,
            price_group: company.price_group.clone(),
            discount_percent: company.discount_percent,
        }
    }
}

struct Group {
    code: String,
    name: String,
    price_type: String,
    price_type_name: String,
    discount: Decimal,
}

fn group_of(conn: &mut PgConnection, code: &str) -> AppResult<Option<Group>> {
    let row: Option<(String, String, String, Decimal)> = price_groups::table
        .find(code)
        .select((price_groups::code, price_groups::name, price_groups::price_type, price_groups::discount_percent))
        .first(conn)
        .optional()?;
    if let Some((code, name, price_type, discount)) = row {
        let price_type_name =
            price_types::table.find(&price_type).select(price_types::name).first(conn).optional()?.unwrap_or_default();
        return Ok(Some(Group { code, name, price_type, price_type_name, discount }));
    }
    // A group named on a customer before it was set up: its price type of the same code, if any.
    let t: Option<String> = price_types::table.find(code).select(price_types::name).first(conn).optional()?;
    Ok(t.map(|name| Group {
        code: code.to_owned(),
        name: name.clone(),
        price_type: code.to_owned(),
        price_type_name: name,
        discount: Decimal::ZERO,
    }))
}

/// Prices `items` (product, quantity) for `buyer` (`None`: a guest, who pays the base price
/// and sees promotions open to everyone).
pub fn price_many(
    conn: &mut PgConnection,
    buyer: Option<&Buyer>,
    vat_mode: VatMode,
    items: &[(&Product, Decimal)],
) -> AppResult<HashMap<i64, Breakdown>> {
    let ids: Vec<i64> = items.iter().map(|(p, _)| p.id).collect();
    let today = Utc::now().date_naive();
    let group = match buyer.and_then(|b| b.price_group.as_deref()) {
        Some(code) => group_of(conn, code)?,
        None => None,
    };
    let mut type_prices: HashMap<i64, Decimal> = HashMap::new();
    if let Some(g) = group.as_ref().filter(|g| g.price_type != "base") {
        type_prices = product_prices::table
            .filter(product_prices::product_id.eq_any(&ids))
            .filter(product_prices::price_type.eq(&g.price_type))
            .select((product_prices::product_id, product_prices::price))
            .load::<(i64, Decimal)>(conn)?
            .into_iter()
            .collect();
    }
    let mut contracts: HashMap<i64, Decimal> = HashMap::new();
    if let Some(b) = buyer {
        let rows: Vec<(i64, Decimal)> = customer_prices::table
            .filter(customer_prices::company_id.eq(b.company_id))
            .filter(customer_prices::product_id.eq_any(&ids))
            .filter(customer_prices::valid_from.is_null().or(customer_prices::valid_from.le(today)))
            .filter(customer_prices::valid_to.is_null().or(customer_prices::valid_to.ge(today)))
            .select((customer_prices::product_id, customer_prices::price))
            .load(conn)?;
        for (pid, price) in rows {
            let e = contracts.entry(pid).or_insert(price);
            *e = (*e).min(price);
        }
    }
    let mut breaks: HashMap<i64, Vec<(Decimal, Decimal)>> = HashMap::new();
    for (pid, min, pct) in quantity_breaks::table
        .filter(quantity_breaks::product_id.eq_any(&ids))
        .select((quantity_breaks::product_id, quantity_breaks::min_qty, quantity_breaks::discount_percent))
        .load::<(i64, Decimal, Decimal)>(conn)?
    {
        breaks.entry(pid).or_default().push((min, pct));
    }
    let now = Utc::now();
    let promos: Vec<PromoRow> = promotions::table
        .filter(promotions::active.eq(true))
        .filter(promotions::starts_at.le(now))
        .filter(promotions::ends_at.gt(now))
        .select((
            promotions::id,
            promotions::name,
            promotions::kind,
            promotions::value,
            promotions::product_ids,
            promotions::category_ids,
            promotions::price_groups,
        ))
        .load(conn)?;
    let group_code = group.as_ref().map(|g| g.code.clone());
    let promos: Vec<_> =
        promos.into_iter().filter(|p| p.6.is_empty() || group_code.as_ref().is_some_and(|g| p.6.contains(g))).collect();
    let cats = if promos.iter().any(|p| !p.5.is_empty()) { categories::all(conn)? } else { Vec::new() };

    let mut out = HashMap::with_capacity(items.len());
    for (p, qty) in items {
        let ancestors: Vec<i64> = match p.category_id {
            Some(c) if !cats.is_empty() => categories::path(&cats, c).iter().map(|c| c.id).collect(),
            Some(c) => vec![c],
            None => vec![],
        };
        let applicable = promos
            .iter()
            .filter(|pr| pr.4.contains(&p.id) || pr.5.iter().any(|c| ancestors.contains(c)))
            .map(|pr| Promo { id: pr.0, name: pr.1.clone(), percent: pr.2 == "percent", value: pr.3 })
            .collect();
        let inputs = Inputs {
            base: p.price,
            group: group.as_ref().map(|g| GroupTerms {
                code: g.code.clone(),
                name: g.name.clone(),
                price_type: g.price_type.clone(),
                price_type_name: g.price_type_name.clone(),
                type_price: type_prices.get(&p.id).copied(),
                discount_percent: g.discount,
            }),
            contract: contracts.get(&p.id).copied(),
            breaks: breaks.remove(&p.id).unwrap_or_default(),
            customer_discount: buyer.map(|b| b.discount_percent).unwrap_or_default(),
            promotions: applicable,
            vat_rate: p.vat(),
            vat_mode,
            qty: *qty,
        };
        out.insert(p.id, compute(&inputs));
    }
    Ok(out)
}
