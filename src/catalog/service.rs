//! Catalog use cases shared by the JSON API and the pages: search with the viewer's prices,
//! one product with its breakdown, the category tree, a product's images and attached files.

use actix_multipart::Multipart;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::attributes::Attribute;
use super::categories::{self, Category};
use super::media;
use super::products::{self, Product};
use super::settings::{self as catalog_settings, CatalogSettings};
use super::view::{self, Viewer};
use crate::app::AppState;
use crate::cache::Caches;
use crate::db::schema_tenant::{product_barcodes, product_files, product_images};
use crate::db::{current_generations, with_tenant};
use crate::error::{AppError, AppResult};
use crate::pricing::load::{price_many, Buyer};
use crate::search::{Query, Results, Scope, SearchEngine};
use crate::web::tenant::TenantCtx;
use crate::web::upload;
use std::sync::Arc;

/// A page of search results, priced for the viewer.
pub struct Page {
    pub items: Vec<Value>,
    pub total: i64,
    pub results: Arc<Results>,
    /// The filterable attributes (for facet names and units), the categories, the settings;
    /// shared with the cache, never copied per request.
    pub meta: Arc<Prepared>,
    pub took_ms: u128,
}

impl Page {
    pub fn categories(&self) -> &[Category] {
        &self.meta.1
    }

    pub fn attributes(&self) -> &[Attribute] {
        &self.meta.0
    }

    pub fn settings(&self) -> &CatalogSettings {
        &self.meta.2
    }
}

/// What a search needs before it runs: the attribute codes (to validate filters), the
/// categories (to resolve a category code to its subtree) and the settings.
type Prepared = (Vec<Attribute>, Vec<Category>, CatalogSettings);

pub async fn prepare(state: &AppState, t: &TenantCtx) -> AppResult<Arc<Prepared>> {
    let (caches, tid) = (state.caches.clone(), t.tenant.id);
    with_tenant(&state.pool, &t.tenant.schema, move |c| prepare_in(c, &caches, tid)).await
}

/// The metadata, from the cache when this transaction's generation has it.
fn prepare_in(c: &mut PgConnection, caches: &Caches, tenant: i64) -> AppResult<Arc<Prepared>> {
    let generation = current_generations().map(|g| g.catalog);
    if let Some(meta) = generation.and_then(|g| caches.meta(tenant, g)) {
        return Ok(meta);
    }
    let attrs = super::attributes::all(c)?.into_iter().filter(|a| a.filterable).collect();
    let meta = Arc::new((attrs, categories::all(c)?, catalog_settings::load(c)?));
    if let Some(g) = generation {
        caches.put_meta(tenant, g, meta.clone());
    }
    Ok(meta)
}

/// Who the priced items are for, as a cache key: the company and its price terms, the
/// language, the store's link prefix, the day (contract prices are dated) and how many
/// promotion starts and ends have passed (promotions are timed to the second).
fn viewer_key(buyer: Option<&Buyer>, locale: &str, store: &str, promo_epoch: usize) -> Arc<str> {
    let who = buyer.map_or_else(
        || "guest".to_owned(),
        |b| format!("{}|{}|{}", b.company_id, b.price_group.as_deref().unwrap_or(""), b.discount_percent),
    );
    Arc::from(format!("{who}|{locale}|{store}|{}|{promo_epoch}", chrono::Utc::now().date_naive()))
}

/// How many of `bounds` (Unix seconds) have passed.
fn passed(bounds: &[i64]) -> usize {
    let now = chrono::Utc::now().timestamp();
    bounds.iter().filter(|t| **t <= now).count()
}

