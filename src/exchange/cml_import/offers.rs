//! `ПакетПредложений` (offers*, prices*, rests*): price types through the mapping,
//! warehouses by 1C id, variants `product#variant` made under their product, prices (in the
//! store's currency, divided by `Коэффициент`) and stock per warehouse (never below what is
//! reserved). Offers of products we do not have are skipped with a warning.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use rust_decimal::Decimal;

use super::classifier::count;
use super::products::{self, ProductRow};
use super::rows::{code_for, currency_code, cut, unit_of, unit_price, variant_label, SkuSet};
use super::stage::{stage, Col, Id, Touched};
use crate::error::AppResult;
use crate::exchange::commerceml::{Offer, OfferPackage, PriceType, Warehouse};
use crate::exchange::report::ImportReport;

/// What an upsert of many rows did, in one row: how many it touched and created, and the
/// distinct products among them (a file of 500,000 stock rows answers 50,000 ids, not
/// 500,000 rows).
#[derive(QueryableByName)]
struct Summary {
    #[diesel(sql_type = diesel::sql_types::Int8)]
    touched: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    created: i64,
    #[diesel(sql_type = Array<diesel::sql_types::Int8>)]
    ids: Vec<i64>,
}

/// Runs `upsert` (ending `RETURNING <product id> AS product_id, <inserted?> AS created`) and
/// answers its [`Summary`].
fn summarized(conn: &mut PgConnection, upsert: &str) -> AppResult<Summary> {
    Ok(diesel::sql_query(format!(
        "WITH t AS ({upsert}) SELECT count(*) AS touched, count(*) FILTER (WHERE created) AS created, \
                coalesce(array_agg(DISTINCT product_id), '{{}}') AS ids FROM t"
    ))
    .get_result(conn)?)
}

#[derive(QueryableByName)]
struct Known {
    #[diesel(sql_type = Text)]
    external_id: String,
}

/// Applies the package; `more_types`/`more_warehouses` come from a classifier in the same file.
pub fn apply(
    conn: &mut PgConnection,
    pkg: &OfferPackage,
    more_types: &[PriceType],
    more_warehouses: &[Warehouse],
    currency: &str,
    report: &mut ImportReport,
) -> AppResult<Vec<i64>> {
    let types: Vec<PriceType> = more_types.iter().chain(&pkg.price_types).cloned().collect();
    let mapping = super::price_types::ensure(conn, &types, currency, report)?;
    let warehouses = warehouses(conn, more_warehouses.iter().chain(&pkg.warehouses), report)?;
    let mut changed = variants(conn, &pkg.offers, report)?;
    let known = known(conn, &pkg.offers)?;
    let mut usable = Vec::with_capacity(pkg.offers.len());
    for o in &pkg.offers {
        if known.contains(&o.id.full) {
            usable.push(o);
        } else {
            report.warn(o.line, format!("offer {}: no such product; skipped", o.id.full));
        }
    }
    let type_currency: HashMap<&str, String> =
        types.iter().map(|t| (t.id.as_str(), t.currency.as_deref().map(currency_code).unwrap_or_default())).collect();
    changed.extend(prices(conn, &usable, &mapping, &type_currency, currency, report)?);
    changed.extend(stock(conn, &usable, &warehouses, report)?);
    Ok(changed)
}

fn warehouses<'a>(
    conn: &mut PgConnection,
    list: impl Iterator<Item = &'a Warehouse>,
    report: &mut ImportReport,
) -> AppResult<HashMap<String, i64>> {
    let mut seen = HashSet::new();
    let list: Vec<&Warehouse> = list.filter(|w| !w.id.is_empty() && seen.insert(w.id.clone())).collect();
    if !list.is_empty() {
        let n = stage(
            conn,
            "stg_warehouses",
            &list,
            &[
                ("external_id", Col::Text(&|w| Some(w.id.clone()))),
                ("code", Col::Text(&|w| Some(code_for(&w.id)))),
                ("name", Col::Text(&|w| Some(cut(if w.name.trim().is_empty() { &w.id } else { &w.name }, 200)))),
            ],
        )?;
        let touched: Vec<Touched> = diesel::sql_query(
            "INSERT INTO warehouses AS w (external_id, code, name, position) \
             SELECT s.external_id, s.code, s.name, (SELECT coalesce(max(position), 0) + 1 FROM warehouses) \
             FROM stg_warehouses s \
             ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO UPDATE SET name = EXCLUDED.name \
              WHERE w.name IS DISTINCT FROM EXCLUDED.name \
             RETURNING w.id, (w.xmax = 0) AS created, false AS variant",
        )
        .load(conn)?;
        count(report, "warehouses", n, &touched, &[]);
    }
    #[derive(QueryableByName)]
    struct W {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        id: i64,
        #[diesel(sql_type = Text)]
        key: String,
    }
    // Every 1C warehouse we know, and "" for the main one (stock given only as a total).
    let rows: Vec<W> = diesel::sql_query(
        "SELECT id, external_id AS key FROM warehouses WHERE external_id IS NOT NULL \
         UNION ALL (SELECT id, '' FROM warehouses ORDER BY code <> 'main', position, id LIMIT 1)",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|w| (w.key, w.id)).collect())
}

