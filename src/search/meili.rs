//! The Meilisearch engine (when `MEILI_URL` is set): one index per tenant, named from the
//! tenant's validated schema ([`Scope::index_uid`]), so tenants are kept apart by index and
//! never by a filter. PostgreSQL stays the source of truth: documents are built from the
//! tenant schema inside [`with_tenant`] and pushed by the index jobs of the outbox.
//!
//! Queries follow the PostgreSQL engine (`pg.rs`): the same filters, sorts, facets (category
//! and brand counted without their own filter) and an exact SKU or barcode match first.
//! User text reaches a filter only as a double-quoted literal with `\` and `"` escaped
//! ([`literal`]); attribute codes only when they look like codes. Unreachable or slow
//! Meilisearch is a 503 "search is unavailable", logged, never a panic.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::errors::{Error as SdkError, ErrorCode, MeilisearchError};
use meilisearch_sdk::search::{MatchingStrategies, SearchQuery, SearchResults, Selectors};
use meilisearch_sdk::settings::{FacetSortValue, FacetingSettings, PaginationSetting, Settings, TypoToleranceSettings};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::Task;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{FacetValue, Facets, Query, Results, Scope, SearchEngine, Sort};
use crate::catalog::categories::{self, Category};
use crate::catalog::products::{self as catalog_products, Product};
use crate::db::schema_tenant::{attributes, product_barcodes, products, settings};
use crate::db::{with_tenant, PgPool};
use crate::error::{AppError, AppResult};

/// The message of every 503 this engine gives.
const UNAVAILABLE: &str = "search is unavailable";
/// The tenant setting with search synonyms: `{"word": ["synonym", …], …}`.
pub const SYNONYMS_SETTING: &str = "search_synonyms";
/// How long one search (one multi-search request) may take: slower than this is down for a
/// buyer typing into a search box.
const SEARCH_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a plain request (settings, enqueueing a task) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for one Meilisearch task to be processed.
const TASK_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a task is polled while waiting.
const TASK_POLL: Duration = Duration::from_millis(20);
/// Documents per request when indexing.
const BATCH: usize = 1000;
/// How long the facetable attributes of a tenant are remembered by the searching process.
const FACETS_TTL: Duration = Duration::from_secs(10);
/// As many hits as the PostgreSQL engine can page through (page ≤ 10,000 × per_page ≤ 100):
/// `totalHits` is exact up to this many.
const MAX_TOTAL_HITS: usize = 1_000_000;
/// Facet values returned per facet (like the PostgreSQL engine's `LIMIT 200`).
const MAX_FACET_VALUES: usize = 200;
/// Values kept per attribute facet.
const MAX_ATTR_VALUES: usize = 30;
const SEARCHABLE: &[&str] = &["sku", "barcodes", "name", "name_en", "brand", "description"];
/// `category` is filterable for its facet and `id` for the exact-match placement; the rest
/// are the documented filters. `attr_<code>` of every tenant attribute are added.
const FILTERABLE: &[&str] = &["category_ids", "category", "brand", "status", "availability", "price", "id"];
/// `id` breaks ties the way the PostgreSQL engine does (`ORDER BY …, p.id`).
const SORTABLE: &[&str] = &["price", "name", "created_at", "id"];
/// `sort` first: an explicit sort orders all matches (as in PostgreSQL), not only ties of
/// relevance; without a sort it does nothing and relevance decides.
const RANKING: &[&str] = &["sort", "words", "typo", "proximity", "attribute", "exactness"];
/// A typo in a SKU or barcode finds another product: exact there, tolerant elsewhere.
const NO_TYPOS_ON: &[&str] = &["sku", "barcodes"];

/// Index uid → (when loaded, codes of filterable attributes), for the facets of a search.
type FacetCache = Arc<Mutex<HashMap<String, (Instant, Arc<Vec<String>>)>>>;

#[derive(Clone)]
pub struct MeiliEngine {
    /// One client per Meilisearch instance; a tenant's index lives on `clients[shard(tenant)]`.
    clients: Vec<Client>,
    pool: PgPool,
    facet_attrs: FacetCache,
    /// Searches while Meilisearch is unavailable: the PostgreSQL engine over the same tables
    /// (always current: its index is the tables themselves).
    fallback: super::pg::PgEngine,
    /// After a failed search, Meilisearch is skipped until then (no 2-second wait per search
    /// during an outage); the first search after it tries Meilisearch again.
    down_until: Arc<Mutex<Option<Instant>>>,
}

/// How long searches go straight to the fallback after Meilisearch failed one.
const RETRY_AFTER_DOWN: Duration = Duration::from_secs(10);

