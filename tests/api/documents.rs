//! Accounting documents as the buyer and the supplier's accountant meet them: shipping an
//! order issues its УПД (PDF and FNS XML, checked against the schema in `upd_schema`), once;
//! documents never change; the archive of a period downloads as one zip; other companies and
//! bad filters get nothing; the ТОРГ-12 / act / счёт-фактура set where the store issues them
//! separately; images on documents are checked like product images.

use std::io::Read;

use serde_json::{json, Value};

use crate::catalog::{api, product};
use crate::finance_docs::{get_raw, pdf_text, supplier};
use crate::helpers::{TestApp, TestTenant};
use crate::identity::INNS;
use crate::ordering::{buyer, order};

/// A buyer's order of two lines, shipped by staff: (buyer token, order number, e-mail).
pub async fn shipped(app: &TestApp, t: &TestTenant, s: &str, inn: &str, key: &str) -> (String, String, String) {
    let (b, _, email) = buyer(app, t, inn).await;
    let placed =
        order(app, t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}, {"sku": "M-1", "qty": "1.5"}]}), Some(key))
            .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let number = placed.json()["number"].as_str().expect("number").to_owned();
    let r = app.patch_json(&api(t, &format!("/admin/orders/{number}")), &json!({"status": "shipped"}), Some(s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (b, number, email)
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

pub async fn list(app: &TestApp, t: &TestTenant, token: &str, query: &str) -> Value {
    let r = app.get(&api(t, &format!("/documents?{query}")), Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// A path of the API answer (`/s/<slug>/api/v1/…`) without the prefix `api` adds.
fn strip(t: &TestTenant, href: &str) -> String {
    href.trim_start_matches(&format!("/s/{}/api/v1", t.slug)).to_owned()
}

#[actix_web::test]
async fn a_shipped_order_yields_one_correct_upd_as_pdf_and_xml_that_never_changes() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let (b, number, _) = shipped(&app, &t, &s, INNS[0], "doc-1").await;
    // Delivered and completed later: still one УПД.
    for status in ["delivered", "completed"] {
        let r =
            app.patch_json(&api(&t, &format!("/admin/orders/{number}")), &json!({"status": status}), Some(&s)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let v = list(&app, &t, &b, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(v["total"], 1, "{v}");
    let doc = &v["items"][0];
    assert_eq!((doc["type"].as_str(), doc["order"].as_str()), (Some("upd"), Some(number.as_str())));
    assert_eq!(doc["amount"], "218.75");
    assert_eq!(doc["vat_amount"], "36.46");

    let pdf_path = strip(&t, doc["files"]["pdf"].as_str().expect("pdf"));
    let (status, pdf, headers) = get_raw(&app, &api(&t, &pdf_path), Some(&b)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers.get("content-type").and_then(|h| h.to_str().ok()), Some("application/pdf"));
    let text = pdf_text(&pdf);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Универсальный",
        "передаточный",
        "Статус:",
        &format!("Счёт-фактура № {} от", doc["number"].as_str().unwrap_or_default()),
        "ООО «Окна Профи»",
        "7713076301/773601001",
        INNS[0],
        "Ручка оконная",
        "Уплотнитель",
        "796",
        "Всего к оплате (9)",
        "182,29",
        "36,46",
        "218,75",
        "Иванов И. И.",
        "Петрова А. А.",
        &format!("Заказ № {number}"),
        "Товар (груз) получил",
    ] {
        assert!(flat.contains(want), "{want:?} is not in the УПД:\n{text}");
    }
    // Redrawn from the snapshot: byte for byte the same document.
    let (_, again, _) = get_raw(&app, &api(&t, &pdf_path), Some(&b)).await;
    assert_eq!(pdf, again, "a document's PDF never changes");

    let xml_path = strip(&t, doc["files"]["xml"].as_str().expect("xml"));
    let (status, xml, headers) = get_raw(&app, &api(&t, &xml_path), Some(&b)).await;
    assert_eq!(status, 200);
    let disposition = headers.get("content-disposition").and_then(|h| h.to_str().ok()).unwrap_or_default().to_owned();
    let file = disposition.split("filename=\"").nth(1).unwrap_or_default().trim_end_matches('"').to_owned();
    let root = crate::upd_schema::check(&file, &xml);
    let table = root.child("Документ").child("ТаблСчФакт");
    let lines = table.all("СведТов");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].req("НалСт"), "20%");
    assert_eq!(lines[1].req("ОКЕИ_Тов"), "006", "metres");
    assert_eq!(root.child("Документ").req("Функция"), "СЧФДОП", "status 1: a VAT payer");

    // Issued documents cannot be changed, even from SQL.
    let schema = t.tenant.schema.clone();
    let refused = app
        .db(move |c| {
            use diesel::connection::SimpleConnection;
            tradeport::db::in_tenant(c, &schema, |c| {
                c.batch_execute("UPDATE documents SET amount = 0").map_err(tradeport::error::AppError::from)
            })
        })
        .await;
    assert!(refused.is_err(), "the documents table refuses updates");

    // Staff issue on demand: nothing new for an order that has its documents.
    let r = app.post_json(&api(&t, &format!("/admin/orders/{number}/documents")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["issued"].as_i64()), (200, Some(0)), "{}", r.body);
}

#[actix_web::test]
async fn the_archive_of_a_period_is_one_zip_and_other_companies_get_nothing() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let (b, _, _) = shipped(&app, &t, &s, INNS[0], "arch-1").await;
    let (other, _, _) = shipped(&app, &t, &s, INNS[1], "arch-2").await;
    let mine = list(&app, &t, &b, &format!("from={}&to={}", today(), today())).await;
    let theirs = list(&app, &t, &other, "").await;
    assert_eq!((mine["total"].as_i64(), theirs["total"].as_i64()), (Some(1), Some(1)));
    let their_id = theirs["items"][0]["id"].as_i64().expect("id");
    for path in [format!("/documents/{their_id}.pdf"), format!("/documents/{their_id}.xml")] {
        let r = app.get(&api(&t, &path), Some(&b)).await;
        assert_eq!(r.status, 404, "another company's document: {path}");
    }
    // Staff see both and filter by customer.
    let r = app.get(&api(&t, &format!("/admin/documents?from={}&to={}", today(), today())), Some(&s)).await;
    assert_eq!(r.json()["total"], 2, "{}", r.body);

    let (status, zip, headers) =
        get_raw(&app, &api(&t, &format!("/documents/archive.zip?from={}&to={}", today(), today())), Some(&b)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&zip));
    assert_eq!(headers.get("content-type").and_then(|h| h.to_str().ok()), Some("application/zip"));
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let names: Vec<String> =
        (0..z.len()).map(|i| z.by_index(i).expect("entry").name().expect("name").into_owned()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with("upd-") && names[0].ends_with(".pdf"), "{names:?}");
    assert!(names[1].starts_with("ON_NSCHFDOPPR_") && names[1].ends_with(".xml"), "{names:?}");
    let mut pdf = Vec::new();
    z.by_index(0).expect("pdf").read_to_end(&mut pdf).expect("read");
    let (_, direct, _) = get_raw(&app, &api(&t, &format!("/documents/{}.pdf", mine["items"][0]["id"])), Some(&b)).await;
    assert_eq!(pdf, direct, "the archive holds the same document");
    let (_, staff_zip, _) =
        get_raw(&app, &api(&t, &format!("/admin/documents/archive.zip?from={}&to={}", today(), today())), Some(&s))
            .await;
    assert_eq!(zip::ZipArchive::new(std::io::Cursor::new(staff_zip)).expect("zip").len(), 4, "staff: both companies");

    // Bad input: clear 422s, never a 500.
    for q in [
        "from=2026-13-01",
        "from=2026-02-01&to=2026-01-01",
        "from=1900-01-01",
        "type=../etc",
        "page=0",
        "from=2010-01-01&to=2026-01-01",
    ] {
        let r = app.get(&api(&t, &format!("/documents?{q}")), Some(&b)).await;
        assert_eq!((r.status.as_u16(), r.error_code()), (422, "validation_failed".to_owned()), "{q}: {}", r.body);
    }
    let r = app.get(&api(&t, "/documents/archive.zip"), Some(&b)).await;
    assert_eq!(r.status, 422, "an archive needs a period: {}", r.body);
    let r = app.get(&api(&t, "/documents/99999999.pdf"), Some(&b)).await;
    assert_eq!(r.status, 404);
    let r = app.get(&api(&t, "/documents"), None).await;
    assert_eq!(r.status, 401);
}

#[actix_web::test]
async fn a_store_that_issues_separately_gets_a_delivery_note_an_act_and_a_vat_invoice() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"documents_mode": "separate"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .patch_json(&api(&t, "/admin/settings"), &json!({"documents_mode": "both", "tax_system": "x"}), Some(&s))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    product(
        &app,
        &t,
        &s,
        json!({"sku": "SVC-1", "name": "Монтаж окна", "price": "1500.00", "unit": "service", "stock": 100}),
    )
    .await;
    let (b, _, _) = buyer(&app, &t, INNS[2]).await;
    let placed =
        order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}, {"sku": "SVC-1", "qty": 1}]}), Some("sep"))
            .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let number = placed.json()["number"].as_str().expect("number").to_owned();
    let r =
        app.patch_json(&api(&t, &format!("/admin/orders/{number}")), &json!({"status": "delivered"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = list(&app, &t, &b, &format!("order={number}")).await;
    let mut kinds: Vec<&str> =
        v["items"].as_array().expect("items").iter().filter_map(|d| d["type"].as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["act", "invoice_factura", "torg12"], "{v}");
    for d in v["items"].as_array().expect("items") {
        assert!(d["files"]["xml"].is_null(), "only the УПД has FNS XML here");
        let (status, pdf, _) =
            get_raw(&app, &api(&t, &strip(&t, d["files"]["pdf"].as_str().expect("pdf"))), Some(&b)).await;
        assert_eq!(status, 200);
        let text = pdf_text(&pdf).split_whitespace().collect::<Vec<_>>().join(" ");
        let (want, amount) = match d["type"].as_str() {
            Some("torg12") => ("ТОВАРНАЯ НАКЛАДНАЯ", "200,00"),
            Some("act") => ("Акт №", "1 500,00"),
            _ => ("Счёт-фактура №", "1 700,00"),
        };
        assert!(text.contains(want) && text.contains(amount), "{want} {amount}:\n{text}");
        if d["type"] == "act" {
            assert!(text.contains("Монтаж окна") && !text.contains("Ручка оконная"), "services only:\n{text}");
        }
    }
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(w, h, image::Rgba([20, 40, 200, 128]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}

pub async fn upload(app: &TestApp, t: &TestTenant, token: &str, kind: &str, bytes: &[u8]) -> crate::helpers::Resp {
    let boundary = "----tradeport-docs";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = app
        .request(awc::http::Method::POST, &api(t, &format!("/admin/document-images/{kind}")))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Authorization", format!("Bearer {token}")));
    app.send_bytes(req, body).await
}

#[actix_web::test]
async fn stamps_and_signatures_go_on_documents_issued_after_them_and_scripts_never_do() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
    for (kind, bytes) in
        [("stamp", svg.to_vec()), ("stamp", b"GIF89a not really".to_vec()), ("stamp", vec![0u8; 3 * 1024 * 1024])]
    {
        let r = upload(&app, &t, &s, kind, &bytes).await;
        assert!(matches!(r.status.as_u16(), 413 | 422), "{}: {}", r.status, r.body);
    }
    let r = upload(&app, &t, &s, "seal", &png(10, 10)).await;
    assert_eq!(r.status, 404, "unknown kind");
    let (b, _, _) = shipped(&app, &t, &s, INNS[3], "img-0").await;
    let before = list(&app, &t, &b, "").await["items"][0]["id"].as_i64().expect("id");
    for kind in ["stamp", "director_signature"] {
        let r = upload(&app, &t, &s, kind, &png(300, 300)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app.get(&api(&t, "/admin/document-images/stamp"), Some(&s)).await;
    assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
    let (b2, _, _) = shipped(&app, &t, &s, INNS[4], "img-1").await;
    let after = list(&app, &t, &b2, "").await["items"][0]["id"].as_i64().expect("id");
    let (_, old, _) = get_raw(&app, &api(&t, &format!("/admin/documents/{before}.pdf")), Some(&s)).await;
    let (_, new, _) = get_raw(&app, &api(&t, &format!("/admin/documents/{after}.pdf")), Some(&s)).await;
    let images = |pdf: &[u8]| String::from_utf8_lossy(pdf).matches("/Subtype /Image").count();
    assert_eq!(images(&old), 0, "issued before the images: unchanged");
    // The stamp and the signature, each with its soft mask (their alpha channel).
    assert_eq!(images(&new), 4, "{} soft masks", String::from_utf8_lossy(&new).matches("/SMask").count());
}

#[actix_web::test]
async fn the_documents_pages_list_filter_and_link_the_files_for_the_buyer_and_staff() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let (_, number, buyer_email) = shipped(&app, &t, &s, INNS[5], "page-1").await;
    let email = {
        let r = app.get(&api(&t, "/admin/documents"), Some(&s)).await;
        assert_eq!(r.json()["total"], 1);
        r.json()["items"][0]["customer"]["id"].as_i64().expect("customer")
    };
    let page = format!("/s/{}/admin/documents", t.slug);
    let mut staff = crate::order_pages::sign_in(&app, &t, &t.admin_email, &page).await;
    let r = staff.get(&page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for want in [
        "id=\"documents-table\"",
        &number,
        "/api/v1/admin/documents/",
        "id=\"documents-archive\"",
        "id=\"image-stamp\"",
    ] {
        assert!(r.body.contains(want), "{want} not on the staff page");
    }
    let r = staff.get(&format!("{page}?customer_id={email}&type=act")).await;
    assert!(r.status == 200 && r.body.contains("class=\"empty\""), "no acts: {}", r.body);
    let r = staff.get(&format!("{page}?from=2026-99-01")).await;
    assert_eq!(r.status, 422, "a bad date is shown, not a crash");
    assert!(r.body.contains("id=\"documents-error\""));
    // The buyer's cabinet: its document with the files, in both languages.
    let mine = format!("/s/{}/account/documents", t.slug);
    let mut b = crate::order_pages::sign_in(&app, &t, &buyer_email, &mine).await;
    let r = b.get(&mine).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(&number) && r.body.contains("?inline&#x3D;1") && r.body.contains("Документы"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("/api/v1/admin/documents/"), "the buyer gets the buyer's links");
    b.get(&format!("/s/{}/lang/en", t.slug)).await;
    assert!(b.get(&mine).await.body.contains("Download the period"));
    // Strangers are sent to sign in.
    let r = app.get(&mine, None).await;
    assert!(matches!(r.status.as_u16(), 302 | 303), "{}", r.status);
}
