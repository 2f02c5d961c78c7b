//! A tenant's settings (the `settings` table of its schema): typed accessors with defaults.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema_tenant::settings;
use crate::error::AppResult;

/// A confirmed e-mail address is required before a buyer's first order (default on).
pub const REQUIRE_EMAIL_CONFIRMATION: &str = "require_email_confirmation";

pub fn get(conn: &mut PgConnection, key: &str) -> AppResult<Option<Value>> {
    Ok(settings::table.find(key).select(settings::value).first(conn).optional()?)
}

pub fn get_bool(conn: &mut PgConnection, key: &str, default: bool) -> AppResult<bool> {
    Ok(get(conn, key)?.and_then(|v| v.as_bool()).unwrap_or(default))
}

pub fn set(conn: &mut PgConnection, key: &str, value: &Value) -> AppResult<()> {
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .on_conflict(settings::key)
        .do_update()
        .set((settings::value.eq(value), settings::updated_at.eq(diesel::dsl::now)))
        .execute(conn)?;
    Ok(())
}
