//! The supplier's catalog back office as staff use it in a browser: sign in, add a category
//! and a product through the forms, find it in the list, fix a bad price, attach an image,
//! import a spreadsheet; buyers are kept out.

use awc::http::Method;

use crate::helpers::{Browser, Resp, TestApp, TestTenant, TEST_PASSWORD};
use crate::identity::{register, INNS};

/// Signs in through the store's login form and lands on the product list.
async fn staff_browser<'a>(app: &'a TestApp, t: &TestTenant) -> Browser<'a> {
    let mut b = Browser::new(app);
    let list = format!("/s/{}/admin/products", t.slug);
    let r = b.get(&list).await;
    assert_eq!(r.status, 303, "anonymous visitors are sent to sign in");
    assert!(r.header("location").unwrap_or_default().contains("/login?next="), "{:?}", r.header("location"));
    b.get(&format!("/s/{}/login", t.slug)).await;
    let r = b
        .post(
            &format!("/s/{}/login", t.slug),
            &[("email", &t.admin_email), ("password", TEST_PASSWORD), ("next", &list)],
        )
        .await;
    assert_eq!(r.header("location"), Some(list.clone()), "{}", r.body);
    b
}

/// A multipart form post, the CSRF token in the action URL as the page's form sends it.
pub async fn post_multipart(
    b: &Browser<'_>,
    path: &str,
    files: &[(&str, &str, &[u8])],
    texts: &[(&str, &str)],
) -> Resp {
    let boundary = "----tradeport-catalog-boundary";
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (name, file_name, content) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let csrf = b.cookies.get("tp_csrf").cloned().unwrap_or_default();
    let cookies = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let req = b
        .app
        .request(awc::http::Method::POST, &format!("{path}?csrf_token={csrf}"))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Cookie", cookies));
    b.app.send_bytes(req, body).await
}

fn product_fields<'a>(sku: &'a str, name: &'a str, price: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("sku", sku),
        ("name", name),
        ("name_en", "Window profile 70 mm"),
        ("category", "profiles"),
        ("brand", "Rehau"),
        ("barcodes", "4601234567890"),
        ("description", "<p>Пятикамерный профиль</p><script>alert(1)</script>"),
        ("description_en", ""),
        ("unit", "m"),
        ("pack_size", "6"),
        ("min_qty", "6"),
        ("order_multiple", "6"),
        ("weight_kg", "1,25"),
        ("volume_m3", ""),
        ("vat_rate", "20"),
        ("price", price),
        ("status", "active"),
        ("available_from", ""),
        ("stock:main", "120"),
    ]
}