impl MeiliEngine {
    /// `urls`: one Meilisearch address, or several separated by commas (the same key on all):
    /// each tenant's index is then on one of them, chosen by a hash of the tenant (see
    /// [`shard`]). Changing the list moves some tenants: run `tradeport search reindex` after.
    pub fn new(urls: &str, key: Option<String>, pool: PgPool) -> anyhow::Result<Self> {
        let key = key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty());
        if key.as_deref().is_some_and(|k| !k.chars().all(|c| c.is_ascii_graphic())) {
            // The client would refuse (panic on) a key that cannot be an HTTP header.
            anyhow::bail!("MEILI_KEY must be printable ASCII without spaces");
        }
        let mut clients = Vec::new();
        for url in urls.split(',').map(|u| u.trim().trim_end_matches('/')) {
            if !url.starts_with("http://") {
                // The crate is built without TLS (plain http to a local or private server).
                anyhow::bail!("MEILI_URL must be http:// addresses separated by commas (https is not built in)");
            }
            clients.push(Client::new(url, key.clone()).map_err(|e| anyhow::anyhow!("Meilisearch client: {e}"))?);
        }
        Ok(MeiliEngine {
            clients,
            fallback: super::pg::PgEngine::new(pool.clone()),
            pool,
            facet_attrs: Arc::new(Mutex::new(HashMap::new())),
            down_until: Arc::new(Mutex::new(None)),
        })
    }

    /// The instance that holds this index (and its `-rebuild` twin).
    fn client(&self, uid: &str) -> &Client {
        let tenant = uid.split('-').next().unwrap_or(uid);
        &self.clients[shard(tenant, self.clients.len())]
    }

    fn remember_facets(&self, uid: &str, codes: Vec<String>) -> Arc<Vec<String>> {
        let codes = Arc::new(codes);
        let mut map = self.facet_attrs.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(uid.to_owned(), (Instant::now(), codes.clone()));
        codes
    }

    fn cached_facets(&self, uid: &str) -> Option<Arc<Vec<String>>> {
        let map = self.facet_attrs.lock().unwrap_or_else(|e| e.into_inner());
        map.get(uid).filter(|(at, _)| at.elapsed() < FACETS_TTL).map(|(_, codes)| codes.clone())
    }

    fn forget_facets(&self, uid: &str) {
        self.facet_attrs.lock().unwrap_or_else(|e| e.into_inner()).remove(uid);
    }

    /// Waits until a task is processed; a failed task is an error with Meilisearch's reason.
    async fn wait(&self, uid: &str, task: &TaskInfo) -> Result<(), Fail> {
        let waited = timed(TASK_TIMEOUT + Duration::from_secs(1), async {
            self.client(uid).wait_for_task(task, Some(TASK_POLL), Some(TASK_TIMEOUT)).await
        })
        .await?;
        match waited {
            Task::Failed { content } => Err(Fail::Task(content.error)),
            _ => Ok(()),
        }
    }

    async fn wait_all(&self, uid: &str, tasks: &[TaskInfo]) -> Result<(), Fail> {
        for t in tasks {
            self.wait(uid, t).await?;
        }
        Ok(())
    }

    /// Brings the index settings to `want` (creating the index if needed) unless they are
    /// already so; waits until applied.
    async fn ensure_settings(&self, uid: &str, want: &Wanted) -> Result<(), Fail> {
        let index = self.client(uid).index(uid);
        let have = match timed(REQUEST_TIMEOUT, index.get_settings()).await {
            Ok(s) => Some(s),
            Err(e) if e.code() == Some(&ErrorCode::IndexNotFound) => None,
            Err(e) => return Err(e),
        };
        if have.as_ref().is_some_and(|h| want.matches(h)) {
            return Ok(());
        }
        let task = timed(REQUEST_TIMEOUT, index.set_settings(&want.settings())).await?;
        self.wait(uid, &task).await
    }

    /// Loads the settings a tenant's index should have and applies them (the self-repair
    /// after a search met an attribute the index does not know yet).
    async fn refresh_settings(&self, scope: &Scope) -> AppResult<()> {
        let want = with_tenant(&self.pool, &scope.schema, wanted).await?;
        let uid = scope.index_uid();
        self.ensure_settings(&uid, &want).await.map_err(|e| e.unavailable("settings", &uid))?;
        self.remember_facets(&uid, want.facet_codes);
        Ok(())
    }

    /// Runs the planned queries as one multi-search request.
    async fn run(&self, uid: &str, text: &str, plans: &[Plan]) -> Result<Vec<SearchResults<Hit>>, Fail> {
        let index = self.client(uid).index(uid);
        let sorts: Vec<Vec<&str>> = plans.iter().map(|p| p.sort.iter().map(String::as_str).collect()).collect();
        let facets: Vec<Vec<&str>> = plans.iter().map(|p| p.facets.iter().map(String::as_str).collect()).collect();
        let mut multi = self.client(uid).multi_search();
        for (i, plan) in plans.iter().enumerate() {
            let mut sq = SearchQuery::new(&index);
            sq.with_filter(&plan.filter)
                .with_attributes_to_retrieve(Selectors::Some(&["id"]))
                .with_matching_strategy(MatchingStrategies::ALL);
            if plan.with_text && !text.is_empty() {
                sq.with_query(text);
            }
            match plan.window {
                Window::Page { page, per_page } => sq.with_page(page).with_hits_per_page(per_page),
                Window::Slice { offset, limit } => sq.with_offset(offset).with_limit(limit),
            };
            if !sorts[i].is_empty() {
                sq.with_sort(&sorts[i]);
            }
            if !facets[i].is_empty() {
                sq.with_facets(Selectors::Some(&facets[i]));
            }
            multi.with_search_query(sq.build());
        }
        let response = timed(SEARCH_TIMEOUT, multi.execute::<Hit>()).await?;
        if response.results.len() != plans.len() {
            return Err(Fail::Other(format!("{} results for {} queries", response.results.len(), plans.len())));
        }
        Ok(response.results)
    }

    /// The search itself once the exact match and the facetable attributes are known.
    async fn search_with(
        &self,
        uid: &str,
        q: &Query,
        exact: Option<i64>,
        attrs: &[String],
    ) -> Result<Results, Searched> {
        let text = q.q.trim();
        let main = build_filter(q, Skip::None).map_err(Searched::Invalid)?;
        let sort = sort_of(q.sort, text.is_empty());
        let per_page = usize::try_from(q.per_page.clamp(1, 1000)).unwrap_or(20);
        let page = usize::try_from(q.page.max(1)).unwrap_or(1);
        let category_filtered = q.category.is_some() || !q.category_ids.is_empty();
        let brand_filtered = !q.brands.is_empty();
        // Facets of the main query; category and brand get their own query (without their
        // own filter) only when that filter is on, otherwise the counts are the same.
        let mut facets: Vec<String> = Vec::new();
        if q.with_facets {
            facets.extend(["availability", "status", "price"].map(String::from));
            if !category_filtered {
                facets.push("category".into());
            }
            if !brand_filtered {
                facets.push("brand".into());
            }
            facets.extend(attrs.iter().filter(|c| valid_attr_code(c)).map(|c| format!("attr_{c}")));
        }
        let mut plans = Vec::new();
        // Where each answer is in `plans`.
        let (hits_at, total_at, facets_at, pass_at);
        match exact {
            None => {
                plans.push(Plan::new(main.clone(), Window::Page { page, per_page }, sort.clone(), facets));
                (hits_at, total_at, facets_at, pass_at) = (0, 0, 0, None);
            }
            Some(id) => {
                // The list is [exact] + (matches without it): take one more hit before and
                // after the window, and decide once we know whether it passes the filters.
                let offset = (page - 1).saturating_mul(per_page);
                let others = format!("({main}) AND id != {id}");
                plans.push(Plan::new(
                    others.clone(),
                    Window::Slice { offset: offset.saturating_sub(1), limit: per_page + 1 },
                    sort.clone(),
                    vec![],
                ));
                plans.push(Plan::new(others, Window::Page { page: 1, per_page: 0 }, vec![], vec![]));
                let mut passes =
                    Plan::new(format!("({main}) AND id = {id}"), Window::Page { page: 1, per_page: 0 }, vec![], vec![]);
                passes.with_text = false;
                plans.push(passes);
                plans.push(Plan::new(main.clone(), Window::Page { page: 1, per_page: 0 }, vec![], facets));
                (hits_at, total_at, facets_at, pass_at) = (0, 1, 3, Some(2));
            }
        }
        let category_at = (q.with_facets && category_filtered).then(|| {
            plans.push(Plan::counting(build_filter(q, Skip::Category), "category"));
            plans.len() - 1
        });
        let brand_at = (q.with_facets && brand_filtered).then(|| {
            plans.push(Plan::counting(build_filter(q, Skip::Brand), "brand"));
            plans.len() - 1
        });
        // The skip filters are built from the same query: they cannot fail where main did not.
        if plans.iter().any(|p| p.filter.is_empty()) {
            return Err(Searched::Fail(Fail::Other("empty filter".into())));
        }
        let answers = self.run(uid, text, &plans).await.map_err(Searched::Fail)?;

        let mut ids: Vec<i64> = answers[hits_at].hits.iter().map(|h| h.result.id).collect();
        let mut total = total_hits(&answers[total_at]);
        if let (Some(id), Some(at)) = (exact, pass_at) {
            let passes = total_hits(&answers[at]) > 0;
            ids = place_exact(ids, id, passes, (page - 1).saturating_mul(per_page), per_page);
            if passes {
                total += 1;
            }
        }

        let mut out = Facets::default();
        if q.with_facets {
            let main = &answers[facets_at];
            let dist = |r: &SearchResults<Hit>, name: &str| -> HashMap<String, usize> {
                r.facet_distribution.as_ref().and_then(|d| d.get(name)).cloned().unwrap_or_default()
            };
            out.category = values(dist(category_at.map_or(main, |i| &answers[i]), "category"), MAX_FACET_VALUES);
            out.brand = values(dist(brand_at.map_or(main, |i| &answers[i]), "brand"), MAX_FACET_VALUES);
            let availability = dist(main, "availability");
            let status = dist(main, "status");
            // Like pg.rs: in stock = stock > 0; upcoming = status; out = no stock and active.
            let count = |m: &HashMap<String, usize>, k: &str| m.get(k).copied().unwrap_or(0) as i64;
            out.availability = [
                ("in_stock", count(&availability, "in_stock")),
                ("upcoming", count(&status, "upcoming")),
                ("out_of_stock", count(&availability, "out_of_stock")),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(v, n)| FacetValue { value: v.into(), count: n })
            .collect();
            for code in attrs.iter().filter(|c| valid_attr_code(c)) {
                let list = values(dist(main, &format!("attr_{code}")), MAX_ATTR_VALUES);
                if !list.is_empty() {
                    out.attributes.insert(code.clone(), list);
                }
            }
            if let Some(stats) = main.facet_stats.as_ref().and_then(|s| s.get("price")) {
                if let (Some(lo), Some(hi)) = (Decimal::from_f64_retain(stats.min), Decimal::from_f64_retain(stats.max))
                {
                    out.price = Some((crate::money::format(lo.round_dp(2)), crate::money::format(hi.round_dp(2))));
                }
            }
        }
        Ok(Results { ids, total, capped: false, facets: out, fallback: false })
    }

    /// Adds or replaces the documents of `ids` and deletes those that are gone or archived.
    async fn push(&self, scope: &Scope, ids: Vec<i64>) -> AppResult<()> {
        let uid = scope.index_uid();
        let (want, docs, gone) = with_tenant(&self.pool, &scope.schema, move |c| {
            let want = wanted(c)?;
            let cats = categories::all(c)?;
            let mut docs = Vec::new();
            let mut seen = BTreeSet::new();
            for chunk in ids.chunks(BATCH) {
                let list = catalog_products::by_ids(c, chunk)?;
                seen.extend(list.iter().map(|p| p.id));
                docs.extend(documents(c, &list, &cats)?);
            }
            let kept: BTreeSet<i64> = docs.iter().filter_map(|d| d.get("id").and_then(Value::as_i64)).collect();
            let gone: Vec<i64> = ids.iter().copied().filter(|id| !kept.contains(id)).collect();
            Ok((want, docs, gone))
        })
        .await?;
        let fail = |e: Fail| e.unavailable("index", &uid);
        self.ensure_settings(&uid, &want).await.map_err(fail)?;
        let index = self.client(&uid).index(&uid);
        let mut tasks = Vec::new();
        for chunk in docs.chunks(BATCH) {
            tasks.push(timed(REQUEST_TIMEOUT, index.add_or_replace(chunk, Some("id"))).await.map_err(fail)?);
        }
        for chunk in gone.chunks(BATCH) {
            tasks.push(timed(REQUEST_TIMEOUT, index.delete_documents(chunk)).await.map_err(fail)?);
        }
        self.wait_all(&uid, &tasks).await.map_err(fail)?;
        self.remember_facets(&uid, want.facet_codes);
        Ok(())
    }

    /// Builds a fresh index next to the live one and swaps them, so searches keep answering
    /// from the old documents until the new ones are complete.
    async fn rebuild(&self, scope: &Scope) -> AppResult<u64> {
        let uid = scope.index_uid();
        // A `-` never occurs in a tenant's index uid (schema names have none), so this name
        // can never be another tenant's index.
        let next = format!("{uid}-rebuild");
        let fail = |e: Fail| e.unavailable("reindex", &uid);
        // Leftovers of an interrupted rebuild.
        self.delete_index(&next).await.map_err(fail)?;
        let task = timed(REQUEST_TIMEOUT, self.client(&next).create_index(&next, Some("id"))).await.map_err(fail)?;
        self.wait(&next, &task).await.map_err(fail)?;
        let (want, cats) = with_tenant(&self.pool, &scope.schema, |c| Ok((wanted(c)?, categories::all(c)?))).await?;
        self.ensure_settings(&next, &want).await.map_err(fail)?;
        let index = self.client(&next).index(&next);
        let mut tasks = Vec::new();
        let mut count = 0u64;
        let mut after = 0i64;
        loop {
            let cats = cats.clone();
            let (docs, last) = with_tenant(&self.pool, &scope.schema, move |c| {
                let list: Vec<Product> = products::table
                    .filter(products::id.gt(after))
                    .filter(products::status.ne("archived"))
                    .order(products::id)
                    .limit(BATCH as i64)
                    .select(Product::as_select())
                    .load(c)?;
                let last = list.last().map(|p| p.id);
                Ok((documents(c, &list, &cats)?, last))
            })
            .await?;
            let Some(last) = last else { break };
            after = last;
            count += docs.len() as u64;
            tasks.push(timed(REQUEST_TIMEOUT, index.add_or_replace(&docs, Some("id"))).await.map_err(fail)?);
        }
        // Each task gets its own timeout: a big catalog takes as long as it takes while
        // Meilisearch keeps making progress.
        self.wait_all(&next, &tasks).await.map_err(fail)?;
        // The live index must exist to be swapped (an existing one makes this task fail,
        // which is fine).
        let task = timed(REQUEST_TIMEOUT, self.client(&uid).create_index(&uid, Some("id"))).await.map_err(fail)?;
        match self.wait(&uid, &task).await {
            Ok(()) => {}
            Err(e) if e.code() == Some(&ErrorCode::IndexAlreadyExists) => {}
            Err(e) => return Err(fail(e)),
        }
        let swap = SwapIndexes { indexes: (uid.clone(), next.clone()), rename: None };
        let task = timed(REQUEST_TIMEOUT, self.client(&uid).swap_indexes([&swap])).await.map_err(fail)?;
        self.wait(&uid, &task).await.map_err(fail)?;
        // `next` now holds the old documents.
        self.delete_index(&next).await.map_err(fail)?;
        self.remember_facets(&uid, want.facet_codes);
        tracing::info!(index = %uid, documents = count, "search index rebuilt");
        Ok(count)
    }

    async fn delete_index(&self, uid: &str) -> Result<(), Fail> {
        let task = timed(REQUEST_TIMEOUT, self.client(uid).index(uid).delete()).await?;
        match self.wait(uid, &task).await {
            Err(e) if e.code() == Some(&ErrorCode::IndexNotFound) => Ok(()),
            other => other,
        }
    }
}

