//! The category tree.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::db::schema_tenant::{categories, products};
use crate::error::{AppError, AppResult, FieldErrors};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
pub struct Category {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    pub name_i18n: Value,
    pub position: i32,
}

impl Category {
    /// The name in `locale`, falling back to the main name.
    pub fn name_in(&self, locale: &str) -> &str {
        self.name_i18n.get(locale).and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(&self.name)
    }
}

pub struct NewCategory {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub parent: Option<String>,
    pub position: i32,
}

pub fn all(conn: &mut PgConnection) -> AppResult<Vec<Category>> {
    Ok(categories::table.select(Category::as_select()).order((categories::position, categories::name)).load(conn)?)
}

pub fn by_code(conn: &mut PgConnection, code: &str) -> AppResult<Option<Category>> {
    Ok(categories::table.filter(categories::code.eq(code)).select(Category::as_select()).first(conn).optional()?)
}

pub fn code_map(conn: &mut PgConnection) -> AppResult<HashMap<String, i64>> {
    Ok(categories::table.select((categories::code, categories::id)).load::<(String, i64)>(conn)?.into_iter().collect())
}

fn valid_code(code: &str) -> bool {
    (1..=80).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Creates a category (409 when the code is taken, 422 for bad fields or an unknown parent).
pub fn create(conn: &mut PgConnection, c: NewCategory) -> AppResult<Category> {
    let mut errors = FieldErrors::new();
    if !valid_code(&c.code) {
        errors.insert("code".into(), "use 1–80 lowercase latin letters, digits, - or _".into());
    }
    let name = c.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors.insert("name".into(), "must be 1–200 characters".into());
    }
    let parent_id = match c.parent.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => match by_code(conn, p)? {
            Some(parent) => Some(parent.id),
            None => {
                errors.insert("parent".into(), "unknown category".into());
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if by_code(conn, &c.code)?.is_some() {
        return Err(AppError::conflict("category_exists", format!("category {} already exists", c.code)));
    }
    let i18n = match c.name_en.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(en) => serde_json::json!({ "en": en }),
        None => serde_json::json!({}),
    };
    Ok(diesel::insert_into(categories::table)
        .values((
            categories::code.eq(&c.code),
            categories::name.eq(name),
            categories::name_i18n.eq(i18n),
            categories::parent_id.eq(parent_id),
            categories::position.eq(c.position),
        ))
        .returning(Category::as_returning())
        .get_result(conn)?)
}

/// Deletes an empty category without children.
pub fn delete(conn: &mut PgConnection, code: &str) -> AppResult<()> {
    let cat = by_code(conn, code)?.ok_or_else(|| AppError::not_found("category"))?;
    let children: i64 = categories::table.filter(categories::parent_id.eq(cat.id)).count().get_result(conn)?;
    let items: i64 = products::table.filter(products::category_id.eq(cat.id)).count().get_result(conn)?;
    if children > 0 || items > 0 {
        return Err(AppError::conflict(
            "category_not_empty",
            format!("category {code} still holds {children} subcategories and {items} products"),
        ));
    }
    diesel::delete(categories::table.find(cat.id)).execute(conn)?;
    Ok(())
}

/// The ids of a category and of everything below it.
pub fn subtree(all: &[Category], root: i64) -> Vec<i64> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let id = out[i];
        out.extend(all.iter().filter(|c| c.parent_id == Some(id)).map(|c| c.id));
        i += 1;
    }
    out
}

/// The path from the root to `id` (for breadcrumbs).
pub fn path(all: &[Category], id: i64) -> Vec<&Category> {
    let mut out = Vec::new();
    let mut cur = all.iter().find(|c| c.id == id);
    while let Some(c) = cur {
        if out.len() > 32 {
            break;
        }
        out.push(c);
        cur = c.parent_id.and_then(|p| all.iter().find(|x| x.id == p));
    }
    out.reverse();
    out
}
