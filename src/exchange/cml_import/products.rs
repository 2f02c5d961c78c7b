//! Products and variants: staged, then one upsert that changes only rows whose values differ
//! (so a re-imported package changes nothing and keeps `updated_at`), then the links of
//! variants to their products and the barcodes.

use std::collections::HashSet;

use diesel::prelude::*;
use serde_json::Value;

use super::classifier::count;
use super::stage::{stage, Col, Id, Touched};
use crate::error::AppResult;
use crate::exchange::report::ImportReport;

/// One product or variant as the file gives it. `None` keeps what the row has.
#[derive(Debug, Clone)]
pub struct ProductRow {
    pub external_id: String,
    /// `Some` for products of a catalog file (a full package archives the others).
    pub catalog: Option<String>,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub unit: Option<String>,
    pub vat: Option<String>,
    pub attributes: Value,
    pub deleted: bool,
    pub is_service: bool,
    pub parent: Option<String>,
    pub variant_label: String,
    pub barcode: Option<String>,
}

/// Upserts the rows; returns the ids of products that changed (for `after_change`).
pub fn upsert(conn: &mut PgConnection, rows: &[ProductRow], report: &mut ImportReport) -> AppResult<Vec<i64>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    stage(
        conn,
        "stg_products",
        rows,
        &[
            ("external_id", Col::Text(&|r| Some(r.external_id.clone()))),
            ("catalog", Col::Text(&|r| r.catalog.clone())),
            ("sku", Col::Text(&|r| Some(r.sku.clone()))),
            ("sku_alt", Col::Text(&|r| Some(super::rows::unique_variant(&r.sku, &r.external_id)))),
            ("name", Col::Text(&|r| Some(r.name.clone()))),
            ("description", Col::Text(&|r| r.description.clone())),
            ("category", Col::Text(&|r| r.category.clone())),
            ("unit", Col::Text(&|r| r.unit.clone())),
            ("vat", Col::Text(&|r| r.vat.clone())),
            ("attributes", Col::Json(&|r| r.attributes.clone())),
            ("deleted", Col::Bool(&|r| r.deleted)),
            ("is_service", Col::Bool(&|r| r.is_service)),
            ("parent", Col::Text(&|r| r.parent.clone())),
            ("variant_label", Col::Text(&|r| Some(r.variant_label.clone()))),
        ],
    )?;
    // A SKU that another product (made by hand, or another 1C id) holds gets the id's hash.
    diesel::sql_query(
        "UPDATE stg_products s SET sku = s.sku_alt WHERE EXISTS (SELECT 1 FROM products p \
         WHERE lower(p.sku) = lower(s.sku) AND p.external_id IS DISTINCT FROM s.external_id)",
    )
    .execute(conn)?;
    let touched: Vec<Touched> = diesel::sql_query(
        "INSERT INTO products AS p (external_id, external_catalog, sku, name, description, category_id, unit, \
                                    vat_rate, price, status, attributes, parent_id, variant_label, is_service) \
         SELECT s.external_id, s.catalog, s.sku, s.name, coalesce(s.description, old.description, ''), \
                coalesce(c.id, old.category_id, par.category_id), coalesce(s.unit, old.unit, par.unit, 'pcs'), \
                coalesce(s.vat, old.vat_rate, par.vat_rate, '20'), coalesce(old.price, 0), \
                CASE WHEN s.deleted THEN 'archived' WHEN old.status IS NULL OR old.status = 'archived' THEN 'active' \
                     ELSE old.status END, \
                coalesce(old.attributes, '{}') || s.attributes, coalesce(par.id, old.parent_id), s.variant_label, \
                s.is_service \
         FROM stg_products s \
         LEFT JOIN products old ON old.external_id = s.external_id \
         LEFT JOIN categories c ON c.external_id = s.category \
         LEFT JOIN products par ON par.external_id = s.parent \
         ON CONFLICT (external_id) WHERE external_id IS NOT NULL DO UPDATE SET \
            external_catalog = EXCLUDED.external_catalog, sku = EXCLUDED.sku, name = EXCLUDED.name, \
            description = EXCLUDED.description, category_id = EXCLUDED.category_id, unit = EXCLUDED.unit, \
            vat_rate = EXCLUDED.vat_rate, status = EXCLUDED.status, attributes = EXCLUDED.attributes, \
            parent_id = EXCLUDED.parent_id, variant_label = EXCLUDED.variant_label, \
            is_service = EXCLUDED.is_service, updated_at = now() \
          WHERE (p.external_catalog, p.sku, p.name, p.description, p.category_id, p.unit, p.vat_rate, p.status, \
                 p.attributes, p.parent_id, p.variant_label, p.is_service) IS DISTINCT FROM \
                (EXCLUDED.external_catalog, EXCLUDED.sku, EXCLUDED.name, EXCLUDED.description, \
                 EXCLUDED.category_id, EXCLUDED.unit, EXCLUDED.vat_rate, EXCLUDED.status, EXCLUDED.attributes, \
                 EXCLUDED.parent_id, EXCLUDED.variant_label, EXCLUDED.is_service) \
         RETURNING p.id, (p.xmax = 0) AS created, (p.external_id ~ '#.') AS variant",
    )
    .load(conn)?;
    // Variants whose product came in the same statement.
    let linked: Vec<Touched> = diesel::sql_query(
        "UPDATE products v SET parent_id = par.id, category_id = coalesce(v.category_id, par.category_id), \
                updated_at = now() \
         FROM stg_products s JOIN products par ON par.external_id = s.parent \
         WHERE v.external_id = s.external_id AND v.parent_id IS DISTINCT FROM par.id \
         RETURNING v.id, false AS created, true AS variant",
    )
    .load(conn)?;
    let is_variant = |r: &ProductRow| r.external_id.split_once('#').is_some_and(|(_, v)| !v.is_empty());
    let variants = rows.iter().filter(|r| is_variant(r)).count();
    let split = |list: &[Touched], v: bool| list.iter().filter(|t| t.variant == v).copied().collect();
    let (tp, tv): (Vec<Touched>, Vec<Touched>) = (split(&touched, false), split(&touched, true));
    let more: Vec<Id> = linked.iter().map(|t| Id { id: t.id }).collect();
    count(report, "products", rows.len() - variants, &tp, &[]);
    count(report, "variants", variants, &tv, &more);
    barcodes(conn, rows, report)?;
    let mut ids: HashSet<i64> = touched.iter().map(|t| t.id).collect();
    ids.extend(linked.iter().map(|t| t.id));
    Ok(ids.into_iter().collect())
}

