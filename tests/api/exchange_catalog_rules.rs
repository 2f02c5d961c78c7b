//! The rules of the 1C catalog import on small files: incremental after full, a full package
//! archives what it no longer lists (or keeps it, per setting), refused files change nothing
//! (here or in another store), reservations survive a lower stock from 1C, images are stored
//! once, and staff map 1C price types through the API and the page.

use std::path::Path;

use serde_json::json;
use tradeport::exchange::report::ImportError;

use crate::catalog::{api, staff};
use crate::exchange_catalog::{checksum, files_dir, import, import_as, scalar};
use crate::helpers::{TestApp, TestTenant};

fn catalog_xml(only_changes: bool, items: &[(&str, &str, &str)]) -> String {
    let goods: String = items
        .iter()
        .map(|(id, art, name)| {
            format!(
                "<Товар><Ид>{id}</Ид><Артикул>{art}</Артикул><Наименование>{name}</Наименование>\
                 <БазоваяЕдиница Код=\"166\">кг</БазоваяЕдиница><Группы><Ид>g1</Ид></Группы>\
                 <СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование><Ставка>10</Ставка></СтавкаНалога></СтавкиНалогов>\
                 <Картинка>import_files/{id}.png</Картинка></Товар>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.07\">\
         <Классификатор><Ид>k</Ид><Группы><Группа><Ид>g1</Ид><Наименование>Крупы</Наименование></Группа></Группы></Классификатор>\
         <Каталог СодержитТолькоИзменения=\"{only_changes}\"><Ид>cat1</Ид><ИдКлассификатора>k</ИдКлассификатора>\
         <Товары>{goods}</Товары></Каталог></КоммерческаяИнформация>"
    )
}

fn offers_xml(items: &[(&str, &str, &str)]) -> String {
    let offers: String = items
        .iter()
        .map(|(id, price, qty)| {
            format!(
                "<Предложение><Ид>{id}</Ид><Цены><Цена><ИдТипаЦены>opt</ИдТипаЦены><ЦенаЗаЕдиницу>{price}</ЦенаЗаЕдиницу>\
                 <Валюта>руб</Валюта><Коэффициент>1</Коэффициент></Цена></Цены><Количество>{qty}</Количество></Предложение>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><КоммерческаяИнформация ВерсияСхемы=\"2.07\"><ПакетПредложений>\
         <Ид>p</Ид><ТипыЦен><ТипЦены><Ид>opt</Ид><Наименование>Оптовая</Наименование><Валюта>RUB</Валюта></ТипЦены></ТипыЦен>\
         <Предложения>{offers}</Предложения></ПакетПредложений></КоммерческаяИнформация>"
    )
}

async fn import_text(
    app: &TestApp,
    t: &TestTenant,
    name: &str,
    xml: &str,
    dir: &Path,
) -> Result<tradeport::exchange::report::ImportReport, ImportError> {
    let path = dir.join(format!("upload-{name}"));
    std::fs::write(&path, xml).expect("write");
    import_as(app, t, name, &path, dir).await
}

async fn status_of(app: &TestApp, t: &TestTenant, id: &str) -> String {
    scalar(app, t, &format!("SELECT status FROM {{s}}.products WHERE external_id = '{id}'")).await
}

async fn put(app: &TestApp, path: &str, token: &str, body: serde_json::Value) -> crate::helpers::Resp {
    app.json_request(awc::http::Method::PUT, path, &body, Some(token)).await
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(40, 30, image::Rgb([10, 200, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}

#[actix_web::test]
async fn incremental_after_full_and_full_packages_archive_the_absent() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let dir = files_dir();
    std::fs::create_dir_all(dir.join("import_files")).expect("dir");
    std::fs::write(dir.join("import_files/a.png"), png()).expect("png");
    let full = catalog_xml(false, &[("a", "A-1", "Гречка"), ("b", "B-1", "Рис")]);
    let r = import_text(&app, &t, "import.xml", &full, &dir).await.expect("full");
    assert_eq!(r.counts["products"].created, 2);
    assert_eq!(r.counts["images"].created, 1);
    assert!(r.warnings.iter().any(|w| w.contains("import_files/b.png")), "{:?}", r.warnings);
    let row = scalar(&app, &t, "SELECT unit || '|' || vat_rate || '|' || c.name FROM {s}.products p JOIN {s}.categories c ON c.id = p.category_id WHERE p.sku = 'A-1'").await;
    assert_eq!(row, "kg|10|Крупы");
    let stored = std::fs::read_dir(app.state.settings.server.media_dir.join(t.tenant.schema.as_str()).join("images"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(stored, 1);

    // Incremental: b renamed, c added, a untouched (not archived although absent).
    let inc = catalog_xml(true, &[("b", "B-1", "Рис круглый"), ("c", "C-1", "Пшено")]);
    let r = import_text(&app, &t, "import.xml", &inc, &dir).await.expect("incremental");
    assert_eq!((r.counts["products"].created, r.counts["products"].updated, r.counts["products"].deleted), (1, 1, 0));
    assert_eq!(status_of(&app, &t, "a").await, "active");
    assert_eq!(scalar(&app, &t, "SELECT name FROM {s}.products WHERE external_id = 'b'").await, "Рис круглый");

    // A full package with c only archives a and b; a product made by hand is left alone.
    let s = staff(&app, &t).await;
    crate::catalog::product(&app, &t, &s, json!({"sku": "HAND-1", "name": "Своё", "price": "5.00"})).await;
    let r =
        import_text(&app, &t, "import.xml", &catalog_xml(false, &[("c", "C-1", "Пшено")]), &dir).await.expect("full 2");
    assert_eq!(r.counts["products"].deleted, 2);
    assert_eq!(
        (status_of(&app, &t, "a").await, status_of(&app, &t, "b").await),
        ("archived".into(), "archived".into())
    );
    assert_eq!(scalar(&app, &t, "SELECT status FROM {s}.products WHERE sku = 'HAND-1'").await, "active");

    // Listed again: active again, the stored image reused (no new file).
    let r = import_text(&app, &t, "import.xml", &full, &dir).await.expect("full 3");
    assert_eq!(status_of(&app, &t, "a").await, "active");
    assert_eq!(r.counts["images"].created, 0);
    let stored = std::fs::read_dir(app.state.settings.server.media_dir.join(t.tenant.schema.as_str()).join("images"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(stored, 1);

    // With the store set to keep them, a full package archives nothing.
    let r = app
        .json_request(
            awc::http::Method::PUT,
            &api(&t, "/admin/exchange-1c/price-types"),
            &json!({"absent_products": "keep"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r =
        import_text(&app, &t, "import.xml", &catalog_xml(false, &[("c", "C-1", "Пшено")]), &dir).await.expect("full 4");
    assert_eq!(r.counts.get("products").map_or(0, |c| c.deleted), 0);
    assert_eq!(status_of(&app, &t, "a").await, "active");
}

#[actix_web::test]
async fn refused_files_change_nothing_here_or_in_another_store() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    import(&app, &other, "dobromyslov__commerceml-parser__import0_1.xml").await;
    let other_before = checksum(&app, &other).await;
    import(&app, &t, "carono__php-commerceml__import.xml").await;
    let before = checksum(&app, &t).await;
    let dir = files_dir();
    let broken = catalog_xml(false, &[("a", "A-1", "Гречка")]).replace("</Товары>", "</Товар>");
    let dtd = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\
               <КоммерческаяИнформация ВерсияСхемы=\"2.07\"><Каталог><Ид>c</Ид><Товары><Товар><Ид>x</Ид>\
               <Наименование>&e;</Наименование></Товар></Товары></Каталог></КоммерческаяИнформация>";
    let orders =
        std::fs::read_to_string(crate::exchange_catalog::sample_path("irpsv__commerceml__off-doc-1c_orders.xml"))
            .expect("orders");
    for (name, body) in [
        ("import.xml", broken.as_str()),
        ("import.xml", dtd),
        ("offers.xml", "not xml at all"),
        ("import.xml", orders.as_str()),
    ] {
        match import_text(&app, &t, name, body, &dir).await {
            Err(ImportError::Refused(msg)) => assert!(!msg.is_empty()),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(checksum(&app, &t).await, before);
    assert_eq!(checksum(&app, &other).await, other_before);
}

#[actix_web::test]
async fn reservations_survive_a_lower_stock_from_1c() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let dir = files_dir();
    import_text(&app, &t, "import.xml", &catalog_xml(false, &[("a", "A-1", "Гречка")]), &dir).await.expect("catalog");
    let r = import_text(&app, &t, "offers.xml", &offers_xml(&[("a", "120.50", "10")]), &dir).await.expect("offers");
    assert_eq!(r.counts["stock"].created, 1);
    assert_eq!(scalar(&app, &t, "SELECT price FROM {s}.products WHERE external_id = 'a'").await, "120.50");
    let schema = t.tenant.schema.as_str().to_owned();
    app.db(move |c| {
        diesel::RunQueryDsl::execute(diesel::sql_query(format!("UPDATE {schema}.stock SET reserved = 6")), c)
            .expect("reserve")
    })
    .await;
    let r = import_text(&app, &t, "offers.xml", &offers_xml(&[("a", "120.50", "4")]), &dir).await.expect("offers 2");
    assert!(r.warnings.iter().any(|w| w.contains("below the 6.000 reserved")), "{:?}", r.warnings);
    assert_eq!(scalar(&app, &t, "SELECT quantity || '/' || reserved FROM {s}.stock").await, "6.000/6.000");
    let r = import_text(&app, &t, "offers.xml", &offers_xml(&[("a", "99", "15")]), &dir).await.expect("offers 3");
    assert_eq!((r.counts["stock"].updated, r.counts["prices"].updated), (1, 1));
    assert_eq!(scalar(&app, &t, "SELECT stock_available FROM {s}.products WHERE external_id = 'a'").await, "9.000");
}

#[actix_web::test]
async fn staff_map_1c_price_types_through_the_api_and_the_page() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    import(&app, &t, "irpsv__commerceml__off-doc-1c_import.xml").await;
    import(&app, &t, "irpsv__commerceml__off-doc-1c_offers.xml").await;
    let path = api(&t, "/admin/exchange-1c/price-types");
    let r = app.get(&path, Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["items"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["absent_products"], "archive");
    let retail = "cbcf493b-55bc-11d9-848a-00112f43529a";
    let wholesale = "cbcf495d-55bc-11d9-848a-00112f43529a";
    let wholesale_code = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["external_id"] == wholesale)
        .map(|i| i["price_type"].clone())
        .expect("wholesale");

    // Bad: an unknown price type, and base taken by a type not in the list → 422, nothing stored.
    let r = put(&app, &path, &s, json!([{"external_id": retail, "price_type": "nope"}])).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"]["fields"]["items[0].price_type"].is_string(), "{}", r.body);
    let r = put(&app, &path, &s, json!([{"external_id": wholesale, "price_type": "base"}])).await;
    assert_eq!(r.status, 422, "{}", r.body);
    // Swap: wholesale fills the base price, retail its own type.
    let r = put(&app, &path, &s, json!([{"external_id": wholesale, "price_type": "base"}, {"external_id": retail, "price_type": wholesale_code}])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let items = r.json()["items"].clone();
    let of = |id: &str| {
        items
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["external_id"] == id)
            .map(|i| (i["price_type"].clone(), i["set_by_staff"].clone()))
    };
    assert_eq!(of(wholesale), Some((json!("base"), json!(true))));
    // A buyer may not.
    let (buyer, _) = crate::catalog::buyer(&app, &t, "7707083893").await;
    assert_eq!(app.get(&path, Some(&buyer)).await.status, 403);

    // The page lists the 1C types with a choice of ours.
    let mut b = crate::helpers::Browser::new(&app);
    b.get(&format!("/s/{}/login", t.slug)).await;
    let login = b
        .post(
            &format!("/s/{}/login", t.slug),
            &[("email", &t.admin_email), ("password", crate::helpers::TEST_PASSWORD)],
        )
        .await;
    assert_eq!(login.status, 303, "{}", login.body);
    let page = b.get(&format!("/s/{}/admin/exchange/price-types", t.slug)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Розничная") && page.body.contains("name=\"type_3\""), "{}", page.body);
}
