//! The 1C catalog import on the real CommerceML samples (../shared/samples/commerceml):
//! each file alone and the import+offers pairs of one source into fresh stores, with counts
//! and values read from the files; importing the same package again changes no row.

use std::path::{Path, PathBuf};

use diesel::sql_types::Text;
use diesel::RunQueryDsl;
use tradeport::exchange::cml_import::import_file;
use tradeport::exchange::report::{Counts, ImportError, ImportReport};

use crate::helpers::{unique, TestApp, TestTenant};

pub fn sample_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/commerceml").join(name)
}

/// An empty exchange directory of a session.
pub fn files_dir() -> PathBuf {
    let d = std::env::temp_dir().join(unique("cml-files"));
    std::fs::create_dir_all(&d).expect("files dir");
    d
}

/// Imports `path` as 1C would name it `file_name`.
pub async fn import_as(
    app: &TestApp,
    t: &TestTenant,
    file_name: &str,
    path: &Path,
    dir: &Path,
) -> Result<ImportReport, ImportError> {
    import_file(&app.state, t.tenant.id, &t.tenant.schema, file_name, path, dir).await
}

pub async fn import(app: &TestApp, t: &TestTenant, sample: &str) -> ImportReport {
    let name = sample.splitn(3, "__").nth(2).unwrap_or(sample).to_owned();
    import_as(app, t, &name, &sample_path(sample), &files_dir()).await.unwrap_or_else(|e| panic!("{sample}: {e}"))
}

/// One text value (or "") from a query in the tenant's schema (`{s}` is the schema).
pub async fn scalar(app: &TestApp, t: &TestTenant, sql: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        v: Option<String>,
    }
    let sql = sql.replace("{s}", t.tenant.schema.as_str());
    app.db(move |c| {
        diesel::sql_query(format!("SELECT ({sql})::text AS v")).get_result::<V>(c).expect("query").v.unwrap_or_default()
    })
    .await
}

/// A checksum of every catalog table of the tenant, with `updated_at` and every other column.
pub async fn checksum(app: &TestApp, t: &TestTenant) -> String {
    let tables = [
        "products",
        "categories",
        "attributes",
        "product_prices",
        "stock",
        "warehouses",
        "price_types",
        "exchange_price_types",
        "product_barcodes",
        "product_images",
    ];
    let parts: Vec<String> = tables
        .iter()
        .map(|tb| format!("(SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM {{s}}.{tb} x)"))
        .collect();
    scalar(app, t, &parts.join(" || ")).await
}

fn c(created: u64, updated: u64, deleted: u64, unchanged: u64) -> Counts {
    Counts { created, updated, deleted, unchanged }
}

fn changes(r: &ImportReport) -> u64 {
    let t = r.total();
    t.created + t.updated + t.deleted
}