/// How many start or end times of the tenant's promotions have passed since they were loaded.
fn promo_epoch(c: &mut PgConnection, caches: &Caches, tenant: i64, generation: i64) -> AppResult<usize> {
    use crate::db::schema_tenant::promotions as pr;
    let bounds = match caches.promo_bounds(tenant, generation) {
        Some(b) => b,
        None => {
            let rows: Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> =
                pr::table.filter(pr::ends_at.gt(diesel::dsl::now)).select((pr::starts_at, pr::ends_at)).load(c)?;
            let b = Arc::new(rows.iter().flat_map(|(s, e)| [s.timestamp(), e.timestamp()]).collect::<Vec<_>>());
            caches.put_promo_bounds(tenant, generation, b.clone());
            b
        }
    };
    Ok(passed(&bounds))
}

/// For pages built from a search: the catalog generation and the viewer key their rendered
/// parts may be cached under (PostgreSQL engine, caches on, promotion times known).
pub async fn page_key(
    state: &AppState,
    t: &TenantCtx,
    buyer: Option<&Buyer>,
    locale: &str,
    known: Option<crate::db::Generations>,
) -> AppResult<Option<(i64, Arc<str>)>> {
    if !state.caches.enabled() || !matches!(state.search, crate::search::Engine::Pg(_)) {
        return Ok(None);
    }
    let generation = match known {
        Some(g) => g.catalog,
        None => crate::db::read_generations(&state.pool, &t.tenant.schema).await?.catalog,
    };
    let Some(bounds) = state.caches.promo_bounds(t.tenant.id, generation) else { return Ok(None) };
    Ok(Some((generation, viewer_key(buyer, locale, &t.link(""), passed(&bounds)))))
}

/// What a search answers: items, results, and the metadata.
type Answer = (Vec<Value>, Arc<Results>, Arc<Prepared>);

/// A PostgreSQL-engine search answered wholly from the caches of `generation`, without a
/// transaction; `None` when any part is missing.
fn from_cache(
    caches: &Caches,
    tenant: i64,
    generation: i64,
    pairs: &[(String, String)],
    buyer: Option<&Buyer>,
    locale: &str,
    store: &str,
) -> AppResult<Option<Answer>> {
    let Some(meta) = caches.meta(tenant, generation) else { return Ok(None) };
    let mut q = Query::from_pairs(pairs, &codes(&meta.0))?;
    resolve_category(&mut q, &meta.1)?;
    let Some(results) = caches.results(tenant, generation, &format!("{q:?}")) else { return Ok(None) };
    let Some(bounds) = caches.promo_bounds(tenant, generation) else { return Ok(None) };
    let viewer = viewer_key(buyer, locale, store, passed(&bounds));
    let Some(items) = caches.items(tenant, generation, &viewer, &results.ids) else { return Ok(None) };
    Ok(Some((items, results, meta)))
}

/// [`items_in`] through the cache of priced items (a page is served whole or computed whole).
#[allow(clippy::too_many_arguments)]
fn cached_items_in(
    c: &mut PgConnection,
    caches: &Caches,
    tenant: i64,
    ids: &[i64],
    buyer: Option<&Buyer>,
    locale: &str,
    settings: &CatalogSettings,
    cats: &[Category],
    store: &str,
) -> AppResult<Vec<Value>> {
    let generation = current_generations().map(|g| g.catalog).filter(|_| caches.enabled());
    let Some(generation) = generation else {
        return Ok(items_in(c, ids, buyer, locale, settings, cats, store)?.into_iter().map(|(_, v)| v).collect());
    };
    let viewer = viewer_key(buyer, locale, store, promo_epoch(c, caches, tenant, generation)?);
    if let Some(items) = caches.items(tenant, generation, &viewer, ids) {
        return Ok(items);
    }
    let pairs = items_in(c, ids, buyer, locale, settings, cats, store)?;
    caches.put_items(tenant, generation, &viewer, &pairs);
    Ok(pairs.into_iter().map(|(_, v)| v).collect())
}