/// Variants named by offers (`product#variant`) whose product we have: made or updated.
fn variants(conn: &mut PgConnection, offers: &[Offer], report: &mut ImportReport) -> AppResult<Vec<i64>> {
    let wanted: Vec<&Offer> = offers
        .iter()
        .filter(|o| o.id.variant.is_some() && (o.name.is_some() || !o.characteristics.is_empty()))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = wanted.iter().flat_map(|o| [o.id.product.clone(), o.id.full.clone()]).collect();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        external_id: String,
        #[diesel(sql_type = Text)]
        sku: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        external_catalog: Option<String>,
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT external_id, sku, name, external_catalog FROM products WHERE external_id = ANY($1)")
            .bind::<Array<Text>, _>(&ids)
            .load(conn)?;
    let by_id: HashMap<&str, &Row> = rows.iter().map(|r| (r.external_id.as_str(), r)).collect();
    let mut skus = SkuSet::default();
    let mut seen = HashSet::new();
    let mut list = Vec::new();
    for o in wanted {
        // A variant listed in the catalog file itself belongs to the catalog: left as it is.
        if by_id.get(o.id.full.as_str()).is_some_and(|r| r.external_catalog.is_some()) || !seen.insert(&o.id.full) {
            continue;
        }
        let Some(parent) = by_id.get(o.id.product.as_str()) else {
            continue;
        };
        let label = variant_label(&o.characteristics);
        let values: Vec<String> = o.characteristics.iter().map(|c| c.value.clone()).collect();
        let suffix = if values.is_empty() { vec![o.id.variant.clone().unwrap_or_default()] } else { values };
        let base = o.article.as_deref().unwrap_or(&parent.sku);
        let name = match &o.name {
            Some(n) => cut(n, 300),
            None => cut(&format!("{} ({label})", parent.name), 300),
        };
        list.push(ProductRow {
            external_id: o.id.full.clone(),
            catalog: None,
            sku: skus.take(Some(base), &suffix, &o.id.full),
            name,
            description: None,
            category: None,
            unit: o.base_unit.as_ref().and_then(unit_of).map(str::to_owned),
            vat: None,
            attributes: serde_json::json!({}),
            deleted: o.deleted,
            is_service: false,
            parent: Some(o.id.product.clone()),
            variant_label: label,
            barcode: None,
        });
    }
    products::upsert(conn, &list, report)
}

/// The 1C ids among the offers' that are products of ours.
fn known(conn: &mut PgConnection, offers: &[Offer]) -> AppResult<HashSet<String>> {
    let ids: Vec<String> = offers.iter().map(|o| o.id.full.clone()).collect();
    let rows: Vec<Known> = diesel::sql_query("SELECT external_id FROM products WHERE external_id = ANY($1)")
        .bind::<Array<Text>, _>(&ids)
        .load(conn)?;
    Ok(rows.into_iter().map(|k| k.external_id).collect())
}

fn prices(
    conn: &mut PgConnection,
    offers: &[&Offer],
    mapping: &HashMap<String, String>,
    type_currency: &HashMap<&str, String>,
    store_currency: &str,
    report: &mut ImportReport,
) -> AppResult<Vec<i64>> {
    let store = currency_code(store_currency);
    let mut rows: HashMap<(&str, &str), Decimal> = HashMap::new();
    let mut unknown = HashSet::new();
    for o in offers {
        for p in &o.prices {
            let Some(code) = mapping.get(&*p.price_type_id) else {
                if unknown.insert(p.price_type_id.clone()) {
                    report.warn(
                        o.line,
                        format!("price type {} is not known from any file; its prices are skipped", p.price_type_id),
                    );
                }
                continue;
            };
            let cur = p
                .currency
                .as_deref()
                .map(currency_code)
                .or_else(|| type_currency.get(&*p.price_type_id).cloned())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| store.clone());
            if cur != store {
                report.warn(o.line, format!("offer {}: price in {cur}, not {store}; skipped", o.id.full));
                continue;
            }
            match unit_price(p.amount, p.coefficient) {
                Some(v) => {
                    rows.insert((o.id.full.as_str(), code.as_str()), v);
                }
                None => report.warn(o.line, format!("offer {}: negative price or coefficient; skipped", o.id.full)),
            }
        }
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<_> = rows.into_iter().collect();
    let n = stage(
        conn,
        "stg_prices",
        &rows,
        &[
            ("external_id", Col::Text(&|((e, _), _)| Some((*e).to_owned()))),
            ("price_type", Col::Text(&|((_, t), _)| Some((*t).to_owned()))),
            ("price", Col::Num(&|(_, p)| *p)),
        ],
    )?;
    let base: Vec<Id> = diesel::sql_query(
        "UPDATE products p SET price = s.price, updated_at = now() FROM stg_prices s \
         WHERE s.price_type = 'base' AND p.external_id = s.external_id AND p.price IS DISTINCT FROM s.price \
         RETURNING p.id",
    )
    .load(conn)?;
    let other = summarized(
        conn,
        "INSERT INTO product_prices AS pp (product_id, price_type, price) \
         SELECT p.id, s.price_type, s.price FROM stg_prices s JOIN products p ON p.external_id = s.external_id \
         WHERE s.price_type <> 'base' \
         ON CONFLICT (product_id, price_type) DO UPDATE SET price = EXCLUDED.price \
          WHERE pp.price IS DISTINCT FROM EXCLUDED.price \
         RETURNING pp.product_id, (pp.xmax = 0) AS created",
    )?;
    let created = other.created as u64;
    let updated = other.touched as u64 + base.len() as u64 - created;
    let c = report.of("prices");
    c.created += created;
    c.updated += updated;
    c.unchanged += (n as u64).saturating_sub(created + updated);
    Ok(base.iter().map(|b| b.id).chain(other.ids).collect())
}

