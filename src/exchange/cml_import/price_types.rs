//! The mapping of 1C price types (`ТипЦены` Ид) to ours (`price_types.code`, `base` being
//! `products.price`). On first sight of a 1C type: the first type of the first package ever
//! becomes `base`; else a price type of ours with the same name (not yet mapped); else a new
//! price type `1c-<hash>` named like the 1C one. Staff change it afterwards (`save`).

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Int4, Text};
use serde::{Deserialize, Serialize};

use super::rows::{currency_code, cut, short_hash};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::exchange::commerceml::PriceType;
use crate::exchange::report::ImportReport;

#[derive(Debug, Clone, Serialize, QueryableByName)]
pub struct Mapping {
    #[diesel(sql_type = Text)]
    pub external_id: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Text)]
    pub price_type: String,
    #[diesel(sql_type = Text)]
    pub price_type_name: String,
    #[diesel(sql_type = Bool)]
    pub set_by_staff: bool,
    #[diesel(sql_type = Int4)]
    pub position: i32,
}

/// Every mapping, in the order 1C sent the types.
pub fn list(conn: &mut PgConnection) -> AppResult<Vec<Mapping>> {
    Ok(diesel::sql_query(
        "SELECT m.external_id, m.name, m.currency, m.price_type, t.name AS price_type_name, m.set_by_staff, \
                m.position \
         FROM exchange_price_types m JOIN price_types t ON t.code = m.price_type \
         ORDER BY m.position, m.created_at, m.external_id",
    )
    .load(conn)?)
}

#[derive(QueryableByName)]
struct TypeRow {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    name: String,
}

/// Makes sure every type of the package is mapped; returns 1C id → our code for all mappings.
pub fn ensure(
    conn: &mut PgConnection,
    types: &[PriceType],
    store_currency: &str,
    report: &mut ImportReport,
) -> AppResult<HashMap<String, String>> {
    let store = currency_code(store_currency);
    let in_store = |t: &PriceType| t.currency.as_deref().map(currency_code).is_none_or(|c| c == store);
    let base_index = types.iter().position(in_store).unwrap_or(0);
    let mut known: HashMap<String, Mapping> = list(conn)?.into_iter().map(|m| (m.external_id.clone(), m)).collect();
    let first_package = known.is_empty();
    let ours: Vec<TypeRow> =
        diesel::sql_query("SELECT code, name FROM price_types ORDER BY position, code").load(conn)?;
    let mut counts = *report.of("price_types");
    for (i, t) in types.iter().enumerate().filter(|(_, t)| !t.id.is_empty()) {
        let name = cut(if t.name.trim().is_empty() { &t.id } else { &t.name }, 100);
        let currency = t.currency.as_deref().map(currency_code).unwrap_or_default();
        if let Some(m) = known.get(&t.id) {
            if m.name != name || m.currency != currency {
                diesel::sql_query(
                    "UPDATE exchange_price_types SET name = $2, currency = $3, updated_at = now() WHERE external_id = $1",
                )
                .bind::<Text, _>(&t.id)
                .bind::<Text, _>(&name)
                .bind::<Text, _>(&currency)
                .execute(conn)?;
                counts.updated += 1;
            } else {
                counts.unchanged += 1;
            }
            continue;
        }
        let taken = |code: &str| known.values().any(|m| m.price_type == code);
        let code = if first_package && i == base_index && !taken("base") {
            "base".to_owned()
        } else if let Some(same) = ours.iter().find(|o| o.name.to_lowercase() == name.to_lowercase() && !taken(&o.code))
        {
            same.code.clone()
        } else {
            let code = format!("1c-{}", short_hash(&t.id, 10));
            diesel::sql_query(
                "INSERT INTO price_types (code, name, position) \
                 VALUES ($1, $2, (SELECT coalesce(max(position), 0) + 1 FROM price_types)) ON CONFLICT DO NOTHING",
            )
            .bind::<Text, _>(&code)
            .bind::<Text, _>(&name)
            .execute(conn)?;
            code
        };
        diesel::sql_query(
            "INSERT INTO exchange_price_types (external_id, name, currency, price_type, position) \
             VALUES ($1, $2, $3, $4, (SELECT count(*) FROM exchange_price_types))",
        )
        .bind::<Text, _>(&t.id)
        .bind::<Text, _>(&name)
        .bind::<Text, _>(&currency)
        .bind::<Text, _>(&code)
        .execute(conn)?;
        counts.created += 1;
        known.insert(
            t.id.clone(),
            Mapping {
                external_id: t.id.clone(),
                name,
                currency,
                price_type: code,
                price_type_name: String::new(),
                set_by_staff: false,
                position: 0,
            },
        );
    }
    *report.of("price_types") = counts;
    Ok(known.into_iter().map(|(k, m)| (k, m.price_type)).collect())
}

