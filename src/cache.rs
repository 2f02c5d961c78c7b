//! In-process caches that are never stale. Every entry belongs to one tenant and one of its
//! cache generations (`public.tenant_generations`), which a deferred trigger bumps in the
//! same commit as any change to what the entry was computed from (migration
//! `tenant/0007_cache_generations`). A request reads the current generation in a statement
//! it runs anyway (the tenant transaction's first, or the session check) and uses an entry
//! only when the generations match, so a change made by any process, the 1C exchange or
//! `psql` is seen by the next request, with no time-to-live and no message bus.
//!
//! What is kept: per tenant, the catalog's metadata (filterable attributes, categories,
//! settings), PostgreSQL search results (ids, totals, facets) per query, and list items
//! priced per viewer (company, its price terms, language, date); per tenant and account,
//! the memberships and the staff role; and rendered catalog page bodies per viewer and
//! address (with the CSRF token left as a placeholder). Entries are keyed by tenant id and viewer, so one
//! tenant's or buyer's entry can never answer another's request (SECURITY.md T5).
//! `server.cache = false` turns all of it off (benchmarks measure both).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::catalog::attributes::Attribute;
use crate::catalog::categories::Category;
use crate::catalog::settings::CatalogSettings;
use crate::identity::companies::Membership;
use crate::identity::staff::StaffRole;
use crate::search::Results;

/// The catalog metadata a search needs before it runs.
pub type Meta = (Vec<Attribute>, Vec<Category>, CatalogSettings);

/// Bounds: a tenant past them starts its maps afresh (a burst of distinct queries or
/// viewers cannot grow memory without limit).
const MAX_RESULTS: usize = 2_000;
const MAX_ITEMS: usize = 50_000;
const MAX_ACCOUNTS: usize = 100_000;
/// Rendered page parts are about 40 KB: at most 12 MB per tenant.
const MAX_FRAGMENTS: usize = 300;

#[derive(Default)]
struct Catalog {
    generation: i64,
    meta: Option<Arc<Meta>>,
    /// Start and end times (Unix seconds) of promotions not yet over at load time.
    promo_bounds: Option<Arc<Vec<i64>>>,
    results: HashMap<String, Arc<Results>>,
    items: HashMap<(Arc<str>, i64), Value>,
    /// Rendered HTML of pages built from the catalog, per viewer and address.
    fragments: HashMap<String, Arc<str>>,
}

#[derive(Default, Clone)]
struct Access {
    generation: i64,
    memberships: Option<Arc<Vec<Membership>>>,
    staff: Option<Option<StaffRole>>,
}

pub struct Caches {
    enabled: bool,
    catalog: Mutex<HashMap<i64, Catalog>>,
    access: Mutex<HashMap<(i64, i64), Access>>,
}

