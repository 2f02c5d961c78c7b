//! Products' available totals follow their stock rows (the statement-level `stock_sync_*`
//! triggers of migrations/tenant/0011_placement), however the stock changes: two transactions
//! at once in different warehouses, many rows in one statement, rows added and removed.

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::Connection;
use diesel::RunQueryDsl;
use serde_json::json;

use crate::catalog::api;
use crate::helpers::TestApp;
use crate::ordering::{stock_of, store};

#[actix_web::test]
async fn two_warehouses_changed_at_once_both_count() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let r = app.post_json(&api(&t, "/admin/warehouses"), &json!({"code": "north", "name": "Север"}), Some(&s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let put = json!([{"warehouse": "main", "quantity": "10"}, {"warehouse": "north", "quantity": "20"}]);
    let r = app.json_request(awc::http::Method::PUT, &api(&t, "/admin/products/PCS-1/stock"), &put, Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "30");

    // The first transaction adds 5 in `main` and holds its commit; the second adds 7 in
    // `north` meanwhile, waits for the product's row, and must count both.
    let schema = t.tenant.schema.as_str().to_owned();
    let add = |warehouse: &str, n: i32| {
        format!(
            "UPDATE \"{schema}\".stock SET quantity = quantity + {n} WHERE product_id = \
             (SELECT id FROM \"{schema}\".products WHERE sku = 'PCS-1') AND warehouse_id = \
             (SELECT id FROM \"{schema}\".warehouses WHERE code = '{warehouse}')"
        )
    };
    let (first_sql, second_sql) = (add("main", 5), add("north", 7));
    let (updated_tx, updated_rx) = mpsc::channel::<()>();
    let (commit_tx, commit_rx) = mpsc::channel::<()>();
    let first = app.db(move |c| {
        c.transaction::<_, diesel::result::Error, _>(|c| {
            diesel::sql_query(first_sql).execute(c)?;
            let _ = updated_tx.send(());
            let _ = commit_rx.recv_timeout(Duration::from_secs(10));
            Ok(())
        })
    });
    let second = async {
        let _ = actix_web::rt::task::spawn_blocking(move || updated_rx.recv_timeout(Duration::from_secs(10))).await;
        let waiting = app.db(move |c| c.transaction(|c| diesel::sql_query(second_sql).execute(c)));
        let release = async {
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            let _ = commit_tx.send(());
        };
        let (r, ()) = futures_util::join!(waiting, release);
        r
    };
    let (a, b) = futures_util::join!(first, second);
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    assert_eq!(stock_of(&app, &t, "PCS-1").await, "42", "10 + 5 in main, 20 + 7 in north");
}

#[actix_web::test]
async fn many_rows_in_one_statement_added_changed_and_removed() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let r = app.post_json(&api(&t, "/admin/warehouses"), &json!({"code": "south", "name": "Юг"}), Some(&s)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let schema = t.tenant.schema.as_str().to_owned();
    let run = |sql: String| {
        let sql = sql.replace("{s}", &format!("\"{schema}\""));
        app.db(move |c| diesel::sql_query(sql).execute(c).map_err(|e| e.to_string()))
    };
    let totals = || async {
        let mut out = Vec::new();
        for sku in ["PCS-1", "M-1", "UP-1"] {
            out.push(stock_of(&app, &t, sku).await);
        }
        out
    };
    assert_eq!(totals().await, ["10", "100", "0"]);
    // Every row at once (as a 1C stock file does), then a reservation on one.
    run("UPDATE {s}.stock SET quantity = quantity + 5".into()).await.expect("update all");
    run("UPDATE {s}.stock SET reserved = 3 WHERE product_id = (SELECT id FROM {s}.products WHERE sku = 'PCS-1')".into())
        .await
        .expect("reserve");
    assert_eq!(totals().await, ["12", "105", "0"]);
    // A warehouse's rows for every product added in one statement, then removed in one.
    let add = "INSERT INTO {s}.stock (product_id, warehouse_id, quantity) \
               SELECT p.id, w.id, 100 FROM {s}.products p, {s}.warehouses w WHERE w.code = 'south'";
    run(add.into()).await.expect("insert");
    assert_eq!(totals().await, ["112", "205", "100"]);
    run("DELETE FROM {s}.stock WHERE warehouse_id = (SELECT id FROM {s}.warehouses WHERE code = 'south')".into())
        .await
        .expect("delete");
    assert_eq!(totals().await, ["12", "105", "0"]);
}
