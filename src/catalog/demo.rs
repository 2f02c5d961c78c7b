//! Demo catalogs generated deterministically from `tenants/<dir>/catalog.toml`: categories,
//! attributes, warehouses, price groups with their price lists, and product families whose
//! dimensions multiply into ~2,000 products. Same file, same catalog, every time.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, Context};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::attributes::{self, NewAttribute};
use super::categories::{self, NewCategory};
use super::products::{self, Refs, Row};
use super::stock;
use crate::db::schema_tenant::{price_groups, price_types, product_prices, products as products_t};
use crate::pricing::round_money;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    #[serde(default)]
    pub categories: Vec<CategoryDef>,
    #[serde(default)]
    pub attributes: Vec<AttributeDef>,
    #[serde(default)]
    pub warehouses: Vec<WarehouseDef>,
    #[serde(default)]
    pub price_groups: Vec<GroupDef>,
    #[serde(default)]
    pub family: Vec<Family>,
    /// Demo buyer companies (active, e-mail confirmed), so both price views can be tried.
    #[serde(default)]
    pub demo_buyer: Vec<DemoBuyer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoBuyer {
    pub email: String,
    pub password: String,
    pub name: String,
    pub company: String,
    pub inn: String,
    #[serde(default)]
    pub kpp: Option<String>,
    #[serde(default)]
    pub price_group: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDef {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseDef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDef {
    pub code: String,
    pub name: String,
    /// The name of the group's price list (price type), as in 1C.
    pub price_type_name: String,
    /// The group's price list is the base price times this factor.
    pub factor: Decimal,
    #[serde(default)]
    pub discount_percent: Decimal,
}

/// A family of products: every combination of its dimensions' values is one product.
/// Templates use `{dim}` (the value's Russian text), `{dim.en}`, `{dim.code}` and any other
/// field of the value (`{series.brand}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    pub category: String,
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub min_qty: Option<String>,
    #[serde(default)]
    pub order_multiple: Option<String>,
    #[serde(default)]
    pub vat_rate: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub price: Decimal,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Dimension name → values (in file order; the product order follows it).
    pub dims: toml::Table,
}

type Value = BTreeMap<String, String>;

fn dim_values(dims: &toml::Table) -> anyhow::Result<Vec<(String, Vec<Value>)>> {
    let mut out = Vec::new();
    for (name, v) in dims {
        let list = v.as_array().ok_or_else(|| anyhow!("dimension {name} must be a list"))?;
        let mut values = Vec::new();
        for item in list {
            let mut m = Value::new();
            match item {
                toml::Value::String(s) => {
                    m.insert("v".into(), s.clone());
                }
                toml::Value::Table(t) => {
                    for (k, v) in t {
                        let text = match v {
                            toml::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        m.insert(k.clone(), text);
                    }
                }
                other => return Err(anyhow!("dimension {name}: unexpected value {other}")),
            }
            values.push(m);
        }
        out.push((name.clone(), values));
    }
    Ok(out)
}

fn fill(template: &str, chosen: &[(String, &Value)], english: bool) -> String {
    let mut s = template.to_owned();
    for (dim, v) in chosen {
        let main = v.get("v").cloned().unwrap_or_default();
        let en = v.get("en").cloned().unwrap_or_else(|| main.clone());
        for (k, val) in v.iter() {
            s = s.replace(&format!("{{{dim}.{k}}}"), val);
        }
        s = s.replace(&format!("{{{dim}.en}}"), &en);
        s = s.replace(&format!("{{{dim}}}"), if english { &en } else { &main });
    }
    s
}

/// A small stable hash (FNV-1a) for deterministic stock and statuses.
fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// The rows of a catalog file, in order.
pub fn rows(file: &CatalogFile) -> anyhow::Result<Vec<Row>> {
    let mut out = Vec::new();
    for f in &file.family {
        let dims = dim_values(&f.dims)?;
        let total: usize = dims.iter().map(|(_, v)| v.len()).product();
        for mut n in 0..total {
            let mut chosen: Vec<(String, &Value)> = Vec::new();
            for (name, values) in dims.iter().rev() {
                chosen.push((name.clone(), &values[n % values.len()]));
                n /= values.len();
            }
            chosen.reverse();
            let mut price = f.price;
            for (_, v) in &chosen {
                if let Some(k) = v.get("k") {
                    price *= k.parse::<Decimal>().map_err(|_| anyhow!("bad price factor {k}"))?;
                }
            }
            let sku = fill(&f.sku, &chosen, false);
            let h = hash(&sku);
            let mut row = Row::new();
            row.insert("sku".into(), sku.clone());
            row.insert("name".into(), fill(&f.name, &chosen, false));
            if let Some(en) = &f.name_en {
                row.insert("name_en".into(), fill(en, &chosen, true));
            }
            row.insert("brand".into(), fill(&f.brand, &chosen, false));
            row.insert("category".into(), fill(&f.category, &chosen, false));
            row.insert("price".into(), round_money(price).to_string());
            for (k, v) in [
                ("unit", &f.unit),
                ("min_qty", &f.min_qty),
                ("order_multiple", &f.order_multiple),
                ("vat_rate", &f.vat_rate),
            ] {
                if let Some(v) = v {
                    row.insert(k.into(), v.clone());
                }
            }
            if let Some(d) = &f.description {
                row.insert("description".into(), fill(d, &chosen, false));
            }
            for (code, t) in &f.attributes {
                row.insert(format!("attr:{code}"), fill(t, &chosen, false));
            }
            // About one in 30 is upcoming, one in 9 out of stock, the rest in stock.
            if h.is_multiple_of(30) {
                row.insert("status".into(), "upcoming".into());
                row.insert("available_from".into(), "2027-03-01".into());
            } else if !h.is_multiple_of(9) {
                row.insert("stock:main".into(), (h % 240 + 1).to_string());
            }
            out.push(row);
        }
    }
    Ok(out)
}

/// Creates the demo buyers that do not exist yet (inside the tenant's transaction); returns
/// `(email, password, price group)` of each for the printed logins.
pub fn seed_buyers(conn: &mut PgConnection, file: &CatalogFile) -> anyhow::Result<Vec<(String, String, String)>> {
    use crate::db::schema_platform::accounts;
    use crate::db::schema_tenant::companies;
    use crate::identity::{accounts as acc, companies as co};
    let e = |e: crate::error::AppError| anyhow!("{e}");
    let mut out = Vec::new();
    for b in &file.demo_buyer {
        let account = match acc::find_by_email(conn, &b.email).map_err(e)? {
            Some((a, _)) => a,
            None => {
                let a = acc::create(
                    conn,
                    acc::NewAccount { email: &b.email, name: &b.name, password: Some(&b.password), is_operator: false },
                )
                .map_err(e)?;
                diesel::update(accounts::table.find(a.id))
                    .set(accounts::email_confirmed_at.eq(diesel::dsl::now))
                    .execute(conn)?;
                a
            }
        };
        let exists: i64 = companies::table.filter(companies::inn.eq(&b.inn)).count().get_result(conn)?;
        if exists == 0 {
            let input = co::CompanyInput {
                name: b.company.clone(),
                inn: b.inn.clone(),
                kpp: b.kpp.clone(),
                address: Some("Москва, ул. Демонстрационная, 1".into()),
                delivery_address: None,
                phone: Some("+7 495 000-00-00".into()),
                contact_person: Some(b.name.clone()),
            };
            let company = co::create(conn, &input, "active").map_err(e)?;
            co::add_member(conn, company.id, account.id, "admin").map_err(e)?;
            diesel::update(companies::table.find(company.id))
                .set(companies::price_group.eq(&b.price_group))
                .execute(conn)?;
            // The dealer has been buying for a while: a debt from 1C and a payment.
            if b.price_group.as_deref() == Some("dealer") {
                let currency = crate::catalog::settings::load(conn).map_err(e)?.currency;
                crate::finance::demo::history(conn, company.id, &currency).map_err(e)?;
            }
        }
        out.push((b.email.clone(), b.password.clone(), b.price_group.clone().unwrap_or_else(|| "—".into())));
    }
    Ok(out)
}

pub fn load_file(dir: &Path) -> anyhow::Result<Option<CatalogFile>> {
    let path = dir.join("catalog.toml");
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Some(toml::from_str(&text).with_context(|| format!("{} is not a valid catalog file", path.display()))?))
}

/// Loads the catalog into a tenant that has no products yet (inside its transaction);
/// returns the number of products created.
pub fn seed(conn: &mut PgConnection, tenant_id: i64, file: &CatalogFile) -> anyhow::Result<usize> {
    let e = |e: crate::error::AppError| anyhow!("{e}");
    let existing: i64 = products_t::table.count().get_result(conn)?;
    if existing > 0 {
        return Ok(0);
    }
    for c in &file.categories {
        categories::create(
            conn,
            NewCategory {
                code: c.code.clone(),
                name: c.name.clone(),
                name_en: c.name_en.clone(),
                parent: c.parent.clone(),
                position: 0,
            },
        )
        .map_err(e)?;
    }
    for a in &file.attributes {
        attributes::create(
            conn,
            NewAttribute {
                code: a.code.clone(),
                name: a.name.clone(),
                name_en: a.name_en.clone(),
                kind: a.kind.clone(),
                unit: a.unit.clone(),
                options: a.options.clone(),
                filterable: true,
            },
        )
        .map_err(e)?;
    }
    for w in &file.warehouses {
        if !stock::warehouses(conn).map_err(e)?.iter().any(|x| x.code == w.code) {
            stock::create_warehouse(conn, &w.code, &w.name).map_err(e)?;
        }
    }
    let refs = Refs::load(conn).map_err(e)?;
    let mut drafts = Vec::new();
    for (i, row) in rows(file)?.iter().enumerate() {
        drafts.push(
            products::parse_row(row, &refs)
                .map_err(|f| anyhow!("demo product {} (#{i}): {f:?}", row.get("sku").cloned().unwrap_or_default()))?,
        );
    }
    let refs_list: Vec<&products::Draft> = drafts.iter().collect();
    let new_ids = products::insert_many(conn, &refs_list).map_err(e)?;
    let ids: Vec<(i64, Decimal)> = new_ids.into_iter().zip(drafts.iter().map(|d| d.price)).collect();
    for g in &file.price_groups {
        diesel::insert_into(price_types::table)
            .values((price_types::code.eq(&g.code), price_types::name.eq(&g.price_type_name)))
            .execute(conn)?;
        diesel::insert_into(price_groups::table)
            .values((
                price_groups::code.eq(&g.code),
                price_groups::name.eq(&g.name),
                price_groups::price_type.eq(&g.code),
                price_groups::discount_percent.eq(g.discount_percent),
            ))
            .execute(conn)?;
        let rows: Vec<_> = ids
            .iter()
            .map(|(id, p)| {
                (
                    product_prices::product_id.eq(*id),
                    product_prices::price_type.eq(&g.code),
                    product_prices::price.eq(round_money(*p * g.factor)),
                )
            })
            .collect();
        for chunk in rows.chunks(1000) {
            diesel::insert_into(product_prices::table).values(chunk).execute(conn)?;
        }
    }
    let all: Vec<i64> = ids.iter().map(|(id, _)| *id).collect();
    products::after_change(conn, tenant_id, &all).map_err(e)?;
    Ok(all.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalogs_are_about_2000_products_with_unique_skus() {
        for dir in ["okna-profi", "textile-hub"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants").join(dir);
            let file = load_file(&path).expect("readable").expect("present");
            let rows = rows(&file).expect("rows");
            assert!((1_900..=2_300).contains(&rows.len()), "{dir}: {} products", rows.len());
            let mut skus: Vec<_> = rows.iter().map(|r| r["sku"].to_lowercase()).collect();
            skus.sort();
            skus.dedup();
            assert_eq!(skus.len(), rows.len(), "{dir}: duplicate SKUs");
            assert_eq!(super::rows(&file).expect("again"), rows, "deterministic");
        }
    }
}