/// The instance (of `n`) that holds a tenant's index: jump consistent hash (Lamping & Veach)
/// of the first 8 bytes of SHA-256 of the tenant's index name. Stable across releases and
/// machines, and growing the list from n to n + 1 instances moves only about 1/(n + 1) of the
/// tenants (those then need `tradeport search reindex`).
pub fn shard(tenant_uid: &str, n: usize) -> usize {
    use sha2::Digest;
    if n <= 1 {
        return 0;
    }
    let digest = sha2::Sha256::digest(tenant_uid.as_bytes());
    let mut key =
        u64::from_be_bytes([digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]]);
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < n as i64 {
        b = j;
        key = key.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as usize
}

impl MeiliEngine {
    fn recently_down(&self) -> bool {
        let down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        down.is_some_and(|until| Instant::now() < until)
    }

    fn mark(&self, up: bool) {
        let mut down = self.down_until.lock().unwrap_or_else(|e| e.into_inner());
        *down = if up { None } else { Some(Instant::now() + RETRY_AFTER_DOWN) };
    }

    async fn search_meili(&self, scope: &Scope, q: &Query) -> AppResult<Results> {
        let uid = scope.index_uid();
        let text = q.q.trim().to_owned();
        // Only something shaped like a SKU (which covers barcodes) can match one exactly; and
        // like pg.rs, the exact match leads only the relevance order (a sort is a sort).
        let lookup = q.sort == Sort::Relevance && !text.is_empty() && catalog_products::valid_sku(&text);
        let cached = if q.with_facets { self.cached_facets(&uid) } else { Some(Arc::new(Vec::new())) };
        let (exact, attrs) = if lookup || cached.is_none() {
            let need_attrs = cached.is_none();
            let (exact, loaded) = with_tenant(&self.pool, &scope.schema, move |c| {
                let exact = if lookup { exact_match(c, &text)? } else { None };
                let attrs = if need_attrs { Some(facet_codes(c)?) } else { None };
                Ok((exact, attrs))
            })
            .await?;
            let attrs = match (cached, loaded) {
                (Some(a), _) => a,
                (None, Some(l)) => self.remember_facets(&uid, l),
                (None, None) => Arc::new(Vec::new()),
            };
            (exact, attrs)
        } else {
            (None, cached.unwrap_or_default())
        };
        let mut repaired = false;
        loop {
            match self.search_with(&uid, q, exact, &attrs).await {
                Ok(r) => return Ok(r),
                Err(Searched::Invalid(e)) => return Err(e),
                // Nothing indexed for this tenant yet: nothing found.
                Err(Searched::Fail(f)) if f.code() == Some(&ErrorCode::IndexNotFound) => {
                    return Ok(Results::default());
                }
                // An attribute (or setting) the index does not know yet: repair once.
                Err(Searched::Fail(f))
                    if !repaired
                        && matches!(
                            f.code(),
                            Some(
                                ErrorCode::InvalidSearchFilter
                                    | ErrorCode::InvalidSearchFacets
                                    | ErrorCode::InvalidSearchSort
                            )
                        ) =>
                {
                    tracing::warn!(index = %uid, error = %f, "search refused by Meilisearch; refreshing index settings");
                    repaired = true;
                    self.forget_facets(&uid);
                    self.refresh_settings(scope).await?;
                }
                Err(Searched::Fail(f)) => return Err(f.unavailable("search", &uid)),
            }
        }
    }
}

