//! The product form's model: what it loads, what a post left to show again, its groups and
//! one field per column.

use diesel::prelude::*;
use serde_json::{json, Value};

use super::{category_options, option, Tx};
use crate::catalog::attributes::{self, Attribute};
use crate::catalog::categories::{self, Category};
use crate::catalog::products::{self, Refs, Row};
use crate::catalog::stock::{self, Warehouse};
use crate::catalog::{STATUSES, UNITS};
use crate::db::schema_tenant::{price_types, product_files, product_images};
use crate::error::{AppError, AppResult, FieldErrors};

/// Everything the product form needs, read in one transaction.
pub(super) struct Loaded {
    pub(super) columns: Vec<String>,
    pub(super) cats: Vec<Category>,
    pub(super) attrs: Vec<Attribute>,
    pub(super) warehouses: Vec<Warehouse>,
    pub(super) price_types: Vec<(String, String)>,
    pub(super) product: Option<(String, Row)>,
    pub(super) images: Vec<(i64, i32, i32)>,
    pub(super) files: Vec<(i64, String, String, i64)>,
    /// Quantity breaks `(min qty, percent)` of the product.
    pub(super) breaks: Vec<(rust_decimal::Decimal, rust_decimal::Decimal)>,
}

pub(super) fn load(c: &mut PgConnection, sku: Option<String>) -> AppResult<Loaded> {
    let refs = Refs::load(c)?;
    let p = match sku {
        Some(s) => Some(products::find_by_sku(c, &s)?.ok_or_else(|| AppError::not_found("product"))?),
        None => None,
    };
    let (images, files) = match &p {
        Some(p) => (
            product_images::table
                .filter(product_images::product_id.eq(p.id))
                .order((product_images::position, product_images::id))
                .select((product_images::id, product_images::width, product_images::height))
                .load(c)?,
            product_files::table
                .filter(product_files::product_id.eq(p.id))
                .order(product_files::id)
                .select((product_files::id, product_files::file_name, product_files::title, product_files::size_bytes))
                .load(c)?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let breaks = match &p {
        Some(p) => crate::pricing::manage::breaks(c, p.id)?,
        None => Vec::new(),
    };
    let product = match p {
        Some(p) => Some((p.sku.clone(), products::to_row(c, &p, &refs)?)),
        None => None,
    };
    Ok(Loaded {
        columns: refs.columns(),
        cats: categories::all(c)?,
        attrs: attributes::all(c)?,
        warehouses: stock::warehouses(c)?,
        price_types: price_types::table.select((price_types::code, price_types::name)).load(c)?,
        product,
        images,
        files,
        breaks,
    })
}

/// What a posted product form left to show again.
#[derive(Default)]
pub(super) struct Posted {
    pub(super) input: Row,
    /// Stock as it was when the form was opened (`was:stock:<code>`).
    pub(super) was: Row,
    pub(super) errors: FieldErrors,
}

impl From<Vec<(String, String)>> for Posted {
    fn from(pairs: Vec<(String, String)>) -> Posted {
        let mut posted = Posted::default();
        for (k, v) in pairs {
            match k.strip_prefix("was:") {
                Some(col) if col.starts_with("stock:") => {
                    posted.was.insert(col.to_owned(), v);
                }
                Some(_) => {}
                None if k == "csrf_token" => {}
                None => {
                    posted.input.insert(k, v);
                }
            }
        }
        posted
    }
}

impl Posted {
    /// The row to save: stock left as it was is not sent, since orders or 1C may have
    /// changed it after the form was opened.
    pub(super) fn changed(&self) -> Row {
        let mut row = self.input.clone();
        row.retain(|k, v| self.was.get(k) != Some(v));
        row
    }
}

/// The form's groups, in order; each column of `Refs::columns()` lands in one.
pub(super) const GROUPS: &[(&str, &[&str])] = &[
    ("main", &["sku", "name", "name_en", "category", "brand", "barcodes", "description", "description_en"]),
    ("units", &["unit", "pack_size", "min_qty", "order_multiple", "weight_kg", "volume_m3"]),
    ("terms", &["vat_rate", "status", "available_from"]),
    ("prices", &["price"]),
    ("stock", &[]),
    ("attributes", &[]),
];

pub(super) fn group_of(col: &str) -> &'static str {
    if col.starts_with("price:") {
        return "prices";
    }
    if col.starts_with("stock:") {
        return "stock";
    }
    if col.starts_with("attr:") {
        return "attributes";
    }
    GROUPS.iter().find(|(_, cols)| cols.contains(&col)).map_or("main", |(g, _)| g)
}

pub(super) fn column_label(tx: &Tx, l: &Loaded, col: &str) -> String {
    if let Some(w) = col.strip_prefix("stock:") {
        let name = l.warehouses.iter().find(|x| x.code == w).map_or(w, |x| x.name.as_str());
        return tx.t_with("admin-catalog-col-stock-at", "warehouse", name);
    }
    if let Some(p) = col.strip_prefix("price:") {
        let name = l.price_types.iter().find(|(c, _)| c == p).map_or(p, |(_, n)| n.as_str());
        return tx.t_with("admin-catalog-col-price-of", "type", name);
    }
    if let Some(a) = col.strip_prefix("attr:") {
        return l.attrs.iter().find(|x| x.code == a).map_or(a.to_owned(), |x| x.name_in(&tx.lang).to_owned());
    }
    tx.t(&format!("admin-catalog-col-{}", col.replace('_', "-")))
}

/// One form field: its input kind, options, hint and the message next to it.
pub(super) fn field(
    tx: &Tx,
    l: &Loaded,
    col: &str,
    value: &str,
    error: Option<&String>,
    was: Option<&String>,
) -> Value {
    let mut f = json!({"name": col, "id": format!("f-{}", col.replace(':', "-")), "label": column_label(tx, l, col), "value": value,
        "error": error, "kind": "text", "options": [], "hint": "", "suffix": "", "inputmode": "", "was": was, "wide": false, "form": ""});
    let labelled = |codes: &[&str], prefix: &str| -> Vec<(String, String)> {
        codes.iter().map(|c| (c.to_string(), tx.t(&format!("{prefix}{c}")))).collect()
    };
    match col {
        "category" => {
            f["kind"] = json!("select");
            f["options"] = json!(category_options(&l.cats, &tx.lang, value, "—".into()));
        }
        "unit" => select(&mut f, value, labelled(UNITS, "admin-catalog-unit-")),
        "vat_rate" => select(&mut f, value, labelled(&["20", "10", "0", "none"], "admin-catalog-vat-")),
        "status" => select(&mut f, value, labelled(STATUSES, "admin-catalog-status-")),
        "available_from" => f["kind"] = json!("date"),
        "description" | "description_en" => {
            f["kind"] = json!("textarea");
            f["hint"] = json!(tx.t("admin-catalog-hint-description"));
            f["wide"] = json!(true);
        }
        "name" | "name_en" => f["wide"] = json!(true),
        "barcodes" | "sku" => f["hint"] = json!(tx.t(&format!("admin-catalog-hint-{col}"))),
        "brand" => {}
        c => match c.strip_prefix("attr:").and_then(|a| l.attrs.iter().find(|x| x.code == a)) {
            Some(a) => attribute_input(tx, &mut f, a, value),
            None => f["inputmode"] = json!("decimal"),
        },
    }
    f
}

/// A select of `opts` (value, label); a value not among them stays, so nothing typed is lost.
fn select(f: &mut Value, value: &str, opts: Vec<(String, String)>) {
    let same = |v: &str| v.to_lowercase() == value.to_lowercase();
    let mut list: Vec<Value> = opts.iter().map(|(v, label)| option(v, label.clone(), same(v))).collect();
    if !opts.iter().any(|(v, _)| same(v)) {
        list.push(option(value, value.to_owned(), true));
    }
    f["kind"] = json!("select");
    f["options"] = json!(list);
}

/// The input for an attribute: list → select of its options, bool → yes/no, number → with its unit.
fn attribute_input(tx: &Tx, f: &mut Value, a: &Attribute, value: &str) {
    let none = (String::new(), "—".to_owned());
    match a.kind.as_str() {
        "list" => {
            let opts = std::iter::once(none).chain(a.options.iter().map(|o| (o.clone(), o.clone()))).collect();
            select(f, value, opts);
        }
        "bool" => {
            // Stored as да/нет (what a spreadsheet holds); the other spellings parse the same.
            let v = match a.parse(value) {
                Ok(Value::Bool(b)) => {
                    if b {
                        "да"
                    } else {
                        "нет"
                    }
                }
                _ => value,
            };
            f["value"] = json!(v);
            let opts = vec![none, ("да".into(), tx.t("admin-catalog-yes")), ("нет".into(), tx.t("admin-catalog-no"))];
            select(f, v, opts);
        }
        "number" => {
            f["inputmode"] = json!("decimal");
            f["suffix"] = json!(a.unit);
        }
        _ => {}
    }
}
