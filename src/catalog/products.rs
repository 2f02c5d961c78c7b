//! Products: one validated shape for the API, forms and spreadsheets, and the writes that
//! keep stock, extra prices, barcodes, the marketplace listing and the search index in step
//! (all in the caller's transaction).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use super::attributes::Attribute;
use super::{categories, stock, STATUSES, UNITS};
use crate::db::schema_tenant::{price_types, product_barcodes, product_prices, products, warehouses};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::money::{format_qty, parse_amount};
use crate::pricing::VatRate;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct Product {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category_id: Option<i64>,
    pub unit: String,
    pub pack_size: Decimal,
    pub min_qty: Decimal,
    pub order_multiple: Decimal,
    pub weight_kg: Option<Decimal>,
    pub volume_m3: Option<Decimal>,
    pub vat_rate: String,
    pub price: Decimal,
    pub status: String,
    pub available_from: Option<NaiveDate>,
    pub attributes: Value,
    pub i18n: Value,
    pub stock_available: Decimal,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// The name in `locale`, falling back to the main name.
    pub fn name_in(&self, locale: &str) -> &str {
        self.i18n
            .get(locale)
            .and_then(|v| v.get("name"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.name)
    }

    pub fn description_in(&self, locale: &str) -> &str {
        self.i18n
            .get(locale)
            .and_then(|v| v.get("description"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.description)
    }

    pub fn vat(&self) -> VatRate {
        VatRate::parse(&self.vat_rate).unwrap_or(VatRate::R20)
    }
}

/// Column → raw text: one product as a spreadsheet row, a form or a JSON body sees it.
pub type Row = BTreeMap<String, String>;

/// The columns every product row has, in export order. Attributes follow as `attr:<code>`,
/// extra price types as `price:<type>`, warehouses as `stock:<code>`.
pub const COLUMNS: &[&str] = &[
    "sku",
    "name",
    "name_en",
    "category",
    "brand",
    "unit",
    "pack_size",
    "min_qty",
    "order_multiple",
    "weight_kg",
    "volume_m3",
    "vat_rate",
    "price",
    "status",
    "available_from",
    "barcodes",
    "description",
    "description_en",
];

/// What a row may refer to, loaded once per request or import.
pub struct Refs {
    pub categories: HashMap<String, i64>,
    pub category_codes: HashMap<i64, String>,
    pub attributes: BTreeMap<String, Attribute>,
    pub warehouses: HashMap<String, i64>,
    pub price_types: HashSet<String>,
}

impl Refs {
    pub fn load(conn: &mut PgConnection) -> AppResult<Refs> {
        let categories = categories::code_map(conn)?;
        let category_codes = categories.iter().map(|(k, v)| (*v, k.clone())).collect();
        Ok(Refs {
            categories,
            category_codes,
            attributes: super::attributes::map(conn)?,
            warehouses: warehouses::table
                .select((warehouses::code, warehouses::id))
                .load::<(String, i64)>(conn)?
                .into_iter()
                .collect(),
            price_types: price_types::table.select(price_types::code).load::<String>(conn)?.into_iter().collect(),
        })
    }

    /// Every column a row may have, in export order.
    pub fn columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        let mut whs: Vec<_> = self.warehouses.keys().cloned().collect();
        whs.sort();
        cols.extend(whs.into_iter().map(|w| format!("stock:{w}")));
        let mut types: Vec<_> = self.price_types.iter().filter(|t| *t != "base").cloned().collect();
        types.sort();
        cols.extend(types.into_iter().map(|t| format!("price:{t}")));
        cols.extend(self.attributes.keys().map(|a| format!("attr:{a}")));
        cols
    }

    /// Complains about columns no product has (a misspelt header is an error, not ignored data).
    pub fn unknown_column(&self, col: &str) -> Option<String> {
        if COLUMNS.contains(&col) || col == "stock" {
            return None;
        }
        if let Some(w) = col.strip_prefix("stock:") {
            return (!self.warehouses.contains_key(w)).then(|| format!("unknown warehouse {w}"));
        }
        if let Some(t) = col.strip_prefix("price:") {
            return (!self.price_types.contains(t) || t == "base").then(|| format!("unknown price type {t}"));
        }
        if let Some(a) = col.strip_prefix("attr:") {
            return (!self.attributes.contains_key(a)).then(|| format!("unknown attribute {a}"));
        }
        Some(format!("unknown column {col}"))
    }
}

/// A product that passed every check, ready to write.
#[derive(Debug, Clone)]
pub struct Draft {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category_id: Option<i64>,
    pub category_name: String,
    pub unit: String,
    pub pack_size: Decimal,
    pub min_qty: Decimal,
    pub order_multiple: Decimal,
    pub weight_kg: Option<Decimal>,
    pub volume_m3: Option<Decimal>,
    pub vat_rate: String,
    pub price: Decimal,
    pub status: String,
    pub available_from: Option<NaiveDate>,
    pub attributes: Map<String, Value>,
    pub i18n: Value,
    pub barcodes: Vec<String>,
    /// Only the warehouses the row mentions; others keep their stock.
    pub stock: Vec<(i64, Decimal)>,
    /// Only the price types the row mentions; an empty cell removes that price.
    pub prices: Vec<(String, Option<Decimal>)>,
}

pub fn valid_sku(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphanumeric());
    first_ok
        && s.chars().count() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || is_cyrillic(c) || matches!(c, '.' | '_' | '/' | '-'))
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