impl SearchEngine for MeiliEngine {
    /// Meilisearch, or, while it is unavailable, the PostgreSQL engine (marked `fallback`).
    async fn search(&self, scope: &Scope, q: &Query) -> AppResult<Results> {
        if !self.recently_down() {
            match self.search_meili(scope, q).await {
                Err(AppError::Unavailable(_)) => {
                    tracing::warn!(tenant = scope.tenant_id, "Meilisearch unavailable; searching with PostgreSQL");
                    self.mark(false);
                }
                other => {
                    if other.is_ok() {
                        self.mark(true);
                    }
                    return other;
                }
            }
        }
        let mut results = self.fallback.search(scope, q).await?;
        results.fallback = true;
        Ok(results)
    }

    /// With no ids, only brings the index settings up to date (attributes, synonyms).
    async fn index(&self, scope: &Scope, ids: &[i64]) -> AppResult<()> {
        if ids.is_empty() {
            return self.refresh_settings(scope).await;
        }
        self.push(scope, ids.to_vec()).await
    }

    async fn reindex(&self, scope: &Scope) -> AppResult<u64> {
        self.rebuild(scope).await
    }

    fn name(&self) -> &'static str {
        "meilisearch"
    }
}

/// What went wrong talking to Meilisearch.
#[derive(Debug)]
enum Fail {
    Timeout,
    Sdk(SdkError),
    /// A task that Meilisearch processed and refused.
    Task(MeilisearchError),
    Other(String),
}

impl Fail {
    fn code(&self) -> Option<&ErrorCode> {
        match self {
            Fail::Sdk(SdkError::Meilisearch(e)) | Fail::Task(e) => Some(&e.error_code),
            _ => None,
        }
    }

    /// Logs the cause and gives the 503 the user sees.
    fn unavailable(self, op: &str, index: &str) -> AppError {
        tracing::error!(op, index, error = %self, "Meilisearch failed");
        AppError::Unavailable(UNAVAILABLE.into())
    }
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fail::Timeout => f.write_str("timed out"),
            Fail::Sdk(e) => write!(f, "{e}"),
            Fail::Task(e) => write!(f, "task failed: {e}"),
            Fail::Other(s) => f.write_str(s),
        }
    }
}