/// The result page's items, in the order of `ids`, priced for the buyer.
fn items_in(
    c: &mut PgConnection,
    ids: &[i64],
    buyer: Option<&Buyer>,
    locale: &str,
    settings: &CatalogSettings,
    cats: &[Category],
    store: &str,
) -> AppResult<Vec<(i64, Value)>> {
    let mut list = products::by_ids(c, ids)?;
    list.sort_by_key(|p| ids.iter().position(|i| *i == p.id));
    let v = Viewer { buyer, locale, settings };
    let prices = view::prices(c, &list, &v)?;
    let images = first_images(c, ids)?;
    Ok(list
        .iter()
        .map(|p| {
            let code = p.category_id.and_then(|id| cats.iter().find(|c| c.id == id)).map(|c| c.code.as_str());
            let mut item = view::item(p, prices.get(&p.id), &v, code);
            item["image"] = json!(images.get(&p.id).map(|img| format!("{store}{}/images/{img}/thumb", t_link(&p.sku))));
            (p.id, item)
        })
        .collect())
}

fn codes(attrs: &[Attribute]) -> Vec<String> {
    attrs.iter().map(|a| a.code.clone()).collect()
}

/// Resolves `q.category` (a code) into the ids of its subtree; unknown → 404.
pub fn resolve_category(q: &mut Query, cats: &[Category]) -> AppResult<()> {
    if let Some(code) = q.category.as_deref() {
        let cat = cats.iter().find(|c| c.code == code).ok_or_else(|| AppError::not_found("category"))?;
        q.category_ids = categories::subtree(cats, cat.id);
    }
    Ok(())
}

pub async fn search(
    state: &AppState,
    t: &TenantCtx,
    buyer: Option<Buyer>,
    locale: &str,
    pairs: &[(String, String)],
    known: Option<crate::db::Generations>,
) -> AppResult<Page> {
    let started = std::time::Instant::now();
    let scope = Scope { tenant_id: t.tenant.id, schema: t.tenant.schema.clone() };
    let locale = locale.to_owned();
    let store = t.link("");
    let pairs = pairs.to_vec();
    // With the PostgreSQL engine everything is one transaction (one connection, one
    // BEGIN/COMMIT); Meilisearch is asked between two.
    let pg = matches!(state.search, crate::search::Engine::Pg(_));
    // A request whose every part is cached for the current generation needs no transaction:
    // the generation comes with the session check, or in one statement for guests.
    let cached = if pg && state.caches.enabled() {
        let generation = match known {
            Some(g) => g.catalog,
            None => crate::db::read_generations(&state.pool, &t.tenant.schema).await?.catalog,
        };
        from_cache(&state.caches, t.tenant.id, generation, &pairs, buyer.as_ref(), &locale, &store)?
    } else {
        None
    };
    let (items, results, meta) = if let Some(answer) = cached {
        answer
    } else if pg {
        let (caches, tid) = (state.caches.clone(), t.tenant.id);
        with_tenant(&state.pool, &t.tenant.schema, move |c| {
            let meta = prepare_in(c, &caches, tid)?;
            let (attrs, cats, settings) = meta.as_ref();
            let mut q = Query::from_pairs(&pairs, &codes(attrs))?;
            resolve_category(&mut q, cats)?;
            // PostgreSQL's answer is a function of the catalog and the query: cached per
            // generation. (Meilisearch's index lags the commit, so its answers are not.)
            let generation = current_generations().map(|g| g.catalog);
            let key = format!("{q:?}");
            let results = match generation.and_then(|g| caches.results(tid, g, &key)) {
                Some(r) => r,
                None => {
                    let r = Arc::new(crate::search::pg::search_in(c, &q)?);
                    if let Some(g) = generation {
                        caches.put_results(tid, g, key, r.clone());
                    }
                    r
                }
            };
            let items =
                cached_items_in(c, &caches, tid, &results.ids, buyer.as_ref(), &locale, settings, cats, &store)?;
            Ok((items, results, meta.clone()))
        })
        .await?
    } else {
        let meta = prepare(state, t).await?;
        let mut q = Query::from_pairs(&pairs, &codes(&meta.0))?;
        resolve_category(&mut q, &meta.1)?;
        let results = Arc::new(state.search.search(&scope, &q).await?);
        let (ids, m2) = (results.ids.clone(), meta.clone());
        let (caches, tid) = (state.caches.clone(), t.tenant.id);
        let items = with_tenant(&state.pool, &t.tenant.schema, move |c| {
            cached_items_in(c, &caches, tid, &ids, buyer.as_ref(), &locale, &m2.2, &m2.1, &store)
        })
        .await?;
        (items, results, meta)
    };
    Ok(Page { items, total: results.total, results, meta, took_ms: started.elapsed().as_millis() })
}