impl Caches {
    pub fn new(enabled: bool) -> Self {
        Caches { enabled, catalog: Mutex::new(HashMap::new()), access: Mutex::new(HashMap::new()) }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Runs `f` on the tenant's entry of `generation`, starting it afresh when the stored one
    /// is older. A request that read an older generation than the stored one gets `None`:
    /// it may neither use nor overwrite newer entries.
    fn catalog<R>(&self, tenant: i64, generation: i64, f: impl FnOnce(&mut Catalog) -> R) -> Option<R> {
        if !self.enabled {
            return None;
        }
        let mut map = self.catalog.lock().ok()?;
        let entry = map.entry(tenant).or_default();
        if entry.generation != generation {
            if generation < entry.generation {
                return None;
            }
            *entry = Catalog { generation, ..Catalog::default() };
        }
        Some(f(entry))
    }

    pub fn meta(&self, tenant: i64, generation: i64) -> Option<Arc<Meta>> {
        self.catalog(tenant, generation, |c| c.meta.clone()).flatten()
    }

    pub fn put_meta(&self, tenant: i64, generation: i64, meta: Arc<Meta>) {
        self.catalog(tenant, generation, |c| c.meta = Some(meta));
    }

    pub fn promo_bounds(&self, tenant: i64, generation: i64) -> Option<Arc<Vec<i64>>> {
        self.catalog(tenant, generation, |c| c.promo_bounds.clone()).flatten()
    }

    pub fn put_promo_bounds(&self, tenant: i64, generation: i64, bounds: Arc<Vec<i64>>) {
        self.catalog(tenant, generation, |c| c.promo_bounds = Some(bounds));
    }

    pub fn results(&self, tenant: i64, generation: i64, key: &str) -> Option<Arc<Results>> {
        self.catalog(tenant, generation, |c| c.results.get(key).cloned()).flatten()
    }

    pub fn put_results(&self, tenant: i64, generation: i64, key: String, results: Arc<Results>) {
        self.catalog(tenant, generation, |c| {
            if c.results.len() >= MAX_RESULTS {
                c.results.clear();
            }
            c.results.insert(key, results);
        });
    }

    pub fn fragment(&self, tenant: i64, generation: i64, key: &str) -> Option<Arc<str>> {
        self.catalog(tenant, generation, |c| c.fragments.get(key).cloned()).flatten()
    }

    pub fn put_fragment(&self, tenant: i64, generation: i64, key: String, html: Arc<str>) {
        self.catalog(tenant, generation, |c| {
            if c.fragments.len() >= MAX_FRAGMENTS {
                c.fragments.clear();
            }
            c.fragments.insert(key, html);
        });
    }

    /// The cached items of `ids` for `viewer`, in order; `None` unless every one is there.
    pub fn items(&self, tenant: i64, generation: i64, viewer: &Arc<str>, ids: &[i64]) -> Option<Vec<Value>> {
        self.catalog(tenant, generation, |c| {
            ids.iter().map(|id| c.items.get(&(viewer.clone(), *id)).cloned()).collect::<Option<Vec<_>>>()
        })
        .flatten()
    }

    pub fn put_items(&self, tenant: i64, generation: i64, viewer: &Arc<str>, items: &[(i64, Value)]) {
        self.catalog(tenant, generation, |c| {
            if c.items.len() + items.len() > MAX_ITEMS {
                c.items.clear();
            }
            for (id, item) in items {
                c.items.insert((viewer.clone(), *id), item.clone());
            }
        });
    }

    fn access<R>(&self, key: (i64, i64), generation: i64, f: impl FnOnce(&mut Access) -> R) -> Option<R> {
        if !self.enabled {
            return None;
        }
        let mut map = self.access.lock().ok()?;
        if map.len() >= MAX_ACCOUNTS && !map.contains_key(&key) {
            map.clear();
        }
        let entry = map.entry(key).or_default();
        if entry.generation != generation {
            if generation < entry.generation {
                return None;
            }
            *entry = Access { generation, ..Access::default() };
        }
        Some(f(entry))
    }

    /// The memberships of `account` in `tenant` at `generation` (access), if cached.
    pub fn memberships(&self, tenant: i64, account: i64, generation: i64) -> Option<Arc<Vec<Membership>>> {
        self.access((tenant, account), generation, |a| a.memberships.clone()).flatten()
    }

    pub fn put_memberships(&self, tenant: i64, account: i64, generation: i64, list: Arc<Vec<Membership>>) {
        self.access((tenant, account), generation, |a| a.memberships = Some(list));
    }

    /// The staff role (`Some(None)`: not staff) of `account` in `tenant`, if cached.
    pub fn staff(&self, tenant: i64, account: i64, generation: i64) -> Option<Option<StaffRole>> {
        self.access((tenant, account), generation, |a| a.staff).flatten()
    }

    pub fn put_staff(&self, tenant: i64, account: i64, generation: i64, role: Option<StaffRole>) {
        self.access((tenant, account), generation, |a| a.staff = Some(role));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(n: i64) -> Arc<Results> {
        Arc::new(Results { ids: vec![n], total: n, ..Results::default() })
    }

    #[test]
    fn an_entry_answers_only_its_own_tenant_and_generation() {
        let c = Caches::new(true);
        c.put_results(1, 5, "q".into(), results(1));
        assert_eq!(c.results(1, 5, "q").map(|r| r.total), Some(1));
        assert!(c.results(2, 5, "q").is_none(), "another tenant");
        assert!(c.results(1, 6, "q").is_none(), "a newer generation drops the entry");
        c.put_results(1, 5, "q".into(), results(9));
        assert!(c.results(1, 6, "q").is_none(), "an older reader cannot write back");
        assert!(c.results(1, 5, "q").is_none(), "nor read what a newer one dropped");
    }

    #[test]
    fn items_are_kept_per_viewer_and_returned_only_whole() {
        let c = Caches::new(true);
        let dealer: Arc<str> = Arc::from("7|dealer");
        let guest: Arc<str> = Arc::from("guest");
        c.put_items(1, 1, &dealer, &[(10, serde_json::json!({"price": "85.00"})), (11, serde_json::json!({}))]);
        assert_eq!(c.items(1, 1, &dealer, &[11, 10]).map(|v| v.len()), Some(2));
        assert!(c.items(1, 1, &guest, &[10]).is_none(), "a guest never gets a dealer's price");
        assert!(c.items(1, 1, &dealer, &[10, 12]).is_none(), "a partial page is a miss");
    }

    #[test]
    fn disabled_caches_keep_nothing() {
        let c = Caches::new(false);
        c.put_staff(1, 2, 0, Some(StaffRole::Owner));
        assert!(c.staff(1, 2, 0).is_none());
    }
}
