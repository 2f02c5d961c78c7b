//! Typed product attributes (text, number with unit, boolean, list) used for filters.

use std::collections::BTreeMap;
use std::str::FromStr;

use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::db::schema_tenant::attributes;
use crate::error::{AppError, AppResult, FieldErrors};

pub const KINDS: &[&str] = &["text", "number", "bool", "list"];

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = attributes, check_for_backend(diesel::pg::Pg))]
pub struct Attribute {
    pub code: String,
    pub name: String,
    pub name_i18n: Value,
    pub kind: String,
    pub unit: String,
    pub options: Vec<String>,
    pub filterable: bool,
    pub position: i32,
}

impl Attribute {
    pub fn name_in(&self, locale: &str) -> &str {
        self.name_i18n.get(locale).and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or(&self.name)
    }

    /// Parses a value as entered (form, API, spreadsheet) into its stored JSON form.
    pub fn parse(&self, raw: &str) -> Result<Value, String> {
        let raw = raw.trim();
        match self.kind.as_str() {
            "number" => {
                let s = raw.replace(',', ".");
                let d = Decimal::from_str(&s).map_err(|_| format!("{}: must be a number", self.name))?;
                Ok(Value::String(d.normalize().to_string()))
            }
            "bool" => match raw.to_lowercase().as_str() {
                "1" | "true" | "yes" | "да" | "y" | "д" => Ok(Value::Bool(true)),
                "0" | "false" | "no" | "нет" | "n" | "н" => Ok(Value::Bool(false)),
                _ => Err(format!("{}: must be yes or no", self.name)),
            },
            "list" => self
                .options
                .iter()
                .find(|o| o.eq_ignore_ascii_case(raw) || o.to_lowercase() == raw.to_lowercase())
                .map(|o| Value::String(o.clone()))
                .ok_or_else(|| format!("{}: must be one of {}", self.name, self.options.join(", "))),
            _ if raw.chars().count() > 200 => Err(format!("{}: at most 200 characters", self.name)),
            _ => Ok(Value::String(raw.to_owned())),
        }
    }

    /// The stored value as it is written in a spreadsheet (parses back to the same value).
    pub fn render(&self, v: &Value) -> String {
        match v {
            Value::Bool(true) => "да".into(),
            Value::Bool(false) => "нет".into(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

pub fn all(conn: &mut PgConnection) -> AppResult<Vec<Attribute>> {
    Ok(attributes::table.select(Attribute::as_select()).order((attributes::position, attributes::code)).load(conn)?)
}

pub fn map(conn: &mut PgConnection) -> AppResult<BTreeMap<String, Attribute>> {
    Ok(all(conn)?.into_iter().map(|a| (a.code.clone(), a)).collect())
}

pub struct NewAttribute {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub kind: String,
    pub unit: String,
    pub options: Vec<String>,
    pub filterable: bool,
}

pub fn create(conn: &mut PgConnection, a: NewAttribute) -> AppResult<Attribute> {
    let mut errors = FieldErrors::new();
    let code_ok = (1..=40).contains(&a.code.len())
        && a.code.starts_with(|c: char| c.is_ascii_lowercase())
        && a.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !code_ok {
        errors.insert("code".into(), "use 1–40 lowercase latin letters, digits or _, starting with a letter".into());
    }
    if a.name.trim().is_empty() || a.name.chars().count() > 100 {
        errors.insert("name".into(), "must be 1–100 characters".into());
    }
    if !KINDS.contains(&a.kind.as_str()) {
        errors.insert("kind".into(), "must be text, number, bool or list".into());
    }
    if a.kind == "list" && a.options.iter().filter(|o| !o.trim().is_empty()).count() == 0 {
        errors.insert("options".into(), "a list attribute needs its options".into());
    }
    if a.unit.chars().count() > 20 {
        errors.insert("unit".into(), "at most 20 characters".into());
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let exists: i64 = attributes::table.filter(attributes::code.eq(&a.code)).count().get_result(conn)?;
    if exists > 0 {
        return Err(AppError::conflict("attribute_exists", format!("attribute {} already exists", a.code)));
    }
    let i18n = match a.name_en.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(en) => serde_json::json!({ "en": en }),
        None => serde_json::json!({}),
    };
    let options: Vec<String> = a.options.iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
    Ok(diesel::insert_into(attributes::table)
        .values((
            attributes::code.eq(&a.code),
            attributes::name.eq(a.name.trim()),
            attributes::name_i18n.eq(i18n),
            attributes::kind.eq(&a.kind),
            attributes::unit.eq(a.unit.trim()),
            attributes::options.eq(options),
            attributes::filterable.eq(a.filterable),
        ))
        .returning(Attribute::as_returning())
        .get_result(conn)?)
}
