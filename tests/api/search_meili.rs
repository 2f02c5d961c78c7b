//! The Meilisearch engine against a real Meilisearch (`MEILI_URL`, `MEILI_KEY`): the search
//! contract every engine owes, the exact SKU/barcode placement across pages, synonyms, a
//! rebuild that equals the database, filter injection and tenant isolation (T6). Without
//! `MEILI_URL` these tests say they were skipped and pass; the "Meilisearch is down" story
//! (PostgreSQL answers, the page says so, index jobs wait) needs no server and always runs.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::catalog::{api, product, staff};
use crate::helpers::{unique, TestApp, TestTenant};
use crate::search::{contract, settle};
use tradeport::search::{Scope, SearchEngine};

fn meili() -> Option<(String, Option<String>)> {
    let url = std::env::var("MEILI_URL").ok().filter(|u| !u.trim().is_empty())?;
    Some((url, std::env::var("MEILI_KEY").ok().filter(|k| !k.is_empty())))
}

async fn spawn_meili(url: &str, key: Option<&str>) -> TestApp {
    let (url, key) = (url.to_owned(), key.map(str::to_owned));
    TestApp::spawn_with(move |s| {
        s.meili.url = Some(url.into());
        s.meili.key = key.map(Into::into);
    })
    .await
}

/// The app on the configured Meilisearch, or `None` (and a line saying so) without one.
async fn app_or_skip(test: &str) -> Option<TestApp> {
    match meili() {
        Some((url, key)) => {
            let app = spawn_meili(&url, key.as_deref()).await;
            assert!(app.state.search.is_meili());
            Some(app)
        }
        None => {
            println!("skipped {test}: MEILI_URL is not set");
            None
        }
    }
}

fn enc(s: &str) -> String {
    tradeport::search::marketplace::urlencode(s)
}

fn skus(v: &Value) -> Vec<String> {
    v["items"].as_array().into_iter().flatten().filter_map(|i| i["sku"].as_str().map(str::to_owned)).collect()
}

async fn search(app: &TestApp, t: &TestTenant, query: &str) -> Value {
    let r = app.get(&api(t, &format!("/search?{query}")), None).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    let v = r.json();
    assert_eq!(v["engine"], "meilisearch", "{v}");
    v
}

fn scope(t: &TestTenant) -> Scope {
    Scope { tenant_id: t.tenant.id, schema: t.tenant.schema.clone() }
}

/// Meilisearch asked directly (not through the app): the ids of one tenant's index matching `q`.
async fn direct_ids(t: &TestTenant, q: &str) -> Vec<i64> {
    let Some((url, key)) = meili() else { return vec![] };
    let client = meilisearch_sdk::client::Client::new(url, key).expect("client");
    let index = client.index(scope(t).index_uid());
    let r = index.search().with_query(q).with_limit(1000).execute::<Value>().await.expect("direct search");
    r.hits.iter().filter_map(|h| h.result["id"].as_i64()).collect()
}

/// Removes the test tenants' indexes (the tenants themselves are swept by the helpers).
async fn drop_indexes(tenants: &[&TestTenant]) {
    let Some((url, key)) = meili() else { return };
    let client = meilisearch_sdk::client::Client::new(url, key).expect("client");
    for t in tenants {
        if let Ok(task) = client.delete_index(scope(t).index_uid()).await {
            let _ = client.wait_for_task(task, None, None).await;
        }
    }
}

#[actix_web::test]
async fn the_meilisearch_engine_passes_the_search_contract() {
    let Some(app) = app_or_skip("the_meilisearch_engine_passes_the_search_contract").await else { return };
    contract(&app).await;
}