/// One product as a buyer sees it, with `price_breakdown` for `qty`.
pub async fn product(
    state: &AppState,
    t: &TenantCtx,
    buyer: Option<Buyer>,
    locale: &str,
    sku: String,
    qty: Option<Decimal>,
) -> AppResult<(Value, Product, Vec<Category>)> {
    let locale = locale.to_owned();
    let store = t.link("");
    with_tenant(&state.pool, &t.tenant.schema, move |c| {
        let p = products::find_by_sku(c, &sku)?
            .filter(|p| p.status != "archived")
            .ok_or_else(|| AppError::not_found("product"))?;
        let settings = catalog_settings::load(c)?;
        let cats = categories::all(c)?;
        let v = Viewer { buyer: buyer.as_ref(), locale: &locale, settings: &settings };
        let code = p.category_id.and_then(|id| cats.iter().find(|c| c.id == id)).map(|c| c.code.clone());
        let qty = qty.unwrap_or(p.min_qty).max(Decimal::ONE.min(p.min_qty));
        let breakdown = if v.sees_prices() {
            price_many(c, buyer.as_ref(), settings.vat_mode, &[(&p, qty)])?.remove(&p.id)
        } else {
            None
        };
        let mut o = view::item(&p, breakdown.as_ref(), &v, code.as_deref());
        // Sanitised on the way in; again on the way out, whatever wrote the row.
        o["description"] = json!(ammonia::clean(p.description_in(&locale)));
        o["price_breakdown"] = json!(breakdown);
        o["pack_size"] = json!(crate::money::format_qty(p.pack_size));
        o["weight_kg"] = json!(p.weight_kg.map(crate::money::format_qty));
        o["volume_m3"] = json!(p.volume_m3.map(crate::money::format_qty));
        let defs = super::attributes::all(c)?;
        let attrs: Vec<Value> = defs
            .iter()
            .filter_map(|d| {
                p.attributes.get(&d.code).map(|val| {
                    json!({"code": d.code, "name": d.name_in(&locale), "value": d.render(val), "unit": d.unit, "kind": d.kind})
                })
            })
            .collect();
        o["attributes"] = json!(attrs);
        o["barcodes"] = json!(product_barcodes::table
            .filter(product_barcodes::product_id.eq(p.id))
            .select(product_barcodes::barcode)
            .load::<String>(c)?);
        let images: Vec<(i64, i32, i32)> = product_images::table
            .filter(product_images::product_id.eq(p.id))
            .order((product_images::position, product_images::id))
            .select((product_images::id, product_images::width, product_images::height))
            .load(c)?;
        let base = format!("{store}{}", t_link(&p.sku));
        o["images"] = json!(images
            .iter()
            .map(|(id, w, h)| json!({"id": id, "url": format!("{base}/images/{id}"), "thumb": format!("{base}/images/{id}/thumb"), "width": w, "height": h}))
            .collect::<Vec<_>>());
        let files: Vec<(i64, String, String, i64)> = product_files::table
            .filter(product_files::product_id.eq(p.id))
            .order(product_files::id)
            .select((product_files::id, product_files::file_name, product_files::title, product_files::size_bytes))
            .load(c)?;
        o["files"] = json!(files
            .iter()
            .map(|(id, name, title, size)| json!({"id": id, "name": name, "title": title, "size": size, "url": format!("{base}/files/{id}")}))
            .collect::<Vec<_>>());
        o["category_path"] = json!(p
            .category_id
            .map(|id| categories::path(&cats, id).iter().map(|c| json!({"code": c.code, "name": c.name_in(&locale)})).collect::<Vec<_>>())
            .unwrap_or_default());
        Ok((o, p, cats))
    })
    .await
}

