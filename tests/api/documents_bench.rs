//! Benchmarks of the documents (ignored by default; run with
//! `cargo test --test api documents_bench -- --ignored --nocapture`): the archive of 1,000
//! УПД of a year downloaded over HTTP (streamed), and УПД PDF drawing throughput. One JSON
//! line each.

use std::time::Instant;

use diesel::prelude::*;

use crate::catalog::api;
use crate::documents::shipped;
use crate::finance_docs::{get_raw, supplier};
use crate::helpers::TestApp;
use crate::identity::INNS;

#[actix_web::test]
#[ignore]
async fn archive_of_1000_documents_and_pdf_throughput() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    shipped(&app, &t, &s, INNS[0], "bench-0").await;
    // 999 more issued documents like the first (numbers 2…1000 of the year).
    let schema = t.tenant.schema.clone();
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| {
            diesel::sql_query(
                "INSERT INTO documents (kind, year, seq, number, issued_on, company_id, order_id, source_kind, source_id, \
                   amount, vat_amount, snapshot, xml_name, xml) \
                 SELECT d.kind, d.year, g, g::text, d.issued_on, d.company_id, d.order_id, 'bench', g, d.amount, \
                   d.vat_amount, d.snapshot, replace(d.xml_name, '.xml', '_' || g || '.xml'), d.xml \
                 FROM documents d, generate_series(2, 1000) g",
            )
            .execute(c)?;
            Ok(())
        })
        .expect("documents")
    })
    .await;
    let today = chrono::Utc::now().date_naive();
    let from = format!("{}-01-01", chrono::Datelike::year(&today));
    let started = Instant::now();
    let mut res = app
        .request(awc::http::Method::GET, &api(&t, &format!("/admin/documents/archive.zip?from={from}&to={today}")))
        .insert_header(("Authorization", format!("Bearer {s}")))
        .timeout(std::time::Duration::from_secs(120))
        .send()
        .await
        .expect("sent");
    let first_byte = started.elapsed();
    assert_eq!(res.status(), 200);
    let zip = res.body().limit(512 * 1024 * 1024).await.expect("body").to_vec();
    let took = started.elapsed();
    let entries = zip::ZipArchive::new(std::io::Cursor::new(&zip)).expect("zip").len();
    assert_eq!(entries, 2000, "1,000 PDFs and 1,000 XML files");
    println!(
        "{{\"bench\":\"documents_archive\",\"documents\":1000,\"entries\":{entries},\"bytes\":{},\"first_byte_ms\":{},\"seconds\":{:.2}}}",
        zip.len(),
        first_byte.as_millis(),
        took.as_secs_f64()
    );
    let id: i64 = {
        let r = app.get(&api(&t, "/admin/documents?per_page=1"), Some(&s)).await;
        r.json()["items"][0]["id"].as_i64().expect("id")
    };
    let started = Instant::now();
    for _ in 0..50 {
        let (status, _, _) = get_raw(&app, &api(&t, &format!("/admin/documents/{id}.pdf")), Some(&s)).await;
        assert_eq!(status, 200);
    }
    let per = started.elapsed().as_secs_f64() * 1000.0 / 50.0;
    println!(
        "{{\"bench\":\"upd_pdf_over_http\",\"runs\":50,\"ms_per_document\":{per:.1},\"per_second\":{:.0}}}",
        1000.0 / per
    );
}
