//! The embedded engine: PostgreSQL full text (Russian, English and simple configurations on
//! a stored `tsvector`), typos corrected against the tenant's word dictionary (`words.rs`,
//! pg_trgm), exact and prefix match on SKU and exact barcode ranked first. The tables are the
//! index: nothing to update.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int8, Jsonb, Numeric, Text};
use rust_decimal::Decimal;

use super::words::{self, Dict};
use super::{FacetValue, Facets, Query, Results, Scope, SearchEngine, Sort};
use crate::db::{escape_like, with_tenant, PgPool};
use crate::error::AppResult;

#[derive(Clone)]
pub struct PgEngine {
    pool: PgPool,
}

impl PgEngine {
    pub fn new(pool: PgPool) -> Self {
        PgEngine { pool }
    }
}

enum Bind {
    Id(i64),
    Text(String),
    Texts(Vec<String>),
    Ids(Vec<i64>),
    Num(Decimal),
    Json(serde_json::Value),
}

#[derive(Default)]
struct Sql {
    binds: Vec<Bind>,
}

impl Sql {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    fn query(
        &self,
        text: String,
    ) -> diesel::query_builder::BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
        let mut q = diesel::sql_query(text).into_boxed::<Pg>();
        for b in &self.binds {
            q = match b {
                Bind::Id(id) => q.bind::<BigInt, _>(*id),
                Bind::Text(s) => q.bind::<Text, _>(s.clone()),
                Bind::Texts(v) => q.bind::<Array<Text>, _>(v.clone()),
                Bind::Ids(v) => q.bind::<Array<Int8>, _>(v.clone()),
                Bind::Num(d) => q.bind::<Numeric, _>(*d),
                Bind::Json(j) => q.bind::<Jsonb, _>(j.clone()),
            };
        }
        q
    }
}

/// At most this many matches are counted and faceted exactly; past it the total says "more
/// than" (`Results::capped`) and facets describe the first matches. This bounds the work of a
/// one-word query over 100,000 products (about 25 µs per match here: 1,000 matches ≈ 25 ms;
/// docs/BENCHMARKS.md). Explicit orders (price, name, newest) still hold over every match.
pub const CAP: i64 = 1_000;

/// What was looked up before the query: products with this exact barcode, and the query's
/// words as a tsquery with typos corrected.
struct Found<'a> {
    barcodes: &'a [i64],
    tsquery: Option<&'a str>,
}

/// The conditions of a search, kept apart so facets can leave out their own filter.
struct Parts {
    sql: Sql,
    /// Text, category, attributes, availability, price (always applied).
    base: String,
    /// The brand filter, left out of the brand facet (`true` when there is none).
    brand: String,
    /// Exact tier (0 exact SKU or barcode, 1 SKU prefix, 2 other) and text rank.
    exact: String,
    rank: String,
}

