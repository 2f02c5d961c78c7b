//! The return pages as a buyer and staff use them, in Russian and English: "Request a return"
//! on a delivered order, the form with quantities and photos, the request with its thread,
//! staff deciding and receiving, the credit and the return note shown to both.

use crate::helpers::{Browser, Resp, TestApp, TestTenant};
use crate::identity::INNS;
use crate::order_pages::sign_in;
use crate::ordering::buyer;
use crate::returns::{delivered, png, store};

/// Posts the return form (multipart) with `fields` and `photos`, as the browser would.
async fn post_form(b: &Browser<'_>, path: &str, fields: &[(&str, &str)], photos: &[Vec<u8>]) -> Resp {
    let boundary = "----tradeport-return-form";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    for p in photos {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(p);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let csrf = b.cookies.get("tp_csrf").cloned().unwrap_or_default();
    let cookie = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let req = b
        .app
        .request(awc::http::Method::POST, &format!("{path}?csrf_token={csrf}"))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Cookie", cookie));
    b.app.send_bytes(req, body).await
}

fn location(r: &Resp) -> String {
    r.header("location").unwrap_or_default()
}

async fn staff_browser<'a>(app: &'a TestApp, t: &TestTenant) -> Browser<'a> {
    sign_in(app, t, &t.admin_email, &format!("/s/{}/admin/returns", t.slug)).await
}

#[actix_web::test]
async fn a_buyer_requests_a_return_on_the_order_page_and_staff_credit_it_in_both_languages() {
    let app = TestApp::spawn().await;
    let (t, s) = store(&app).await;
    let (token, _, email) = buyer(&app, &t, INNS[0]).await;
    let number = delivered(&app, &t, &s, &token).await;
    let order_page = format!("/s/{}/orders/{number}", t.slug);
    let mut b = sign_in(&app, &t, &email, &order_page).await;
    let page = b.get(&order_page).await;
    assert!(page.body.contains("id=\"order-return\""), "a delivered order offers a return");

    let form_path = format!("/s/{}/orders/{number}/return", t.slug);
    let form = b.get(&form_path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("name=\"qty-R-1\"") && form.body.contains("Брак"), "{}", form.body);
    // Too many: the form again with the reason, what was entered kept.
    let r = post_form(&b, &form_path, &[("qty-R-1", "7"), ("reason", "defect"), ("comment", "Скол")], &[]).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("id=\"return-alert\"") && r.body.contains("R-1") && r.body.contains("value=\"7\""),
        "{}",
        r.body
    );
    let r = post_form(&b, &form_path, &[("reason", "defect")], &[]).await;
    assert_eq!(r.status, 422, "no line chosen: {}", r.body);
    let r = post_form(
        &b,
        &form_path,
        &[("qty-R-1", "2"), ("reason", "defect"), ("comment", "Скол на корпусе")],
        &[png(80, 60)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let detail = location(&r);
    assert!(detail.contains("/account/returns/RET-"), "{detail}");
    let rn = detail.split('/').next_back().and_then(|x| x.split('?').next()).unwrap_or_default().to_owned();
    let page = b.get(&detail).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Скол на корпусе") && page.body.contains("<img src=") && page.body.contains("Запрошен"),
        "{}",
        page.body
    );
    let r = b.post(&format!("/s/{}/account/returns/{rn}/messages", t.slug), &[("body", "Когда заберёте?")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = b.get(&format!("/s/{}/account/returns", t.slug)).await;
    assert!(list.body.contains(&rn), "{}", list.body);

    // Staff: the list, the request, approve with the way back, receive.
    let mut st = staff_browser(&app, &t).await;
    let list = st.get(&format!("/s/{}/admin/returns?status=requested", t.slug)).await;
    assert!(list.body.contains(&rn) && list.body.contains("/admin/returns\">"), "{}", list.body);
    let one = format!("/s/{}/admin/returns/{rn}", t.slug);
    let page = st.get(&one).await;
    assert!(page.body.contains("Когда заберёте?") && page.body.contains("id=\"return-approve\""), "{}", page.body);
    let r = st.post(&format!("{one}/decide"), &[("status", "rejected"), ("reason", "")]).await;
    assert_eq!(r.status, 422, "a rejection needs a reason: {}", r.body);
    let r = st
        .post(
            &format!("{one}/decide"),
            &[("status", "approved"), ("way_back", "pickup"), ("reason", "Заберём в пятницу")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = st.get(&one).await;
    assert!(
        page.body.contains("id=\"return-receive\"") && page.body.contains("value=\"defect\" selected"),
        "{}",
        page.body
    );
    let r = st.post(&format!("{one}/decide"), &[("status", "received"), ("warehouse", "defect")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = st.get(&one).await;
    assert!(page.body.contains("Зачтён") && page.body.contains("id=\"return-note\""), "{}", page.body);

    // The buyer sees the credit and the note, in English too.
    let page = b.get(&detail).await;
    assert!(page.body.contains("Зачтён") && page.body.contains("Заберём в пятницу") && page.body.contains("note.pdf"));
    b.cookies.insert("tp_lang".into(), "en".into());
    let page = b.get(&detail).await;
    for expect in ["Credited", "We pick it up", "Return note", "Defect", "Messages"] {
        assert!(page.body.contains(expect), "{expect}: {}", page.body);
    }
    let form = b.get(&form_path).await;
    assert!(form.body.contains("Can be returned") && form.body.contains("Warranty service"), "{}", form.body);
    let r = post_form(&b, &form_path, &[("qty-R-1", "3"), ("reason", "surplus")], &[]).await;
    assert!(r.body.contains("at most 2 can be returned") || r.body.contains("at most \u{2068}2\u{2069}"), "{}", r.body);
}
