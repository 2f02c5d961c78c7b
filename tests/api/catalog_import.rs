//! Spreadsheet import and export as a supplier's content manager uses them: every bad row
//! reported with its line, nothing applied unless the whole file is valid, an export that
//! imports back unchanged, Windows-1251 CSV, formula injection defused.

use serde_json::{json, Value};

use crate::catalog::{api, product, staff};
use crate::helpers::{TestApp, TestTenant};

/// Posts `bytes` as the multipart field `file`.
pub async fn upload(app: &TestApp, t: &TestTenant, token: &str, name: &str, bytes: &[u8], query: &str) -> (u16, Value) {
    let boundary = "----tradeport-import-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = app
        .request(awc::http::Method::POST, &api(t, &format!("/admin/products/import{query}")))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .timeout(std::time::Duration::from_secs(300));
    let r = app.send_bytes(req, body).await;
    (r.status.as_u16(), serde_json::from_str(&r.body).unwrap_or(Value::Null))
}

async fn export(app: &TestApp, t: &TestTenant, token: &str, format: &str) -> Vec<u8> {
    let req = app
        .request(awc::http::Method::GET, &api(t, &format!("/admin/products/export?format={format}")))
        .insert_header(("Authorization", format!("Bearer {token}")));
    let mut resp = req.send().await.expect("export");
    assert_eq!(resp.status().as_u16(), 200);
    resp.body().limit(64 * 1024 * 1024).await.expect("body").to_vec()
}

fn errors(v: &Value) -> Vec<(u64, String)> {
    v["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["line"].as_u64().unwrap_or(0), e["column"].as_str().unwrap_or("").to_owned()))
        .collect()
}

async fn count(app: &TestApp, t: &TestTenant, token: &str) -> i64 {
    app.get(&api(t, "/admin/products?per_page=1"), Some(token)).await.json()["total"].as_i64().unwrap_or(-1)
}

#[actix_web::test]
async fn a_csv_with_bad_rows_is_reported_line_by_line_and_nothing_is_applied() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    app.post_json(&api(&t, "/admin/categories"), &json!({"code": "bricks", "name": "Кирпич"}), Some(&s)).await;
    product(&app, &t, &s, json!({"sku": "EXIST-1", "name": "Было", "price": "5.00", "barcodes": ["4600000000024"]}))
        .await;
    let csv = "sku;name;price;category;stock;barcodes\n\
               K-1;Кирпич красный;12,50;bricks;1000;\n\
               K-2;Кирпич белый;-3;bricks;10;\n\
               K-3;;15;bricks;10;\n\
               K-1;Дубль;1;bricks;1;\n\
               K-4;Кирпич облицовочный;20;walls;1;\n\
               K-5;Кирпич;20;bricks;много;\n\
               K-6;Кирпич;20;bricks;1;4600000000024\n";
    let (status, report) = upload(&app, &t, &s, "prices.csv", csv.as_bytes(), "").await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(report["applied"], false);
    assert_eq!(
        errors(&report),
        vec![
            (3, "price".to_string()),
            (4, "name".to_string()),
            (5, "sku".to_string()),
            (6, "category".to_string()),
            (7, "stock".to_string()),
            (8, "barcodes".to_string())
        ],
        "{report}"
    );
    assert_eq!(count(&app, &t, &s).await, 1, "nothing was applied");
    // A misspelt header is an error too, not silently ignored data.
    let (status, report) = upload(&app, &t, &s, "x.csv", "sku;name;price;prise\nK-9;X;1;2\n".as_bytes(), "").await;
    assert_eq!((status, errors(&report)), (422, vec![(1, "prise".to_string())]), "{report}");
    // The fixed file applies: created and updated counted; a dry run changes nothing.
    let good = "Артикул;Наименование;Цена;category;stock\nK-1;Кирпич красный;12,50;bricks;1000\nEXIST-1;Стало;6;;\n";
    let (status, report) = upload(&app, &t, &s, "ok.csv", good.as_bytes(), "?dry_run=1").await;
    assert_eq!((status, report["applied"].as_bool()), (200, Some(false)), "{report}");
    assert_eq!(count(&app, &t, &s).await, 1);
    let (status, report) = upload(&app, &t, &s, "ok.csv", good.as_bytes(), "").await;
    assert_eq!((status, report["created"].as_u64(), report["updated"].as_u64()), (200, Some(1), Some(1)), "{report}");
    let k1 = app.get(&api(&t, "/products/K-1"), None).await.json();
    assert_eq!((k1["price"].as_str(), k1["stock_status"].as_str()), (Some("12.50"), Some("in_stock")), "{k1}");
    assert_eq!(app.get(&api(&t, "/products/EXIST-1"), None).await.json()["name"], "Стало");
}