fn add(errors: &mut FieldErrors, field: &str, message: &str) {
    errors.entry(field.to_owned()).or_insert_with(|| message.to_owned());
}

/// One row of `PUT /api/v1/admin/exchange-1c/price-types`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingInput {
    pub external_id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub price_type: String,
}

/// Staff's mapping: every listed 1C type is mapped to the given price type of ours (a 1C type
/// not seen yet is added, with its name). Two 1C types cannot share one price type.
pub fn save(conn: &mut PgConnection, items: &[MappingInput]) -> AppResult<Vec<Mapping>> {
    let current: HashMap<String, Mapping> = list(conn)?.into_iter().map(|m| (m.external_id.clone(), m)).collect();
    let ours: Vec<TypeRow> = diesel::sql_query("SELECT code, name FROM price_types").load(conn)?;
    let mut errors = FieldErrors::new();
    let mut used: HashMap<&str, &str> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        let ext = it.external_id.trim();
        if ext.is_empty() || ext.chars().count() > 200 {
            add(&mut errors, &format!("items[{i}].external_id"), "must be a 1C price type id (1 to 200 characters)");
        } else if !current.contains_key(ext) && it.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            add(&mut errors, &format!("items[{i}].name"), "a 1C price type not seen yet needs its name");
        }
        if !ours.iter().any(|o| o.code == it.price_type) {
            add(&mut errors, &format!("items[{i}].price_type"), "no such price type");
        } else if used.insert(it.price_type.as_str(), ext).is_some() {
            add(&mut errors, &format!("items[{i}].price_type"), "already chosen for another 1C price type");
        }
    }
    // A price type kept by a 1C type not in the list cannot be given to another one.
    for (i, it) in items.iter().enumerate() {
        if current
            .values()
            .any(|m| m.price_type == it.price_type && !items.iter().any(|x| x.external_id.trim() == m.external_id))
        {
            add(
                &mut errors,
                &format!("items[{i}].price_type"),
                "already held by a 1C price type not in the list; include that one too",
            );
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let ids: Vec<String> = items.iter().map(|i| i.external_id.trim().to_owned()).collect();
    diesel::sql_query(
        "CREATE TEMPORARY TABLE keep_price_types ON COMMIT DROP AS \
                       SELECT * FROM exchange_price_types WHERE external_id = ANY($1)",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(&ids)
    .execute(conn)?;
    diesel::sql_query("DELETE FROM exchange_price_types WHERE external_id = ANY($1)")
        .bind::<diesel::sql_types::Array<Text>, _>(&ids)
        .execute(conn)?;
    for (i, it) in items.iter().enumerate() {
        let ext = it.external_id.trim();
        let name = it
            .name
            .as_deref()
            .map(|n| cut(n, 100))
            .filter(|n| !n.is_empty())
            .or_else(|| current.get(ext).map(|m| m.name.clone()))
            .unwrap_or_default();
        diesel::sql_query(
            "INSERT INTO exchange_price_types (external_id, name, currency, price_type, set_by_staff, position, created_at) \
             SELECT $1, $2, coalesce(k.currency, ''), $3, true, coalesce(k.position, $4), coalesce(k.created_at, now()) \
             FROM (SELECT 1) one LEFT JOIN keep_price_types k ON k.external_id = $1",
        )
        .bind::<Text, _>(ext)
        .bind::<Text, _>(&name)
        .bind::<Text, _>(&it.price_type)
        .bind::<Int4, _>(1000 + i as i32)
        .execute(conn)?;
    }
    list(conn)
}

/// What a full catalog package does to products it no longer lists: `archive` or `keep`.
pub fn absent_products(conn: &mut PgConnection) -> AppResult<String> {
    let v = crate::platform::tenant_settings::get(conn, super::ABSENT_PRODUCTS)?;
    Ok(if v.as_ref().and_then(|v| v.as_str()) == Some("keep") { "keep" } else { "archive" }.to_owned())
}

pub fn set_absent_products(conn: &mut PgConnection, value: &str) -> AppResult<()> {
    if !matches!(value, "archive" | "keep") {
        return Err(AppError::field("absent_products", "must be archive or keep"));
    }
    crate::platform::tenant_settings::set(conn, super::ABSENT_PRODUCTS, &serde_json::json!(value))
}

/// Our price types, for choosing one.
pub fn ours(conn: &mut PgConnection) -> AppResult<Vec<(String, String)>> {
    let rows: Vec<TypeRow> =
        diesel::sql_query("SELECT code, name FROM price_types ORDER BY code <> 'base', position, code").load(conn)?;
    Ok(rows.into_iter().map(|r| (r.code, r.name)).collect())
}
