//! T1: the cross-tenant and cross-buyer matrix, generated from the OpenAPI document (which a
//! unit test keeps equal to the route table). Every protected tenant route is called by
//! actors who do not belong, with ids taken from the victim tenant's real rows, by path and
//! by host; none may succeed, leak a marker, or change a row.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{unique, TestApp, TEST_PASSWORD};
use crate::identity::register;

/// Routes anyone may call by design (they authenticate by their own token or create data).
const PUBLIC: &[&str] = &["/auth/", "/register", "/storefront", "/invitations/", "/products", "/search", "/categories"];
/// Routes that answer about the caller only (an empty list for strangers), checked for leaks.
const SELF_VIEWS: &[&str] = &["/account/companies"];
/// Routes that change only the caller's own rows (another buyer of the same store may call them
/// for themselves; the checksum proves the victim's rows stay as they were).
const SELF_ACTIONS: &[&str] = &["/notifications/read"];

#[derive(QueryableByName)]
struct Sum {
    #[diesel(sql_type = diesel::sql_types::Text)]
    sum: String,
}

async fn checksum(app: &TestApp, schema: tradeport::db::TenantSchema) -> String {
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| {
            let sql = "SELECT md5(concat_ws('|',
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM companies t),
                (SELECT string_agg(t::text, ',' ORDER BY company_id, account_id) FROM company_members t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM company_addresses t),
                (SELECT string_agg(t::text, ',' ORDER BY account_id) FROM staff t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM invitations t),
                (SELECT string_agg(t::text, ',' ORDER BY key) FROM settings t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM products t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM categories t),
                (SELECT string_agg(t::text, ',' ORDER BY product_id, warehouse_id) FROM stock t),
                (SELECT string_agg(t::text, ',' ORDER BY product_id, price_type) FROM product_prices t),
                (SELECT string_agg(t::text, ',' ORDER BY code) FROM price_groups t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM customer_prices t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM promotions t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM carts t),
                (SELECT string_agg(t::text, ',' ORDER BY cart_id, product_id) FROM cart_lines t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM orders t),
                (SELECT string_agg(t::text, ',' ORDER BY order_id, line_no) FROM order_lines t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM order_events t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM notifications t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM payments t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM ledger_entries t),
                (SELECT string_agg(t::text, ',' ORDER BY company_id) FROM company_balances t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM invoices t),
                (SELECT string_agg(t::text, ',' ORDER BY payment_id, invoice_id) FROM payment_allocations t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM card_payments t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM card_refunds t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM documents t),
                (SELECT string_agg(t::text, ',' ORDER BY kind, year) FROM document_counters t),
                (SELECT string_agg(t::text, ',' ORDER BY document_id) FROM document_edo t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM document_assets t),
                (SELECT string_agg(t::text, ',' ORDER BY kind) FROM document_asset_current t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM returns t),
                (SELECT string_agg(t::text, ',' ORDER BY return_id, line_no) FROM return_lines t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM return_photos t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM return_messages t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM return_documents t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM contracts t),
                (SELECT string_agg(t::text, ',' ORDER BY kind, lang) FROM contract_templates t),
                (SELECT string_agg(t::text, ',' ORDER BY order_id) FROM order_exchange t),
                (SELECT string_agg(t::text, ',' ORDER BY key) FROM exchange_applied t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM api_keys t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM webhook_endpoints t),
                (SELECT string_agg(t::text, ',' ORDER BY id) FROM webhook_deliveries t))) AS sum";
            Ok(diesel::sql_query(sql).get_result::<Sum>(c)?.sum)
        })
        .expect("checksum")
    })
    .await
}

