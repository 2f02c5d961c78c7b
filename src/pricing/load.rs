//! Loads what applies today for a batch of products and one buyer, then runs the engine.
//! Five small queries per batch whatever its size (a page of 20 or a cart of 200); order
//! placement reads the same terms in one call ([`Terms::from_json`]).

use std::collections::HashMap;

use std::str::FromStr;

use chrono::Utc;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

use super::engine::{compute, Breakdown, GroupTerms, Inputs, Promo};
use super::VatMode;
use crate::catalog::categories;
use crate::catalog::products::Product;
use crate::db::schema_tenant::{
    customer_prices, price_groups, price_types, product_prices, promotions, quantity_breaks,
};
use crate::error::{AppError, AppResult};

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

/// What applies today to a batch of products for one buyer: the group's terms and price
/// type, contract prices, quantity breaks and the running promotions open to the buyer.
#[derive(Default)]
pub struct Terms {
    group: Option<Group>,
    type_prices: HashMap<i64, Decimal>,
    contracts: HashMap<i64, Decimal>,
    breaks: HashMap<i64, Vec<(Decimal, Decimal)>>,
    promos: Vec<PromoRow>,
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
    let terms = terms(conn, buyer, &ids)?;
    price_with(conn, terms, buyer, vat_mode, items)
}

/// Reads the [`Terms`] for `buyer` and the products `ids` (five small queries).
pub fn terms(conn: &mut PgConnection, buyer: Option<&Buyer>, ids: &[i64]) -> AppResult<Terms> {
    let today = Utc::now().date_naive();
    let group = match buyer.and_then(|b| b.price_group.as_deref()) {
        Some(code) => group_of(conn, code)?,
        None => None,
    };
    let mut type_prices: HashMap<i64, Decimal> = HashMap::new();
    if let Some(g) = group.as_ref().filter(|g| g.price_type != "base") {
        type_prices = product_prices::table
            .filter(product_prices::product_id.eq_any(ids))
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
            .filter(customer_prices::product_id.eq_any(ids))
            .filter(customer_prices::valid_from.is_null().or(customer_prices::valid_from.le(today)))
            .filter(customer_prices::valid_to.is_null().or(customer_prices::valid_to.ge(today)))
            .select((customer_prices::product_id, customer_prices::price))
            .load(conn)?;
        for (pid, price) in rows {
            add_contract(&mut contracts, pid, price);
        }
    }
    let mut breaks: HashMap<i64, Vec<(Decimal, Decimal)>> = HashMap::new();
    for (pid, min, pct) in quantity_breaks::table
        .filter(quantity_breaks::product_id.eq_any(ids))
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
    Ok(Terms { group, type_prices, contracts, breaks, promos })
}

/// A company may hold several contract prices for a product today: the lowest applies.
fn add_contract(contracts: &mut HashMap<i64, Decimal>, product: i64, price: Decimal) {
    let e = contracts.entry(product).or_insert(price);
    *e = (*e).min(price);
}

fn dec(v: &Value) -> AppResult<Decimal> {
    v.as_str()
        .and_then(|s| Decimal::from_str(s).ok())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("pricing terms: {v} is not a decimal")))
}

fn rows(v: &Value) -> impl Iterator<Item = &Vec<Value>> {
    v.as_array().into_iter().flatten().filter_map(Value::as_array)
}

impl Terms {
    /// The terms as the tenant's `order_inputs` function reads them in one call (its
    /// `group`, `type_prices`, `contracts`, `breaks` and `promotions`, decimals as text).
    pub fn from_json(v: &Value) -> AppResult<Terms> {
        let mut t = Terms::default();
        if let Some(g) = v.get("group").filter(|g| g.is_object()) {
            let text = |k: &str| g[k].as_str().unwrap_or_default().to_owned();
            t.group = Some(Group {
                code: text("code"),
                name: text("name"),
                price_type: text("price_type"),
                price_type_name: text("price_type_name"),
                discount: dec(&g["discount"])?,
            });
        }
        for r in rows(&v["type_prices"]) {
            t.type_prices.insert(r[0].as_i64().unwrap_or_default(), dec(&r[1])?);
        }
        for r in rows(&v["contracts"]) {
            add_contract(&mut t.contracts, r[0].as_i64().unwrap_or_default(), dec(&r[1])?);
        }
        for r in rows(&v["breaks"]) {
            t.breaks.entry(r[0].as_i64().unwrap_or_default()).or_default().push((dec(&r[1])?, dec(&r[2])?));
        }
        for r in rows(&v["promotions"]) {
            let ids = |x: &Value| x.as_array().into_iter().flatten().filter_map(Value::as_i64).collect::<Vec<_>>();
            let groups = r[6].as_array().into_iter().flatten().filter_map(|g| g.as_str().map(str::to_owned));
            t.promos.push((
                r[0].as_i64().unwrap_or_default(),
                r[1].as_str().unwrap_or_default().to_owned(),
                r[2].as_str().unwrap_or_default().to_owned(),
                dec(&r[3])?,
                ids(&r[4]),
                ids(&r[5]),
                groups.collect(),
            ));
        }
        Ok(t)
    }
}

/// Prices `items` for `buyer` under `terms` (loads the categories only when a running
/// promotion names some).
pub fn price_with(
    conn: &mut PgConnection,
    terms: Terms,
    buyer: Option<&Buyer>,
    vat_mode: VatMode,
    items: &[(&Product, Decimal)],
) -> AppResult<HashMap<i64, Breakdown>> {
    let Terms { group, type_prices, contracts, mut breaks, promos } = terms;
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
