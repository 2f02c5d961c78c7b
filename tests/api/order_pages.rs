//! The order pages as buyers and staff use them: add to cart from the product page, fix a
//! quantity, quick order, checkout (twice: one order), history with filters, Excel export,
//! repeat; staff confirm the order; another company sees none of it.

use serde_json::json;

use crate::catalog::api;
use crate::helpers::{Browser, Resp, TestApp, TestTenant, TEST_PASSWORD};
use crate::identity::INNS;
use crate::ordering::{add, buyer, new_cart, store};

/// Signs in through the store's login form and lands on `next`.
pub async fn sign_in<'a>(app: &'a TestApp, t: &TestTenant, email: &str, next: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    let form = b.get(&format!("/s/{}/login", t.slug)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let r =
        b.post(&format!("/s/{}/login", t.slug), &[("email", email), ("password", TEST_PASSWORD), ("next", next)]).await;
    assert_eq!((r.status.as_u16(), r.header("location")), (303, Some(next.to_owned())), "{}", r.body);
    b
}

/// A form post from `page` (the browser sends it as the Referer).
pub async fn post_from(b: &mut Browser<'_>, page: &str, path: &str, fields: &[(&str, &str)]) -> Resp {
    let csrf = b.cookies.get("tp_csrf").cloned().unwrap_or_default();
    let cookies = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    let req = b
        .app
        .request(awc::http::Method::POST, path)
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("Cookie", cookies))
        .insert_header(("Referer", format!("{}{page}", b.app.address)));
    b.app.send(req, Some(serde_urlencoded::to_string(&all).expect("form"))).await
}

/// The value of the `name="…"` input in `html`.
fn input(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no input {name}"));
    let rest = &html[at..];
    let v = rest.find("value=\"").map(|i| &rest[i + 7..]).unwrap_or_else(|| panic!("no value for {name}"));
    v[..v.find('"').unwrap_or(0)].to_owned()
}

/// The id in the cart form's action (`/cart/{id}/update`).
fn cart_id(html: &str) -> String {
    let at = html.find("/update\"").expect("a cart form");
    let start = html[..at].rfind('/').expect("cart id") + 1;
    html[start..at].to_owned()
}

/// The checkout form's fields as the page rendered them, plus a PO number.
fn checkout_fields(html: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cart_id", input(html, "cart_id")),
        ("expected_total", input(html, "expected_total")),
        ("idempotency_key", input(html, "idempotency_key")),
        ("delivery_method", "pickup".into()),
        ("payment_method", "invoice".into()),
        ("kind", "order".into()),
        ("po_number", "PO-77".into()),
        ("comment", "Позвонить за час".into()),
    ]
}

