//! Returns and service requests as buyers and staff use them: a request for lines of a
//! delivered order goes to a credit in the ledger with the stock back and a return note;
//! quantities never exceed what was delivered (also when two requests race for the last
//! units); other companies' orders are 404; photos must be real images; the return window
//! closes; staff are reminded before the decision is due.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::catalog::{api, product, staff};
use crate::finance_docs::{get_raw, pdf_text};
use crate::helpers::{unique, Resp, TestApp, TestTenant};
use crate::identity::INNS;
use crate::ordering::{add, buyer, new_cart, order, stock_of};

/// The ordering tests' store with `R-1` (100.00, 1,000 in stock) added.
pub async fn store(app: &TestApp) -> (TestTenant, String) {
    let (t, s) = crate::ordering::store(app).await;
    product(app, &t, &s, json!({"sku": "R-1", "name": "Ручка дверная", "price": "100.00", "stock": 1000})).await;
    (t, s)
}

/// A delivered order of R-1 × 4 (400.00) and M-1 × 10 (125.00): its number.
pub async fn delivered(app: &TestApp, t: &TestTenant, s: &str, token: &str) -> String {
    let number = shipped(app, t, s, token).await;
    let r = app.patch_json(&api(t, &format!("/admin/orders/{number}")), &json!({"status": "delivered"}), Some(s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    number
}

async fn shipped(app: &TestApp, t: &TestTenant, s: &str, token: &str) -> String {
    let cart = new_cart(app, t, token, "Возврат").await;
    assert_eq!(add(app, t, token, cart, "R-1", json!("4")).await.status, 200);
    assert_eq!(add(app, t, token, cart, "M-1", json!("10")).await.status, 200);
    let r = order(app, t, token, &json!({"cart_id": cart}), Some(&unique("key"))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let number = r.json()["number"].as_str().expect("number").to_owned();
    let r = app.patch_json(&api(t, &format!("/admin/orders/{number}")), &json!({"status": "shipped"}), Some(s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    number
}

async fn request(app: &TestApp, t: &TestTenant, token: &str, number: &str, sku: &str, qty: &str, reason: &str) -> Resp {
    let body = json!({"order": number, "lines": [{"sku": sku, "qty": qty}], "reason": reason, "comment": "Не подошёл"});
    app.post_json(&api(t, "/returns"), &body, Some(token)).await
}

async fn decide(app: &TestApp, t: &TestTenant, s: &str, number: &str, body: Value) -> Resp {
    app.patch_json(&api(t, &format!("/admin/returns/{number}")), &body, Some(s)).await
}

async fn balance(app: &TestApp, t: &TestTenant, token: &str) -> String {
    app.get(&api(t, "/account"), Some(token)).await.json()["balance"].as_str().unwrap_or_default().to_owned()
}

/// Runs `sql` in the tenant and answers the first column of the first row as text.
async fn scalar(app: &TestApp, t: &TestTenant, sql: String) -> String {
    #[derive(QueryableByName)]
    struct One {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let schema = t.tenant.schema.clone();
    app.db(move |c| tradeport::db::in_tenant(c, &schema, |c| Ok(diesel::sql_query(sql).get_result::<One>(c)?.v)))
        .await
        .expect("query")
}

#[actix_web::test]
async fn a_return_goes_from_request_to_credit_with_stock_back_and_a_return_note() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[0]).await;
    let number = delivered(&app, &t, &s, &b).await;
    assert_eq!(balance(&app, &t, &b).await, "-525.00", "the shipment is a debt");
    assert_eq!(stock_of(&app, &t, "R-1").await, "996");

    let r = request(&app, &t, &b, &number, "R-1", "2", "wrong_item").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ret = r.json();
    let rn = ret["number"].as_str().expect("return number").to_owned();
    assert_eq!((ret["status"].as_str(), ret["amount"].as_str()), (Some("requested"), Some("200.00")), "{ret}");

    // Staff see it, decide it needs a way back, and the buyer follows along.
    let list = app.get(&api(&t, "/admin/returns?status=requested"), Some(&s)).await.json();
    assert_eq!(list["items"][0]["number"], rn, "{list}");
    let r = decide(&app, &t, &s, &rn, json!({"status": "approved"})).await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["fields"]["way_back"].is_string()), (422, true), "{}", r.body);
    let r = decide(&app, &t, &s, &rn, json!({"status": "approved", "way_back": "carrier", "reason": "Отправьте СДЭК"}))
        .await;
    assert_eq!(r.json()["status"], "approved", "{}", r.body);
    let r = decide(&app, &t, &s, &rn, json!({"status": "in_transit"})).await;
    assert_eq!(r.json()["status"], "in_transit", "{}", r.body);
    assert_eq!(app.get(&api(&t, &format!("/returns/{rn}")), Some(&b)).await.json()["status"], "in_transit");
    // The buyer cannot cancel once approved; staff cannot receive twice.
    let r = app.post_json(&api(&t, &format!("/returns/{rn}/cancel")), &json!({}), Some(&b)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "return_not_cancellable".to_owned()), "{}", r.body);

    let r = decide(&app, &t, &s, &rn, json!({"status": "received", "warehouse": "main"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!((v["status"].as_str(), v["warehouse"].as_str()), (Some("credited"), Some("main")), "{v}");
    let doc = v["document"]["number"].as_str().expect("return note").to_owned();
    assert!(doc.starts_with("ВЗ-") && doc.ends_with("-00001"), "{doc}");
    assert_eq!(balance(&app, &t, &b).await, "-325.00", "the credit is the returned lines as priced");
    assert_eq!(stock_of(&app, &t, "R-1").await, "998", "stock back in the main warehouse");
    let r = decide(&app, &t, &s, &rn, json!({"status": "received"})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(balance(&app, &t, &b).await, "-325.00", "credited once");

    // The ledger names the return; the note is the document of the credit.
    let ledger = app.get(&api(&t, "/account/ledger"), Some(&b)).await.json();
    let ret_move = ledger["movements"].as_array().expect("movements").iter().find(|m| m["kind"] == "return").cloned();
    assert_eq!(ret_move.map(|m| (m["credit"].clone(), m["document"].clone())), Some((json!("200.00"), json!(rn))));
    let (status, pdf, headers) = get_raw(&app, &api(&t, &format!("/returns/{rn}/note.pdf")), Some(&b)).await;
    assert_eq!((status, headers.get("content-type").and_then(|v| v.to_str().ok())), (200, Some("application/pdf")));
    let text = pdf_text(&pdf);
    for expect in ["Накладная на возврат товара", &doc, &number, "200,00", "Двести рублей"]
    {
        assert!(text.contains(expect), "{expect} in {text}");
    }
    let (_, staff_pdf, _) = get_raw(&app, &api(&t, &format!("/admin/returns/{rn}/note.pdf")), Some(&s)).await;
    assert_eq!(staff_pdf, pdf, "one stored document");
    // Listed with the store's documents as the correction of the order's shipping document.
    let docs = app.get(&api(&t, "/documents?type=credit_note"), Some(&b)).await.json();
    let listed = docs["items"].as_array().expect("items").iter().find(|d| d["number"] == doc.as_str()).cloned();
    let id = listed.as_ref().and_then(|d| d["id"].as_i64()).unwrap_or_else(|| panic!("{doc} not in {docs}"));
    let (_, archived, _) = get_raw(&app, &api(&t, &format!("/documents/{id}.pdf")), Some(&b)).await;
    assert_eq!(archived, pdf, "the documents archive serves the same note");
    let changed = app
        .db({
            let schema = t.tenant.schema.clone();
            move |c| {
                tradeport::db::in_tenant(c, &schema, |c| {
                    Ok(diesel::sql_query("UPDATE return_documents SET amount = 0").execute(c)?)
                })
            }
        })
        .await;
    assert!(changed.is_err(), "an issued return note is never changed");

    // The thread: each side's message tells the other.
    let r = app.post_json(&api(&t, &format!("/returns/{rn}/messages")), &json!({"body": "Спасибо!"}), Some(&b)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post_json(&api(&t, &format!("/admin/returns/{rn}/messages")), &json!({"body": "Пожалуйста"}), Some(&s))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.post_json(&api(&t, &format!("/returns/{rn}/messages")), &json!({"body": "  "}), Some(&b)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let thread = app.get(&api(&t, &format!("/returns/{rn}/messages")), Some(&b)).await.json();
    let bodies: Vec<&str> =
        thread["items"].as_array().expect("items").iter().filter_map(|m| m["body"].as_str()).collect();
    assert!(bodies.contains(&"Спасибо!") && bodies.contains(&"Пожалуйста"), "{bodies:?}");
    let told = scalar(
        &app,
        &t,
        format!("SELECT count(*)::text AS v FROM notifications WHERE kind = 'return' AND link LIKE '%{rn}' AND title LIKE 'Сообщение%'"),
    )
    .await;
    assert_eq!(told, "2", "the staff member and the buyer were each told once");
    let mail =
        scalar(&app, &t, "SELECT count(*)::text AS v FROM public.mail_outbox WHERE subject ILIKE '%return%'".into())
            .await;
    assert!(mail.parse::<i64>().unwrap_or(0) >= 5, "mails: {mail}");
}

#[actix_web::test]
async fn defective_goods_go_to_a_defect_warehouse_and_are_not_sold_again() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[1]).await;
    let number = delivered(&app, &t, &s, &b).await;
    let rn =
        request(&app, &t, &b, &number, "M-1", "2.5", "defect").await.json()["number"].as_str().expect("n").to_owned();
    assert_eq!(decide(&app, &t, &s, &rn, json!({"status": "approved", "way_back": "pickup"})).await.status, 200);
    let before = stock_of(&app, &t, "M-1").await;
    let r = decide(&app, &t, &s, &rn, json!({"status": "received"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["warehouse"], "defect", "defects go to the defect warehouse by default");
    assert_eq!(stock_of(&app, &t, "M-1").await, before, "defect stock is not available to sell");
    let held = scalar(
        &app,
        &t,
        "SELECT quantity::text || '/' || reserved::text AS v FROM stock JOIN warehouses w ON w.id = warehouse_id \
         JOIN products p ON p.id = product_id WHERE w.code = 'defect' AND p.sku = 'M-1'"
            .into(),
    )
    .await;
    assert_eq!(held, "2.500/2.500", "counted in the defect warehouse, held");
    // 2.5 m at 12.50 = 31.25 credited.
    assert_eq!(balance(&app, &t, &b).await, "-493.75");
}

#[actix_web::test]
async fn quantities_never_exceed_what_was_delivered_even_when_requests_race() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[2]).await;
    let number = delivered(&app, &t, &s, &b).await;
    let r = request(&app, &t, &b, &number, "R-1", "5", "surplus").await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "return_qty_exceeds".to_owned()), "{}", r.body);
    assert_eq!(r.json()["error"]["left"], "4", "{}", r.body);
    for (body, field) in [
        (json!({"order": number, "lines": [{"sku": "R-1", "qty": "-1"}], "reason": "surplus"}), "lines"),
        (json!({"order": number, "lines": [{"sku": "NOPE", "qty": "1"}], "reason": "surplus"}), "lines"),
        (json!({"order": number, "lines": [], "reason": "surplus"}), "lines"),
        (json!({"order": number, "lines": [{"sku": "R-1", "qty": "1"}], "reason": "bored"}), "reason"),
    ] {
        let r = app.post_json(&api(&t, "/returns"), &body, Some(&b)).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert!(r.json()["error"]["fields"][field].is_string(), "{}", r.body);
    }
    let first = request(&app, &t, &b, &number, "R-1", "3", "surplus").await;
    assert_eq!(first.status, 201, "{}", first.body);
    let r = request(&app, &t, &b, &number, "R-1", "2", "surplus").await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["already_requested"].as_str()), (409, Some("3")), "{}", r.body);
    // Cancelled before a decision: its units are free again.
    let rn = first.json()["number"].as_str().expect("n").to_owned();
    let r = app.post_json(&api(&t, &format!("/returns/{rn}/cancel")), &json!({}), Some(&b)).await;
    assert_eq!(r.json()["status"], "cancelled", "{}", r.body);

    // Two requests for the last units at once: one wins.
    let mut won = 0;
    for _ in 0..5 {
        let number = delivered(&app, &t, &s, &b).await;
        let (x, y) = futures_util::join!(
            request(&app, &t, &b, &number, "R-1", "3", "surplus"),
            request(&app, &t, &b, &number, "R-1", "3", "surplus")
        );
        let mut codes = [x.status.as_u16(), y.status.as_u16()];
        codes.sort_unstable();
        assert_eq!(codes, [201, 409], "{} / {}", x.body, y.body);
        won += 1;
    }
    let over = scalar(
        &app,
        &t,
        "SELECT count(*)::text AS v FROM (SELECT r.order_id, l.line_no, sum(l.qty) AS q FROM return_lines l \
         JOIN returns r ON r.id = l.return_id WHERE r.status <> 'cancelled' GROUP BY 1, 2) s \
         JOIN order_lines o ON o.order_id = s.order_id AND o.line_no = s.line_no WHERE s.q > o.qty"
            .into(),
    )
    .await;
    println!("{{\"scenario\":\"returns_race\",\"rounds\":5,\"won\":{won},\"over_returned_lines\":{over}}}");
    assert_eq!(over, "0");
}

#[actix_web::test]
async fn another_companys_order_is_404_and_undelivered_or_late_orders_are_refused() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[3]).await;
    let (other, _, _) = buyer(&app, &t, INNS[4]).await;
    let number = delivered(&app, &t, &s, &b).await;
    let r = request(&app, &t, &other, &number, "R-1", "1", "defect").await;
    assert_eq!(r.status, 404, "{}", r.body);
    let rn =
        request(&app, &t, &b, &number, "R-1", "1", "defect").await.json()["number"].as_str().expect("n").to_owned();
    for path in [format!("/returns/{rn}"), format!("/returns/{rn}/messages"), format!("/returns/{rn}/note.pdf")] {
        assert_eq!(app.get(&api(&t, &path), Some(&other)).await.status, 404, "{path}");
    }
    assert_eq!(app.post_json(&api(&t, &format!("/returns/{rn}/cancel")), &json!({}), Some(&other)).await.status, 404);
    assert_eq!(app.get(&api(&t, "/returns"), Some(&other)).await.json()["total"], 0);
    // A buyer cannot decide.
    assert_eq!(decide(&app, &t, &b, &rn, json!({"status": "approved", "way_back": "pickup"})).await.status, 403);

    let only_shipped = shipped(&app, &t, &s, &b).await;
    let r = request(&app, &t, &b, &only_shipped, "R-1", "1", "defect").await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "order_not_delivered".to_owned()), "{}", r.body);

    // The window: 5 days after delivery; this order was delivered 10 days ago.
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"return_window_days": 5}), Some(&s)).await;
    assert_eq!(r.json()["return_window_days"], 5, "{}", r.body);
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"return_window_days": -1}), Some(&s)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let late = delivered(&app, &t, &s, &b).await;
    scalar(
        &app,
        &t,
        format!("UPDATE order_events SET at = now() - interval '10 days' FROM orders o WHERE o.id = order_id AND o.number = '{late}' RETURNING 'x' AS v"),
    )
    .await;
    let r = request(&app, &t, &b, &late, "R-1", "1", "defect").await;
    assert_eq!((r.status.as_u16(), r.error_code()), (409, "return_window_closed".to_owned()), "{}", r.body);
    let closed = (chrono::Utc::now() - chrono::Duration::days(5)).date_naive().to_string();
    assert_eq!(r.json()["error"]["closed_on"], json!(closed), "{}", r.body);
    assert!(r.json()["error"]["message"].as_str().unwrap_or_default().contains("closed on"), "{}", r.body);
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([120, 20, 20]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}