#[actix_web::test]
async fn every_catalog_sample_imports_alone_into_a_fresh_store() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let r = import(&app, &t, "carono__php-commerceml__import.xml").await;
    assert_eq!((r.kind.as_str(), r.schema_version.as_str()), ("catalog", "2.07"));
    assert_eq!(r.counts["products"], c(2, 0, 0, 0));
    assert_eq!(r.counts["categories"].created, 22);
    assert!(r.counts["attributes"].created > 0);
    assert!(r.warnings.iter().any(|w| w.contains("unit 715")), "{:?}", r.warnings);
    assert!(r.warnings.iter().any(|w| w.contains("import_files/") && w.contains("not among")), "{:?}", r.warnings);

    let t = app.new_tenant().await;
    let r = import(&app, &t, "carono__php-commerceml__offers.xml").await;
    assert_eq!(r.kind, "offers");
    assert_eq!(r.counts["warehouses"].created, 5);
    assert_eq!(r.counts["price_types"].created, 1);
    assert_eq!(r.warnings.iter().filter(|w| w.contains("no such product")).count(), 5);
    assert!(!r.counts.contains_key("prices") && !r.counts.contains_key("stock"));

    let t = app.new_tenant().await;
    let r = import(&app, &t, "dobromyslov__commerceml-parser__import0_1.xml").await;
    assert_eq!(r.counts["products"], c(36, 0, 0, 0));
    assert_eq!(scalar(&app, &t, "SELECT count(*) FROM {s}.products WHERE status = 'archived'").await, "1");

    let t = app.new_tenant().await;
    let r = import(&app, &t, "dobromyslov__commerceml-parser__offers0_1.xml").await;
    assert_eq!((r.counts["warehouses"].created, r.counts["price_types"].created), (3, 1));
    assert_eq!(r.warnings.iter().filter(|w| w.contains("no such product")).count(), 44);

    let t = app.new_tenant().await;
    let r = import(&app, &t, "irpsv__commerceml__off-doc-1c_import.xml").await;
    assert_eq!(r.counts["products"], c(2, 0, 0, 0), "two products made from their variants");
    assert_eq!(r.counts["variants"], c(4, 0, 0, 0));
    assert!(r.warnings.iter().any(|w| w.contains("VAT 18")), "{:?}", r.warnings);

    let t = app.new_tenant().await;
    let r = import(&app, &t, "irpsv__commerceml__off-doc-1c_offers.xml").await;
    assert_eq!(r.counts["price_types"].created, 4);
    assert_eq!(r.warnings.iter().filter(|w| w.contains("no such product")).count(), 2);

    let t = app.new_tenant().await;
    let r = import(&app, &t, "gillbeits__commerceml__rests___1af6e7b8.xml").await;
    assert_eq!((r.kind.as_str(), r.schema_version.as_str()), ("rests", "2.09"));
    assert!(r.warnings.len() > 400, "every rest is for a product this store lacks");
    assert_eq!(scalar(&app, &t, "SELECT count(*) FROM {s}.stock").await, "0");
}

#[actix_web::test]
async fn carono_catalog_then_offers_gives_variants_prices_and_stock() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    import(&app, &t, "carono__php-commerceml__import.xml").await;
    let r = import(&app, &t, "carono__php-commerceml__offers.xml").await;
    assert_eq!(r.counts["variants"], c(5, 0, 0, 0));
    assert_eq!(r.counts["prices"], c(0, 5, 0, 0), "the base price of each variant");
    assert_eq!(r.counts["stock"], c(5, 0, 0, 0));
    let boots = "bd72d910-55bc-11d9-848a-00112f43529a";
    let row = scalar(
        &app,
        &t,
        &format!("SELECT sku || '|' || name || '|' || unit || '|' || status FROM {{s}}.products WHERE external_id = '{boots}'"),
    )
    .await;
    assert_eq!(row, "Б-130001|Женские ботфорты коричневые|pcs|active");
    assert_eq!(
        scalar(&app, &t, &format!("SELECT b.barcode FROM {{s}}.product_barcodes b JOIN {{s}}.products p ON p.id = b.product_id WHERE p.external_id = '{boots}'")).await,
        "2000018987155"
    );
    let variant = format!("{boots}#90c55447-d3a8-11e4-9423-e0cb4ed5eed4");
    let v = scalar(
        &app,
        &t,
        &format!(
            "SELECT v.sku || '|' || v.price || '|' || v.variant_label || '|' || (v.parent_id = p.id) || '|' || v.name \
             FROM {{s}}.products v, {{s}}.products p WHERE v.external_id = '{variant}' AND p.external_id = '{boots}'"
        ),
    )
    .await;
    assert_eq!(
        v,
        "Б-130001-40-натуральная-кожа-Коричневый|1719.00|Размер: 40; Тип кожи: натуральная кожа; Цвет: Коричневый|true|\
         Женские ботфорты коричневые (38)"
    );
    let stock = scalar(
        &app,
        &t,
        &format!(
            "SELECT s.quantity FROM {{s}}.stock s JOIN {{s}}.products p ON p.id = s.product_id \
             JOIN {{s}}.warehouses w ON w.id = s.warehouse_id \
             WHERE p.external_id = '{variant}' AND w.external_id = 'b6112590-41ba-11dd-ac9d-0015e9b8c48d'"
        ),
    )
    .await;
    assert_eq!(stock, "20.000");
    assert_eq!(
        scalar(&app, &t, &format!("SELECT stock_available FROM {{s}}.products WHERE external_id = '{variant}'")).await,
        "20.000"
    );
    let queued = scalar(&app, &t, "SELECT count(*) FROM public.jobs WHERE queue = 'search' AND tenant_id = (SELECT id FROM public.tenants WHERE schema_name = '{s}')").await;
    assert!(queued.parse::<i64>().unwrap_or(0) > 0, "changed products are queued for the search index");

    // The same package again: no row changes, every count says unchanged.
    let before = checksum(&app, &t).await;
    let jobs_sql =
        "SELECT count(*) FROM public.jobs WHERE tenant_id = (SELECT id FROM public.tenants WHERE schema_name = '{s}')";
    let jobs = scalar(&app, &t, jobs_sql).await;
    let again = import(&app, &t, "carono__php-commerceml__import.xml").await;
    let again_offers = import(&app, &t, "carono__php-commerceml__offers.xml").await;
    assert_eq!((changes(&again), changes(&again_offers)), (0, 0), "{again:?} {again_offers:?}");
    assert_eq!(again.counts["products"].unchanged, 2);
    assert_eq!(again_offers.counts["variants"].unchanged, 5);
    assert_eq!(checksum(&app, &t).await, before);
    assert_eq!(scalar(&app, &t, jobs_sql).await, jobs, "nothing re-indexed");
}