#[actix_web::test]
async fn staff_add_a_category_and_a_product_through_the_forms_and_find_it_in_the_list() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let mut b = staff_browser(&app, &t).await;
    let base = format!("/s/{}", t.slug);

    let page = b.get(&format!("{base}/admin/categories")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let r = b
        .post(
            &format!("{base}/admin/categories/add"),
            &[("code", "profiles"), ("name", "Профили"), ("name_en", "Profiles"), ("parent", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = b
        .post(
            &format!("{base}/admin/attributes/add"),
            &[
                ("code", "chambers"),
                ("name", "Камер"),
                ("kind", "list"),
                ("unit", ""),
                ("options", "3, 5, 6"),
                ("filterable", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let again = b.post(&format!("{base}/admin/categories/add"), &[("code", "profiles"), ("name", "Ещё раз")]).await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("value=\"Ещё раз\""), "what was typed is kept");
    assert!(again.body.contains("Категория с таким кодом уже есть"), "{}", again.body);

    let form = b.get(&format!("{base}/admin/products/new")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    for name in ["sku", "price", "stock:main", "attr:chambers", "vat_rate", "description"] {
        assert!(form.body.contains(&format!("name=\"{name}\"")), "the form has {name}");
    }
    let mut fields = product_fields("RH-70/5", "Профиль Rehau 70", "1250.50");
    fields.push(("attr:chambers", "5"));
    let r = b.post(&format!("{base}/admin/products/new"), &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let edit = r.header("location").expect("to the edit page");
    assert_eq!(edit, format!("{base}/admin/products/RH-70%2F5?done=saved"));

    let page = b.get(&edit).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"notice\""), "a saved notice");
    assert!(page.body.contains("value=\"1250.50\"") && page.body.contains("value=\"Профиль Rehau 70\""));
    assert!(page.body.contains("value=\"120\""), "stock per warehouse");
    assert!(page.body.contains("<option value=\"5\" selected>"), "the list attribute is a select");
    assert!(!page.body.contains("<script>alert(1)"), "the description is sanitised");

    let list = b.get(&format!("{base}/admin/products")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("data-sku=\"RH-70/5\"") && list.body.contains("Профиль Rehau 70"));
    assert!(list.body.contains("1250.50") && list.body.contains("Профили"));
    assert!(list.body.contains("/api/v1/admin/products/export?format=xlsx"));
    let none = b.get(&format!("{base}/admin/products?q=nothing-like-this&status=&category=")).await;
    assert!(!none.body.contains("data-sku="), "the text filter applies");
    let archived = b.get(&format!("{base}/admin/products?status=archived")).await;
    assert!(!archived.body.contains("data-sku="), "the status filter applies");

    // An update keeps what was not touched; the export link works with the session cookie.
    let mut fields = product_fields("RH-70/5", "Профиль Rehau 70 белый", "1300.00");
    fields.push(("attr:chambers", "5"));
    fields.push(("was:stock:main", "120"));
    let r = b.post(&format!("{base}/admin/products/RH-70%2F5"), &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Stock changed elsewhere (an order, 1C) after the form was opened is not overwritten…
    let token = app.login(&t.admin_email, TEST_PASSWORD).await;
    let stock = serde_json::json!([{"warehouse": "main", "quantity": "100"}]);
    let r = app
        .json_request(Method::PUT, &format!("{base}/api/v1/admin/products/RH-70%2F5/stock"), &stock, Some(&token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.post(&format!("{base}/admin/products/RH-70%2F5"), &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(b.get(&edit).await.body.contains("value=\"100\""), "the stock the form did not touch stays");
    // …while a figure typed into the form is saved.
    let typed: Vec<(&str, &str)> =
        fields.iter().map(|(k, v)| if *k == "stock:main" { (*k, "90") } else { (*k, *v) }).collect();
    assert_eq!(b.post(&format!("{base}/admin/products/RH-70%2F5"), &typed).await.status, 303);
    assert!(b.get(&edit).await.body.contains("value=\"90\""));
    let csv = b.get(&format!("{base}/api/v1/admin/products/export?format=csv")).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.body.contains("RH-70/5;Профиль Rehau 70 белый"), "{}", csv.body);

    // A category that still holds a product is not deleted.
    let r = b.post(&format!("{base}/admin/categories/profiles/delete"), &[]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("id=\"categories-alert\""), "{}", r.body);
}

#[actix_web::test]
async fn a_bad_price_shows_the_form_again_with_the_message_and_everything_typed() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let mut b = staff_browser(&app, &t).await;
    let base = format!("/s/{}", t.slug);
    b.post(&format!("{base}/admin/categories/add"), &[("code", "profiles"), ("name", "Профили")]).await;

    let fields = product_fields("KBE-58", "Профиль KBE 58", "12.345");
    let r = b.post(&format!("{base}/admin/products/new"), &fields).await;
    assert_eq!(r.status, 422, "{}", r.body);
    for kept in [
        "value=\"KBE-58\"",
        "value=\"Профиль KBE 58\"",
        "value=\"12.345\"",
        "value=\"4601234567890\"",
        "value=\"1,25\"",
        "value=\"120\"",
    ] {
        assert!(r.body.contains(kept), "{kept} is kept");
    }
    assert!(r.body.contains("<option value=\"m\" selected>"), "the unit chosen is kept");
    assert!(r.body.contains("id=\"form-errors\""), "a summary at the top");
    assert!(r.body.contains("не больше двух знаков после точки"), "the message, in Russian, next to the price");
    assert!(r.body.contains("aria-invalid=\"true\""));
    let list = b.get(&format!("{base}/admin/products")).await;
    assert!(!list.body.contains("data-sku="), "nothing was created");

    // The same on an existing product: the old price stays.
    let r = b.post(&format!("{base}/admin/products/new"), &product_fields("KBE-58", "Профиль KBE 58", "990")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = b.post(&format!("{base}/admin/products/KBE-58"), &product_fields("KBE-58", "Новое имя", "abc")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("value=\"Новое имя\"") && r.body.contains("value=\"abc\""));
    assert!(r.body.contains("укажите сумму, например 1234.50"), "{}", r.body);
    let page = b.get(&format!("{base}/admin/products/KBE-58")).await;
    assert!(
        page.body.contains("value=\"990.00\"") && page.body.contains("value=\"Профиль KBE 58\""),
        "nothing changed"
    );
    // A second product may not take the first one's SKU.
    let r = b.post(&format!("{base}/admin/products/new"), &product_fields("kbe-58", "Дубль", "10")).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("Товар с таким артикулом уже есть") && r.body.contains("value=\"Дубль\""));
}

#[actix_web::test]
async fn images_and_files_are_attached_and_bad_uploads_explained_on_the_page() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let mut b = staff_browser(&app, &t).await;
    let base = format!("/s/{}", t.slug);
    b.post(&format!("{base}/admin/categories/add"), &[("code", "profiles"), ("name", "Профили")]).await;
    let r = b.post(&format!("{base}/admin/products/new"), &product_fields("VEKA-70", "Профиль VEKA", "100")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let images = format!("{base}/admin/products/VEKA-70/images");

    let r = post_multipart(&b, &images, &[("image", "x.png", b"<svg onload=alert(1)>")], &[]).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("class=\"field-error catalog-upload-error\" role=\"alert\""),
        "a form message, not a JSON page: {}",
        r.body
    );
    assert!(r.body.contains("нужен файл PNG, JPEG, WebP или GIF"), "{}", r.body);

    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(40, 30, image::Rgb([10, 120, 200]))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let r = post_multipart(&b, &images, &[("image", "profile.png", png.get_ref())], &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get(&format!("{base}/admin/products/VEKA-70")).await;
    let thumb =
        page.body.split("<img src=\"").nth(1).and_then(|s| s.split('"').next()).expect("a thumbnail").to_owned();
    assert!(thumb.starts_with(&format!("{base}/products/VEKA-70/images/")) && thumb.ends_with("/thumb"), "{thumb}");
    let img = b.get(&thumb).await;
    assert_eq!((img.status.as_u16(), img.header("content-type").as_deref()), (200, Some("image/jpeg")));

    let r = post_multipart(
        &b,
        &format!("{base}/admin/products/VEKA-70/files"),
        &[("file", "../Сертификат.pdf", b"%PDF-1.4 test")],
        &[("title", "Сертификат")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get(&format!("{base}/admin/products/VEKA-70")).await;
    assert!(page.body.contains(">Сертификат</a>") && page.body.contains("Сертификат.pdf"), "{}", page.body);

    // Removing the image deletes it.
    let id = thumb.rsplit('/').nth(1).expect("image id").to_owned();
    let r = b.post(&format!("{base}/admin/products/VEKA-70/images/{id}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(b.get(&thumb).await.status, 404);
}

#[actix_web::test]
async fn an_import_with_one_bad_row_names_the_line_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let mut b = staff_browser(&app, &t).await;
    let base = format!("/s/{}", t.slug);
    let page = b.get(&format!("{base}/admin/products/import")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<code>stock:main</code>") && page.body.contains("Windows-1251"),
        "explains the columns"
    );

    let import = format!("{base}/admin/products/import");
    let bad = "Артикул;Наименование;Цена;Остаток\nA-1;Профиль;100.00;5\nA-2;Подоконник;сто;3\nA-3;Откос;50;1\n";
    let r = post_multipart(&b, &import, &[("file", "bad.csv", bad.as_bytes())], &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Ничего не изменено"), "{}", r.body);
    assert_eq!(r.body.matches("<tr class=\"problem\">").count(), 1, "one problem");
    let row = r.body.split("<tr class=\"problem\">").nth(1).and_then(|s| s.split("</tr>").next()).expect("row");
    assert!(row.contains(">3<") && row.contains("A-2") && row.contains("price"), "line 3, its SKU and column: {row}");
    assert!(row.contains("укажите сумму"), "the message in Russian: {row}");
    let list = b.get(&format!("{base}/admin/products")).await;
    assert!(!list.body.contains("data-sku="), "nothing was applied");

    // Windows-1251, checked only, then imported.
    let good = "Артикул;Наименование;Цена;Остаток\nA-1;Профиль;100.00;5\nA-2;Подоконник;200;3\n";
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(good);
    let r = post_multipart(&b, &import, &[("file", "good.csv", &cp1251)], &[("check_only", "1")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("windows-1251") && r.body.contains("id=\"report-rows\">2<"), "{}", r.body);
    assert!(!b.get(&format!("{base}/admin/products")).await.body.contains("data-sku="), "a check changes nothing");
    let r = post_multipart(&b, &import, &[("file", "good.csv", &cp1251)], &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"report-created\">2<"), "{}", r.body);
    let list = b.get(&format!("{base}/admin/products")).await;
    assert!(list.body.contains("data-sku=\"A-1\"") && list.body.contains("data-sku=\"A-2\""));

    let r = post_multipart(&b, &import, &[], &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"import-error\""), "a missing file is a form message");
}

#[actix_web::test]
async fn buyers_are_kept_out_of_the_catalog_back_office() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let (email, r) = register(&app, &t, INNS[2]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut buyer = Browser::new(&app);
    buyer.get(&format!("/s/{}/login", t.slug)).await;
    let r = buyer.post(&format!("/s/{}/login", t.slug), &[("email", &email), ("password", TEST_PASSWORD)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    for page in ["/admin/products", "/admin/products/new", "/admin/products/import", "/admin/categories"] {
        let r = buyer.get(&format!("/s/{}{page}", t.slug)).await;
        assert_eq!(r.status, 403, "{page}: {}", r.body);
    }
    let r = buyer.post(&format!("/s/{}/admin/categories/add", t.slug), &[("code", "x"), ("name", "X")]).await;
    assert_eq!(r.status, 403);
    let r = buyer.post(&format!("/s/{}/admin/products/new", t.slug), &product_fields("X-1", "X", "1")).await;
    assert_eq!(r.status, 403);
    let r = post_multipart(
        &buyer,
        &format!("/s/{}/admin/products/import", t.slug),
        &[("file", "a.csv", b"sku;name;price\nX;X;1\n")],
        &[],
    )
    .await;
    assert_eq!(r.status, 403);
}

#[actix_web::test]
async fn a_warehouse_keeper_changes_stock_only() {
    use diesel::prelude::*;
    use tradeport::db::schema_platform::accounts;
    use tradeport::identity::staff::{self, StaffRole};

    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let mut admin = staff_browser(&app, &t).await;
    let base = format!("/s/{}", t.slug);
    admin.post(&format!("{base}/admin/categories/add"), &[("code", "profiles"), ("name", "Профили")]).await;
    let r = admin.post(&format!("{base}/admin/products/new"), &product_fields("WH-1", "Профиль", "100")).await;
    assert_eq!(r.status, 303, "{}", r.body);

    let (email, _) = app.user_token().await;
    let schema = t.tenant.schema.clone();
    let e = email.clone();
    app.db(move |conn| {
        let id: i64 = accounts::table.filter(accounts::email.eq(&e)).select(accounts::id).first(conn).expect("account");
        tradeport::db::in_tenant(conn, &schema, |c| staff::add(c, id, StaffRole::Warehouse)).expect("staff");
    })
    .await;
    let mut keeper = Browser::new(&app);
    keeper.get(&format!("{base}/login")).await;
    let r = keeper.post(&format!("{base}/login"), &[("email", &email), ("password", TEST_PASSWORD)]).await;
    assert_eq!(r.status, 303, "{}", r.body);

    let page = keeper.get(&format!("{base}/admin/products/WH-1")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"stock-form\"") && page.body.contains("form=\"stock-form\""), "a stock form");
    assert!(!page.body.contains("id=\"image-upload\""), "no uploads for this role");
    assert_eq!(
        keeper.post(&format!("{base}/admin/products/WH-1"), &product_fields("WH-1", "X", "1")).await.status,
        403
    );
    let bad = keeper
        .post(&format!("{base}/admin/products/WH-1/stock"), &[("stock:main", "-3"), ("was:stock:main", "120")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("value=\"-3\"") && bad.body.contains("id=\"form-errors\""), "{}", bad.body);
    let r = keeper
        .post(&format!("{base}/admin/products/WH-1/stock"), &[("stock:main", "75"), ("was:stock:main", "120")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = keeper.get(&format!("{base}/admin/products/WH-1")).await;
    assert!(
        page.body.contains("value=\"75\"") && page.body.contains("value=\"Профиль\""),
        "stock changed, nothing else"
    );
}
