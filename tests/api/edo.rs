//! EDO through the file exchange provider, end to end: staff send a shipped order's УПД, the
//! worker writes it into the store's outbox under its FNS name, the operator's receipts
//! (written by the test into the inbox, as a connector would) move it to delivered and then
//! signed, shown to staff and to the buyer; a late or unknown receipt changes nothing.

use serde_json::json;

use crate::catalog::api;
use crate::documents::{list, shipped};
use crate::finance_docs::details;
use crate::helpers::TestApp;
use crate::identity::INNS;
use crate::ordering::store;

#[actix_web::test]
async fn a_upd_goes_out_through_the_file_provider_and_comes_back_signed() {
    let dir = std::env::temp_dir().join(format!("tp-edo-{}", crate::helpers::unique("t")));
    let edo_dir = dir.clone();
    let app = TestApp::spawn_with(move |s| s.documents.edo_dir = edo_dir).await;
    let (t, s) = store(&app).await;
    let mut settings = details();
    settings["edo_provider"] = json!("file");
    settings["edo_id"] = json!("2BE-SELLER-1");
    let r = app.patch_json(&api(&t, "/admin/settings"), &settings, Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (b, _, _) = shipped(&app, &t, &s, INNS[0], "edo-1").await;
    let doc = list(&app, &t, &b, "").await["items"][0].clone();
    let id = doc["id"].as_i64().expect("id");

    // EDO is a feature of the plan: off on this one.
    let r = app.post_json(&api(&t, &format!("/admin/documents/{id}/edo")), &json!({}), Some(&s)).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let op = app.operator_token().await;
    let r = app
        .patch_json(&format!("/api/v1/platform/tenants/{}", t.slug), &json!({"features": {"edo": true}}), Some(&op))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The buyer's participant id names the file.
    let company = doc["customer"]["id"].as_i64().expect("company");
    let r = app
        .json_request(
            awc::http::Method::PUT,
            &api(&t, &format!("/admin/customers/{company}/edo")),
            &json!({"edo_id": "2BE-BUYER-7"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .json_request(
            awc::http::Method::PUT,
            &api(&t, &format!("/admin/customers/{company}/edo")),
            &json!({"edo_id": "../x"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);

    let r = app.post_json(&api(&t, &format!("/admin/documents/{id}/edo")), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["edo"]["status"].as_str()), (202, Some("queued")), "{}", r.body);
    let n = tradeport::jobs::worker::run_once(&app.state, Some(t.tenant.id)).await.expect("worker");
    assert!(n >= 1);
    let outbox = dir.join(t.tenant.schema.as_str()).join("outbox");
    let files: Vec<String> = std::fs::read_dir(&outbox)
        .expect("outbox")
        .filter_map(|e| e.ok().and_then(|e| e.file_name().to_str().map(str::to_owned)))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = files[0].clone();
    // The file is the issued XML, named by the FNS rule (receiver, sender, date, GUID). The
    // buyer's participant id was set after the УПД was issued: an issued file keeps its name
    // (the buyer's INN and KPP stand in for it).
    assert!(file.starts_with(&format!("ON_NSCHFDOPPR_{}", INNS[0])) && file.contains("_2BE-SELLER-1_"), "{file}");
    let (_, xml, _) = crate::finance_docs::get_raw(&app, &api(&t, &format!("/documents/{id}.xml")), Some(&b)).await;
    assert_eq!(std::fs::read(outbox.join(&file)).expect("file"), xml, "the exact bytes issued");
    let v = list(&app, &t, &b, "").await;
    assert_eq!(v["items"][0]["edo"]["status"], "sent");

    let inbox = dir.join(t.tenant.schema.as_str()).join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let receipt = |name: &str, status: &str, reason: &str, f: &str| {
        std::fs::write(inbox.join(name), json!({"file": f, "status": status, "reason": reason}).to_string())
            .expect("receipt")
    };
    receipt("001.json", "delivered", "", &file);
    receipt("002.json", "signed", "", "ON_NSCHFDOPPR_someone_else.xml");
    let r = app.post_json(&api(&t, "/admin/edo/poll"), &json!({}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["applied"].as_i64()), (200, Some(1)), "{}", r.body);
    assert_eq!(list(&app, &t, &b, "").await["items"][0]["edo"]["status"], "delivered");
    receipt("003.json", "signed", "", &file);
    app.post_json(&api(&t, "/admin/edo/poll"), &json!({}), Some(&s)).await;
    // A late "delivered" does not undo the signature.
    receipt("004.json", "delivered", "", &file);
    app.post_json(&api(&t, "/admin/edo/poll"), &json!({}), Some(&s)).await;
    let mine = list(&app, &t, &b, "").await;
    assert_eq!(mine["items"][0]["edo"]["status"], "signed", "the buyer sees it signed: {mine}");
    let staff = app.get(&api(&t, "/admin/documents"), Some(&s)).await.json();
    assert_eq!(staff["items"][0]["edo"]["status"], "signed");
    assert!(inbox.join("done/003.json").exists() && inbox.join("refused/002.json").exists());
    // Sending again answers the state; nothing goes out twice.
    let r = app.post_json(&api(&t, &format!("/admin/documents/{id}/edo")), &json!({}), Some(&s)).await;
    assert_eq!(r.json()["edo"]["status"], "signed");
    let _ = std::fs::remove_dir_all(&dir);
}