#[actix_web::test]
async fn dobromyslov_pair_prices_stock_per_warehouse_and_deletion_marks() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    import(&app, &t, "dobromyslov__commerceml-parser__import0_1.xml").await;
    let r = import(&app, &t, "dobromyslov__commerceml-parser__offers0_1.xml").await;
    assert_eq!(r.counts["prices"], c(0, 36, 0, 0));
    assert_eq!(r.counts["stock"].created, 108);
    assert_eq!(r.warnings.iter().filter(|w| w.contains("no such product")).count(), 8);
    let p = "bd8c4e15-18f9-11e7-80c2-0cc47ab29cd1";
    let row = scalar(&app, &t, &format!("SELECT sku || '|' || price || '|' || vat_rate || '|' || stock_available FROM {{s}}.products WHERE external_id = '{p}'")).await;
    assert_eq!(row, "PM-421-WP|100.00|20|377.000");
    let moscow = scalar(
        &app,
        &t,
        &format!(
            "SELECT s.quantity FROM {{s}}.stock s JOIN {{s}}.products p ON p.id = s.product_id \
             JOIN {{s}}.warehouses w ON w.id = s.warehouse_id WHERE p.external_id = '{p}' AND w.name = 'Москва'"
        ),
    )
    .await;
    assert_eq!(moscow, "376.000");
    assert_eq!(
        scalar(&app, &t, "SELECT m.price_type FROM {s}.exchange_price_types m WHERE m.external_id = '279b6812-740b-11e8-80c8-0cc47ab29cd1'").await,
        "base",
        "the first price type of the first package fills the catalog price"
    );
    let before = checksum(&app, &t).await;
    import(&app, &t, "dobromyslov__commerceml-parser__import0_1.xml").await;
    let again = import(&app, &t, "dobromyslov__commerceml-parser__offers0_1.xml").await;
    assert_eq!(changes(&again), 0);
    assert_eq!(checksum(&app, &t).await, before);
}

#[actix_web::test]
async fn irpsv_catalog_variants_and_prices_in_the_store_currency_only() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    import(&app, &t, "irpsv__commerceml__off-doc-1c_import.xml").await;
    let r = import(&app, &t, "irpsv__commerceml__off-doc-1c_offers.xml").await;
    assert_eq!(r.warnings.iter().filter(|w| w.contains("price in USD")).count(), 6, "{:?}", r.warnings);
    let white = "05e26d70-01e4-11dc-a411-00055d80a2d1#05e26d76-01e4-11dc-a411-00055d80a2d1";
    let row = scalar(
        &app,
        &t,
        &format!("SELECT v.variant_label || '|' || v.vat_rate || '|' || v.price || '|' || p.name || '|' || v.stock_available FROM {{s}}.products v JOIN {{s}}.products p ON p.id = v.parent_id WHERE v.external_id = '{white}'"),
    )
    .await;
    assert_eq!(row, "Цвет: Белый|20|7.00|Стол обеденный|0.000", "Розничная (руб) is the base price");
    assert_eq!(scalar(&app, &t, "SELECT count(*) FROM {s}.products WHERE parent_id IS NOT NULL").await, "4");
    assert_eq!(scalar(&app, &t, "SELECT count(*) FROM {s}.price_types").await, "4", "base and three new types");
}