async fn with_photos(app: &TestApp, t: &TestTenant, token: &str, request: &Value, photos: &[(&str, Vec<u8>)]) -> Resp {
    let boundary = "----tradeport-returns-boundary";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{request}\r\n").into_bytes();
    for (name, bytes) in photos {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let req = app
        .request(awc::http::Method::POST, &api(t, "/returns"))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .timeout(std::time::Duration::from_secs(60));
    app.send_bytes(req, body).await
}

fn stored_photos(app: &TestApp, t: &TestTenant) -> usize {
    let dir = tradeport::config::resource_path(&app.state.settings.server.media_dir)
        .join(t.tenant.schema.as_str())
        .join("returns");
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[actix_web::test]
async fn photos_must_be_real_images_and_are_served_as_downloads() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[5]).await;
    let number = delivered(&app, &t, &s, &b).await;
    let req = json!({"order": number, "lines": [{"sku": "R-1", "qty": "1"}], "reason": "defect", "comment": "Трещина"});
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>"#.to_vec();
    let mut big = png(10, 10);
    big.resize(6 * 1024 * 1024, 0);
    type Photos<'a> = Vec<(&'a str, Vec<u8>)>;
    let cases: Vec<(&str, Photos, u16)> = vec![
        ("svg", vec![("ok.png", png(50, 50)), ("x.svg", svg)], 422),
        ("text", vec![("fake.png", b"just text, not an image".to_vec())], 422),
        ("html", vec![("page.png", b"<html><script>alert(1)</script></html>".to_vec())], 422),
        ("oversized", vec![("big.png", big)], 413),
        ("too many", (0..7).map(|_| ("p.png", png(20, 20))).collect(), 422),
    ];
    for (what, photos, status) in cases {
        let r = with_photos(&app, &t, &b, &req, &photos).await;
        assert_eq!(r.status.as_u16(), status, "{what}: {}", r.body);
    }
    assert_eq!(app.get(&api(&t, "/returns"), Some(&b)).await.json()["total"], 0, "no request was made");
    assert_eq!(stored_photos(&app, &t), 0, "no photo was stored");
    // A photo with a request that is refused (too many units) is not kept either.
    let too_many = json!({"order": number, "lines": [{"sku": "R-1", "qty": "9"}], "reason": "defect"});
    assert_eq!(with_photos(&app, &t, &b, &too_many, &[("a.png", png(40, 40))]).await.status, 409);
    assert_eq!(stored_photos(&app, &t), 0, "the refused request's photo was removed");

    let r = with_photos(&app, &t, &b, &req, &[("crack.png", png(640, 480)), ("box.png", png(300, 200))]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["photos"].as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(stored_photos(&app, &t), 2);
    let (rn, id) = (v["number"].as_str().expect("n").to_owned(), v["photos"][0]["id"].as_i64().expect("id"));
    for (path, token) in [(format!("/returns/{rn}/photos/{id}"), &b), (format!("/admin/returns/{rn}/photos/{id}"), &s)]
    {
        let (status, bytes, h) = get_raw(&app, &api(&t, &path), Some(token)).await;
        let header = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(status, 200, "{path}");
        assert_eq!(header("content-type"), "image/png");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(header("content-disposition").starts_with("attachment"), "{path}");
        assert!(image::load_from_memory(&bytes).is_ok(), "the image itself");
    }
    // Another company's photo: 404.
    let (other, _, _) = buyer(&app, &t, INNS[6]).await;
    assert_eq!(app.get(&api(&t, &format!("/returns/{rn}/photos/{id}")), Some(&other)).await.status, 404);
}

