//! The single tenant-transaction door. Every piece of tenant work runs inside a
//! transaction whose first statement sets `search_path` (and `app.tenant_id`) with
//! `set_config(…, true)`: the setting dies with the transaction, so a pooled
//! connection can never carry one tenant's path into another request.
//! No other code sets `search_path` (a test greps the tree for it).

use std::fmt;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::{run_blocking, PgPool};
use crate::error::{AppError, AppResult};

/// A validated tenant schema name: `tenant_` followed by the slug with `-` as `_`.
/// Only this type may reach the places where DDL or `search_path` strings are built.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSchema(String);

impl TenantSchema {
    /// Parses a stored schema name, refusing anything that is not ours.
    pub fn parse(name: &str) -> Result<Self, String> {
        let rest = name.strip_prefix("tenant_").ok_or("schema must start with tenant_")?;
        let valid = (3..=40).contains(&rest.len())
            && rest.starts_with(|c: char| c.is_ascii_lowercase())
            && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if valid {
            Ok(TenantSchema(name.to_owned()))
        } else {
            Err(format!("{name:?} is not a valid tenant schema name"))
        }
    }

    /// The schema for a validated slug.
    pub fn for_slug(slug: &crate::platform::slug::Slug) -> Self {
        TenantSchema(format!("tenant_{}", slug.as_str().replace('-', "_")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `"tenant_x"`: safe to splice into DDL because the name was validated.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }

    /// The transaction's search path: the tenant first, then shared objects in `public`.
    pub fn search_path(&self) -> String {
        format!("\"{}\", public", self.0)
    }
}

impl fmt::Display for TenantSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs `f` in a transaction scoped to `schema` on a connection the caller holds.
/// Used by the async door below, by the CLI and by migrations.
pub fn in_tenant<T>(
    conn: &mut PgConnection,
    schema: &TenantSchema,
    f: impl FnOnce(&mut PgConnection) -> AppResult<T>,
) -> AppResult<T> {
    conn.transaction(|c| {
        diesel::sql_query("SELECT set_config('search_path', $1, true), set_config('app.tenant_id', $2, true)")
            .bind::<Text, _>(schema.search_path())
            .bind::<Text, _>(schema.as_str())
            .execute(c)?;
        f(c)
    })
}

/// The async door: takes a pooled connection off the async threads and runs `f`
/// in a tenant-scoped transaction.
pub async fn with_tenant<T, F>(pool: &PgPool, schema: &TenantSchema, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    let schema = schema.clone();
    run_blocking(move || {
        let mut conn = pool.get()?;
        conn.note_tenant(schema.as_str());
        in_tenant(&mut conn, &schema, f)
    })
    .await
}

/// Platform work (tables in `public`) in a transaction, off the async threads.
pub async fn with_platform<T, F>(pool: &PgPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    read_platform(pool, move |conn| conn.transaction(f)).await
}

/// One read of platform tables without an explicit transaction (a single statement is its
/// own transaction): saves the BEGIN/COMMIT round trips on the per-request session check.
pub async fn read_platform<T, F>(pool: &PgPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    run_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
}

/// Creates the schema of a new tenant (inside the caller's transaction).
pub fn create_schema(conn: &mut PgConnection, schema: &TenantSchema) -> AppResult<()> {
    conn.batch_execute(&format!("CREATE SCHEMA {}", schema.quoted())).map_err(|e| match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::Unknown, ref info)
            if info.message().contains("already exists") =>
        {
            AppError::conflict("tenant_exists", format!("schema {schema} already exists"))
        }
        other => other.into(),
    })
}

/// Drops a tenant schema and everything in it.
pub fn drop_schema(conn: &mut PgConnection, schema: &TenantSchema) -> AppResult<()> {
    conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.quoted()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_validated() {
        assert!(TenantSchema::parse("tenant_acme").is_ok());
        assert!(TenantSchema::parse("tenant_acme_2").is_ok());
        for bad in
            ["acme", "tenant_", "tenant_ab", "tenant_Acme", "tenant_a\"b", "tenant_1abc", "public", "tenant_abc; drop"]
        {
            assert!(TenantSchema::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            TenantSchema::parse("tenant_acme").map(|s| s.search_path()),
            Ok("\"tenant_acme\", public".to_string())
        );
    }
}
