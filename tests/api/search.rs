//! The search contract: what any engine must do (the PostgreSQL engine runs it here; the
//! Meilisearch engine runs the same [`contract`] in `search_meili.rs` when `MEILI_URL` is set),
//! plus the marketplace search and search isolation between tenants (T6).

use serde_json::{json, Value};

use crate::catalog::{api, product, staff};
use crate::helpers::{unique, TestApp, TestTenant};

/// Lets the engine catch up: runs the tenant's pending index jobs.
pub async fn settle(app: &TestApp, t: &TestTenant) {
    for _ in 0..50 {
        let n = tradeport::jobs::worker::run_once(&app.state, Some(t.tenant.id)).await.expect("jobs");
        if n == 0 {
            return;
        }
    }
    panic!("the job queue did not drain");
}

async fn search(app: &TestApp, t: &TestTenant, query: &str) -> Value {
    let r = app.get(&api(t, &format!("/search?{query}")), None).await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.json()
}

fn skus(v: &Value) -> Vec<String> {
    v["items"].as_array().into_iter().flatten().filter_map(|i| i["sku"].as_str().map(str::to_owned)).collect()
}

fn enc(s: &str) -> String {
    tradeport::search::marketplace::urlencode(s)
}

/// Seeds a small windows catalog in a fresh tenant and checks the behaviour every engine owes.
pub async fn contract(app: &TestApp) {
    let t = app.new_tenant().await;
    let s = staff(app, &t).await;
    for (code, name) in [("profiles", "Профили"), ("glass", "Стеклопакеты"), ("fittings", "Фурнитура")]
    {
        let r = app.post_json(&api(&t, "/admin/categories"), &json!({"code": code, "name": name}), Some(&s)).await;
        assert_eq!(r.status, 201);
    }
    let r = app
        .post_json(
            &api(&t, "/admin/attributes"),
            &json!({"code": "color", "name": "Цвет", "kind": "list", "options": ["белый", "коричневый"]}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let items = [
        json!({"sku": "RH-70", "name": "Профиль оконный Rehau Grazio 70 мм", "brand": "Rehau", "category": "profiles", "price": "1250.00", "stock": "40", "attributes": {"color": "белый"}, "barcodes": ["4600000000017"]}),
        json!({"sku": "RH-70-BR", "name": "Профиль оконный Rehau Grazio 70 мм коричневый", "brand": "Rehau", "category": "profiles", "price": "1490.00", "stock": "0", "attributes": {"color": "коричневый"}}),
        json!({"sku": "VEKA-58", "name": "Профиль Veka Euroline 58", "brand": "Veka", "category": "profiles", "price": "990.00", "stock": "12", "attributes": {"color": "белый"}}),
        json!({"sku": "SP-24", "name": "Стеклопакет двухкамерный 24 мм", "brand": "Glass Pro", "category": "glass", "price": "3100.00", "stock": "5"}),
        json!({"sku": "RU-1", "name": "Ручка оконная Hoppe Secustik", "name_en": "Window handle Hoppe Secustik", "brand": "Hoppe", "category": "fittings", "price": "450.00", "stock": "300"}),
        json!({"sku": "NEW-90", "name": "Профиль Rehau Synego 90 мм", "brand": "Rehau", "category": "profiles", "price": "2100.00", "status": "upcoming", "available_from": "2099-02-01"}),
        json!({"sku": "OLD-1", "name": "Профиль снятый с производства", "brand": "Rehau", "category": "profiles", "price": "10.00", "status": "archived"}),
        json!({"sku": "RH", "name": "Подоконник", "brand": "Moeller", "category": "fittings", "price": "700.00", "stock": "3"}),
    ];
    for p in items {
        product(app, &t, &s, p).await;
    }
    settle(app, &t).await;

    // Russian morphology and typos: "профили" and a misspelt "профль" find the profiles.
    let r = search(app, &t, &format!("q={}", enc("профили"))).await;
    assert!(skus(&r).contains(&"VEKA-58".to_string()), "{r}");
    let r = search(app, &t, &format!("q={}", enc("профль"))).await;
    assert!(skus(&r).contains(&"RH-70".to_string()) && skus(&r).contains(&"VEKA-58".to_string()), "typo: {r}");
    let r = search(app, &t, &format!("q={}", enc("стеклопокет"))).await;
    assert_eq!(skus(&r).first().map(String::as_str), Some("SP-24"), "typo: {r}");
    // English names are searched too.
    let r = search(app, &t, "q=handle").await;
    assert_eq!(skus(&r), vec!["RU-1"], "{r}");
    // An exact SKU comes first, a barcode finds its product, a SKU prefix finds the family.
    let r = search(app, &t, "q=RH").await;
    assert_eq!(skus(&r).first().map(String::as_str), Some("RH"), "{r}");
    let r = search(app, &t, "q=4600000000017").await;
    assert_eq!(skus(&r), vec!["RH-70"], "{r}");
    let r = search(app, &t, "q=rh-70").await;
    assert_eq!(skus(&r).first().map(String::as_str), Some("RH-70"), "{r}");
    // Archived products never show; upcoming ones do, marked.
    let r = search(app, &t, &format!("q={}", enc("профиль"))).await;
    assert!(!skus(&r).contains(&"OLD-1".to_string()), "{r}");
    assert!(skus(&r).contains(&"NEW-90".to_string()), "{r}");
    // Facets and filters.
    let r = search(app, &t, "category=profiles").await;
    assert_eq!(r["total"], 4, "{r}");
    let brands = &r["facets"]["brand"];
    assert!(brands.as_array().is_some_and(|b| b.iter().any(|f| f["value"] == "Veka" && f["count"] == 1)), "{r}");
    assert!(
        r["facets"]["attributes"]["color"]
            .as_array()
            .is_some_and(|a| a.iter().any(|f| f["value"] == "белый" && f["count"] == 2)),
        "{r}"
    );
    let r = search(app, &t, &format!("category=profiles&brand=Rehau&color={}", enc("белый"))).await;
    assert_eq!(skus(&r), vec!["RH-70"], "{r}");
    let r = search(app, &t, &format!("filters={}", enc("brand:Rehau,availability:in_stock"))).await;
    assert_eq!(skus(&r), vec!["RH-70"], "{r}");
    let r = search(app, &t, "availability=upcoming").await;
    assert_eq!(skus(&r), vec!["NEW-90"], "{r}");
    let r = search(app, &t, "price_min=1000&price_max=2000&sort=price_desc").await;
    assert_eq!(skus(&r), vec!["RH-70-BR", "RH-70"], "{r}");
    let r = search(app, &t, "sort=price_asc&per_page=2").await;
    assert_eq!((skus(&r), r["total"].as_i64()), (vec!["RU-1".to_string(), "RH".to_string()], Some(7)), "{r}");
    let r = search(app, &t, "sort=newest&per_page=1").await;
    assert_eq!(skus(&r), vec!["RH"], "{r}");
    assert!(r["facets"]["price"]["min"].is_string());
    // Hostile input: answered with a clear error or an honest empty result, never foreign rows.
    for q in [
        "' OR 1=1 --",
        "\" OR status = archived OR sku = \"",
        "RH' ; DROP TABLE products; --",
        "status:archived",
        "%",
        "_",
        "\\",
        "профиль) | (!",
    ] {
        let r = search(app, &t, &format!("q={}", enc(q))).await;
        assert!(!skus(&r).contains(&"OLD-1".to_string()), "{q}: {r}");
    }
    for bad in [
        format!("q={}", enc(&"я".repeat(10_000))),
        format!("filters={}", enc("status:archived")),
        format!("brand={}&{}=1", "x", enc("status = archived OR 1")),
        "sort=id%3B%20DROP".to_string(),
        "price_min=-1".to_string(),
    ] {
        let r = app.get(&api(&t, &format!("/search?{bad}")), None).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
    }
    let r = app.get(&api(&t, "/search?category=nope"), None).await;
    assert_eq!(r.status, 404);
    // Changes reach the index: a renamed product is found by its new name only.
    let r = app
        .patch_json(&api(&t, "/admin/products/SP-24"), &json!({"name": "Стеклопакет энергосберегающий"}), Some(&s))
        .await;
    assert_eq!(r.status, 200);
    settle(app, &t).await;
    let r = search(app, &t, &format!("q={}", enc("энергосберегающий"))).await;
    assert_eq!(skus(&r), vec!["SP-24"], "{r}");
    let r = search(app, &t, &format!("q={}", enc("двухкамерный"))).await;
    assert!(skus(&r).is_empty(), "{r}");
}

#[actix_web::test]
async fn the_postgres_engine_passes_the_search_contract() {
    let app = TestApp::spawn().await;
    contract(&app).await;
}

#[actix_web::test]
async fn suggestions_and_prices_in_results_are_the_searchers_own() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    product(&app, &t, &s, json!({"sku": "TK-1", "name": "Ткань хлопковая бязь", "price": "300.00", "stock": "100"}))
        .await;
    let r = app.get(&api(&t, &format!("/search/suggest?q={}", enc("бяз"))), None).await.json();
    assert_eq!(r["items"][0]["sku"], "TK-1", "{r}");
    assert!(r["items"][0]["url"].as_str().is_some_and(|u| u.ends_with("/products/TK-1")));
    let (b, co) = crate::catalog::buyer(&app, &t, crate::identity::INNS[3]).await;
    app.patch_json(&api(&t, &format!("/admin/customers/{co}")), &json!({"discount_percent": "10"}), Some(&s)).await;
    let r = app.get(&api(&t, &format!("/search?q={}", enc("ткань"))), Some(&b)).await.json();
    assert_eq!(r["items"][0]["price"], "270.00", "{r}");
    let r = app.get(&api(&t, &format!("/search?q={}", enc("ткань"))), None).await.json();
    assert_eq!(r["items"][0]["price"], "300.00", "{r}");
}

/// T6: marker words of one tenant never show in another's search, facets or suggestions, and
/// the marketplace lists only open, listed, active stores' non-archived products.
#[actix_web::test]
async fn search_never_crosses_tenants() {
    let app = TestApp::spawn().await;
    let a = app.new_tenant().await;
    let b = app.new_tenant().await;
    let closed = app.new_tenant_with(|r| r.mode = Some("closed".into())).await;
    let (sa, sb, sc) = (staff(&app, &a).await, staff(&app, &b).await, staff(&app, &closed).await);
    let ma = unique("alphamarker").to_lowercase();
    let mb = unique("betamarker").to_lowercase();
    let mc = unique("closedmarker").to_lowercase();
    product(
        &app,
        &a,
        &sa,
        json!({"sku": "A-1", "name": format!("Товар {ma}"), "brand": format!("Brand{ma}"), "price": "1"}),
    )
    .await;
    product(&app, &a, &sa, json!({"sku": "A-2", "name": format!("Архив {ma}"), "price": "1", "status": "archived"}))
        .await;
    product(&app, &b, &sb, json!({"sku": "B-1", "name": format!("Товар {mb}"), "price": "1"})).await;
    product(&app, &closed, &sc, json!({"sku": "C-1", "name": format!("Товар {mc}"), "price": "1"})).await;
    let mut tried = 0;
    for (t, own, foreign) in [(&a, &ma, &mb), (&b, &mb, &ma)] {
        for path in [
            format!("/search?q={foreign}"),
            format!("/search?q={own}"),
            format!("/products?q={foreign}"),
            format!("/search/suggest?q={foreign}"),
            format!("/search?brand=Brand{foreign}"),
            "/search".to_string(),
        ] {
            let r = app.get(&api(t, &path), None).await;
            tried += 1;
            assert_eq!(r.status, 200, "{path}");
            assert!(!r.body.contains(foreign.as_str()), "{path} leaked: {}", r.body);
        }
        let r = app.get(&api(t, &format!("/search?q={own}")), None).await;
        assert!(r.body.contains(own.as_str()));
    }
    // The marketplace: A and B are open; the closed store and archived products stay out.
    let r = app.get(&format!("/api/v1/marketplace/search?q={ma}"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.json()["items"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
    assert_eq!(items[0]["store_slug"], a.slug.as_str());
    let r = app.get(&format!("/api/v1/marketplace/search?q={mc}"), None).await;
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(0), "closed stores are not listed: {}", r.body);
    // Switching marketplace listing off hides the store at once.
    let op = app.operator_token().await;
    let r = app
        .patch_json(
            &format!("/api/v1/platform/tenants/{}", a.slug),
            &json!({"features": {"marketplace_listing": false}}),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.get(&format!("/api/v1/marketplace/search?q={ma}"), None).await;
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(0), "{}", r.body);
    println!("{{\"scenario\":\"T6\",\"engine\":\"postgres\",\"searches\":{tried},\"foreign_hits\":0}}");
}

/// The index update is written in the transaction of the change: a rolled-back change leaves
/// no job (no phantom update) and a committed one always leaves one (no lost update).
#[actix_web::test]
async fn index_jobs_exist_exactly_for_committed_changes() {
    use tradeport::catalog::products::{parse_row, save, Mode, Refs, Row};
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (schema, id) = (t.tenant.schema.clone(), t.tenant.id);
    let pending = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            actix_web::web::block(move || {
                let mut c = pool.get().expect("conn");
                tradeport::jobs::pending(&mut c, Some(id)).expect("pending")
            })
            .await
            .expect("block")
        }
    };
    settle(&app, &t).await;
    assert_eq!(pending(&app).await, 0);
    let row = |sku: &str| -> Row {
        [("sku", sku), ("name", "Товар"), ("price", "1")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let (s1, r1) = (schema.clone(), row("ROLLED-1"));
    let rolled: Result<(), tradeport::error::AppError> = app
        .db(move |c| {
            tradeport::db::in_tenant(c, &s1, |c| {
                let refs = Refs::load(c)?;
                let d = parse_row(&r1, &refs).map_err(tradeport::error::AppError::Validation)?;
                save(c, id, &d, Mode::Create, None)?;
                Err(tradeport::error::AppError::BadRequest("the user cancelled".into()))
            })
        })
        .await;
    assert!(rolled.is_err());
    assert_eq!(pending(&app).await, 0, "no job for a rolled-back change");
    let (s2, r2) = (schema.clone(), row("KEPT-1"));
    app.db(move |c| {
        tradeport::db::in_tenant(c, &s2, |c| {
            let refs = Refs::load(c)?;
            let d = parse_row(&r2, &refs).map_err(tradeport::error::AppError::Validation)?;
            save(c, id, &d, Mode::Create, None).map(|_| ())
        })
        .expect("saved")
    })
    .await;
    assert_eq!(pending(&app).await, 1, "one job for the committed change");
    settle(&app, &t).await;
    assert_eq!(pending(&app).await, 0);
}