#[actix_web::test]
async fn staff_are_reminded_before_the_decision_is_due_and_returns_can_be_switched_off() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (b, _, _) = buyer(&app, &t, INNS[7]).await;
    let number = delivered(&app, &t, &s, &b).await;
    let r = request(&app, &t, &b, &number, "R-1", "1", "warranty").await;
    let rn = r.json()["number"].as_str().expect("n").to_owned();
    let job = scalar(
        &app,
        &t,
        format!(
            "SELECT (j.payload->>'return_id') || '|' || round(extract(epoch FROM (r.decide_by - j.run_at)) / 3600)::text AS v \
             FROM public.jobs j JOIN returns r ON r.id = (j.payload->>'return_id')::bigint \
             WHERE j.kind = 'return.remind' AND j.tenant_id = {} AND r.number = '{rn}'",
            t.tenant.id
        ),
    )
    .await;
    assert!(job.ends_with("|24"), "a reminder a day before the 3-day deadline: {job}");
    let id: i64 = job.split('|').next().and_then(|x| x.parse().ok()).expect("id");
    let schema = t.tenant.schema.clone();
    for _ in 0..2 {
        let schema = schema.clone();
        app.db(move |c| tradeport::db::in_tenant(c, &schema, |c| tradeport::ordering::returns::thread::remind(c, id)))
            .await
            .expect("remind");
    }
    let reminded = scalar(
        &app,
        &t,
        format!("SELECT count(*)::text AS v FROM notifications WHERE title LIKE 'Решите по возврату {rn}%'"),
    )
    .await;
    assert_eq!(reminded, "1", "the owner is reminded once");
    // A decided request is not reminded about.
    let r = decide(&app, &t, &s, &rn, json!({"status": "rejected"})).await;
    assert_eq!((r.status.as_u16(), r.json()["error"]["fields"]["reason"].is_string()), (422, true), "{}", r.body);
    let r = decide(&app, &t, &s, &rn, json!({"status": "rejected", "reason": "Гарантия истекла"})).await;
    assert_eq!(
        (r.json()["status"].as_str(), r.json()["decision_note"].as_str()),
        (Some("rejected"), Some("Гарантия истекла"))
    );
    // Rejected units are free for another request.
    assert_eq!(request(&app, &t, &b, &number, "R-1", "4", "surplus").await.status, 201);

    // Switched off: the routes are gone.
    let op = app.operator_token().await;
    let r = app
        .patch_json(
            &format!("/api/v1/platform/tenants/{}", t.slug),
            &json!({"features": {"returns": false}}),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get(&api(&t, "/returns"), Some(&b)).await.status, 404);
    assert_eq!(app.get(&api(&t, "/admin/returns"), Some(&s)).await.status, 404);
    let _ = staff(&app, &t).await;
}
