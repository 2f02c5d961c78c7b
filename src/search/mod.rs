//! Product search behind one [`SearchEngine`] trait: PostgreSQL full text + trigrams (the
//! embedded default) and Meilisearch (when `MEILI_URL` is set). Both answer the same
//! [`Query`] with product ids in order, a total and facets; prices are applied afterwards
//! by the pricing engine for the buyer who searched (never indexed per customer).

pub mod marketplace;
pub mod meili;
pub mod pg;
pub mod query;
pub mod words;

use std::collections::BTreeMap;
use std::future::Future;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema_platform::jobs;
use crate::db::TenantSchema;
use crate::error::AppResult;
pub use query::{Query, Sort};

/// One facet value and how many matching products carry it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FacetValue {
    pub value: String,
    pub count: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Facets {
    /// Category code → count (direct category of each product).
    pub category: Vec<FacetValue>,
    pub brand: Vec<FacetValue>,
    pub availability: Vec<FacetValue>,
    /// Attribute code → values.
    pub attributes: BTreeMap<String, Vec<FacetValue>>,
    /// Lowest and highest base price among the matches.
    pub price: Option<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct Results {
    pub ids: Vec<i64>,
    /// Matches, counted up to [`pg::CAP`] when `capped`.
    pub total: i64,
    /// More matches than were counted: show "more than `total`".
    pub capped: bool,
    pub facets: Facets,
    /// Answered by the PostgreSQL engine because Meilisearch was unavailable (`engine` in the
    /// API says `postgres` then, and the catalog page says so).
    pub fallback: bool,
}

/// Where a tenant's catalog lives for an engine.
#[derive(Debug, Clone)]
pub struct Scope {
    pub tenant_id: i64,
    pub schema: TenantSchema,
}

impl Scope {
    /// The Meilisearch index of this tenant: derived from the validated schema name, never
    /// from anything a user sent.
    pub fn index_uid(&self) -> String {
        format!("tp_{}", self.schema.as_str())
    }
}

/// A search engine. Both implementations pass `tests/api/search.rs`.
pub trait SearchEngine {
    fn search(&self, scope: &Scope, q: &Query) -> impl Future<Output = AppResult<Results>>;
    /// Brings the index up to date for these products (missing ones are removed).
    fn index(&self, scope: &Scope, ids: &[i64]) -> impl Future<Output = AppResult<()>>;
    /// Rebuilds the whole index of a tenant; returns the number of documents.
    fn reindex(&self, scope: &Scope) -> impl Future<Output = AppResult<u64>>;
    fn name(&self) -> &'static str;
}

/// The engine this deployment runs.
#[derive(Clone)]
pub enum Engine {
    Pg(pg::PgEngine),
    Meili(meili::MeiliEngine),
}

impl Engine {
    pub fn is_meili(&self) -> bool {
        matches!(self, Engine::Meili(_))
    }
}

impl SearchEngine for Engine {
    async fn search(&self, scope: &Scope, q: &Query) -> AppResult<Results> {
        match self {
            Engine::Pg(e) => e.search(scope, q).await,
            Engine::Meili(e) => e.search(scope, q).await,
        }
    }
    async fn index(&self, scope: &Scope, ids: &[i64]) -> AppResult<()> {
        match self {
            Engine::Pg(e) => e.index(scope, ids).await,
            Engine::Meili(e) => e.index(scope, ids).await,
        }
    }
    async fn reindex(&self, scope: &Scope) -> AppResult<u64> {
        match self {
            Engine::Pg(e) => e.reindex(scope).await,
            Engine::Meili(e) => e.reindex(scope).await,
        }
    }
    fn name(&self) -> &'static str {
        match self {
            Engine::Pg(e) => e.name(),
            Engine::Meili(e) => e.name(),
        }
    }
}

/// The job kind that brings a tenant's search index up to date for some products.
pub const INDEX_JOB: &str = "search.index";

/// Enqueues an index update in the caller's transaction (the outbox): the update happens if
/// and only if the change commits. With the PostgreSQL engine the tables are the index, but
/// the job is still written so that switching on Meilisearch later loses nothing; the worker
/// drops it at once when no Meilisearch is configured.
pub fn enqueue_index(conn: &mut PgConnection, tenant_id: i64, ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    for chunk in ids.chunks(1000) {
        diesel::insert_into(jobs::table)
            .values((
                jobs::queue.eq("search"),
                jobs::kind.eq(INDEX_JOB),
                jobs::tenant_id.eq(tenant_id),
                jobs::payload.eq(serde_json::json!({ "product_ids": chunk })),
            ))
            .execute(conn)?;
    }
    Ok(())
}