/// A search that failed: our refusal (a 422) or Meilisearch's.
enum Searched {
    Invalid(AppError),
    Fail(Fail),
}

/// Runs a request with a deadline (the HTTP client itself has none).
async fn timed<T>(limit: Duration, fut: impl Future<Output = Result<T, SdkError>>) -> Result<T, Fail> {
    match actix_web::rt::time::timeout(limit, fut).await {
        Err(_) => Err(Fail::Timeout),
        Ok(Err(SdkError::Timeout)) => Err(Fail::Timeout),
        Ok(Err(e)) => Err(Fail::Sdk(e)),
        Ok(Ok(v)) => Ok(v),
    }
}

#[derive(Debug, Deserialize)]
struct Hit {
    id: i64,
}

/// The page `offset..offset + per_page` of `[exact] + others` (or of `others` alone when the
/// exact match does not pass the filters), from `fetched` = `others[offset - 1 ..]` (from 0 on
/// the first page), which holds one hit more than a page.
fn place_exact(fetched: Vec<i64>, exact: i64, passes: bool, offset: usize, per_page: usize) -> Vec<i64> {
    match (passes, offset) {
        (true, 0) => std::iter::once(exact).chain(fetched.into_iter().take(per_page.saturating_sub(1))).collect(),
        (true, _) | (false, 0) => fetched.into_iter().take(per_page).collect(),
        (false, _) => fetched.into_iter().skip(1).take(per_page).collect(),
    }
}

fn total_hits(r: &SearchResults<Hit>) -> i64 {
    r.total_hits.or(r.estimated_total_hits).unwrap_or(r.hits.len()) as i64
}

/// Facet values by count (highest first), then value, like the PostgreSQL engine.
fn values(dist: HashMap<String, usize>, limit: usize) -> Vec<FacetValue> {
    let mut list: Vec<FacetValue> = dist
        .into_iter()
        .filter(|(v, n)| !v.is_empty() && *n > 0)
        .map(|(value, n)| FacetValue { value, count: n as i64 })
        .collect();
    list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    list.truncate(limit);
    list
}

#[derive(Clone, Copy)]
enum Window {
    Page { page: usize, per_page: usize },
    Slice { offset: usize, limit: usize },
}

/// One query of a multi-search.
struct Plan {
    filter: String,
    with_text: bool,
    window: Window,
    sort: Vec<String>,
    facets: Vec<String>,
}

impl Plan {
    fn new(filter: String, window: Window, sort: Vec<String>, facets: Vec<String>) -> Plan {
        Plan { filter, with_text: true, window, sort, facets }
    }

    /// Only the counts of one facet.
    fn counting(filter: Result<String, AppError>, facet: &str) -> Plan {
        Plan::new(filter.unwrap_or_default(), Window::Page { page: 1, per_page: 0 }, vec![], vec![facet.to_owned()])
    }
}

fn sort_of(sort: Sort, no_text: bool) -> Vec<String> {
    let list: &[&str] = match sort {
        Sort::Relevance if no_text => &["name:asc", "id:asc"],
        Sort::Relevance => &[],
        Sort::PriceAsc => &["price:asc", "id:asc"],
        Sort::PriceDesc => &["price:desc", "id:asc"],
        Sort::Name => &["name:asc", "id:asc"],
        Sort::Newest => &["created_at:desc", "id:desc"],
    };
    list.iter().map(|s| s.to_string()).collect()
}

/// A user string as a Meilisearch filter literal: double-quoted, `\` and `"` escaped. The
/// only way user text enters a filter.
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// An attribute code that may name a field: `^[a-z][a-z0-9_]{0,39}$`.
pub fn valid_attr_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && code.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[derive(Clone, Copy, PartialEq)]
enum Skip {
    None,
    Category,
    Brand,
}

/// The filter of a query (without the search text), as pg.rs's WHERE clause.
fn build_filter(q: &Query, skip: Skip) -> AppResult<String> {
    let mut conds = vec![format!("status != {}", literal("archived"))];
    if skip != Skip::Category && (q.category.is_some() || !q.category_ids.is_empty()) {
        // Numbers we resolved, not text; an unknown category matches nothing (`IN []`).
        let ids: Vec<String> = q.category_ids.iter().map(i64::to_string).collect();
        conds.push(format!("category_ids IN [{}]", ids.join(", ")));
    }
    if skip != Skip::Brand && !q.brands.is_empty() {
        let list: Vec<String> = q.brands.iter().map(|b| literal(b)).collect();
        conds.push(format!("brand IN [{}]", list.join(", ")));
    }
    let mut codes: Vec<&str> = Vec::new();
    for (code, _) in &q.attrs {
        if !codes.contains(&code.as_str()) {
            codes.push(code);
        }
    }
    for code in codes {
        if !valid_attr_code(code) {
            return Err(AppError::field(code, "unknown filter"));
        }
        let mut alts: Vec<String> = Vec::new();
        for (_, v) in q.attrs.iter().filter(|(c, _)| c == code) {
            alts.push(literal(v));
            // Booleans are indexed as "true"/"false"; accept what pg.rs accepts.
            match v.as_str() {
                "true" | "да" | "yes" => alts.push(literal("true")),
                "false" | "нет" | "no" => alts.push(literal("false")),
                _ => {}
            }
        }
        alts.dedup();
        conds.push(format!("attr_{code} IN [{}]", alts.join(", ")));
    }
    match q.availability.as_deref() {
        Some("in_stock") => conds.push(format!("availability = {}", literal("in_stock"))),
        Some("upcoming") => conds.push(format!("status = {}", literal("upcoming"))),
        Some("out_of_stock") => conds.push(format!("availability = {}", literal("out_of_stock"))),
        _ => {}
    }
    // Decimals print as plain numbers (`1250.00`), never as user text.
    if let Some(min) = q.price_min {
        conds.push(format!("price >= {}", min.normalize()));
    }
    if let Some(max) = q.price_max {
        conds.push(format!("price <= {}", max.normalize()));
    }
    Ok(conds.join(" AND "))
}

/// The settings a tenant's index should have.
#[derive(Debug, Clone)]
struct Wanted {
    /// `attr_<code>` of every attribute.
    attr_fields: Vec<String>,
    /// Codes of the filterable attributes (facets).
    facet_codes: Vec<String>,
    synonyms: BTreeMap<String, Vec<String>>,
}

impl Wanted {
    fn filterable(&self) -> Vec<String> {
        FILTERABLE.iter().map(|s| s.to_string()).chain(self.attr_fields.iter().cloned()).collect()
    }