#[actix_web::test]
async fn typos_exact_skus_across_pages_facets_and_synonyms() {
    let Some(app) = app_or_skip("typos_exact_skus_across_pages_facets_and_synonyms").await else { return };
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    for (code, name) in [("windows", "Окна"), ("profiles", "Профили")] {
        let parent = if code == "profiles" { json!("windows") } else { Value::Null };
        let r = app
            .post_json(&api(&t, "/admin/categories"), &json!({"code": code, "name": name, "parent": parent}), Some(&s))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app
        .post_json(
            &api(&t, "/admin/attributes"),
            &json!({"code": "glass", "name": "Со стеклом", "kind": "bool"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Twelve products called "Профиль …" and one whose SKU is PROFIL but whose name is not.
    for i in 0..12 {
        let brand = if i % 3 == 0 { "KBE" } else { "Rehau" };
        product(
            &app,
            &t,
            &s,
            json!({"sku": format!("P-{i:02}"), "name": format!("Профиль оконный Profil серия {i}"), "brand": brand, "category": "profiles",
                   "price": format!("{}.50", 1000 + i * 10), "stock": if i % 2 == 0 { "5" } else { "0" }, "attributes": {"glass": if i < 4 { "да" } else { "нет" }}}),
        )
        .await;
    }
    product(&app, &t, &s, json!({"sku": "PROFIL", "name": "Уплотнитель EPDM", "brand": "Sealer", "price": "99.00", "stock": "1", "barcodes": ["4607000000013"]})).await;
    settle(&app, &t).await;

    // A typo in Russian still finds the profiles, and the category of a child counts for its parent.
    let r = search(&app, &t, &format!("q={}&per_page=100", enc("профль"))).await;
    assert_eq!(r["total"], 12, "{r}");
    let r = search(&app, &t, "category=windows&per_page=1").await;
    assert_eq!(r["total"], 12, "{r}");

    // The exact SKU comes first on page 1 and nowhere else; pages neither repeat nor skip.
    let mut seen: Vec<String> = Vec::new();
    for page in 1..=4 {
        let r = search(&app, &t, &format!("q=profil&per_page=5&page={page}")).await;
        if page == 1 {
            assert_eq!(skus(&r).first().map(String::as_str), Some("PROFIL"), "{r}");
        }
        assert_eq!(r["total"], 13, "{r}");
        seen.extend(skus(&r));
    }
    let unique_seen: BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique_seen.len()), (13, 13), "pages repeated or skipped: {seen:?}");
    assert_eq!(seen.iter().filter(|s| *s == "PROFIL").count(), 1, "{seen:?}");
    // With a sort the exact match takes its place in the sort (as in PostgreSQL).
    let r = search(&app, &t, "q=profil&sort=price_desc&per_page=20").await;
    assert_eq!(skus(&r).last().map(String::as_str), Some("PROFIL"), "{r}");
    // The same by barcode, and not when a filter excludes it.
    let r = search(&app, &t, "q=4607000000013").await;
    assert_eq!((skus(&r), r["total"].as_i64()), (vec!["PROFIL".to_string()], Some(1)), "{r}");
    let r = search(&app, &t, "q=PROFIL&brand=KBE").await;
    assert!(!skus(&r).contains(&"PROFIL".to_string()), "{r}");
    // Sorting by price is strict even with search text.
    let r = search(&app, &t, &format!("q={}&sort=price_desc&per_page=3", enc("профиль"))).await;
    assert_eq!(skus(&r), vec!["P-11", "P-10", "P-09"], "{r}");

    // Facets: the brand facet ignores the brand filter, the category facet the category
    // filter; booleans filter and count as true/false; the price range has two decimals.
    let r = search(&app, &t, "brand=KBE&glass=true").await;
    assert_eq!(skus(&r), vec!["P-00", "P-03"], "{r}");
    let brands: Vec<(String, i64)> = r["facets"]["brand"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (f["value"].as_str().unwrap_or("").to_owned(), f["count"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(brands, vec![("KBE".to_string(), 2), ("Rehau".to_string(), 2)], "{r}");
    assert_eq!(r["facets"]["attributes"]["glass"], json!([{"value": "true", "count": 2}]), "{r}");
    assert_eq!(r["facets"]["price"], json!({"min": "1000.50", "max": "1030.50"}), "{r}");
    let r = search(&app, &t, "category=profiles&availability=in_stock").await;
    assert_eq!(r["total"], 6, "{r}");
    // The category facet counts without the category filter: PROFIL has no category.
    assert_eq!(r["facets"]["category"], json!([{"value": "profiles", "count": 6}]), "{r}");
    assert_eq!(r["facets"]["availability"], json!([{"value": "in_stock", "count": 6}]), "{r}");

    // Synonyms from the tenant setting apply once the index is next touched.
    let r = app
        .patch_json(&api(&t, "/admin/settings"), &json!({"search_synonyms": {"резинка": ["уплотнитель"]}}), Some(&s))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.patch_json(&api(&t, "/admin/products/PROFIL"), &json!({"price": "98.00"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    settle(&app, &t).await;
    let r = search(&app, &t, &format!("q={}", enc("резинка"))).await;
    assert_eq!(skus(&r), vec!["PROFIL"], "{r}");
    drop_indexes(&[&t]).await;
}

/// T14's end state: a rebuild holds exactly the database's live products at their prices, and
/// archiving removes a product from the index.
#[actix_web::test]
async fn a_rebuild_equals_the_database() {
    let Some(app) = app_or_skip("a_rebuild_equals_the_database").await else { return };
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    for i in 0..25 {
        let status = if i % 5 == 0 { "archived" } else { "active" };
        product(&app, &t, &s, json!({"sku": format!("R-{i}"), "name": format!("Рама {i}"), "price": format!("{}.25", 100 + i), "status": status})).await;
    }
    // No settle: the rebuild reads the database, not the queue.
    let n = app.state.search.reindex(&scope(&t)).await.expect("reindex");
    assert_eq!(n, 20);
    let all = search(&app, &t, "per_page=100&sort=price_asc").await;
    assert_eq!(all["total"], 20, "{all}");
    let want: Vec<(String, String)> =
        (0..25).filter(|i| i % 5 != 0).map(|i| (format!("R-{i}"), format!("{}.25", 100 + i))).collect();
    let have: Vec<(String, String)> = all["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| (i["sku"].as_str().unwrap_or("").to_owned(), i["price"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(have, want, "index ≠ database");
    assert_eq!(all["facets"]["price"], json!({"min": "101.25", "max": "124.25"}));
    // A second rebuild replaces, never duplicates; archiving goes through the queue.
    assert_eq!(app.state.search.reindex(&scope(&t)).await.expect("reindex"), 20);
    let r = app.patch_json(&api(&t, "/admin/products/R-1"), &json!({"status": "archived"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    settle(&app, &t).await;
    let all = search(&app, &t, "per_page=100").await;
    assert_eq!(all["total"], 19, "{all}");
    assert!(!skus(&all).contains(&"R-1".to_string()));
    drop_indexes(&[&t]).await;
}

/// T6 on Meilisearch: marker words, hidden (archived) products and filter-injection payloads;
/// each tenant's index is also asked directly.
#[actix_web::test]
async fn meilisearch_never_crosses_tenants_or_shows_hidden_products() {
    let Some(app) = app_or_skip("meilisearch_never_crosses_tenants_or_shows_hidden_products").await else { return };
    let a = app.new_tenant().await;
    let b = app.new_tenant().await;
    let (sa, sb) = (staff(&app, &a).await, staff(&app, &b).await);
    let ma = unique("alphamarker").to_lowercase();
    let mb = unique("betamarker").to_lowercase();
    let hidden = unique("hiddenmarker").to_lowercase();
    for (t, s, m) in [(&a, &sa, &ma), (&b, &sb, &mb)] {
        let r = app
            .post_json(&api(t, "/admin/attributes"), &json!({"code": "color", "name": "Цвет", "kind": "text"}), Some(s))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        product(&app, t, s, json!({"sku": format!("{m}-1"), "name": format!("Товар {m}"), "brand": format!("Brand{m}"), "price": "10", "attributes": {"color": m}})).await;
        product(&app, t, s, json!({"sku": format!("{m}-2"), "name": format!("Архив {m} {hidden}"), "brand": "Hidden", "price": "10", "status": "archived", "attributes": {"color": hidden}})).await;
        settle(&app, t).await;
    }
    let payloads = [
        r#"x" OR status = archived OR sku = ""#.to_string(),
        r#"\" OR 1=1"#.to_string(),
        r#"x" OR status = "archived"#.to_string(),
        format!(r#"Brand{ma}"] OR brand IN ["Brand{mb}"#),
        r#"") OR (status = "archived") OR ("#.to_string(),
        "Hidden".to_string(),
    ];
    let mut tried = 0;
    let mut hits_seen = 0;
    for (t, own, foreign) in [(&a, &ma, &mb), (&b, &mb, &ma)] {
        let mut paths = vec![
            format!("/search?q={foreign}"),
            format!("/search?q={hidden}"),
            format!("/search?q={}", enc(&format!("Brand{foreign}"))),
            format!("/search?brand={}", enc(&format!("Brand{foreign}"))),
            format!("/search?color={foreign}"),
            format!("/search?color={hidden}"),
            "/search?per_page=100".to_string(),
            "/search?availability=out_of_stock&per_page=100".to_string(),
            format!("/search/suggest?q={foreign}"),
        ];
        for p in &payloads {
            paths.push(format!("/search?brand={}", enc(p)));
            paths.push(format!("/search?color={}", enc(p)));
            paths.push(format!("/search?brand=Hidden&color={}&brand={}", enc(p), enc(p)));
            paths.push(format!("/search?q={}", enc(p)));
            paths.push(format!("/search?filters={}", enc(&format!("brand:{}", p.replace(',', " ")))));
        }
        for path in &paths {
            let r = app.get(&api(t, path), None).await;
            tried += 1;
            assert!(r.status.is_success() || r.status == 422, "{path}: {} {}", r.status, r.body);
            assert!(!r.body.contains(foreign.as_str()), "{path} leaked the other tenant: {}", r.body);
            assert!(!r.body.contains(hidden.as_str()), "{path} showed an archived product: {}", r.body);
            if r.status.is_success() {
                hits_seen += r.json()["items"].as_array().map_or(0, Vec::len);
            }
        }
        // Own products are found, by text and by the escaped-literal filters.
        let r = search(&app, t, &format!("q={own}")).await;
        assert_eq!(skus(&r), vec![format!("{own}-1")], "{r}");
        let r = search(&app, t, &format!("brand=Brand{own}&color={own}")).await;
        assert_eq!(skus(&r), vec![format!("{own}-1")], "{r}");
        // The index itself holds nothing foreign and nothing archived.
        assert!(direct_ids(t, foreign).await.is_empty());
        assert!(direct_ids(t, &hidden).await.is_empty());
        assert_eq!(direct_ids(t, own).await.len(), 1);
    }
    drop_indexes(&[&a, &b]).await;
    println!(
        "{{\"scenario\":\"T6\",\"engine\":\"meilisearch\",\"searches\":{tried},\"own_hits\":{hits_seen},\"foreign_hits\":0,\"hidden_exposed\":0,\"5xx\":0}}"
    );
}

/// Meilisearch unreachable: searches answer 503 "search is unavailable" and index jobs stay
/// queued for later (needs no server: the address is a closed port); a server that accepts
/// but never answers is a 503 after the search timeout, not a hung request.
#[actix_web::test]
async fn an_unreachable_meilisearch_falls_back_to_postgres_says_so_and_jobs_wait() {
    // A Meilisearch that accepts connections and never answers: the search waits its timeout
    // once, then PostgreSQL answers; later searches skip the dead server.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}", silent.local_addr().expect("addr"));
    let app = spawn_meili(&silent_url, Some("some-key")).await;
    let t = app.new_tenant().await;
    let started = std::time::Instant::now();
    let req = app.request(awc::http::Method::GET, &api(&t, "/search?q=x")).timeout(Duration::from_secs(20));
    let r = app.send(req, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["engine"], "postgres", "{}", r.body);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(8), "{took:?}");
    let started = std::time::Instant::now();
    let r = app.get(&api(&t, "/search?q=y"), None).await;
    assert_eq!((r.status.as_u16(), r.json()["engine"].clone()), (200, json!("postgres")), "{}", r.body);
    assert!(started.elapsed() < Duration::from_secs(2), "the dead server is not waited for again");
    drop(silent);

    // Connection refused: the product is found all the same, and the page says search is
    // simplified for now.
    let app = spawn_meili("http://127.0.0.1:9", None).await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    product(&app, &t, &s, json!({"sku": "D-1", "name": "Дверь", "price": "10"})).await;
    let started = std::time::Instant::now();
    let r = app.get(&api(&t, &format!("/search?q={}", enc("дверь"))), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(skus(&r.json()), vec!["D-1".to_owned()], "{}", r.body);
    assert_eq!(r.json()["engine"], "postgres");
    assert!(started.elapsed() < Duration::from_secs(10));
    let page = app.get(&format!("/s/{}/catalog?q={}", t.slug, enc("дверь")), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("D-1") || page.body.contains("Дверь"), "the product is listed");
    assert!(
        page.body.contains("упрощённом режиме") || page.body.contains("simplified mode"),
        "the page says search is degraded"
    );
    // The job fails and is retried later instead of being lost.
    let n = tradeport::jobs::worker::run_once(&app.state, Some(t.tenant.id)).await.expect("worker");
    assert!(n >= 1);
    let tid = t.tenant.id;
    let waiting: i64 = app
        .db(move |c| {
            use diesel::prelude::*;
            use tradeport::db::schema_platform::jobs;
            jobs::table
                .filter(jobs::tenant_id.eq(tid))
                .filter(jobs::kind.eq(tradeport::search::INDEX_JOB))
                .filter(jobs::last_error.is_not_null())
                .count()
                .get_result(c)
                .expect("jobs")
        })
        .await;
    assert_eq!(waiting, 1, "the index job waits for Meilisearch to come back");
}

/// Two Meilisearch instances (`MEILI_URL` and `MEILI_URL_2`, same key) given to the app as one
/// comma-separated `MEILI_URL`: each store's index is created, searched and rebuilt on the
/// instance its hash names, and never on the other.
#[actix_web::test]
async fn stores_are_spread_over_two_meilisearch_instances_by_hash() {
    let (Some((first, key)), Ok(second)) = (meili(), std::env::var("MEILI_URL_2")) else {
        println!("skipped stores_are_spread_over_two_meilisearch_instances_by_hash: MEILI_URL and MEILI_URL_2 are not both set");
        return;
    };
    let urls = [first.clone(), second.clone()];
    let app = spawn_meili(&format!("{first},{second}"), key.as_deref()).await;
    // Stores until each instance has one.
    let mut placed: [Option<TestTenant>; 2] = [None, None];
    for _ in 0..40 {
        let t = app.new_tenant().await;
        let i = tradeport::search::meili::shard(&scope(&t).index_uid(), 2);
        if placed[i].is_none() {
            placed[i] = Some(t);
        }
        if placed.iter().all(Option::is_some) {
            break;
        }
    }
    let [Some(a), Some(b)] = placed else { panic!("40 stores all hashed to one instance") };
    for (i, t) in [(0usize, &a), (1, &b)] {
        let s = staff(&app, t).await;
        let sku = format!("SH-{i}");
        product(&app, t, &s, json!({"sku": sku, "name": format!("Шпингалет {i}"), "price": "10.00", "stock": 3})).await;
        settle(&app, t).await;
        let found = search(&app, t, &format!("q={}", enc("шпингалет"))).await;
        assert_eq!(skus(&found), vec![sku.clone()], "{found}");
        assert_eq!(app.state.search.reindex(&scope(t)).await.expect("reindex"), 1);
        // The index is on instance i and not on the other one.
        let uid = scope(t).index_uid();
        for (j, url) in urls.iter().enumerate() {
            let client = meilisearch_sdk::client::Client::new(url.as_str(), key.clone()).expect("client");
            let stats = client.index(&uid).get_stats().await;
            assert_eq!(stats.is_ok(), i == j, "index {uid} on instance {j}: {stats:?}");
            if i == j {
                assert_eq!(stats.map(|s| s.number_of_documents).ok(), Some(1));
            }
        }
        let client = meilisearch_sdk::client::Client::new(urls[i].as_str(), key.clone()).expect("client");
        if let Ok(task) = client.delete_index(&uid).await {
            let _ = client.wait_for_task(task, None, None).await;
        }
    }
}