fn build(q: &Query, found: &Found) -> Parts {
    let mut sql = Sql::default();
    let mut conds = vec!["p.status <> 'archived'".to_string()];
    let (mut exact, mut rank) = ("2".to_string(), "0::real".to_string());
    let text = q.q.trim();
    if !text.is_empty() {
        let lq = sql.bind(Bind::Text(text.to_lowercase()));
        let prefix = sql.bind(Bind::Text(format!("{}%", escape_like(&text.to_lowercase()))));
        // Barcode hits were looked up first: an id list keeps every alternative indexable
        // (a subquery here would turn the whole OR into a sequential scan).
        let barcodes = sql.bind(Bind::Ids(found.barcodes.to_vec()));
        let mut any = vec![
            format!("lower(p.sku) = {lq}"),
            format!("lower(p.sku) LIKE {prefix}"),
            format!("p.id = ANY({barcodes})"),
        ];
        if let Some(tsq) = found.tsquery {
            let t = sql.bind(Bind::Text(tsq.to_owned()));
            for config in ["russian", "english", "simple"] {
                any.push(format!("p.search_doc @@ to_tsquery('{config}', {t})"));
            }
            rank = format!(
                "ts_rank(p.search_doc, to_tsquery('russian', {t}) || to_tsquery('english', {t}) || to_tsquery('simple', {t}))"
            );
        }
        conds.push(format!("({})", any.join(" OR ")));
        exact = format!(
            "CASE WHEN lower(p.sku) = {lq} OR p.id = ANY({barcodes}) THEN 0 WHEN lower(p.sku) LIKE {prefix} THEN 1 ELSE 2 END"
        );
    }
    let mut codes: Vec<&str> = q.attrs.iter().map(|(c, _)| c.as_str()).collect();
    codes.dedup();
    for code in codes {
        let alts: Vec<String> = q
            .attrs
            .iter()
            .filter(|(c, _)| c == code)
            .map(|(c, v)| {
                let as_bool = match v.as_str() {
                    "true" | "да" | "yes" => Some(true),
                    "false" | "нет" | "no" => Some(false),
                    _ => None,
                };
                let mut one = vec![sql.bind(Bind::Json(serde_json::json!({ c: v })))];
                if let Some(b) = as_bool {
                    one.push(sql.bind(Bind::Json(serde_json::json!({ c: b }))));
                }
                one.iter().map(|j| format!("p.attributes @> {j}")).collect::<Vec<_>>().join(" OR ")
            })
            .collect();
        conds.push(format!("({})", alts.join(" OR ")));
    }
    match q.availability.as_deref() {
        Some("in_stock") => conds.push("p.stock_available > 0".into()),
        Some("upcoming") => conds.push("p.status = 'upcoming'".into()),
        Some("out_of_stock") => conds.push("p.stock_available <= 0 AND p.status = 'active'".into()),
        _ => {}
    }
    if let Some(min) = q.price_min {
        let b = sql.bind(Bind::Num(min));
        conds.push(format!("p.price >= {b}"));
    }
    if let Some(max) = q.price_max {
        let b = sql.bind(Bind::Num(max));
        conds.push(format!("p.price <= {b}"));
    }
    // The category is part of the base: its facet is shown only when no category is chosen.
    // One category (a leaf) as a plain equality: with `= ANY(…)` PostgreSQL 15 cannot walk the
    // (category_id, lower(name)) index in order and reads the whole table by name instead.
    match q.category_ids.as_slice() {
        [one] => {
            let id = sql.bind(Bind::Id(*one));
            conds.push(format!("p.category_id = {id}"));
        }
        _ if q.category.is_some() || !q.category_ids.is_empty() => {
            let ids = sql.bind(Bind::Ids(q.category_ids.clone()));
            conds.push(format!("p.category_id = ANY({ids})"));
        }
        _ => {}
    }
    let brand = if q.brands.is_empty() {
        "true".into()
    } else {
        let b = sql.bind(Bind::Texts(q.brands.clone()));
        format!("p.brand = ANY({b})")
    };
    Parts { sql, base: conds.join(" AND "), brand, exact, rank }
}

/// `ORDER BY` for a sort (relevance: exact tier, then rank; without text, by name).
fn order_by(q: &Query) -> &'static str {
    match q.sort {
        Sort::Relevance if !q.q.trim().is_empty() => "_exact, _rank DESC, p.id",
        Sort::Relevance | Sort::Name => "lower(p.name), p.id",
        Sort::PriceAsc => "p.price, p.id",
        Sort::PriceDesc => "p.price DESC, p.id",
        Sort::Newest => "p.created_at DESC, p.id DESC",
    }
}

#[derive(QueryableByName)]
struct Answer {
    #[diesel(sql_type = BigInt)]
    matched: i64,
    #[diesel(sql_type = Text)]
    ids: String,
    #[diesel(sql_type = Text)]
    stats: String,
    #[diesel(sql_type = Text)]
    categories: String,
    #[diesel(sql_type = Text)]
    brands: String,
    #[diesel(sql_type = Text)]
    attributes: String,
}

#[derive(serde::Deserialize)]
struct StatsJson {
    total: i64,
    in_stock: i64,
    upcoming: i64,
    out: i64,
    min_price: Option<Decimal>,
    max_price: Option<Decimal>,
}