    fn settings(&self) -> Settings {
        Settings::new()
            .with_searchable_attributes(SEARCHABLE)
            .with_filterable_attributes(self.filterable())
            .with_sortable_attributes(SORTABLE)
            .with_ranking_rules(RANKING)
            .with_synonyms(self.synonyms.clone().into_iter().collect::<HashMap<_, _>>())
            .with_typo_tolerance(TypoToleranceSettings {
                enabled: Some(true),
                disable_on_attributes: Some(NO_TYPOS_ON.iter().map(|s| s.to_string()).collect()),
                disable_on_words: Some(vec![]),
                min_word_size_for_typos: None,
                disable_on_numbers: None,
            })
            .with_faceting(FacetingSettings {
                max_values_per_facet: MAX_FACET_VALUES,
                sort_facet_values_by: Some(BTreeMap::from([("*".to_string(), FacetSortValue::Count)])),
            })
            .with_pagination(PaginationSetting { max_total_hits: MAX_TOTAL_HITS })
    }

    /// Whether the index already has these settings (lists compared as sets where
    /// Meilisearch does not keep the order).
    fn matches(&self, have: &Settings) -> bool {
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
        let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        let filterable: Option<BTreeSet<String>> = have.filterable_attributes.as_ref().map(|list| {
            list.iter()
                .map(|f| match f {
                    meilisearch_sdk::settings::FilterableAttribute::Attribute(s) => s.clone(),
                    // A pattern we never write: forces a rewrite.
                    meilisearch_sdk::settings::FilterableAttribute::Settings(_) => String::new(),
                })
                .collect()
        });
        let synonyms: Option<BTreeMap<String, BTreeSet<String>>> =
            have.synonyms.as_ref().map(|m| m.iter().map(|(k, v)| (k.clone(), v.iter().cloned().collect())).collect());
        let want_synonyms: BTreeMap<String, BTreeSet<String>> =
            self.synonyms.iter().map(|(k, v)| (k.clone(), v.iter().cloned().collect())).collect();
        have.searchable_attributes.as_deref() == Some(&strs(SEARCHABLE)[..])
            && filterable == Some(set(&self.filterable()))
            && have.sortable_attributes.as_deref().map(set) == Some(set(&strs(SORTABLE)))
            && have.ranking_rules.as_deref() == Some(&strs(RANKING)[..])
            && synonyms == Some(want_synonyms)
            && have.typo_tolerance.as_ref().is_some_and(|t| {
                t.enabled != Some(false) && t.disable_on_attributes.as_deref().map(set) == Some(set(&strs(NO_TYPOS_ON)))
            })
            && have.faceting.as_ref().is_some_and(|f| {
                f.max_values_per_facet == MAX_FACET_VALUES
                    && f.sort_facet_values_by.as_ref().and_then(|m| m.get("*")) == Some(&FacetSortValue::Count)
            })
            && have.pagination.is_some_and(|p| p.max_total_hits == MAX_TOTAL_HITS)
    }
}

/// Loads what the index settings depend on: the attributes and the synonyms setting.
fn wanted(c: &mut PgConnection) -> AppResult<Wanted> {
    let attrs: Vec<(String, bool)> =
        attributes::table.select((attributes::code, attributes::filterable)).order(attributes::code).load(c)?;
    let attrs: Vec<(String, bool)> = attrs.into_iter().filter(|(code, _)| valid_attr_code(code)).collect();
    let raw: Option<Value> =
        settings::table.filter(settings::key.eq(SYNONYMS_SETTING)).select(settings::value).first(c).optional()?;
    Ok(Wanted {
        attr_fields: attrs.iter().map(|(code, _)| format!("attr_{code}")).collect(),
        facet_codes: attrs.iter().filter(|(_, f)| *f).map(|(code, _)| code.clone()).collect(),
        synonyms: raw.as_ref().map(parse_synonyms).unwrap_or_default(),
    })
}

/// Codes of the attributes that are facets (filterable), in the catalog's order.
fn facet_codes(c: &mut PgConnection) -> AppResult<Vec<String>> {
    Ok(attributes::table
        .filter(attributes::filterable.eq(true))
        .select(attributes::code)
        .order((attributes::position, attributes::code))
        .load::<String>(c)?
        .into_iter()
        .filter(|code| valid_attr_code(code))
        .collect())
}

/// `{"word": ["synonym", …]}` (a single string is one synonym); anything else is ignored.
/// Lowercased and trimmed, as Meilisearch compares them.
fn parse_synonyms(v: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let Some(obj) = v.as_object() else { return out };
    for (word, list) in obj.iter().take(10_000) {
        let word = word.trim().to_lowercase();
        if word.is_empty() || word.chars().count() > 100 {
            continue;
        }
        let items: Vec<&Value> = match list {
            Value::Array(a) => a.iter().collect(),
            one @ Value::String(_) => vec![one],
            _ => continue,
        };
        let mut syn: Vec<String> = items
            .into_iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty() && s.chars().count() <= 100 && *s != word)
            .take(100)
            .collect();
        syn.sort();
        syn.dedup();
        if !syn.is_empty() {
            out.insert(word, syn);
        }
    }
    out
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The product whose SKU (any case) or barcode is exactly `text`, if not archived.
fn exact_match(c: &mut PgConnection, text: &str) -> AppResult<Option<i64>> {
    // The barcode first, then one indexable OR (a subquery inside the OR would scan every product).
    let by_barcode: Vec<i64> = product_barcodes::table
        .filter(product_barcodes::barcode.eq(text))
        .select(product_barcodes::product_id)
        .load(c)?;
    Ok(diesel::sql_query(
        "SELECT p.id FROM products p WHERE p.status <> 'archived' AND (lower(p.sku) = lower($1) OR p.id = ANY($2)) \
         ORDER BY (lower(p.sku) = lower($1)) DESC, p.id LIMIT 1",
    )
    .bind::<Text, _>(text)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Int8>, _>(&by_barcode)
    .get_result::<IdRow>(c)
    .optional()?
    .map(|r| r.id))
}

/// Search documents for products (archived ones are left out: they are deleted).
fn documents(c: &mut PgConnection, list: &[Product], cats: &[Category]) -> AppResult<Vec<Value>> {
    let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
    let mut codes: HashMap<i64, Vec<String>> = HashMap::new();
    for (pid, code) in product_barcodes::table
        .filter(product_barcodes::product_id.eq_any(&ids))
        .select((product_barcodes::product_id, product_barcodes::barcode))
        .order(product_barcodes::barcode)
        .load::<(i64, String)>(c)?
    {
        codes.entry(pid).or_default().push(code);
    }
    Ok(list
        .iter()
        .filter(|p| p.status != "archived")
        .map(|p| document(p, cats, codes.remove(&p.id).unwrap_or_default()))
        .collect())
}

