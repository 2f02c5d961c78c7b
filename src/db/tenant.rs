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
        // The same statement reads the cache generations, so they cost no round trip.
        let g = diesel::sql_query(
            "SELECT set_config('search_path', $1, true) AS p, set_config('app.tenant_id', $2, true) AS t, \
                    coalesce(g.catalog, 0) AS catalog, coalesce(g.access, 0) AS access \
             FROM (SELECT 1) one LEFT JOIN public.tenant_generations g ON g.schema_name = $2",
        )
        .bind::<Text, _>(schema.search_path())
        .bind::<Text, _>(schema.as_str())
        .get_result::<GenRow>(c)?;
        let outer = GENERATIONS.replace(Some(Generations { catalog: g.catalog, access: g.access }));
        let out = f(c);
        GENERATIONS.set(outer);
        out
    })
}

/// The tenant's cache generations as the transaction began (see `cache`): every commit that
/// changes catalog data bumps `catalog`, one that changes staff or customers bumps `access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generations {
    pub catalog: i64,
    pub access: i64,
}

#[derive(QueryableByName)]
struct GenRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    catalog: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    access: i64,
}

thread_local! {
    static GENERATIONS: std::cell::Cell<Option<Generations>> = const { std::cell::Cell::new(None) };
}

/// Reads a tenant's cache generations on their own (one statement, no transaction): for
/// requests without a session check to carry them.
pub async fn read_generations(pool: &PgPool, schema: &TenantSchema) -> AppResult<Generations> {
    let schema = schema.as_str().to_owned();
    read_platform(pool, move |c| {
        use crate::db::schema_platform::tenant_generations as g;
        let row: Option<(i64, i64)> = g::table.find(&schema).select((g::catalog, g::access)).first(c).optional()?;
        Ok(row.map_or(Generations { catalog: 0, access: 0 }, |(catalog, access)| Generations { catalog, access }))
    })
    .await
}

/// The generations read by the innermost [`in_tenant`] running on this thread; `None`
/// outside one. Valid for reads that do not follow the transaction's own writes.
pub fn current_generations() -> Option<Generations> {
    GENERATIONS.get()
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
