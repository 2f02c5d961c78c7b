//! Exports of orders and customers for the bookkeeper: CSV and XLSX that parse back with
//! this store's rows only, filters by period and status, bad queries refused.

use std::io::Cursor;

use awc::http::Method;
use calamine::{Data, Reader, Xlsx};
use serde_json::json;

use crate::catalog::api;
use crate::helpers::{TestApp, TestTenant};
use crate::identity::INNS;
use crate::integrations::{new_key, placed};
use crate::ordering::{buyer, store};

async fn download(app: &TestApp, t: &TestTenant, token: &str, path: &str) -> (u16, String, Vec<u8>) {
    let req = app.request(Method::GET, &api(t, path)).insert_header(("Authorization", format!("Bearer {token}")));
    let mut res = req.send().await.expect("sent");
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = res.body().limit(8 * 1024 * 1024).await.expect("body").to_vec();
    (res.status().as_u16(), ct, body)
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    tradeport::exchange::table::read(bytes).expect("the CSV reads back").rows
}

fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("calamine opens it");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    range
        .rows()
        .map(|r| r.iter().map(|c| if let Data::String(s) = c { s.clone() } else { c.to_string() }).collect())
        .collect()
}

fn col(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}: {:?}", rows[0]))
}

#[actix_web::test]
async fn orders_and_customers_export_to_csv_and_xlsx_with_this_stores_rows_only() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let first = placed(&app, &t, &b, "e1").await;
    let second = placed(&app, &t, &b, "e2").await;
    let r =
        app.patch_json(&api(&t, &format!("/admin/orders/{second}")), &json!({"status": "confirmed"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Another store with its own customer and order.
    let (t2, _) = store(&app).await;
    let (b2, _, _) = buyer(&app, &t2, INNS[1]).await;
    placed(&app, &t2, &b2, "e3").await;

    let (status, ct, bytes) = download(&app, &t, &s, "/admin/orders/export?format=csv").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(ct.starts_with("text/csv"), "{ct}");
    let rows = csv_rows(&bytes);
    assert_eq!(rows[0], tradeport::integrations::exports::ORDER_COLUMNS);
    assert_eq!(rows.len(), 3, "two orders: {rows:?}");
    let (n, inn, total, vat, net) =
        (col(&rows, "number"), col(&rows, "inn"), col(&rows, "total"), col(&rows, "vat"), col(&rows, "net"));
    assert_eq!((rows[1][n].as_str(), rows[2][n].as_str()), (first.as_str(), second.as_str()));
    assert_eq!((rows[1][inn].as_str(), rows[1][total].as_str()), (INNS[0], "200.00"));
    assert!(!String::from_utf8_lossy(&bytes).contains(INNS[1]), "another store's customer never appears");
    let (v, nt): (rust_decimal::Decimal, rust_decimal::Decimal) =
        (rows[1][vat].parse().expect("vat"), rows[1][net].parse().expect("net"));
    assert_eq!((v + nt).to_string(), "200.00");

    // Filters: a status, and a period that holds nothing.
    let (_, _, bytes) = download(&app, &t, &s, "/admin/orders/export?format=csv&status=confirmed").await;
    let rows = csv_rows(&bytes);
    assert_eq!((rows.len(), rows[1][n].as_str()), (2, second.as_str()));
    let (_, _, bytes) = download(&app, &t, &s, "/admin/orders/export?from=2020-01-01&to=2020-12-31").await;
    assert_eq!(csv_rows(&bytes).len(), 1, "the header alone");

    // XLSX opens with calamine; an API key with the read scope may download it.
    let (_, key) = new_key(&app, &t, &s, "read").await;
    let (status, ct, bytes) = download(&app, &t, &key, "/admin/orders/export?format=xlsx").await;
    assert_eq!(status, 200);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let rows = xlsx_rows(bytes);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][col(&rows, "number")], first);

    // Customers: INN, status, terms and the ledger position.
    for format in ["csv", "xlsx"] {
        let (status, _, bytes) = download(&app, &t, &s, &format!("/admin/customers/export?format={format}")).await;
        assert_eq!(status, 200);
        let rows = if format == "csv" { csv_rows(&bytes) } else { xlsx_rows(bytes) };
        assert_eq!(rows[0], tradeport::integrations::exports::CUSTOMER_COLUMNS);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[1][col(&rows, "inn")], INNS[0]);
        assert_eq!(rows[1][col(&rows, "status")], "active");
        assert_eq!(rows[1][col(&rows, "debt")], "0.00");
    }

    // Bad queries: 422 with the field.
    for (q, field) in [
        ("format=pdf", "format"),
        ("from=2026-13-01", "from"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("status=lost", "status"),
    ] {
        let r = app.get(&api(&t, &format!("/admin/orders/export?{q}")), Some(&s)).await;
        assert_eq!(r.status, 422, "{q}: {}", r.body);
        assert!(r.json()["error"]["fields"][field].is_string(), "{q}: {}", r.body);
    }
    // A buyer may not export.
    assert_eq!(app.get(&api(&t, "/admin/customers/export"), Some(&b)).await.status, 403);
}