fn decimal_field(v: &str, field: &str, errors: &mut FieldErrors, scale: u32) -> Option<Decimal> {
    let s = v.trim().replace(',', ".").replace(' ', "");
    match Decimal::from_str(&s) {
        Ok(d) if d < Decimal::ZERO => {
            errors.insert(field.into(), "must not be negative".into());
            None
        }
        Ok(d) if d.normalize().scale() > scale => {
            errors.insert(field.into(), format!("at most {scale} decimal places"));
            None
        }
        Ok(d) if d >= Decimal::from(1_000_000_000) => {
            errors.insert(field.into(), "is too large".into());
            None
        }
        Ok(d) => Some(d.normalize()),
        Err(_) => {
            errors.insert(field.into(), "must be a number".into());
            None
        }
    }
}

/// Parses a date as ISO (`2026-12-01`) or Russian (`01.12.2026`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y")).ok()
}

/// Checks one row completely: every problem is reported, not only the first.
pub fn parse_row(row: &Row, refs: &Refs) -> Result<Draft, FieldErrors> {
    let mut errors = FieldErrors::new();
    let get = |k: &str| row.get(k).map(|s| s.trim()).unwrap_or("");
    for col in row.keys() {
        if let Some(msg) = refs.unknown_column(col) {
            errors.insert(col.clone(), msg);
        }
    }
    let sku = get("sku").to_owned();
    if sku.is_empty() {
        errors.insert("sku".into(), "is required".into());
    } else if !valid_sku(&sku) {
        errors.insert("sku".into(), "use up to 64 letters, digits, . _ / -, starting with a letter or digit".into());
    }
    let name = get("name").to_owned();
    if name.is_empty() {
        errors.insert("name".into(), "is required".into());
    } else if name.chars().count() > 300 {
        errors.insert("name".into(), "at most 300 characters".into());
    }
    let price = match get("price") {
        "" => {
            errors.insert("price".into(), "is required".into());
            None
        }
        p => match parse_amount(&p.replace(',', ".").replace(' ', "")) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.insert("price".into(), e);
                None
            }
        },
    };
    let (category_id, category_name) = match get("category") {
        "" => (None, String::new()),
        code => match refs.categories.get(code) {
            Some(id) => (Some(*id), code.to_owned()),
            None => {
                errors.insert("category".into(), format!("unknown category {code}"));
                (None, String::new())
            }
        },
    };
    let brand = get("brand").to_owned();
    if brand.chars().count() > 100 {
        errors.insert("brand".into(), "at most 100 characters".into());
    }
    let unit = match get("unit") {
        "" => "pcs".to_owned(),
        u if UNITS.contains(&u) => u.to_owned(),
        _ => {
            errors.insert("unit".into(), format!("must be one of {}", UNITS.join(", ")));
            "pcs".into()
        }
    };
    let positive = |field: &str, errors: &mut FieldErrors| match get(field) {
        "" => Decimal::ONE,
        v => match decimal_field(v, field, errors, 3) {
            Some(d) if d == Decimal::ZERO => {
                errors.insert(field.into(), "must be greater than zero".into());
                Decimal::ONE
            }
            Some(d) => d,
            None => Decimal::ONE,
        },
    };
    let pack_size = positive("pack_size", &mut errors);
    let min_qty = positive("min_qty", &mut errors);
    let order_multiple = positive("order_multiple", &mut errors);
    let weight_kg = match get("weight_kg") {
        "" => None,
        v => decimal_field(v, "weight_kg", &mut errors, 3),
    };
    let volume_m3 = match get("volume_m3") {
        "" => None,
        v => decimal_field(v, "volume_m3", &mut errors, 4),
    };
    let vat_rate = match get("vat_rate") {
        "" => "20".to_owned(),
        v => match VatRate::parse(v) {
            Some(r) => r.as_str().to_owned(),
            None => {
                errors.insert("vat_rate".into(), "must be 20, 10, 0 or none".into());
                "20".into()
            }
        },
    };
    let status = match get("status") {
        "" => "active".to_owned(),
        s if STATUSES.contains(&s) => s.to_owned(),
        _ => {
            errors.insert("status".into(), "must be active, upcoming or archived".into());
            "active".into()
        }
    };
    let available_from = match get("available_from") {
        "" => None,
        v => match parse_date(v) {
            Some(d) => Some(d),
            None => {
                errors.insert("available_from".into(), "must be a date like 2026-12-01".into());
                None
            }
        },
    };
    if status == "upcoming" && available_from.is_none() && !errors.contains_key("available_from") {
        errors.insert("available_from".into(), "an upcoming product needs the date it becomes available".into());
    }
    let mut barcodes = Vec::new();
    for b in get("barcodes").split([';', ',', ' ']).map(str::trim).filter(|b| !b.is_empty()) {
        if b.len() < 8 || b.len() > 14 || !b.chars().all(|c| c.is_ascii_digit()) {
            errors.insert("barcodes".into(), format!("{b} is not a barcode (8–14 digits)"));
        } else if !barcodes.contains(&b.to_owned()) {
            barcodes.push(b.to_owned());
        }
    }
    let description = ammonia::clean(get("description"));
    if description.chars().count() > 50_000 {
        errors.insert("description".into(), "at most 50,000 characters".into());
    }
    let mut en = Map::new();
    if !get("name_en").is_empty() {
        en.insert("name".into(), Value::String(get("name_en").to_owned()));
    }
    if !get("description_en").is_empty() {
        en.insert("description".into(), Value::String(ammonia::clean(get("description_en"))));
    }
    let i18n = if en.is_empty() { serde_json::json!({}) } else { serde_json::json!({ "en": en }) };

    let mut attributes = Map::new();
    let mut stock = Vec::new();
    let mut prices = Vec::new();
    for (col, raw) in row {
        let raw = raw.trim();
        if let Some(code) = col.strip_prefix("attr:") {
            if let (Some(def), false) = (refs.attributes.get(code), raw.is_empty()) {
                match def.parse(raw) {
                    Ok(v) => {
                        attributes.insert(code.to_owned(), v);
                    }
                    Err(e) => {
                        errors.insert(col.clone(), e);
                    }
                }
            }
        } else if let Some(w) = col.strip_prefix("stock:").or((col == "stock").then_some("main")) {
            if let (Some(id), false) = (refs.warehouses.get(w), raw.is_empty()) {
                if let Some(q) = decimal_field(raw, col, &mut errors, 3) {
                    stock.push((*id, q));
                }
            }
        } else if let Some(t) = col.strip_prefix("price:") {
            if refs.price_types.contains(t) && t != "base" {
                if raw.is_empty() {
                    prices.push((t.to_owned(), None));
                } else {
                    match parse_amount(&raw.replace(',', ".").replace(' ', "")) {
                        Ok(p) => prices.push((t.to_owned(), Some(p))),
                        Err(e) => {
                            errors.insert(col.clone(), e);
                        }
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Draft {
        sku,
        name,
        description,
        brand,
        category_id,
        category_name,
        unit,
        pack_size,
        min_qty,
        order_multiple,
        weight_kg,
        volume_m3,
        vat_rate,
        price: price.unwrap_or_default(),
        status,
        available_from,
        attributes,
        i18n,
        barcodes,
        stock,
        prices,
    })
}

pub fn find_by_sku(conn: &mut PgConnection, sku: &str) -> AppResult<Option<Product>> {
    Ok(products::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(sku) = lower(")
                .bind::<diesel::sql_types::Text, _>(sku)
                .sql(")"),
        )
        .select(Product::as_select())
        .first(conn)
        .optional()?)
}

diesel::define_sql_function! {
    /// PostgreSQL's `lower(text)`, to use the unique index on `lower(sku)`.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The products with these SKUs (case-insensitive), in one indexed statement.
pub fn by_skus(conn: &mut PgConnection, skus: &[String]) -> AppResult<Vec<Product>> {
    let lowered: Vec<String> = skus.iter().map(|s| s.trim().to_lowercase()).collect();
    Ok(products::table.filter(lower(products::sku).eq_any(lowered)).select(Product::as_select()).load(conn)?)
}

pub fn by_ids(conn: &mut PgConnection, ids: &[i64]) -> AppResult<Vec<Product>> {
    Ok(products::table.filter(products::id.eq_any(ids)).select(Product::as_select()).load(conn)?)
}

/// The product as a row (what export writes and a form shows): parses back to the same product.
pub fn to_row(conn: &mut PgConnection, p: &Product, refs: &Refs) -> AppResult<Row> {
    let mut rows = to_rows(conn, std::slice::from_ref(p), refs)?;
    Ok(rows.pop().unwrap_or_default())
}

/// Rows for many products with three queries in all.
pub fn to_rows(conn: &mut PgConnection, list: &[Product], refs: &Refs) -> AppResult<Vec<Row>> {
    let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
    let mut codes: HashMap<i64, Vec<String>> = HashMap::new();
    for (pid, code) in product_barcodes::table
        .filter(product_barcodes::product_id.eq_any(&ids))
        .select((product_barcodes::product_id, product_barcodes::barcode))
        .order(product_barcodes::barcode)
        .load::<(i64, String)>(conn)?
    {
        codes.entry(pid).or_default().push(code);
    }
    let mut extra: HashMap<i64, Vec<(String, Decimal)>> = HashMap::new();
    for (pid, t, price) in product_prices::table
        .filter(product_prices::product_id.eq_any(&ids))
        .select((product_prices::product_id, product_prices::price_type, product_prices::price))
        .load::<(i64, String, Decimal)>(conn)?
    {
        extra.entry(pid).or_default().push((t, price));
    }
    let wh_codes: HashMap<i64, &String> = refs.warehouses.iter().map(|(k, v)| (*v, k)).collect();
    let mut stocks: HashMap<i64, Vec<(i64, Decimal)>> = HashMap::new();
    for s in stock::for_products(conn, &ids)? {
        stocks.entry(s.product_id).or_default().push((s.warehouse_id, s.quantity));
    }
    let mut out = Vec::with_capacity(list.len());
    for p in list {
        let mut r = Row::new();
        let mut put = |k: &str, v: String| {
            r.insert(k.to_owned(), v);
        };
        put("sku", p.sku.clone());
        put("name", p.name.clone());
        put("name_en", p.i18n.pointer("/en/name").and_then(Value::as_str).unwrap_or("").to_owned());
        put("category", p.category_id.and_then(|c| refs.category_codes.get(&c).cloned()).unwrap_or_default());
        put("brand", p.brand.clone());
        put("unit", p.unit.clone());
        put("pack_size", format_qty(p.pack_size));
        put("min_qty", format_qty(p.min_qty));
        put("order_multiple", format_qty(p.order_multiple));
        put("weight_kg", p.weight_kg.map(format_qty).unwrap_or_default());
        put("volume_m3", p.volume_m3.map(format_qty).unwrap_or_default());
        put("vat_rate", p.vat_rate.clone());
        put("price", crate::money::format(p.price));
        put("status", p.status.clone());
        put("available_from", p.available_from.map(|d| d.to_string()).unwrap_or_default());
        put("barcodes", codes.remove(&p.id).unwrap_or_default().join(";"));
        put("description", p.description.clone());
        put("description_en", p.i18n.pointer("/en/description").and_then(Value::as_str).unwrap_or("").to_owned());
        for code in refs.warehouses.keys() {
            put(&format!("stock:{code}"), "0".into());
        }
        for (wid, q) in stocks.remove(&p.id).unwrap_or_default() {
            if let Some(code) = wh_codes.get(&wid) {
                put(&format!("stock:{code}"), format_qty(q));
            }
        }
        for t in refs.price_types.iter().filter(|t| *t != "base") {
            put(&format!("price:{t}"), String::new());
        }
        for (t, price) in extra.remove(&p.id).unwrap_or_default() {
            put(&format!("price:{t}"), crate::money::format(price));
        }
        for (code, def) in &refs.attributes {
            let v = p.attributes.get(code).map(|v| def.render(v)).unwrap_or_default();
            put(&format!("attr:{code}"), v);
        }
        out.push(r);
    }
    Ok(out)
}

/// How a save should treat an existing SKU.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 409 `duplicate_sku` when the SKU exists (API create).
    Create,
    /// Create or replace (imports).
    Upsert,
    /// The SKU must exist (API/forms update); may rename to `new_sku`.
    Update,
}

/// Writes a validated product and everything that follows from it. Returns the id and
/// whether it was new.
pub fn save(
    conn: &mut PgConnection,
    tenant_id: i64,
    d: &Draft,
    mode: Mode,
    existing_sku: Option<&str>,
) -> AppResult<(i64, bool)> {
    let (id, created) = write(conn, d, mode, existing_sku)?;
    after_change(conn, tenant_id, &[id])?;
    Ok((id, created))
}

/// [`save`] without the follow-ups: for batches, which call [`after_change`] once at the end.
pub fn write(conn: &mut PgConnection, d: &Draft, mode: Mode, existing_sku: Option<&str>) -> AppResult<(i64, bool)> {
    let existing = find_by_sku(conn, existing_sku.unwrap_or(&d.sku))?;
    if existing_sku.is_some_and(|old| !old.eq_ignore_ascii_case(&d.sku)) && find_by_sku(conn, &d.sku)?.is_some() {
        return Err(AppError::conflict("duplicate_sku", format!("a product with SKU {} already exists", d.sku)));
    }
    match (existing, mode) {
        (Some(_), Mode::Create) => {
            Err(AppError::conflict("duplicate_sku", format!("a product with SKU {} already exists", d.sku)))
        }
        (None, Mode::Update) => Err(AppError::not_found("product")),
        (Some(p), _) => {
            update_known(conn, p.id, d)?;
            Ok((p.id, false))
        }
        (None, _) => Ok((insert_many(conn, &[d])?.pop().unwrap_or_default(), true)),
    }
}

/// The product's own columns as one row of values.
macro_rules! values_of {
    ($d:expr) => {
        (
            products::sku.eq(&$d.sku),
            products::name.eq(&$d.name),
            products::description.eq(&$d.description),
            products::brand.eq(&$d.brand),
            products::category_id.eq($d.category_id),
            products::unit.eq(&$d.unit),
            products::pack_size.eq($d.pack_size),
            products::min_qty.eq($d.min_qty),
            products::order_multiple.eq($d.order_multiple),
            products::weight_kg.eq($d.weight_kg),
            products::volume_m3.eq($d.volume_m3),
            products::vat_rate.eq(&$d.vat_rate),
            products::price.eq($d.price),
            products::status.eq(&$d.status),
            products::available_from.eq($d.available_from),
            products::attributes.eq(Value::Object($d.attributes.clone())),
            products::i18n.eq(&$d.i18n),
        )
    };
}

/// Updates an existing product (by id) and replaces what the row mentions of its barcodes,
/// stock and extra prices.
pub fn update_known(conn: &mut PgConnection, id: i64, d: &Draft) -> AppResult<()> {
    diesel::update(products::table.find(id))
        .set((values_of!(d), products::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    // Barcodes: the row's list replaces the product's.
    diesel::delete(product_barcodes::table.filter(product_barcodes::product_id.eq(id))).execute(conn)?;
    insert_barcodes(conn, &[(id, d)])?;
    for (wid, q) in &d.stock {
        stock::set(conn, id, *wid, *q)?;
    }
    for (t, price) in &d.prices {
        match price {
            Some(p) => {
                diesel::insert_into(product_prices::table)
                    .values((
                        product_prices::product_id.eq(id),
                        product_prices::price_type.eq(t),
                        product_prices::price.eq(p),
                    ))
                    .on_conflict((product_prices::product_id, product_prices::price_type))
                    .do_update()
                    .set(product_prices::price.eq(p))
                    .execute(conn)?;
            }
            None => {
                diesel::delete(product_prices::table.find((id, t))).execute(conn)?;
            }
        }
    }
    Ok(())
}

fn insert_barcodes(conn: &mut PgConnection, list: &[(i64, &Draft)]) -> AppResult<()> {
    let rows: Vec<_> = list
        .iter()
        .flat_map(|(id, d)| {
            d.barcodes.iter().map(move |b| (product_barcodes::barcode.eq(b), product_barcodes::product_id.eq(*id)))
        })
        .collect();
    for chunk in rows.chunks(1000) {
        match diesel::insert_into(product_barcodes::table).values(chunk).execute(conn) {
            Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(AppError::field("barcodes", "a barcode belongs to another product"));
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Inserts new products in batches (a 10,000-row import is a few dozen statements), with
/// their barcodes, stock and extra prices. Returns the ids in order.
pub fn insert_many(conn: &mut PgConnection, drafts: &[&Draft]) -> AppResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(drafts.len());
    for chunk in drafts.chunks(500) {
        let values: Vec<_> = chunk.iter().map(|d| values_of!(d)).collect();
        let got: Vec<i64> =
            diesel::insert_into(products::table).values(&values).returning(products::id).get_results(conn)?;
        ids.extend(got);
    }
    let pairs: Vec<(i64, &Draft)> = ids.iter().copied().zip(drafts.iter().copied()).collect();
    insert_barcodes(conn, &pairs)?;
    let stock_rows: Vec<_> = pairs
        .iter()
        .flat_map(|(id, d)| {
            d.stock.iter().map(move |(w, q)| {
                (
                    crate::db::schema_tenant::stock::product_id.eq(*id),
                    crate::db::schema_tenant::stock::warehouse_id.eq(*w),
                    crate::db::schema_tenant::stock::quantity.eq(*q),
                )
            })
        })
        .collect();
    for chunk in stock_rows.chunks(1000) {
        diesel::insert_into(crate::db::schema_tenant::stock::table).values(chunk).execute(conn)?;
    }
    let price_rows: Vec<_> = pairs
        .iter()
        .flat_map(|(id, d)| {
            d.prices.iter().filter_map(move |(t, p)| {
                p.map(|p| {
                    (product_prices::product_id.eq(*id), product_prices::price_type.eq(t), product_prices::price.eq(p))
                })
            })
        })
        .collect();
    for chunk in price_rows.chunks(1000) {
        diesel::insert_into(product_prices::table).values(chunk).execute(conn)?;
    }
    Ok(ids)
}

/// Removes a product for good (archiving is the usual way; this is for mistakes).
pub fn delete(conn: &mut PgConnection, tenant_id: i64, sku: &str) -> AppResult<()> {
    let p = find_by_sku(conn, sku)?.ok_or_else(|| AppError::not_found("product"))?;
    diesel::delete(products::table.find(p.id)).execute(conn)?;
    after_change(conn, tenant_id, &[p.id])
}

/// In the same transaction as a change: refresh the marketplace listing and enqueue the
/// search-index update, so neither can be lost or sent for a rolled-back change.
pub fn after_change(conn: &mut PgConnection, tenant_id: i64, ids: &[i64]) -> AppResult<()> {
    crate::search::words::record_products(conn, ids)?;
    crate::search::marketplace::sync(conn, tenant_id, ids)?;
    crate::search::enqueue_index(conn, tenant_id, ids)
}