/// The first image of each product (by position).
fn first_images(c: &mut PgConnection, ids: &[i64]) -> AppResult<std::collections::HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = product_images::table
        .filter(product_images::product_id.eq_any(ids))
        .order((product_images::product_id, product_images::position, product_images::id))
        .select((product_images::product_id, product_images::id))
        .load(c)?;
    let mut out = std::collections::HashMap::new();
    for (pid, id) in rows {
        out.entry(pid).or_insert(id);
    }
    Ok(out)
}

/// The product's media path relative to the store (`/products/<sku>`).
fn t_link(sku: &str) -> String {
    format!("/products/{}", crate::search::marketplace::urlencode(sku))
}

/// The category tree as nested JSON.
pub fn tree(cats: &[Category], parent: Option<i64>, locale: &str) -> Vec<Value> {
    cats.iter()
        .filter(|c| c.parent_id == parent)
        .map(|c| json!({"code": c.code, "name": c.name_in(locale), "children": tree(cats, Some(c.id), locale)}))
        .collect()
}

/// An image stored by [`add_image`].
pub struct ImageInfo {
    pub id: i64,
    pub width: i32,
    pub height: i32,
    pub content_type: &'static str,
}

/// An attached file stored by [`add_file`].
pub struct FileInfo {
    pub id: i64,
    pub size: i64,
    pub content_type: &'static str,
}

/// The id of the product `sku`; unknown → 404.
async fn product_id(state: &AppState, t: &TenantCtx, sku: String) -> AppResult<i64> {
    with_tenant(&state.pool, &t.tenant.schema, move |c| {
        Ok(products::find_by_sku(c, &sku)?.ok_or_else(|| AppError::not_found("product"))?.id)
    })
    .await
}

/// Multipart field `image` for product `sku`: checked by its bytes, stored with a thumbnail
/// after the product's other images.
pub async fn add_image(state: &AppState, t: &TenantCtx, sku: String, multipart: Multipart) -> AppResult<ImageInfo> {
    let pid = product_id(state, t, sku).await?;
    let up = upload::read(multipart, &["image"], media::MAX_IMAGE_BYTES, &mut Vec::new())
        .await?
        .ok_or_else(|| AppError::field("image", "choose an image file"))?;
    let img = actix_web::web::block(move || media::process_image(&up.bytes))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("image worker: {e}")))??;
    let schema = t.tenant.schema.clone();
    let (key, thumb_key) = (media::new_key(&schema, "images", img.ext), media::new_key(&schema, "thumbs", "jpg"));
    state.media.put(&key, img.original).await?;
    state.media.put(&thumb_key, img.thumbnail).await?;
    let (content_type, width, height) = (img.content_type, img.width as i32, img.height as i32);
    let id = with_tenant(&state.pool, &schema, move |c| {
        let last: Option<i32> = product_images::table
            .filter(product_images::product_id.eq(pid))
            .select(diesel::dsl::max(product_images::position))
            .first(c)?;
        Ok(diesel::insert_into(product_images::table)
            .values((
                product_images::product_id.eq(pid),
                product_images::storage_key.eq(&key),
                product_images::thumb_key.eq(&thumb_key),
                product_images::content_type.eq(content_type),
                product_images::width.eq(width),
                product_images::height.eq(height),
                product_images::position.eq(last.map_or(0, |n| n + 1)),
            ))
            .returning(product_images::id)
            .get_result(c)?)
    })
    .await?;
    Ok(ImageInfo { id, width, height, content_type })
}