fn document(p: &Product, cats: &[Category], barcodes: Vec<String>) -> Value {
    let mut d = Map::new();
    d.insert("id".into(), p.id.into());
    d.insert("sku".into(), p.sku.clone().into());
    d.insert("name".into(), p.name.clone().into());
    let name_en = p.i18n.pointer("/en/name").and_then(Value::as_str).unwrap_or("");
    d.insert("name_en".into(), name_en.into());
    d.insert("brand".into(), p.brand.clone().into());
    d.insert("description".into(), strip_html(&p.description).into());
    let path = p.category_id.map(|id| categories::path(cats, id)).unwrap_or_default();
    let code = path.last().map(|c| c.code.clone()).unwrap_or_default();
    d.insert("category".into(), code.into());
    d.insert("category_ids".into(), path.iter().map(|c| Value::from(c.id)).collect::<Vec<_>>().into());
    if let Some(attrs) = p.attributes.as_object() {
        for (code, v) in attrs {
            if !valid_attr_code(code) {
                continue;
            }
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Null => continue,
                other => other.to_string(),
            };
            d.insert(format!("attr_{code}"), text.into());
        }
    }
    d.insert("barcodes".into(), barcodes.into());
    d.insert("price".into(), p.price.to_f64().unwrap_or_default().into());
    d.insert("status".into(), p.status.clone().into());
    let availability = if p.stock_available > Decimal::ZERO {
        "in_stock"
    } else if p.status == "upcoming" {
        "upcoming"
    } else {
        "out_of_stock"
    };
    d.insert("availability".into(), availability.into());
    d.insert("created_at".into(), p.created_at.timestamp().into());
    Value::Object(d)
}