/// Y's return request of order `number` (one unit of MARK-2) with one photo: (number, photo id).
async fn return_with_photo(app: &TestApp, slug: &str, token: &str, number: &str, marker: &str) -> (String, i64) {
    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(40, 30, image::Rgb([9, 9, 9]))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    let request = json!({"order": number, "lines": [{"sku": "MARK-2", "qty": "1"}], "reason": "defect", "comment": format!("{marker} return")});
    let boundary = "----tradeport-matrix-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{request}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(png.get_ref());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = app
        .request(awc::http::Method::POST, &format!("/s/{slug}/api/v1/returns"))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Authorization", format!("Bearer {token}")));
    let r = app.send_bytes(req, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    (v["number"].as_str().expect("return").to_owned(), v["photos"][0]["id"].as_i64().expect("photo"))
}

#[actix_web::test]
async fn no_actor_reaches_another_tenants_or_another_buyers_data() {
    let app = TestApp::spawn().await;
    // Card payments on in A, so their routes answer for those who belong.
    let a = app
        .new_tenant_with(|r| r.features = Some(json!({"card_payments": true, "edo": true, "api_access": true})))
        .await;
    let b = app.new_tenant_with(|r| r.features = Some(json!({"api_access": true}))).await;
    // Victim: company Y in tenant A, with a marker in its name, an address and a colleague.
    let marker = unique("MARKER");
    let (y_email, r) = register(&app, &a, crate::identity::INNS[6]).await;
    assert_eq!(r.status, 201);
    let y_id = r.json()["company_id"].as_i64().expect("id");
    let a_staff = app.login(&a.admin_email, TEST_PASSWORD).await;
    let y_token = app.login(&y_email, TEST_PASSWORD).await;
    app.patch_json(
        &format!("/s/{}/api/v1/admin/customers/{y_id}", a.slug),
        &json!({"price_group": "vip"}),
        Some(&a_staff),
    )
    .await;
    let addr = app
        .post_json(
            &format!("/s/{}/api/v1/account/addresses", a.slug),
            &json!({"kind": "delivery", "address": format!("{marker} street")}),
            Some(&y_token),
        )
        .await
        .json();
    let addr_id = addr["id"].as_i64().expect("address id");
    let y_account = r.json()["account_id"].as_i64().expect("account id");
    // A category and a product of A carrying the marker, a contract price for Y, a promotion.
    let cat = app
        .post_json(
            &format!("/s/{}/api/v1/admin/categories", a.slug),
            &json!({"code": "mcat", "name": format!("{marker} cat")}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(cat.status, 201, "{}", cat.body);
    let p = app
        .post_json(&format!("/s/{}/api/v1/admin/products", a.slug), &json!({"sku": "MARK-1", "name": format!("{marker} product"), "price": "10", "category": "mcat", "status": "archived"}), Some(&a_staff))
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let cp = app
        .json_request(
            awc::http::Method::PUT,
            &format!("/s/{}/api/v1/admin/customers/{y_id}/prices", a.slug),
            &json!([{"sku": "MARK-1", "price": "7"}]),
            Some(&a_staff),
        )
        .await;
    assert_eq!(cp.status, 200, "{}", cp.body);
    // Y's cart and order (the store takes orders without e-mail confirmation).
    let r = app
        .patch_json(
            &format!("/s/{}/api/v1/admin/settings", a.slug),
            &json!({"require_email_confirmation": false}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p2 = app
        .post_json(
            &format!("/s/{}/api/v1/admin/products", a.slug),
            &json!({"sku": "MARK-2", "name": format!("{marker} item"), "price": "10", "stock": 100}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(p2.status, 201, "{}", p2.body);
    let cart = app
        .post_json(&format!("/s/{}/api/v1/carts", a.slug), &json!({"name": format!("{marker} cart")}), Some(&y_token))
        .await;
    let cart_id = cart.json()["id"].as_i64().expect("cart");
    for _ in 0..2 {
        let r = app
            .post_json(
                &format!("/s/{}/api/v1/carts/{cart_id}/items", a.slug),
                &json!({"sku": "MARK-2", "qty": 3}),
                Some(&y_token),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let placed = app
        .post_json(
            &format!("/s/{}/api/v1/orders", a.slug),
            &json!({"cart_id": cart_id, "comment": marker.clone()}),
            Some(&y_token),
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let number = placed.json()["number"].as_str().expect("number").to_owned();
    let r = app
        .post_json(
            &format!("/s/{}/api/v1/carts/{cart_id}/items", a.slug),
            &json!({"sku": "MARK-2", "qty": 1}),
            Some(&y_token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Y's order shipped (a debit in its ledger) and a payment whose reference carries the marker.
    let r = app
        .patch_json(
            &format!("/s/{}/api/v1/admin/orders/{number}", a.slug),
            &json!({"status": "shipped"}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pay = app
        .post_json(
            &format!("/s/{}/api/v1/admin/payments", a.slug),
            &json!({"customer_id": y_id, "amount": "12.00", "reference": format!("{marker} pay")}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(pay.status, 201, "{}", pay.body);
    let payment_id = pay.json()["id"].as_i64().expect("payment id");
    // Y starts paying its invoice by card (the test gateway).
    let invoice_id = app.get(&format!("/s/{}/api/v1/invoices", a.slug), Some(&y_token)).await.json()["items"][0]["id"]
        .as_i64()
        .expect("invoice id");
    let card = app
        .post_json(&format!("/s/{}/api/v1/invoices/{invoice_id}/card-payment", a.slug), &json!({}), Some(&y_token))
        .await;
    assert_eq!(card.status, 200, "{}", card.body);
    let card_id = card.json()["payment_id"].as_i64().expect("card payment id");
    // Y's УПД (issued when its order shipped).
    let doc_id = app.get(&format!("/s/{}/api/v1/documents", a.slug), Some(&y_token)).await.json()["items"][0]["id"]
        .as_i64()
        .expect("document id");
    // Y's order delivered, and a return request of it with a photo and the marker in its comment.
    let r = app
        .patch_json(
            &format!("/s/{}/api/v1/admin/orders/{number}", a.slug),
            &json!({"status": "delivered"}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (return_number, photo_id) = return_with_photo(&app, &a.slug, &y_token, &number, &marker).await;
    let schema = a.tenant.schema.clone();
    let sql = format!("UPDATE companies SET name = '{marker} Ltd' WHERE id = {y_id}");
    app.db(move |c| tradeport::db::in_tenant(c, &schema, |c| Ok(diesel::sql_query(sql).execute(c)?)).expect("marker"))
        .await;
    // Y's supply contract (its buyer carries the marker), an agreement on new terms, A's own template.
    let r = app
        .post_json(&format!("/s/{}/api/v1/admin/customers/{y_id}/contracts", a.slug), &json!({}), Some(&a_staff))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let contract_id = r.json()["id"].as_i64().expect("contract id");
    let r = app
        .patch_json(
            &format!("/s/{}/api/v1/admin/customers/{y_id}", a.slug),
            &json!({"credit_limit": "1000"}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .json_request(
            awc::http::Method::PUT,
            &format!("/s/{}/api/v1/admin/contract-template", a.slug),
            &json!({"body": format!("# {marker} {{{{contract.number}}}}")}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A's integrations: an API key and a webhook with a queued delivery, all named with the marker.
    let r = app
        .post_json(
            &format!("/s/{}/api/v1/admin/api-keys", a.slug),
            &json!({"name": marker, "scope": "write"}),
            Some(&a_staff),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let key_id = r.json()["id"].as_i64().expect("key id");
    let hook = json!({"url": "https://erp.example.com/hooks", "events": ["order.created"], "description": marker});
    let r = app.post_json(&format!("/s/{}/api/v1/admin/webhooks", a.slug), &hook, Some(&a_staff)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let hook_id = r.json()["id"].as_i64().expect("hook id");
    let r =
        app.post_json(&format!("/s/{}/api/v1/admin/webhooks/{hook_id}/test", a.slug), &json!({}), Some(&a_staff)).await;
    let delivery = r.json()["delivery_id"].as_str().expect("delivery").to_owned();

    // Actors who do not belong to Y: another buyer of A (company X), a buyer and the owner of B, nobody.
    let (x_email, _) = register(&app, &a, crate::identity::INNS[7]).await;
    let x_token = app.login(&x_email, TEST_PASSWORD).await;
    let (b_buyer_email, _) = register(&app, &b, crate::identity::INNS[6]).await;
    let b_buyer = app.login(&b_buyer_email, TEST_PASSWORD).await;
    let b_owner = app.login(&b.admin_email, TEST_PASSWORD).await;
    let r = app
        .post_json(
            &format!("/s/{}/api/v1/admin/api-keys", b.slug),
            &json!({"name": "B's ERP", "scope": "write"}),
            Some(&b_owner),
        )
        .await;
    let b_key = r.json()["key"].as_str().expect("B's key").to_owned();
    let actors: Vec<(&str, Option<String>, Option<i64>)> = vec![
        ("anonymous", None, None),
        ("buyer of A, other company", Some(x_token.clone()), None),
        ("buyer of A naming Y", Some(x_token.clone()), Some(y_id)),
        ("buyer of B", Some(b_buyer.clone()), None),
        ("buyer of B naming Y", Some(b_buyer.clone()), Some(y_id)),
        ("owner of B", Some(b_owner.clone()), None),
        ("API key of B", Some(b_key.clone()), None),
    ];

    let doc: Value = serde_json::from_str(tradeport::web::routes::openapi::DOCUMENT).expect("document");
    let before = checksum(&app, a.tenant.schema.clone()).await;
    let (mut tried, mut leaked, mut allowed) = (0, Vec::new(), Vec::new());
    for (template, item) in doc["paths"].as_object().expect("paths") {
        let Some(rest) = template.strip_prefix("/s/{tenant}/api/v1") else { continue };
        if PUBLIC.iter().any(|p| rest.starts_with(p)) {
            continue;
        }
        let concrete = rest
            .replace(
                "{id}",
                &if rest.contains("addresses") {
                    addr_id
                } else if rest.starts_with("/admin/payments") {
                    payment_id
                } else if rest.starts_with("/admin/card-payments") {
                    card_id
                } else if rest.starts_with("/documents/") || rest.starts_with("/admin/documents/") {
                    doc_id
                } else if rest.contains("/photos/") {
                    photo_id
                } else if rest.starts_with("/contracts/") || rest.starts_with("/admin/contracts/") {
                    contract_id
                } else if rest.starts_with("/invoices/") {
                    invoice_id
                } else if rest.starts_with("/carts") {
                    cart_id
                } else if rest.starts_with("/admin/api-keys/") {
                    key_id
                } else if rest.starts_with("/admin/webhooks/") {
                    hook_id
                } else {
                    y_id
                }
                .to_string(),
            )
            .replace(
                "{number}",
                if rest.starts_with("/returns/") || rest.starts_with("/admin/returns/") {
                    &return_number
                } else {
                    &number
                },
            )
            .replace("{account_id}", &y_account.to_string())
            .replace("{sku}", if rest.starts_with("/carts") { "MARK-2" } else { "MARK-1" })
            .replace("{code}", if rest.contains("price-groups") { "vip" } else { "mcat" })
            .replace("{kind}", "stamp")
            .replace("{delivery}", &delivery);
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            for (who, token, company) in &actors {
                for via_host in [false, true] {
                    // Foreign tenants' actors hit A's paths; A's other buyer hits A's paths too.
                    let (path, host) = if via_host {
                        (format!("/api/v1{concrete}"), Some(format!("{}.localhost", a.slug)))
                    } else {
                        (format!("/s/{}/api/v1{concrete}", a.slug), None)
                    };
                    let m = awc::http::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                    let mut req = app.request(m, &path).insert_header(("Content-Type", "application/json"));
                    if let Some(h) = &host {
                        req = req.insert_header(("Host", h.clone()));
                    }
                    if let Some(t) = token {
                        req = req.insert_header(("Authorization", format!("Bearer {t}")));
                    }
                    if let Some(c) = company {
                        req = req.insert_header(("X-Company-Id", c.to_string()));
                    }
                    let body = if method == "get" || method == "delete" { None } else { Some("{}".to_string()) };
                    let r = app.send(req, body).await;
                    tried += 1;
                    // Listing one's own (empty or own-company) data is fine; what matters is Y's data.
                    if r.body.contains(&marker) || r.body.contains("\"vip\"") {
                        leaked.push(format!("{method} {path} as {who}: {}", r.status));
                    }
                    let own_view = (method == "get"
                        && (*who == "buyer of A, other company" || (token.is_some() && SELF_VIEWS.contains(&rest))))
                        || (*who == "buyer of A, other company" && SELF_ACTIONS.contains(&rest));
                    if r.status.is_success() && !own_view {
                        allowed.push(format!("{method} {path} as {who}: {}", r.status));
                    }
                }
            }
        }
    }
    let after = checksum(&app, a.tenant.schema.clone()).await;
    println!(
        "{{\"scenario\":\"T1\",\"tried\":{tried},\"leaked\":{},\"allowed\":{},\"rows_changed\":{}}}",
        leaked.len(),
        allowed.len(),
        before != after
    );
    assert!(tried > 100, "the matrix is too small: {tried}");
    assert!(leaked.is_empty(), "foreign data leaked:\n{}", leaked.join("\n"));
    assert!(allowed.is_empty(), "foreign requests succeeded:\n{}", allowed.join("\n"));
    assert_eq!(before, after, "tenant A's rows changed");
    // Y itself still sees its own data (the matrix is not passing because everything fails).
    let own = app.get(&format!("/s/{}/api/v1/account", a.slug), Some(&y_token)).await;
    assert!(own.body.contains(&marker));
}