fn refs<'a>(f: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    f.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[actix_web::test]
async fn a_buyer_orders_from_the_product_page_through_checkout_and_repeats_it() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (token, _, email) = buyer(&app, &t, INNS[0]).await;
    let s = format!("/s/{}", t.slug);
    let product = format!("{s}/products/PCS-1");
    let mut b = sign_in(&app, &t, &email, &product).await;

    // Add to cart from the product page: back to the product, at the "added" note.
    let page = b.get(&product).await;
    assert!(page.body.contains("id=\"add-to-cart\""), "a signed-in buyer can order: {}", page.body);
    let r = post_from(&mut b, &product, &format!("{s}/cart/add"), &[("sku", "PCS-1"), ("qty", "4")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some(format!("{product}#in-cart-PCS-1")));
    // A quantity the product does not allow is refused with the reason, in Russian.
    let r = post_from(&mut b, &product, &format!("{s}/cart/add"), &[("sku", "PCS-1"), ("qty", "1")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Не удалось добавить PCS-1"), "{}", r.body);

    let cart = b.get(&format!("{s}/cart")).await;
    assert_eq!(cart.status, 200, "{}", cart.body);
    assert!(cart.body.contains("Основная") && cart.body.contains("400.00"), "the first cart holds 4 × 100.00");
    let id = cart_id(&cart.body);

    // A bad quantity: the line says why, in Russian, and keeps what was typed.
    let r = b.post(&format!("{s}/cart/{id}/update"), &[("sku", "PCS-1"), ("qty", "3")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("количество должно быть кратно 2 шт"), "{}", r.body);
    assert!(r.body.contains("value=\"3\"") && r.body.contains("400.00"), "typed value kept, nothing changed");

    // Quick order: good lines go in, the others are listed with their line and reason.
    let r = b.post(&format!("{s}/cart/{id}/quick"), &[("text", "M-1 2,5\nNOPE-1 3\nPCS-1 1")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("товара с артикулом NOPE-1 здесь нет"), "{}", r.body);
    assert!(r.body.contains("Добавлено строк: 1") && r.body.contains("431.25"), "M-1 added: 400 + 2.5 × 12.50");
    assert!(r.body.contains("NOPE-1 3\nPCS-1 1"), "the refused lines stay in the box to fix");

    // Checkout shows today's total; the same form sent twice places one order.
    let co = b.get(&format!("{s}/checkout?cart={id}")).await;
    assert_eq!(co.status, 200, "{}", co.body);
    assert_eq!(input(&co.body, "expected_total"), "431.25");
    let fields = checkout_fields(&co.body);
    let first = b.post(&format!("{s}/checkout"), &refs(&fields)).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let again = b.post(&format!("{s}/checkout"), &refs(&fields)).await;
    assert_eq!(again.header("location"), first.header("location"), "a double submit lands on the same order");
    let listed = app.get(&api(&t, "/orders"), Some(&token)).await.json();
    assert_eq!(listed["total"], 1, "one order: {listed}");
    let number = listed["items"][0]["number"].as_str().expect("number").to_owned();
    let order_page = format!("{s}/orders/{number}");
    assert_eq!(first.header("location"), Some(format!("{order_page}?placed=1")));
    let page = b.get(&format!("{order_page}?placed=1")).await;
    assert!(page.body.contains(&number) && page.body.contains("Спасибо"), "{}", page.body);
    assert!(page.body.contains("PO-77") && page.body.contains("431.25") && page.body.contains("id=\"order-cancel\""));
    let cart = b.get(&format!("{s}/cart?id={id}")).await;
    assert!(cart.body.contains("id=\"cart-empty\""), "the cart was emptied by the order");

    // History with filters.
    let list = b.get(&format!("{s}/orders?number={}", &number[number.len() - 3..])).await;
    assert!(list.body.contains(&format!("data-order=\"{number}\"")), "{}", list.body);
    let none = b.get(&format!("{s}/orders?status=cancelled")).await;
    assert!(!none.body.contains(&format!("data-order=\"{number}\"")) && none.body.contains("Нет заказов"));
    let by_sku = b.get(&format!("{s}/orders?sku=m-1&from=2000-01-01")).await;
    assert!(by_sku.body.contains(&format!("data-order=\"{number}\"")));
    let bad = b.get(&format!("{s}/orders?from=yesterday")).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("укажите дату"), "{}", bad.body);

    // Export to Excel.
    let x = b.get(&format!("{s}/orders/export.xlsx")).await;
    assert_eq!(x.status, 200, "{}", x.body);
    assert!(x.body.starts_with("PK"), "an XLSX (zip) file");
    assert!(x.header("content-type").unwrap_or_default().contains("spreadsheetml"));

    // Repeat: a new cart with the lines at today's prices.
    let r = b.post(&format!("{order_page}/repeat"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.header("location").expect("to the new cart");
    assert!(to.starts_with(&format!("{s}/cart?id=")) && !to.ends_with(&format!("={id}")), "{to}");
    let repeated = b.get(&to).await;
    assert!(repeated.body.contains("id=\"repeat-report\"") && repeated.body.contains(&number), "{}", repeated.body);
    assert!(repeated.body.contains("data-sku=\"PCS-1\"") && repeated.body.contains("431.25"));
    let again = b.get(&to).await;
    assert!(!again.body.contains("id=\"repeat-report\""), "the report is shown once");
}

#[actix_web::test]
async fn checkout_shows_changed_prices_and_lines_that_cannot_be_ordered() {
    let app = TestApp::spawn().await;
    let (t, staff) = store(&app).await;
    let (token, _, email) = buyer(&app, &t, INNS[1]).await;
    let s = format!("/s/{}", t.slug);
    let cart = new_cart(&app, &t, &token, "Объект").await;
    assert_eq!(add(&app, &t, &token, cart, "PCS-1", json!("2")).await.status, 200);
    let mut b = sign_in(&app, &t, &email, &format!("{s}/checkout?cart={cart}")).await;
    let co = b.get(&format!("{s}/checkout?cart={cart}")).await;
    let fields = checkout_fields(&co.body);
    assert_eq!(input(&co.body, "expected_total"), "200.00");

    // The price goes up before the buyer confirms: nothing is ordered, the new total is shown.
    let r = app.patch_json(&api(&t, "/admin/products/PCS-1"), &json!({"price": "110.00"}), Some(&staff)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = b.post(&format!("{s}/checkout"), &refs(&fields)).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Цены изменились") && r.body.contains("220.00"), "{}", r.body);
    assert_eq!(input(&r.body, "expected_total"), "220.00");
    assert_eq!(app.get(&api(&t, "/orders"), Some(&token)).await.json()["total"], 0);

    // An upcoming product cannot be ordered now: the line says so.
    assert_eq!(add(&app, &t, &token, cart, "UP-1", json!("1")).await.status, 200);
    let co = b.get(&format!("{s}/checkout?cart={cart}")).await;
    let r = b.post(&format!("{s}/checkout"), &refs(&checkout_fields(&co.body))).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("ещё не в продаже: оформите предзаказ"), "{}", r.body);
    // A delivery without an address is refused on its field.
    let mut f = checkout_fields(&co.body);
    f.retain(|(k, _)| *k != "delivery_method");
    f.push(("delivery_method", "delivery".into()));
    let r = b.post(&format!("{s}/checkout"), &refs(&f)).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("выберите адрес доставки"), "{}", r.body);
}

#[actix_web::test]
async fn staff_confirm_the_order_and_other_companies_see_nothing() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (token, _, email) = buyer(&app, &t, INNS[2]).await;
    let s = format!("/s/{}", t.slug);
    let cart = new_cart(&app, &t, &token, "Склад").await;
    assert_eq!(add(&app, &t, &token, cart, "M-1", json!("10")).await.status, 200);
    let placed = app.post_json(&api(&t, "/orders"), &json!({"cart_id": cart, "po_number": "PO-9"}), Some(&token)).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let number = placed.json()["number"].as_str().expect("number").to_owned();

    // Staff: the list, the order, a status change with an internal note.
    let mut staff = sign_in(&app, &t, &t.admin_email, &format!("{s}/admin/orders")).await;
    let list = staff.get(&format!("{s}/admin/orders?status=new")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&format!("data-order=\"{number}\"")) && list.body.contains("ООО «Стройка»"));
    let page = staff.get(&format!("{s}/admin/orders/{number}")).await;
    assert!(page.body.contains("<option value=\"confirmed\">") && !page.body.contains("<option value=\"new\">"));
    let r = staff
        .post(
            &format!("{s}/admin/orders/{number}"),
            &[("status", "confirmed"), ("internal_note", "Позвонить"), ("note", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = staff.get(&r.header("location").expect("back to the order")).await;
    assert!(page.body.contains("data-status=\"confirmed\"") && page.body.contains("Позвонить"), "{}", page.body);
    let r = staff.post(&format!("{s}/admin/orders/{number}"), &[("status", "new"), ("internal_note", "")]).await;
    assert_eq!(r.status, 409, "an order does not go back: {}", r.body);

    // The buyer sees the new status and can no longer cancel.
    let mut b = sign_in(&app, &t, &email, &format!("{s}/orders/{number}")).await;
    let mine = b.get(&format!("{s}/orders/{number}")).await;
    assert!(mine.body.contains("Подтверждён") && !mine.body.contains("id=\"order-cancel\""), "{}", mine.body);
    assert!(!mine.body.contains("Позвонить"), "the internal note stays internal");

    // A buyer of another company: neither the order nor the cart exists for them.
    let (_, _, other) = buyer(&app, &t, INNS[3]).await;
    let mut o = sign_in(&app, &t, &other, &format!("{s}/orders")).await;
    assert_eq!(o.get(&format!("{s}/orders/{number}")).await.status, 404);
    assert_eq!(o.get(&format!("{s}/cart?id={cart}")).await.status, 404);
    let theirs = o.get(&format!("{s}/orders")).await;
    assert!(!theirs.body.contains(&number));
    assert_eq!(o.post(&format!("{s}/orders/{number}/cancel"), &[]).await.status, 404);
    // A guest is sent to sign in.
    let guest = app.get(&format!("{s}/cart"), None).await;
    assert_eq!(guest.status, 303);
    assert!(guest.header("location").unwrap_or_default().starts_with(&format!("{s}/login?next=")));
}

#[actix_web::test]
async fn the_cabinet_lists_order_notices_and_marks_them_read() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (token, _, email) = buyer(&app, &t, INNS[0]).await;
    let cart = new_cart(&app, &t, &token, "c").await;
    add(&app, &t, &token, cart, "PCS-1", json!(2)).await;
    let r = app.post_json(&format!("/s/{}/api/v1/orders", t.slug), &json!({"cart_id": cart}), Some(&token)).await;
    let number = r.json()["number"].as_str().expect("number").to_owned();
    let mut b = sign_in(&app, &t, &email, &format!("/s/{}/account", t.slug)).await;
    let page = b.get(&format!("/s/{}/account", t.slug)).await;
    assert!(page.body.contains(&format!("Заказ {number} принят")), "the notice is listed");
    assert!(page.body.contains(&format!("/s/{}/orders/{number}", t.slug)), "with a link to the order");
    assert!(page.body.contains("class=\"unread\""));
    let r =
        post_from(&mut b, &format!("/s/{}/account", t.slug), &format!("/s/{}/account/notifications/read", t.slug), &[])
            .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get(&format!("/s/{}/account", t.slug)).await;
    assert!(!page.body.contains("class=\"unread\""), "all read now");
}

/// What staff see as free stock of `sku`.
async fn free_stock(app: &TestApp, t: &TestTenant, staff: &str, sku: &str) -> String {
    let r = app.get(&api(t, &format!("/admin/products/{sku}")), Some(staff)).await;
    r.json()["stock_available"].as_str().map(str::to_owned).unwrap_or_else(|| r.body.clone())
}

/// The ids in `data-{attr}="…"` of `html`, in page order.
fn ids(html: &str, attr: &str) -> Vec<String> {
    let key = format!("data-{attr}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn a_buyer_reserves_from_the_product_page_orders_or_releases_it_and_waits_for_a_new_product() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (_, _, email) = buyer(&app, &t, INNS[0]).await;
    let staff = app.login(&t.admin_email, TEST_PASSWORD).await;
    let s = format!("/s/{}", t.slug);
    let product = format!("{s}/products/PCS-1");
    let today = chrono::Utc::now().date_naive();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    let mut b = sign_in(&app, &t, &email, &product).await;

    // In stock: the product page offers a reservation, not the waitlist.
    let page = b.get(&product).await;
    assert!(page.body.contains("id=\"reserve-form\"") && !page.body.contains("id=\"waitlist-form\""), "{}", page.body);
    let r = post_from(
        &mut b,
        &product,
        &format!("{s}/reservations"),
        &[("sku", "PCS-1"), ("qty", "4"), ("until", &tomorrow)],
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.header("location")),
        (303, Some(format!("{product}#reserved-PCS-1"))),
        "{}",
        r.body
    );
    assert_eq!(free_stock(&app, &t, &staff, "PCS-1").await, "6", "the held units are not sellable");

    // Too late a date, or more than is free: the reason in Russian, nothing changes.
    let late = (today + chrono::Duration::days(40)).to_string();
    let r =
        post_from(&mut b, &product, &format!("{s}/reservations"), &[("sku", "PCS-1"), ("qty", "2"), ("until", &late)])
            .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Не удалось зарезервировать PCS-1: срок резерва — с сегодняшнего дня и не дольше 14 дн."),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("id=\"reserve-retry\"") && r.body.contains(&format!("value=\"{late}\"")),
        "the form to fix"
    );
    let r = post_from(&mut b, &product, &format!("{s}/reservations"), &[("sku", "PCS-1"), ("qty", "8"), ("until", "")])
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("в наличии только 6 шт"), "{}", r.body);
    assert_eq!(free_stock(&app, &t, &staff, "PCS-1").await, "6");
    assert_eq!(ids(&r.body, "reservation").len(), 1, "still one reservation");

    // A second one without a date lasts until tomorrow.
    let r = post_from(&mut b, &product, &format!("{s}/reservations"), &[("sku", "PCS-1"), ("qty", "2")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(free_stock(&app, &t, &staff, "PCS-1").await, "4");
    let list = b.get(&format!("{s}/reservations")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let found = ids(&list.body, "reservation");
    assert_eq!(found.len(), 2, "{}", list.body);
    let (two, four) = (found[0].clone(), found[1].clone());
    let last_day = (today + chrono::Duration::days(1)).format("%d.%m.%Y").to_string();
    assert!(list.body.contains("Ручка оконная") && list.body.contains("Действует") && list.body.contains(&last_day));
    assert!(
        list.body.contains(&format!("/reservations/{four}/order"))
            && list.body.contains(&format!("/reservations/{two}/release"))
    );
    let orders = b.get(&format!("{s}/orders")).await;
    assert!(orders.body.contains("id=\"orders-reservations\"") && orders.body.contains("id=\"orders-waitlist\""));

    // A buyer of another company can neither release nor order it, nor see it.
    let (_, _, other) = buyer(&app, &t, INNS[1]).await;
    let mut o = sign_in(&app, &t, &other, &format!("{s}/reservations")).await;
    assert_eq!(o.post(&format!("{s}/reservations/{two}/release"), &[]).await.status, 404);
    assert_eq!(o.post(&format!("{s}/reservations/{four}/order"), &[]).await.status, 404);
    assert!(o.get(&format!("{s}/reservations")).await.body.contains("id=\"reservations-empty\""));
    assert_eq!(free_stock(&app, &t, &staff, "PCS-1").await, "4");

    // "Order it": an order of the held units, on its page; the stock moves from held to sold.
    let r = b.post(&format!("{s}/reservations/{four}/order"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.header("location").expect("to the order");
    assert!(to.starts_with(&format!("{s}/orders/")), "{to}");
    let page = b.get(&to).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("PCS-1") && page.body.contains("400.00"), "{}", page.body);
    assert_eq!(free_stock(&app, &t, &staff, "PCS-1").await, "4");
    // "Release": the units come back.
    let r = b.post(&format!("{s}/reservations/{two}/release"), &[]).await;
    assert_eq!(r.header("location"), Some(format!("{s}/reservations?done=released")), "{}", r.body);
    assert_eq!(free_stock(&app, &t, &staff, "PCS-1").await, "6");
    let list = b.get(&format!("{s}/reservations?done=released")).await;
    assert!(
        list.body.contains("Резерв снят") && list.body.contains("Заказан") && list.body.contains(">Снят<"),
        "{}",
        list.body
    );
    assert!(!list.body.contains("/release\""), "nothing left to release");
    let r = b.post(&format!("{s}/reservations/{two}/release"), &[]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("этот резерв уже не действует"), "{}", r.body);

    // Upcoming: the product page offers the waitlist instead.
    let upcoming = format!("{s}/products/UP-1");
    let page = b.get(&upcoming).await;
    assert!(page.body.contains("id=\"waitlist-form\"") && !page.body.contains("id=\"reserve-form\""), "{}", page.body);
    let r = post_from(&mut b, &upcoming, &format!("{s}/waitlist"), &[("sku", "UP-1"), ("qty", "")]).await;
    assert_eq!(
        (r.status.as_u16(), r.header("location")),
        (303, Some(format!("{upcoming}#waiting-UP-1"))),
        "{}",
        r.body
    );
    let r = post_from(&mut b, &upcoming, &format!("{s}/waitlist"), &[("sku", "UP-1"), ("qty", "3")]).await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("вы уже ждёте этот товар"), "{}", r.body);
    let list = b.get(&format!("{s}/waitlist")).await;
    assert!(list.body.contains("Новинка") && list.body.contains("ещё ждём"), "{}", list.body);
    let waiting = ids(&list.body, "waiting");
    assert_eq!(waiting.len(), 1, "{}", list.body);
    assert_eq!(o.post(&format!("{s}/waitlist/{}/remove", waiting[0]), &[]).await.status, 404, "not theirs");
    let r = b.post(&format!("{s}/waitlist/{}/remove", waiting[0]), &[]).await;
    assert_eq!(r.header("location"), Some(format!("{s}/waitlist?done=removed")), "{}", r.body);
    assert!(b.get(&format!("{s}/waitlist")).await.body.contains("id=\"waitlist-empty\""));
}

#[actix_web::test]
async fn staff_change_a_new_orders_lines_on_its_page() {
    let app = TestApp::spawn().await;
    let (t, _) = store(&app).await;
    let (token, _, _) = buyer(&app, &t, INNS[0]).await;
    let r = app
        .post_json(
            &format!("/s/{}/api/v1/orders", t.slug),
            &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}),
            Some(&token),
        )
        .await;
    let number = r.json()["number"].as_str().expect("number").to_owned();
    let page = format!("/s/{}/admin/orders/{number}", t.slug);
    let mut b = sign_in(&app, &t, &t.admin_email, &page).await;
    let shown = b.get(&page).await;
    assert!(shown.body.contains("id=\"order-lines-edit\""), "staff may change a new order");
    let lines = format!("{page}/lines");
    let r = post_from(&mut b, &page, &lines, &[("was.PCS-1", "2"), ("qty.PCS-1", "3")]).await;
    assert_eq!(r.status, 422, "3 is not a multiple of 2: nothing changes");
    let r = post_from(
        &mut b,
        &page,
        &lines,
        &[("was.PCS-1", "2"), ("qty.PCS-1", "4"), ("add_sku", "M-1"), ("add_qty", "2.5")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let v = app.get(&format!("/s/{}/api/v1/orders/{number}", t.slug), Some(&token)).await.json();
    assert_eq!((v["total"].as_str(), v["lines"].as_array().map(Vec::len)), (Some("431.25"), Some(2)), "{v}");
    let staff = app.login(&t.admin_email, TEST_PASSWORD).await;
    let p = app.get(&api(&t, "/admin/products/PCS-1"), Some(&staff)).await.json();
    assert_eq!(p["stock_available"], "6");
}