#[derive(serde::Deserialize)]
struct CountJson {
    key: Option<String>,
    value: String,
    count: i64,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> AppResult<T> {
    serde_json::from_str(text).map_err(|e| crate::error::AppError::Internal(anyhow::anyhow!("search answer: {e}")))
}

/// Without facets (the products list, suggestions): the page straight from the indexes and a
/// count that stops at the cap — two light statements, nothing materialised.
fn page_and_count(conn: &mut PgConnection, q: &Query, b: &Parts) -> AppResult<Results> {
    let order = if q.sort == Sort::Relevance && !q.q.trim().is_empty() {
        format!("{}, {} DESC, p.id", b.exact, b.rank)
    } else {
        order_by(q).to_owned()
    };
    let page = format!(
        "SELECT p.id FROM products p WHERE {} AND {} ORDER BY {order} LIMIT {} OFFSET {}",
        b.base,
        b.brand,
        q.per_page,
        q.offset()
    );
    let ids = b.sql.query(page).load::<IdRow>(conn)?.into_iter().map(|r| r.id).collect();
    let count = format!(
        "SELECT count(*) AS n FROM (SELECT 1 FROM products p WHERE {} AND {} LIMIT {}) x",
        b.base,
        b.brand,
        CAP + 1
    );
    let n = b.sql.query(count).get_result::<CountRow>(conn)?.n;
    Ok(Results { ids, total: n.min(CAP), capped: n > CAP, facets: Facets::default(), fallback: false })
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs a search inside a tenant transaction: one statement scans at most `CAP + 1` matches
/// once and answers the page, the totals and every facet from them.
pub fn search_in(conn: &mut PgConnection, q: &Query) -> AppResult<Results> {
    let text = q.q.trim();
    let barcodes: Vec<i64> = if (8..=14).contains(&text.len()) && text.chars().all(|c| c.is_ascii_digit()) {
        use crate::db::schema_tenant::product_barcodes;
        product_barcodes::table
            .filter(product_barcodes::barcode.eq(text))
            .select(product_barcodes::product_id)
            .load(conn)?
    } else {
        Vec::new()
    };
    let tsquery = if text.is_empty() { None } else { words::tsquery_text(conn, Dict::Tenant, text)? };
    let found = Found { barcodes: &barcodes, tsquery: tsquery.as_deref() };
    let b = build(q, &found);
    let brand = &b.brand;
    let order = order_by(q);
    // An explicit order (or browsing without text) keeps the first matches in that order, so
    // past the cap the page is still the right one; relevance with text takes any first ones.
    let ordered = q.sort != Sort::Relevance || text.is_empty();
    let cte_order = if ordered { format!("ORDER BY {order}") } else { String::new() };
    if !q.with_facets {
        return page_and_count(conn, q, &b);
    }
    let facets = if q.with_facets { "" } else { "AND false" };
    // Attribute facets belong to a category (colours of profiles, widths of sills): computed
    // when one is chosen or an attribute filter is on, which also keeps the scan narrow for a
    // plain text search.
    let (attr_col, attr_facets) = if q.category.is_some() || !q.attrs.is_empty() {
        ("p.attributes", facets)
    } else {
        ("'{}'::jsonb AS attributes", "AND false")
    };
    let statement = format!(
        "WITH p AS MATERIALIZED (
            SELECT p.id, p.category_id, p.brand, p.price, p.status, p.stock_available, p.created_at, p.name,
                   {attr_col}, {exact} AS _exact, {rank} AS _rank
            FROM products p WHERE {base} {cte_order} LIMIT {limit}),
         f AS (SELECT * FROM p WHERE {brand})
         SELECT (SELECT count(*) FROM p) AS matched,
           (SELECT coalesce(json_agg(id), '[]') FROM (SELECT id FROM f p ORDER BY {order} LIMIT {per} OFFSET {off}) x)::text AS ids,
           (SELECT row_to_json(s) FROM (SELECT count(*) AS total,
               count(*) FILTER (WHERE stock_available > 0) AS in_stock,
               count(*) FILTER (WHERE status = 'upcoming') AS upcoming,
               count(*) FILTER (WHERE stock_available <= 0 AND status = 'active') AS out,
               min(price) AS min_price, max(price) AS max_price FROM f) s)::text AS stats,
           (SELECT coalesce(json_agg(x), '[]') FROM (SELECT c.code AS value, count(*) AS count FROM p
               JOIN categories c ON c.id = p.category_id WHERE {brand} {facets}
               GROUP BY c.code ORDER BY 2 DESC, 1 LIMIT 200) x)::text AS categories,
           (SELECT coalesce(json_agg(x), '[]') FROM (SELECT p.brand AS value, count(*) AS count FROM p
               WHERE p.brand <> '' {facets} GROUP BY p.brand ORDER BY 2 DESC, 1 LIMIT 200) x)::text AS brands,
           (SELECT coalesce(json_agg(x), '[]') FROM (SELECT e.key, e.value, count(*) AS count
               FROM f, jsonb_each_text(f.attributes) e JOIN attributes a ON a.code = e.key AND a.filterable
               WHERE true {attr_facets} GROUP BY e.key, e.value ORDER BY 3 DESC, 2 LIMIT 600) x)::text AS attributes",
        exact = b.exact,
        rank = b.rank,
        base = b.base,
        limit = CAP + 1,
        per = q.per_page,
        off = q.offset(),
    );
    let answer = b.sql.query(statement).get_result::<Answer>(conn)?;
    let capped = answer.matched > CAP;
    let stats: StatsJson = parse(&answer.stats)?;
    let mut ids: Vec<i64> = parse(&answer.ids)?;
    // Past the cap the ordered first matches give the right page, unless the brand filter
    // (applied after them) or a page beyond the cap needs the whole table (index order).
    if capped && ordered && (!q.brands.is_empty() || q.offset() + q.per_page > CAP) {
        let page = format!(
            "SELECT p.id FROM products p WHERE {} AND {brand} ORDER BY {} LIMIT {} OFFSET {}",
            b.base,
            order.replace("_exact, _rank DESC, ", ""),
            q.per_page,
            q.offset()
        );
        ids = b.sql.query(page).load::<IdRow>(conn)?.into_iter().map(|r| r.id).collect();
    }
    let mut out = Facets::default();
    if q.with_facets {
        let fv =
            |rows: Vec<CountJson>| rows.into_iter().map(|c| FacetValue { value: c.value, count: c.count }).collect();
        out.category = fv(parse(&answer.categories)?);
        out.brand = fv(parse(&answer.brands)?);
        for c in parse::<Vec<CountJson>>(&answer.attributes)? {
            let list = out.attributes.entry(c.key.unwrap_or_default()).or_default();
            if list.len() < 30 {
                list.push(FacetValue { value: c.value, count: c.count });
            }
        }
        out.availability = [("in_stock", stats.in_stock), ("upcoming", stats.upcoming), ("out_of_stock", stats.out)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(v, n)| FacetValue { value: v.into(), count: n })
            .collect();
        if let (Some(lo), Some(hi)) = (stats.min_price, stats.max_price) {
            out.price = Some((crate::money::format(lo), crate::money::format(hi)));
        }
    }
    Ok(Results { ids, total: stats.total.min(CAP), capped, facets: out, fallback: false })
}

impl SearchEngine for PgEngine {
    async fn search(&self, scope: &Scope, q: &Query) -> AppResult<Results> {
        let q = q.clone();
        with_tenant(&self.pool, &scope.schema, move |c| search_in(c, &q)).await
    }

    async fn index(&self, _scope: &Scope, _ids: &[i64]) -> AppResult<()> {
        Ok(())
    }

    async fn reindex(&self, scope: &Scope) -> AppResult<u64> {
        // The stored tsvector is computed by PostgreSQL; a reindex rebuilds the word dictionary
        // (typo correction) and refreshes the planner's statistics.
        with_tenant(&self.pool, &scope.schema, |c| {
            diesel::sql_query("DELETE FROM search_words").execute(c)?;
            let all: Vec<i64> = {
                use crate::db::schema_tenant::products;
                products::table.select(products::id).load(c)?
            };
            words::record_products(c, &all)?;
            diesel::sql_query("ANALYZE products").execute(c)?;
            use crate::db::schema_tenant::products;
            let n: i64 = products::table.count().get_result(c)?;
            Ok(n as u64)
        })
        .await
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_x\\"), "50\\%\\_x\\\\");
    }
}
