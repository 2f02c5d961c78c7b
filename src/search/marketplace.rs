//! The marketplace: the public catalogs of open, listed suppliers searched together from the
//! landing page. A tenant's product changes are copied to `public.marketplace_products` in the
//! same transaction (nothing buyer-specific, no prices); which tenants show is decided at
//! query time from their current status, mode and feature flags.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int8, Text};
use serde::Serialize;

use crate::error::AppResult;
use crate::platform::tenants;

/// Refreshes the listing of `ids` (inside the tenant's transaction: its tables are on the path).
pub fn sync(conn: &mut PgConnection, tenant_id: i64, ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query("DELETE FROM public.marketplace_products WHERE tenant_id = $1 AND product_id = ANY($2)")
        .bind::<Int8, _>(tenant_id)
        .bind::<Array<Int8>, _>(ids)
        .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO public.marketplace_products (tenant_id, product_id, sku, name, brand, category, status) \
         SELECT $1, p.id, p.sku, p.name, p.brand, coalesce(c.name, ''), p.status \
         FROM products p LEFT JOIN categories c ON c.id = p.category_id \
         WHERE p.id = ANY($2) AND p.status <> 'archived'",
    )
    .bind::<Int8, _>(tenant_id)
    .bind::<Array<Int8>, _>(ids)
    .execute(conn)?;
    super::words::record_listings(conn, tenant_id, ids)
}

/// Rebuilds a tenant's whole listing (and its words): [`sync`] over every product, after
/// dropping rows of products that no longer exist.
pub fn resync_all(conn: &mut PgConnection, tenant_id: i64) -> AppResult<u64> {
    use crate::db::schema_tenant::products;
    diesel::sql_query("DELETE FROM public.marketplace_products WHERE tenant_id = $1")
        .bind::<Int8, _>(tenant_id)
        .execute(conn)?;
    let all: Vec<i64> = products::table.filter(products::status.ne("archived")).select(products::id).load(conn)?;
    sync(conn, tenant_id, &all)?;
    Ok(all.len() as u64)
}

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct Hit {
    #[diesel(sql_type = BigInt)]
    pub tenant_id: i64,
    #[diesel(sql_type = Text)]
    pub sku: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub brand: String,
    #[diesel(sql_type = Text)]
    pub category: String,
    #[diesel(sql_type = Text)]
    pub status: String,
}

/// A hit with the store it links to.
#[derive(Debug, Clone, Serialize)]
pub struct StoreHit {
    pub store: String,
    pub store_slug: String,
    pub sku: String,
    pub name: String,
    pub brand: String,
    pub category: String,
    pub upcoming: bool,
    pub url: String,
}

/// Searches the listed suppliers' public catalogs (platform transaction, no tenant path).
pub fn search(conn: &mut PgConnection, q: &str, limit: i64) -> AppResult<Vec<StoreHit>> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let listed = tenants::list_marketplace(conn)?;
    let ids: Vec<i64> = listed.iter().map(|t| t.id).collect();
    let Some(tsq) = super::words::tsquery_text(conn, super::words::Dict::Marketplace, q)? else {
        return Ok(Vec::new());
    };
    let hits: Vec<Hit> = diesel::sql_query(
        "SELECT m.tenant_id, m.sku, m.name, m.brand, m.category, m.status FROM public.marketplace_products m \
         WHERE m.tenant_id = ANY($1) AND (lower(m.sku) = lower($2) \
           OR m.search_doc @@ to_tsquery('russian', $3) OR m.search_doc @@ to_tsquery('simple', $3)) \
         ORDER BY (lower(m.sku) = lower($2)) DESC, \
           ts_rank(m.search_doc, to_tsquery('russian', $3) || to_tsquery('simple', $3)) DESC, m.name \
         LIMIT $4",
    )
    .bind::<Array<Int8>, _>(&ids)
    .bind::<Text, _>(q)
    .bind::<Text, _>(&tsq)
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    Ok(hits
        .into_iter()
        .filter_map(|h| {
            let t = listed.iter().find(|t| t.id == h.tenant_id)?;
            Some(StoreHit {
                store: t.name.clone(),
                store_slug: t.slug.clone(),
                url: format!("/s/{}/products/{}", t.slug, urlencode(&h.sku)),
                upcoming: h.status == "upcoming",
                sku: h.sku,
                name: h.name,
                brand: h.brand,
                category: h.category,
            })
        })
        .collect())
}

/// Percent-encodes a path segment.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