/// Text of sanitised HTML: tags become spaces, the common entities are decoded, runs of
/// whitespace collapse.
pub fn strip_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                text.push(' ');
            }
            (true, '>') => in_tag = false,
            (true, _) => {}
            (false, c) => text.push(c),
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter with every quoted literal emptied, reading it as Meilisearch does (a `\`
    /// takes the next character along): what is left is all that is not a literal.
    fn skeleton(filter: &str) -> String {
        let mut out = String::new();
        let mut chars = filter.chars();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (false, '"') => {
                    quoted = true;
                    out.push('"');
                }
                (true, '\\') => {
                    chars.next();
                }
                (true, '"') => {
                    quoted = false;
                    out.push('"');
                }
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        assert!(!quoted, "unterminated literal in {filter}");
        out
    }

    /// Reads a literal back the way Meilisearch's parser does.
    fn unquote(lit: &str) -> String {
        let inner = &lit[1..lit.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn injection_payloads_stay_string_literals() {
        let payloads = [
            r#"x" OR status = archived OR sku = ""#,
            r#"\" OR 1=1"#,
            r#"\\" OR status = "archived"#,
            r#"") OR (status = "archived"#,
            "Rehau\"] OR brand IN [\"",
            "\\",
            "\"",
            "ok'; DROP",
        ];
        for p in payloads {
            assert_eq!(unquote(&literal(p)), p, "round trip of {p}");
            let q = Query {
                brands: vec![p.to_owned(), "Rehau".into()],
                attrs: vec![("color".into(), p.to_owned()), ("color".into(), "white".into())],
                ..Query::default()
            };
            let f = build_filter(&q, Skip::None).expect("filter");
            assert_eq!(
                skeleton(&f),
                r#"status != "" AND brand IN ["", ""] AND attr_color IN ["", ""]"#,
                "payload {p} escaped the literal: {f}"
            );
        }
        let q = Query { brands: vec![r#"x" OR status = archived OR sku = ""#.into()], ..Query::default() };
        assert_eq!(
            build_filter(&q, Skip::None).expect("filter"),
            r#"status != "archived" AND brand IN ["x\" OR status = archived OR sku = \""]"#
        );
        let q = Query { brands: vec![r#"\" OR 1=1"#.into()], ..Query::default() };
        assert_eq!(
            build_filter(&q, Skip::None).expect("filter"),
            r#"status != "archived" AND brand IN ["\\\" OR 1=1"]"#
        );
    }

    #[test]
    fn attribute_codes_must_look_like_codes() {
        for bad in ["", "Color", "1a", "a-b", "a b", "a=1 OR status", "a\"", &"a".repeat(41), "цвет"] {
            assert!(!valid_attr_code(bad), "{bad}");
            let q = Query { attrs: vec![(bad.to_owned(), "x".into())], ..Query::default() };
            assert!(build_filter(&q, Skip::None).is_err(), "{bad} reached a filter");
        }
        for good in ["a", "color", "width_mm", &"a".repeat(40)] {
            assert!(valid_attr_code(good), "{good}");
        }
    }

    #[test]
    fn filters_follow_the_postgres_engine() {
        let q = Query {
            category: Some("profiles".into()),
            category_ids: vec![3, 7],
            brands: vec!["Rehau".into(), "KBE".into()],
            attrs: vec![
                ("color".into(), "white".into()),
                ("glass".into(), "да".into()),
                ("color".into(), "grey".into()),
            ],
            availability: Some("out_of_stock".into()),
            price_min: Some(Decimal::new(10000, 2)),
            price_max: Some(Decimal::new(2500, 0)),
            ..Query::default()
        };
        assert_eq!(
            build_filter(&q, Skip::None).expect("filter"),
            "status != \"archived\" AND category_ids IN [3, 7] AND brand IN [\"Rehau\", \"KBE\"] \
             AND attr_color IN [\"white\", \"grey\"] AND attr_glass IN [\"да\", \"true\"] \
             AND availability = \"out_of_stock\" AND price >= 100 AND price <= 2500"
        );
        let f = build_filter(&q, Skip::Category).expect("filter");
        assert!(!f.contains("category_ids") && f.contains("brand IN"));
        let f = build_filter(&q, Skip::Brand).expect("filter");
        assert!(f.contains("category_ids") && !f.contains("brand IN"));
        // An unknown category matches nothing.
        let q = Query { category: Some("nope".into()), ..Query::default() };
        assert_eq!(build_filter(&q, Skip::None).expect("filter"), "status != \"archived\" AND category_ids IN []");
        let q = Query { availability: Some("upcoming".into()), ..Query::default() };
        assert!(build_filter(&q, Skip::None).expect("filter").ends_with("status = \"upcoming\""));
    }

    #[test]
    fn sorts_map_to_meilisearch() {
        assert!(sort_of(Sort::Relevance, false).is_empty());
        assert_eq!(sort_of(Sort::Relevance, true), vec!["name:asc", "id:asc"]);
        assert_eq!(sort_of(Sort::PriceDesc, false)[0], "price:desc");
        assert_eq!(sort_of(Sort::Newest, false), vec!["created_at:desc", "id:desc"]);
    }

    #[test]
    fn documents_carry_the_documented_fields() {
        let cat = |id, parent, code: &str| Category {
            id,
            parent_id: parent,
            code: code.into(),
            name: code.into(),
            name_i18n: serde_json::json!({}),
            position: 0,
        };
        let cats = vec![cat(1, None, "windows"), cat(2, Some(1), "profiles")];
        let now = chrono::Utc::now();
        let p = Product {
            id: 42,
            sku: "RH-70".into(),
            name: "Профиль оконный Rehau 70 мм".into(),
            description: "<p>Белый <b>профиль</b> &amp; уплотнитель</p>".into(),
            brand: "Rehau".into(),
            category_id: Some(2),
            unit: "pcs".into(),
            pack_size: Decimal::ONE,
            min_qty: Decimal::ONE,
            order_multiple: Decimal::ONE,
            weight_kg: None,
            volume_m3: None,
            vat_rate: "20".into(),
            price: Decimal::new(125050, 2),
            status: "upcoming".into(),
            available_from: None,
            attributes: serde_json::json!({"color": "white", "glass": true, "Bad\"Code": "x"}),
            i18n: serde_json::json!({"en": {"name": "Window profile"}}),
            stock_available: Decimal::ZERO,
            created_at: now,
            updated_at: now,
        };
        let d = document(&p, &cats, vec!["4601234567890".into()]);
        assert_eq!(d["id"], 42);
        assert_eq!(d["name_en"], "Window profile");
        assert_eq!(d["description"], "Белый профиль & уплотнитель");
        assert_eq!(d["category"], "profiles");
        assert_eq!(d["category_ids"], serde_json::json!([1, 2]));
        assert_eq!(d["attr_color"], "white");
        assert_eq!(d["attr_glass"], "true");
        assert!(d.as_object().is_some_and(|o| o.keys().all(|k| !k.contains('"'))));
        assert_eq!(d["barcodes"], serde_json::json!(["4601234567890"]));
        assert_eq!(d["price"], 1250.5);
        assert_eq!(d["availability"], "upcoming");
        assert_eq!(d["created_at"], now.timestamp());
    }

    #[test]
    fn synonyms_are_read_leniently() {
        let s = parse_synonyms(&serde_json::json!({
            "ПВХ": ["пластик", " PVC ", "пвх"], "окно": "стеклопакет", "bad": 5, " ": ["x"], "empty": []
        }));
        assert_eq!(s.get("пвх"), Some(&vec!["pvc".to_string(), "пластик".to_string()]));
        assert_eq!(s.get("окно"), Some(&vec!["стеклопакет".to_string()]));
        assert_eq!(s.len(), 2);
        assert!(parse_synonyms(&serde_json::json!(["not", "an", "object"])).is_empty());
    }

    #[test]
    fn the_exact_match_leads_and_pages_shift_by_one() {
        // Meilisearch's order without the exact match 99: 1..=10; pages of 4.
        let others: Vec<i64> = (1..=10).collect();
        let page = |offset: usize, passes: bool| {
            let start = if offset == 0 { 0 } else { offset - 1 };
            let fetched: Vec<i64> = others.iter().copied().skip(start).take(5).collect();
            place_exact(fetched, 99, passes, offset, 4)
        };
        assert_eq!(page(0, true), vec![99, 1, 2, 3]);
        assert_eq!(page(4, true), vec![4, 5, 6, 7]);
        assert_eq!(page(8, true), vec![8, 9, 10]);
        assert_eq!(page(0, false), vec![1, 2, 3, 4]);
        assert_eq!(page(4, false), vec![5, 6, 7, 8]);
        assert_eq!(page(8, false), vec![9, 10]);
    }

    #[test]
    fn tenants_spread_over_instances_and_few_move_when_one_is_added() {
        let uids: Vec<String> = (0..10_000).map(|i| format!("tp_tenant_store{i}")).collect();
        let mut per = [0usize; 4];
        for u in &uids {
            let s = shard(u, 4);
            assert_eq!(s, shard(u, 4), "stable");
            per[s] += 1;
        }
        // Even within 10 % of 2,500.
        assert!(per.iter().all(|&c| (2250..=2750).contains(&c)), "{per:?}");
        // 4 → 5 instances: about a fifth of the tenants move, all of them to the new one.
        let moved: Vec<&String> = uids.iter().filter(|u| shard(u, 4) != shard(u, 5)).collect();
        assert!((1800..=2200).contains(&moved.len()), "{}", moved.len());
        assert!(moved.iter().all(|u| shard(u, 5) == 4));
        assert_eq!(shard("tp_tenant_x", 1), 0);
        // Fixed values: a release that changed them would move every tenant's index.
        let fixed = [
            shard("tp_tenant_acme", 3),
            shard("tp_tenant_beta", 4),
            shard("tp_tenant_beta", 5),
            shard("tp_tenant_gamma", 5),
        ];
        assert_eq!(fixed, [1, 3, 4, 4]);
    }

    #[test]
    fn facet_values_order_like_postgres() {
        let v = values(HashMap::from([("b".into(), 2), ("a".into(), 2), ("c".into(), 5), ("".into(), 9)]), 2);
        assert_eq!(v.iter().map(|f| f.value.as_str()).collect::<Vec<_>>(), vec!["c", "a"]);
    }

    #[test]
    fn only_http_and_header_safe_keys() {
        let pool = crate::db::build_pool(
            &crate::config::DatabaseSettings {
                url: secrecy::SecretString::from("postgres://nobody@127.0.0.1:1/none"),
                pool_max_size: 1,
                connection_timeout_secs: 1,
                max_lifetime_secs: 60,
                statement_timeout_ms: 1000,
                lock_timeout_ms: 1000,
                tenant_working_set: 1,
                migrate_workers: 1,
            },
            Some(1),
        );
        assert!(MeiliEngine::new("http://127.0.0.1:7700/", Some("k".into()), pool.clone()).is_ok());
        assert!(MeiliEngine::new("https://meili.example", None, pool.clone()).is_err());
        assert!(MeiliEngine::new("http://127.0.0.1:7700", Some("bad\nkey".into()), pool.clone()).is_err());
        let two = MeiliEngine::new("http://10.0.0.1:7700, http://10.0.0.2:7700/", None, pool.clone());
        assert_eq!(two.map(|e| e.clients.len()).ok(), Some(2));
        assert!(MeiliEngine::new("http://10.0.0.1:7700,https://10.0.0.2", None, pool).is_err());
    }
}
