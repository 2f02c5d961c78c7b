//! The embedded engine: PostgreSQL full text (Russian, English and simple configurations on
//! a stored `tsvector`), `pg_trgm` word similarity for typos, exact and prefix match on SKU
//! and exact barcode ranked first. The tables are the index: nothing to update.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int8, Jsonb, Nullable, Numeric, Text};
use rust_decimal::Decimal;

use super::{FacetValue, Facets, Query, Results, Scope, SearchEngine, Sort};
use crate::db::{with_tenant, PgPool};
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

/// `a%b_c` → `a\%b\_c` for LIKE.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// `оконн проф` → `оконн:* & проф:*` from letters and digits only (nothing else reaches
/// `to_tsquery`, whose syntax would otherwise be the user's to write).
fn prefix_tsquery(q: &str) -> String {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("{}:*", w.to_lowercase()))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[derive(Clone, Copy, PartialEq)]
enum Skip {
    None,
    Category,
    Brand,
}

fn build(q: &Query, skip: Skip, barcode_ids: &[i64]) -> BuiltWhere {
    let mut sql = Sql::default();
    let mut conds = vec!["p.status <> 'archived'".to_string()];
    let mut text_match = None;
    let text = q.q.trim();
    if !text.is_empty() {
        let raw = sql.bind(Bind::Text(text.to_owned()));
        let lq = sql.bind(Bind::Text(text.to_lowercase()));
        let prefix = sql.bind(Bind::Text(format!("{}%", escape_like(&text.to_lowercase()))));
        let pq = prefix_tsquery(text);
        // Barcode hits were looked up first: an id list keeps every alternative indexable
        // (a subquery here would turn the whole OR into a sequential scan).
        let barcodes = sql.bind(Bind::Ids(barcode_ids.to_vec()));
        let mut any = vec![
            format!("lower(p.sku) = {lq}"),
            format!("lower(p.sku) LIKE {prefix}"),
            format!("p.id = ANY({barcodes})"),
            format!("p.search_doc @@ websearch_to_tsquery('russian', {raw})"),
            format!("p.search_doc @@ websearch_to_tsquery('english', {raw})"),
            format!("{lq} <% lower(p.name)"),
        ];
        let mut rank = format!(
            "ts_rank(p.search_doc, websearch_to_tsquery('russian', {raw}) || websearch_to_tsquery('english', {raw})) \
             + strict_word_similarity({lq}, lower(p.name))"
        );
        if !pq.is_empty() {
            let pqb = sql.bind(Bind::Text(pq));
            any.push(format!("p.search_doc @@ to_tsquery('simple', {pqb})"));
            rank = format!("{rank} + ts_rank(p.search_doc, to_tsquery('simple', {pqb}))");
        }
        conds.push(format!("({})", any.join(" OR ")));
        let exact = format!(
            "CASE WHEN lower(p.sku) = {lq} OR p.id = ANY({barcodes}) THEN 0 \
             WHEN lower(p.sku) LIKE {prefix} THEN 1 ELSE 2 END"
        );
        text_match = Some((exact, rank));
    }
    if skip != Skip::Category && (q.category.is_some() || !q.category_ids.is_empty()) {
        let ids = sql.bind(Bind::Ids(q.category_ids.clone()));
        conds.push(format!("p.category_id = ANY({ids})"));
    }
    if skip != Skip::Brand && !q.brands.is_empty() {
        let b = sql.bind(Bind::Texts(q.brands.clone()));
        conds.push(format!("p.brand = ANY({b})"));
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
    BuiltWhere { sql, text_match, where_sql: conds.join(" AND ") }
}

/// The WHERE clause (without the word), its binds and, when there is search text, the
/// exact-match tier and rank expressions.
struct BuiltWhere {
    sql: Sql,
    text_match: Option<(String, String)>,
    where_sql: String,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Stats {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    in_stock: i64,
    #[diesel(sql_type = BigInt)]
    upcoming: i64,
    #[diesel(sql_type = BigInt)]
    out: i64,
    #[diesel(sql_type = Nullable<Numeric>)]
    min_price: Option<Decimal>,
    #[diesel(sql_type = Nullable<Numeric>)]
    max_price: Option<Decimal>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Text)]
    value: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

fn counts(
    conn: &mut PgConnection,
    q: &Query,
    skip: Skip,
    barcodes: &[i64],
    select: &str,
    from: &str,
) -> AppResult<Vec<Count>> {
    let b = build(q, skip, barcodes);
    let text = format!(
        "SELECT {select}, count(*) AS count FROM products p {from} WHERE {} GROUP BY 1, 2 ORDER BY 3 DESC, 2 LIMIT 200",
        b.where_sql
    );
    Ok(b.sql.query(text).load::<Count>(conn)?)
}

/// Runs a search inside a tenant transaction.
pub fn search_in(conn: &mut PgConnection, q: &Query) -> AppResult<Results> {
    diesel::sql_query("SELECT set_config('pg_trgm.word_similarity_threshold', '0.45', true)").execute(conn)?;
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
    let b = build(q, Skip::None, &barcodes);
    let order = match (q.sort, &b.text_match) {
        (Sort::Relevance, Some((exact, rank))) => format!("{exact}, {rank} DESC, p.id"),
        (Sort::Relevance, None) | (Sort::Name, _) => "lower(p.name), p.id".into(),
        (Sort::PriceAsc, _) => "p.price, p.id".into(),
        (Sort::PriceDesc, _) => "p.price DESC, p.id".into(),
        (Sort::Newest, _) => "p.created_at DESC, p.id DESC".into(),
    };
    let text = format!(
        "SELECT p.id FROM products p WHERE {} ORDER BY {order} LIMIT {} OFFSET {}",
        b.where_sql,
        q.per_page,
        q.offset()
    );
    let ids: Vec<i64> = b.sql.query(text).load::<IdRow>(conn)?.into_iter().map(|r| r.id).collect();
    let stats_sql = format!(
        "SELECT count(*) AS total, \
         count(*) FILTER (WHERE p.stock_available > 0) AS in_stock, \
         count(*) FILTER (WHERE p.status = 'upcoming') AS upcoming, \
         count(*) FILTER (WHERE p.stock_available <= 0 AND p.status = 'active') AS out, \
         min(p.price) AS min_price, max(p.price) AS max_price FROM products p WHERE {}",
        b.where_sql
    );
    let stats = b.sql.query(stats_sql).get_result::<Stats>(conn)?;
    let mut facets = Facets::default();
    if q.with_facets && (stats.total > 0 || !q.brands.is_empty() || q.category.is_some()) {
        let fv = |rows: Vec<Count>| rows.into_iter().map(|c| FacetValue { value: c.value, count: c.count }).collect();
        facets.category = fv(counts(
            conn,
            q,
            Skip::Category,
            &barcodes,
            "'category' AS key, c.code AS value",
            "JOIN categories c ON c.id = p.category_id",
        )?);
        facets.brand = fv(counts(conn, q, Skip::Brand, &barcodes, "'brand' AS key, p.brand AS value", "")?
            .into_iter()
            .filter(|c| !c.value.is_empty())
            .collect());
        for c in counts(
            conn,
            q,
            Skip::None,
            &barcodes,
            "e.key AS key, e.value AS value",
            ", jsonb_each_text(p.attributes) e JOIN attributes a ON a.code = e.key AND a.filterable",
        )? {
            let list = facets.attributes.entry(c.key).or_default();
            if list.len() < 30 {
                list.push(FacetValue { value: c.value, count: c.count });
            }
        }
        facets.availability = [("in_stock", stats.in_stock), ("upcoming", stats.upcoming), ("out_of_stock", stats.out)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(v, n)| FacetValue { value: v.into(), count: n })
            .collect();
        if let (Some(lo), Some(hi)) = (stats.min_price, stats.max_price) {
            facets.price = Some((crate::money::format(lo), crate::money::format(hi)));
        }
    }
    Ok(Results { ids, total: stats.total, facets })
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
        // The stored tsvector is computed by PostgreSQL; a reindex only refreshes statistics.
        with_tenant(&self.pool, &scope.schema, |c| {
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
    fn only_letters_and_digits_reach_to_tsquery() {
        assert_eq!(prefix_tsquery("Оконн проф"), "оконн:* & проф:*");
        assert_eq!(prefix_tsquery("a' | !b & (c:*)"), "a:* & b:* & c:*");
        assert_eq!(prefix_tsquery("'; --"), "");
        assert_eq!(escape_like("50%_x\\"), "50\\%\\_x\\\\");
    }
}