fn barcodes(conn: &mut PgConnection, rows: &[ProductRow], report: &mut ImportReport) -> AppResult<()> {
    let mut seen = HashSet::new();
    let list: Vec<(&str, &str)> = rows
        .iter()
        .filter_map(|r| r.barcode.as_deref().map(|b| (r.external_id.as_str(), b)))
        .filter(|(_, b)| seen.insert(*b))
        .collect();
    if list.is_empty() {
        return Ok(());
    }
    let n = stage(
        conn,
        "stg_barcodes",
        &list,
        &[
            ("external_id", Col::Text(&|(e, _)| Some((*e).to_owned()))),
            ("barcode", Col::Text(&|(_, b)| Some((*b).to_owned()))),
        ],
    )?;
    let touched: Vec<Touched> = diesel::sql_query(
        "INSERT INTO product_barcodes AS b (barcode, product_id) \
         SELECT s.barcode, p.id FROM stg_barcodes s JOIN products p ON p.external_id = s.external_id \
         ON CONFLICT (barcode) DO UPDATE SET product_id = EXCLUDED.product_id \
          WHERE b.product_id IS DISTINCT FROM EXCLUDED.product_id \
         RETURNING b.product_id AS id, (b.xmax = 0) AS created, false AS variant",
    )
    .load(conn)?;
    count(report, "barcodes", n, &touched, &[]);
    Ok(())
}

/// A full catalog package: the products of `catalog` it no longer lists are archived, with
/// the variants that came with them from offers. Rows are never deleted (orders point at them).
pub fn archive_absent(conn: &mut PgConnection, catalog: &str, report: &mut ImportReport) -> AppResult<Vec<i64>> {
    let gone: Vec<Touched> = diesel::sql_query(
        "WITH absent AS ( \
             SELECT p.id FROM products p WHERE p.external_catalog = $1 \
               AND NOT EXISTS (SELECT 1 FROM stg_products s WHERE s.external_id = p.external_id)) \
         UPDATE products p SET status = 'archived', updated_at = now() \
         WHERE p.status <> 'archived' AND (p.id IN (SELECT id FROM absent) \
               OR (p.external_catalog IS NULL AND p.parent_id IN (SELECT id FROM absent))) \
         RETURNING p.id, false AS created, (p.external_id ~ '#.') AS variant",
    )
    .bind::<diesel::sql_types::Text, _>(catalog)
    .load(conn)?;
    for t in &gone {
        report.of(if t.variant { "variants" } else { "products" }).deleted += 1;
    }
    Ok(gone.iter().map(|t| t.id).collect())
}