fn stock(
    conn: &mut PgConnection,
    offers: &[&Offer],
    warehouses: &HashMap<String, i64>,
    report: &mut ImportReport,
) -> AppResult<Vec<i64>> {
    let mut rows: HashMap<(&str, i64), Decimal> = HashMap::new();
    let mut unknown = HashSet::new();
    for o in offers {
        let mut put = |wh: i64, q: Decimal, report: &mut ImportReport| {
            let q = if q < Decimal::ZERO {
                report.warn(o.line, format!("offer {}: negative stock {q} taken as 0", o.id.full));
                Decimal::ZERO
            } else {
                q
            };
            rows.insert((o.id.full.as_str(), wh), q);
        };
        if !o.stocks.is_empty() {
            for s in &o.stocks {
                match warehouses.get(&*s.warehouse_id) {
                    Some(wh) => put(*wh, s.quantity, report),
                    None => {
                        if unknown.insert(s.warehouse_id.clone()) {
                            report.warn(
                                o.line,
                                format!(
                                    "warehouse {} is not known from any file; its stock is skipped",
                                    s.warehouse_id
                                ),
                            );
                        }
                    }
                }
            }
        } else if let (Some(q), Some(main)) = (o.quantity, warehouses.get("")) {
            put(*main, q, report);
        }
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<_> = rows.into_iter().collect();
    let n = stage(
        conn,
        "stg_stock",
        &rows,
        &[
            ("external_id", Col::Text(&|((e, _), _)| Some((*e).to_owned()))),
            ("warehouse_id", Col::Int(&|((_, w), _)| Some(*w))),
            ("quantity", Col::Num(&|(_, q)| *q)),
        ],
    )?;
    #[derive(QueryableByName)]
    struct Short {
        #[diesel(sql_type = Text)]
        external_id: String,
        #[diesel(sql_type = Text)]
        reserved: String,
        #[diesel(sql_type = Text)]
        quantity: String,
    }
    let short: Vec<Short> = diesel::sql_query(
        "SELECT s.external_id, st.reserved::text AS reserved, s.quantity::text AS quantity \
         FROM stg_stock s JOIN products p ON p.external_id = s.external_id \
         JOIN stock st ON st.product_id = p.id AND st.warehouse_id = s.warehouse_id \
         WHERE s.quantity < st.reserved ORDER BY s.external_id LIMIT 100",
    )
    .load(conn)?;
    for s in short {
        report.warn(
            0,
            format!(
                "offer {}: stock {} is below the {} reserved; kept at {}",
                s.external_id, s.quantity, s.reserved, s.reserved
            ),
        );
    }
    let touched = summarized(
        conn,
        "INSERT INTO stock AS st (product_id, warehouse_id, quantity) \
         SELECT p.id, s.warehouse_id, s.quantity FROM stg_stock s JOIN products p ON p.external_id = s.external_id \
         ON CONFLICT (product_id, warehouse_id) DO UPDATE \
            SET quantity = greatest(EXCLUDED.quantity, st.reserved), updated_at = now() \
          WHERE st.quantity IS DISTINCT FROM greatest(EXCLUDED.quantity, st.reserved) \
         RETURNING st.product_id, (st.xmax = 0) AS created",
    )?;
    let (created, all) = (touched.created as u64, touched.touched as u64);
    let c = report.of("stock");
    c.created += created;
    c.updated += all - created;
    c.unchanged += (n as u64).saturating_sub(all);
    Ok(touched.ids)
}