/// Multipart field `file` for product `sku` (a certificate, a manual …; optional text field
/// `title`). Served only as a download.
pub async fn add_file(state: &AppState, t: &TenantCtx, sku: String, multipart: Multipart) -> AppResult<FileInfo> {
    let pid = product_id(state, t, sku).await?;
    let mut fields = Vec::new();
    let up = upload::read(multipart, &["file"], media::MAX_FILE_BYTES, &mut fields)
        .await?
        .ok_or_else(|| AppError::field("file", "choose a file"))?;
    let title: String = fields
        .iter()
        .find(|(k, _)| k == "title")
        .map(|(_, v)| v.trim().chars().take(200).collect())
        .unwrap_or_default();
    let name = media::safe_file_name(&up.file_name);
    let ext = name
        .rsplit('.')
        .next()
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("bin")
        .to_lowercase();
    let key = media::new_key(&t.tenant.schema, "files", &ext);
    let size = up.bytes.len() as i64;
    state.media.put(&key, up.bytes).await?;
    let content_type = media::file_content_type(&name);
    let id = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        Ok(diesel::insert_into(product_files::table)
            .values((
                product_files::product_id.eq(pid),
                product_files::storage_key.eq(&key),
                product_files::file_name.eq(&name),
                product_files::content_type.eq(content_type),
                product_files::size_bytes.eq(size),
                product_files::title.eq(&title),
            ))
            .returning(product_files::id)
            .get_result(c)?)
    })
    .await?;
    Ok(FileInfo { id, size, content_type })
}

/// Removes image `id` of product `sku` with its stored original and thumbnail; an image of
/// another product → 404.
pub async fn remove_image(state: &AppState, t: &TenantCtx, sku: String, id: i64) -> AppResult<()> {
    let pid = product_id(state, t, sku).await?;
    let keys: Option<(String, String)> = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        Ok(diesel::delete(
            product_images::table.filter(product_images::id.eq(id)).filter(product_images::product_id.eq(pid)),
        )
        .returning((product_images::storage_key, product_images::thumb_key))
        .get_result(c)
        .optional()?)
    })
    .await?;
    let (original, thumb) = keys.ok_or_else(|| AppError::not_found("image"))?;
    delete_stored(state, [original, thumb]).await
}

/// Removes attached file `id` of product `sku` with its stored bytes; a file of another
/// product → 404.
pub async fn remove_file(state: &AppState, t: &TenantCtx, sku: String, id: i64) -> AppResult<()> {
    let pid = product_id(state, t, sku).await?;
    let key: Option<String> = with_tenant(&state.pool, &t.tenant.schema, move |c| {
        Ok(diesel::delete(
            product_files::table.filter(product_files::id.eq(id)).filter(product_files::product_id.eq(pid)),
        )
        .returning(product_files::storage_key)
        .get_result(c)
        .optional()?)
    })
    .await?;
    delete_stored(state, [key.ok_or_else(|| AppError::not_found("file"))?]).await
}

/// The storage keys of a product's images, thumbnails and attached files (read before the
/// product is deleted, then passed to [`delete_stored`]).
pub fn media_keys_of(c: &mut PgConnection, product_id: i64) -> AppResult<Vec<String>> {
    let mut keys: Vec<String> = product_images::table
        .filter(product_images::product_id.eq(product_id))
        .select((product_images::storage_key, product_images::thumb_key))
        .load::<(String, String)>(c)?
        .into_iter()
        .flat_map(|(a, b)| [a, b])
        .collect();
    keys.extend(
        product_files::table
            .filter(product_files::product_id.eq(product_id))
            .select(product_files::storage_key)
            .load::<String>(c)?,
    );
    Ok(keys)
}

/// Deletes stored media by key (a key already gone is fine).
pub async fn delete_stored(state: &AppState, keys: impl IntoIterator<Item = String>) -> AppResult<()> {
    for k in keys {
        state.media.delete(&k).await?;
    }
    Ok(())
}
