//! `Каталог/Товары` → product rows: SKU from `Артикул`, unit from the OKEI code, VAT from
//! `СтавкиНалогов`, property values resolved, deletion marks, variants (`product#variant`
//! with `ХарактеристикиТовара`) under their product, which is made from the first variant
//! when the file does not list it on its own.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use super::classifier::Prop;
use super::products::ProductRow;
use super::rows::{cut, unit_of, valid_barcode, variant_label, vat_of, SkuSet};
use crate::exchange::commerceml::{Catalog, Product};
use crate::exchange::report::ImportReport;

const EMPTY_REF: &str = "00000000-0000-0000-0000-000000000000";

/// Consumes the catalog: each product is dropped once its row is made, so the file's
/// products and their rows are not both held whole.
pub fn rows(
    cat: Catalog,
    catalog_id: &str,
    props: &BTreeMap<String, Prop>,
    report: &mut ImportReport,
) -> Vec<ProductRow> {
    let mut skus = SkuSet::default();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(cat.products.len());
    let plain: HashSet<String> =
        cat.products.iter().filter(|p| p.id.variant.is_none()).map(|p| p.id.product.clone()).collect();
    let mut made_parents: HashMap<String, String> = HashMap::new();
    let mut unknown_props = HashSet::new();
    for p in cat.products {
        if !seen.insert(p.id.full.clone()) {
            report.warn(p.line, format!("product {} is listed twice; the first one is used", p.id.full));
            continue;
        }
        let mut row = row_of(&p, catalog_id, props, &mut unknown_props, report);
        if p.id.variant.is_some() {
            // The product this variant belongs to: listed in the file, or made from it.
            if !plain.contains(p.id.product.as_str()) && !made_parents.contains_key(&p.id.product) {
                let mut parent = row.clone();
                parent.external_id = p.id.product.clone();
                parent.sku = skus.take(p.article.as_deref(), &[], &p.id.product);
                parent.variant_label = String::new();
                parent.barcode = None;
                made_parents.insert(p.id.product.clone(), parent.sku.clone());
                out.push(parent);
            }
            row.parent = Some(p.id.product.clone());
            let values: Vec<String> = p.characteristics.iter().map(|c| c.value.clone()).collect();
            let suffix = if values.is_empty() { vec![p.id.variant.clone().unwrap_or_default()] } else { values };
            row.sku = skus.take(p.article.as_deref(), &suffix, &p.id.full);
        } else {
            row.sku = skus.take(p.article.as_deref(), &[], &p.id.full);
        }
        out.push(row);
    }
    out
}

fn row_of(
    p: &Product,
    catalog_id: &str,
    props: &BTreeMap<String, Prop>,
    unknown_props: &mut HashSet<String>,
    report: &mut ImportReport,
) -> ProductRow {
    let name = if p.name.trim().is_empty() {
        report.warn(p.line, format!("product {} has no name; its article or id is used", p.id.full));
        cut(p.article.as_deref().unwrap_or(&p.id.full), 300)
    } else {
        cut(&p.name, 300)
    };
    let unit = p.base_unit.as_ref().map(|u| {
        unit_of(u).unwrap_or_else(|| {
            let what = u.code.clone().or_else(|| u.name.clone()).unwrap_or_default();
            report.warn(p.line, format!("product {}: unit {what} is not one we know; pieces are used", p.id.full));
            "pcs"
        })
    });
    let vat = p.vat_rate.as_deref().and_then(|raw| match vat_of(raw) {
        Some((rate, old)) => {
            if old {
                report.warn(p.line, format!("product {}: VAT {raw}% is taken as today's 20%", p.id.full));
            }
            Some(rate.to_owned())
        }
        None => {
            report.warn(p.line, format!("product {}: VAT rate {raw} is not one we know; left as it was", p.id.full));
            None
        }
    });
    let barcode = p.barcode.as_deref().and_then(|b| {
        let valid = valid_barcode(b);
        if valid.is_none() {
            report.warn(p.line, format!("product {}: barcode {b} is not a valid EAN/GTIN; skipped", p.id.full));
        }
        valid
    });
    let is_service =
        p.requisites.iter().any(|r| r.name == "ТипНоменклатуры" && r.value.trim().to_lowercase() == "услуга");
    ProductRow {
        external_id: p.id.full.clone(),
        catalog: Some(catalog_id.to_owned()),
        sku: String::new(),
        name,
        description: p.description.as_deref().map(|d| cut(&ammonia::clean(d), 50_000)),
        category: p.group_ids.first().cloned(),
        unit: unit.map(str::to_owned),
        vat,
        attributes: attributes(p, props, unknown_props, report),
        deleted: p.deleted,
        is_service,
        parent: None,
        variant_label: variant_label(&p.characteristics),
        barcode,
    }
}

fn attributes(
    p: &Product,
    props: &BTreeMap<String, Prop>,
    unknown: &mut HashSet<String>,
    report: &mut ImportReport,
) -> Value {
    let mut map = Map::new();
    for v in &p.properties {
        let Some(prop) = props.get(&v.property_id) else {
            if unknown.insert(v.property_id.clone()) {
                report.warn(
                    p.line,
                    format!("property {} is not in any classifier; its values are skipped", v.property_id),
                );
            }
            continue;
        };
        let raw = v.value.trim();
        if raw.is_empty() || raw == EMPTY_REF {
            continue;
        }
        let value = match prop.kind.as_str() {
            "list" => prop.values.get(raw).cloned().unwrap_or_else(|| cut(raw, 200)),
            "number" => match crate::exchange::commerceml::decimal(raw) {
                Some(d) => d.normalize().to_string(),
                None => continue,
            },
            _ => cut(raw, 200),
        };
        match map.get_mut(&prop.code) {
            Some(Value::String(old)) if prop.kind == "text" => {
                *old = cut(&format!("{old}, {value}"), 200);
            }
            Some(_) => {}
            None => {
                map.insert(prop.code.clone(), Value::String(value));
            }
        }
    }
    Value::Object(map)
}