#[actix_web::test]
async fn windows_1251_csv_is_detected_and_an_export_imports_back_unchanged() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    app.post_json(&api(&t, "/admin/categories"), &json!({"code": "textile", "name": "Ткани"}), Some(&s)).await;
    app.post_json(
        &api(&t, "/admin/attributes"),
        &json!({"code": "width", "name": "Ширина", "kind": "number", "unit": "см"}),
        Some(&s),
    )
    .await;
    app.post_json(
        &api(&t, "/admin/attributes"),
        &json!({"code": "organic", "name": "Органический", "kind": "bool"}),
        Some(&s),
    )
    .await;
    let text = "артикул;наименование;цена;category;attr:width;attr:organic;unit;description\n\
                TX-1;Бязь отбеленная;185,00;textile;220;да;m;<p>Плотность 142 г/м²<script>alert(1)</script></p>\n\
                TX-2;=HYPERLINK(\"http://evil.example\");99;textile;150;нет;m;\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let (status, report) = upload(&app, &t, &s, "ткани.csv", &bytes, "").await;
    assert_eq!((status, report["encoding"].as_str()), (200, Some("windows-1251")), "{report}");
    let tx1 = app.get(&api(&t, "/products/TX-1"), None).await.json();
    assert_eq!(tx1["name"], "Бязь отбеленная");
    assert!(!tx1["description"].as_str().unwrap_or("").contains("script"), "description sanitised: {tx1}");

    for format in ["csv", "xlsx"] {
        let before = export(&app, &t, &s, format).await;
        if format == "csv" {
            let text = String::from_utf8(before.clone()).expect("utf-8");
            assert!(text.contains("'=HYPERLINK"), "formula defused in CSV: {text}");
        }
        let (status, report) = upload(&app, &t, &s, &format!("back.{format}"), &before, "").await;
        assert_eq!(
            (status, report["created"].as_u64(), report["updated"].as_u64()),
            (200, Some(0), Some(2)),
            "{report}"
        );
        let after = export(&app, &t, &s, format).await;
        if format == "csv" {
            assert_eq!(before, after, "re-importing an export changes nothing");
        } else {
            let a = tradeport::exchange::table::read(&before).expect("xlsx").rows;
            let b = tradeport::exchange::table::read(&after).expect("xlsx").rows;
            assert_eq!(a, b);
        }
    }
    assert_eq!(app.get(&api(&t, "/products/TX-2"), None).await.json()["name"], "=HYPERLINK(\"http://evil.example\")");
    // Not a spreadsheet at all.
    let (status, report) = upload(&app, &t, &s, "x.xlsx", b"PK\x03\x04garbage", "").await;
    assert_eq!(status, 422, "{report}");
    assert!(report["errors"][0]["message"].as_str().is_some_and(|m| m.contains("XLSX")), "{report}");
}

/// Done-when of the catalog issue: a 10,000-row XLSX with three bad rows gets a precise
/// report; fixed, it applies in one go.
#[actix_web::test]
async fn a_10000_row_xlsx_gets_a_precise_report_then_applies() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let s = staff(&app, &t).await;
    app.post_json(&api(&t, "/admin/categories"), &json!({"code": "fittings", "name": "Фурнитура"}), Some(&s)).await;
    let make = |bad: bool| {
        let mut rows = vec![vec!["sku", "name", "price", "category", "stock", "vat_rate"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()];
        for i in 0..10_000 {
            let mut r = vec![
                format!("F-{i:05}"),
                format!("Петля дверная №{i}"),
                format!("{}.{:02}", 100 + i % 900, i % 100),
                "fittings".into(),
                (i % 50).to_string(),
                "20".into(),
            ];
            if bad && i == 17 {
                r[2] = "сто".into();
            }
            if bad && i == 4_321 {
                r[3] = "doors".into();
            }
            if bad && i == 9_998 {
                r[5] = "18".into();
            }
            rows.push(r);
        }
        tradeport::exchange::table::write_xlsx(&rows, "Товары").expect("xlsx")
    };
    let (status, report) = upload(&app, &t, &s, "big.xlsx", &make(true), "").await;
    assert_eq!(status, 422);
    assert_eq!(report["rows"], 10_000);
    assert_eq!(
        errors(&report),
        vec![(19, "price".to_string()), (4_323, "category".to_string()), (10_000, "vat_rate".to_string())],
        "{}",
        report["errors"]
    );
    assert_eq!(count(&app, &t, &s).await, 0);
    let started = std::time::Instant::now();
    let (status, report) = upload(&app, &t, &s, "big.xlsx", &make(false), "").await;
    assert_eq!((status, report["created"].as_u64()), (200, Some(10_000)), "{report}");
    println!("{{\"scenario\":\"xlsx_import\",\"rows\":10000,\"seconds\":{:.1}}}", started.elapsed().as_secs_f64());
    assert_eq!(count(&app, &t, &s).await, 10_000);

    // Search counts and facets at most 1,000 matches; past that the total says "more than",
    // and an explicit order still holds over every match.
    let q = |query: &str| format!("/search?q={}&{query}", tradeport::search::marketplace::urlencode("петля"));
    let r = app.get(&api(&t, &q("per_page=1")), None).await.json();
    assert_eq!((r["total"].as_i64(), r["total_capped"].as_bool()), (Some(1_000), Some(true)), "{}", r["total"]);
    product(
        &app,
        &t,
        &s,
        json!({"sku": "F-CHEAP", "name": "Петля дверная эконом", "price": "0.50", "category": "fittings"}),
    )
    .await;
    let r = app.get(&api(&t, &q("per_page=1&sort=price_asc")), None).await.json();
    assert_eq!((r["total"].as_i64(), r["total_capped"].as_bool()), (Some(1_000), Some(true)));
    assert_eq!(r["items"][0]["sku"], "F-CHEAP", "the cheapest of all 10,001, not of the first 1,000");
    let r = app.get(&api(&t, "/products?category=fittings&sort=price_asc&per_page=1"), None).await.json();
    assert_eq!((r["total"].as_i64(), r["total_capped"].as_bool()), (Some(1_000), Some(true)), "the list says so too");
    assert_eq!(r["items"][0]["sku"], "F-CHEAP");
    // A narrower search is counted exactly.
    let r = app
        .get(&api(&t, &format!("/search?q={}", tradeport::search::marketplace::urlencode("петля №1234"))), None)
        .await
        .json();
    assert_eq!(r["total_capped"], false, "{}", r["total"]);
    let r = app.get(&api(&t, "/search?q=F-09999"), None).await.json();
    assert_eq!(r["items"][0]["sku"], "F-09999", "an exact SKU still comes first");
}
