//! Finance documents and bank statements as the buyer and the supplier's accountant meet
//! them: the invoice PDF (read back with poppler's pdftotext, as a PDF reader sees it), the
//! reconciliation statement, the 1C client-bank statement import with its report, and orders
//! on account held for the supplier's decision.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::catalog::api;
use crate::helpers::{TestApp, TestTenant};
use crate::identity::INNS;
use crate::ordering::{buyer, order, store};

/// The supplier's details; its INN is not one of the buyers'.
pub fn details() -> Value {
    json!({
        "legal_name": "ООО «Окна Профи»", "inn": INNS[7], "kpp": "773601001", "ogrn": "1027700132195",
        "address": "117997, Москва, ул. Вавилова, 19", "bank": "ПАО Сбербанк", "bic": "044525225",
        "correspondent_account": "30101810400000000225", "account": "40702810200000000001",
        "director": "Иванов Иван Иванович", "accountant": "Петрова Анна Андреевна",
    })
}

pub async fn supplier(app: &TestApp) -> (TestTenant, String) {
    let (t, s) = store(app).await;
    let r = app.patch_json(&api(&t, "/admin/settings"), &details(), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (t, s)
}

/// GET with the raw body (a PDF is not text).
pub async fn get_raw(app: &TestApp, path: &str, token: Option<&str>) -> (u16, Vec<u8>, awc::http::header::HeaderMap) {
    let mut req = app.request(awc::http::Method::GET, path);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    let mut res = req.send().await.expect("request sent");
    let bytes = res.body().limit(16 * 1024 * 1024).await.expect("body");
    (res.status().as_u16(), bytes.to_vec(), res.headers().clone())
}

/// The text of a PDF as poppler reads it (Debian's poppler-utils; .ci/run installs it).
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF: {:?}", String::from_utf8_lossy(&pdf[..pdf.len().min(200)]));
    let path = std::env::temp_dir().join(format!("tp-{}.pdf", crate::helpers::unique("doc")));
    std::fs::write(&path, pdf).expect("write pdf");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    // Collapse the layout's runs of spaces so phrases can be looked for.
    String::from_utf8_lossy(&out.stdout)
        .split('\n')
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every phrase is in the text (a paragraph's phrase may wrap onto the next line).
pub fn has(text: &str, wanted: &[&str]) {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for w in wanted {
        assert!(text.contains(w) || flat.contains(w), "{w:?} is not in the document:\n{text}");
    }
}

#[actix_web::test]
async fn the_invoice_pdf_is_a_correct_cyrillic_invoice_for_its_buyer_only() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let (b, _, email) = buyer(&app, &t, INNS[0]).await;
    let placed = order(
        &app,
        &t,
        &b,
        &json!({"lines": [{"sku": "PCS-1", "qty": 2}, {"sku": "M-1", "qty": "1.5"}]}),
        Some("inv-1"),
    )
    .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let (number, invoice) = (
        placed.json()["number"].as_str().expect("number").to_owned(),
        placed.json()["invoice"].as_str().expect("invoice").to_owned(),
    );

    let (status, pdf, headers) = get_raw(&app, &api(&t, &format!("/orders/{number}/invoice.pdf")), Some(&b)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/pdf"));
    let disposition = headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(&format!("invoice-{invoice}.pdf")),
        "{disposition}"
    );
    assert!(pdf.len() < 150_000, "fonts are subset: {} bytes", pdf.len());
    let text = pdf_text(&pdf);
    // 2 × 100.00 + 1.5 m × 12.50 = 218.75, VAT 20/120 of each line.
    has(
        &text,
        &[
            &format!("Счёт на оплату № {invoice} от"),
            "ООО «Окна Профи», ИНН 7713076301, КПП 773601001",
            &format!("ИНН {}", INNS[0]),
            &format!("Заказ № {number}"),
            "Ручка оконная (арт. PCS-1)",
            "Уплотнитель (арт. M-1)",
            "1,5 м 12,50 18,75",
            "2 шт 100,00 200,00",
            "Итого: 218,75",
            "В том числе НДС (20 %): 36,46",
            "Всего к оплате: 218,75",
            "Всего наименований 2, на сумму 218,75 руб.",
            "Двести восемнадцать рублей 75 копеек",
            "ПАО Сбербанк",
            "044525225",
            "30101810400000000225",
            "40702810200000000001",
            "Иванов И. И.",
            "Петрова А. А.",
            "Оплата по QR-коду",
        ],
    );
    // The same invoice in English.
    let (_, pdf_en, _) = get_raw(&app, &api(&t, &format!("/orders/{number}/invoice.pdf?lang=en")), Some(&b)).await;
    has(
        &pdf_text(&pdf_en),
        &[&format!("Invoice No. {invoice} of"), "Total due: 218.75", "Two hundred eighteen roubles 75 kopecks"],
    );
    let r = app.get(&api(&t, &format!("/orders/{number}/invoice.pdf?lang=de")), Some(&b)).await;
    assert_eq!((r.status.as_u16(), r.error_code()), (422, "validation_failed".to_owned()), "{}", r.body);

    // Staff download any customer's invoice; another company and strangers get nothing.
    let (status, pdf, _) = get_raw(&app, &api(&t, &format!("/admin/orders/{number}/invoice.pdf")), Some(&s)).await;
    assert_eq!(status, 200);
    assert!(pdf_text(&pdf).contains(&format!("Счёт на оплату № {invoice}")));
    let (other, _, _) = buyer(&app, &t, INNS[1]).await;
    let (status, body, _) = get_raw(&app, &api(&t, &format!("/orders/{number}/invoice.pdf")), Some(&other)).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = get_raw(&app, &api(&t, &format!("/orders/{number}/invoice.pdf")), None).await;
    assert_eq!(status, 401);

    // The buyer was told by mail, with the PDF's address.
    let (schema, to) = (t.tenant.schema.clone(), email.clone());
    let _ = schema;
    let mails: Vec<(String, serde_json::Value)> = app
        .db(move |c| {
            use tradeport::db::schema_platform::mail_outbox as m;
            m::table.filter(m::to_email.eq(to)).select((m::subject, m::links)).load(c).expect("mail")
        })
        .await;
    let (subject, links) = mails.iter().find(|(s, _)| s.starts_with("Счёт")).expect("an invoice mail");
    assert_eq!(subject, &format!("Счёт № {invoice} на оплату заказа {number} / Invoice {invoice} for order {number}"));
    assert_eq!(links[0], json!(format!("/api/v1/orders/{number}/invoice.pdf")));
}

#[actix_web::test]
async fn the_reconciliation_statement_shows_every_movement_and_who_owes_whom() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[0]).await;
    let placed = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("rec-1")).await;
    let number = placed.json()["number"].as_str().expect("number").to_owned();
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{number}")), &json!({"status": "shipped"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post_json(
            &api(&t, "/admin/payments"),
            &json!({"customer_id": company, "amount": "150.00", "reference": "п/п 5"}),
            Some(&s),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let today = Utc::now().date_naive();
    let from = today - Duration::days(30);
    let path = format!("/account/reconciliation.pdf?from={from}&to={today}");
    let (status, pdf, _) = get_raw(&app, &api(&t, &path), Some(&b)).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    let text = pdf_text(&pdf);
    let ru = |d: chrono::NaiveDate| d.format("%d.%m.%Y").to_string();
    has(
        &text,
        &[
            "Акт сверки взаимных расчётов",
            &format!("за период с {} по {}", ru(from), ru(today)),
            "между ООО «Окна Профи» и",
            "Сальдо начальное",
            &format!("Отгрузка {number} 200,00"),
            "Оплата п/п 5 150,00",
            "Обороты за период 200,00 150,00",
            "Сальдо конечное 50,00",
            "задолженность в пользу ООО «Окна Профи» составляет 50,00 (Пятьдесят рублей 00 копеек)",
            "От поставщика",
            "От покупателя",
            "Иванов Иван Иванович",
        ],
    );
    // Staff make the same statement for the customer.
    let (status, pdf, _) = get_raw(
        &app,
        &api(&t, &format!("/admin/customers/{company}/reconciliation.pdf?from={from}&to={today}")),
        Some(&s),
    )
    .await;
    assert_eq!(status, 200);
    assert!(pdf_text(&pdf).contains("Сальдо конечное 50,00"));
    // A period backwards is refused with the reason.
    let r = app.get(&api(&t, &format!("/account/reconciliation.pdf?from={today}&to={from}")), Some(&b)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.json()["error"]["fields"]["from"].is_string(), "{}", r.body);
}

/// A statement as a bank client writes it for 1C, in windows-1251.
pub fn statement(docs: &[(&str, &str, &str, &str, &str, &str)]) -> Vec<u8> {
    let today = Utc::now().date_naive().format("%d.%m.%Y").to_string();
    let mut s = format!(
        "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\nОтправитель=Бухгалтерия\r\nДатаСоздания={today}\r\n\
         ДатаНачала={today}\r\nДатаКонца={today}\r\nРасчСчет=40702810200000000001\r\nСекцияРасчСчет\r\nРасчСчет=40702810200000000001\r\nКонецРасчСчет\r\n"
    );
    for (number, amount, payer_inn, payee_inn, payee_account, purpose) in docs {
        s.push_str(&format!(
            "СекцияДокумент=Платежное поручение\r\nНомер={number}\r\nДата={today}\r\nСумма={amount}\r\nПлательщикСчет=40702810900000000002\r\n\
             ПлательщикИНН={payer_inn}\r\nПлательщик1=ООО \"Покупатель\"\r\nПолучательСчет={payee_account}\r\nДатаПоступило={today}\r\n\
             ПолучательИНН={payee_inn}\r\nНазначениеПлатежа={purpose}\r\nКонецДокумента\r\n"
        ));
    }
    s.push_str("КонецФайла\r\n");
    encoding_rs::WINDOWS_1251.encode(&s).0.into_owned()
}

async fn import(app: &TestApp, t: &TestTenant, token: &str, bytes: &[u8]) -> crate::helpers::Resp {
    let boundary = "----tradeport-statement";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"kl_to_1c.txt\"\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = app
        .request(awc::http::Method::POST, &api(t, "/admin/payments/import"))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Authorization", format!("Bearer {token}")));
    app.send_bytes(req, body).await
}

async fn invoice_status(app: &TestApp, t: &TestTenant, token: &str, number: &str) -> (String, String) {
    let r = app.get(&api(t, "/invoices"), Some(token)).await;
    let v = r.json();
    let i = v["items"].as_array().expect("items").iter().find(|i| i["number"] == number).expect("invoice").clone();
    (i["status"].as_str().unwrap_or_default().to_owned(), i["paid"].as_str().unwrap_or_default().to_owned())
}

#[actix_web::test]
async fn a_bank_statement_pays_invoices_by_inn_and_number_once_and_reports_the_rest() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[0]).await;
    let first = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("bank-1")).await;
    let second = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("bank-2")).await;
    let inv1 = first.json()["invoice"].as_str().expect("invoice").to_owned();
    let inv2 = second.json()["invoice"].as_str().expect("invoice").to_owned();
    let (us, our_account) = (INNS[7], "40702810200000000001");
    let file = statement(&[
        ("101", "200.00", INNS[0], us, our_account, &format!("Оплата по счёту № {inv2} от сегодня, в т.ч. НДС")),
        ("102", "50.00", INNS[0], us, our_account, "Оплата за окна"),
        ("103", "75.00", INNS[2], us, our_account, "Оплата по счету № 1"),
        ("104", "999.00", us, INNS[0], "40702810900000000002", "Возврат покупателю"),
        ("105", "10.00", INNS[0], INNS[3], "40702810500000000003", "Платёж другому поставщику"),
    ]);
    let r = import(&app, &t, &s, &file).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rep = r.json();
    assert_eq!(
        (&rep["documents"], &rep["registered"], &rep["duplicates"], &rep["unmatched"], &rep["skipped"]),
        (&json!(5), &json!(2), &json!(0), &json!(1), &json!(2)),
        "{rep}"
    );
    let items = rep["items"].as_array().expect("items");
    let by = |n: &str| items.iter().find(|i| i["number"] == n).expect("item").clone();
    assert_eq!(
        (by("101")["status"].as_str(), by("101")["invoice"].as_str()),
        (Some("registered"), Some(inv2.as_str()))
    );
    assert_eq!((by("102")["status"].as_str(), by("102")["reason_code"].as_str()), (Some("registered"), Some("oldest")));
    assert_eq!(
        (by("103")["status"].as_str(), by("103")["reason_code"].as_str()),
        (Some("unmatched"), Some("no_customer"))
    );
    assert_eq!(by("103")["reason_arg"], INNS[2]);
    assert_eq!(by("104")["reason_code"], "outgoing");
    assert_eq!(by("105")["reason_code"], "not_ours");
    // The named invoice is paid, the unnamed money went to the oldest one.
    assert_eq!(invoice_status(&app, &t, &b, &inv2).await, ("paid".into(), "200.00".into()));
    assert_eq!(invoice_status(&app, &t, &b, &inv1).await, ("partly_paid".into(), "50.00".into()));
    let r = app.get(&api(&t, &format!("/admin/customers/{company}/ledger")), Some(&s)).await;
    assert_eq!(r.json()["position"]["balance"], "250.00", "{}", r.body);

    // The same statement again registers nothing.
    let r = import(&app, &t, &s, &file).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((&r.json()["registered"], &r.json()["duplicates"]), (&json!(0), &json!(2)), "{}", r.body);
    let r = app.get(&api(&t, "/admin/payments"), Some(&s)).await;
    assert_eq!(r.json()["total"], 2, "{}", r.body);

    // A file re-saved in UTF-8 while it says windows-1251, or cut short: refused, nothing imported.
    let text = encoding_rs::WINDOWS_1251.decode(&file).0.into_owned();
    for (bad, why) in [(text.clone().into_bytes(), "UTF-8"), (file[..file.len() - 30].to_vec(), "truncated")] {
        let r = import(&app, &t, &s, &bad).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.json()["error"]["fields"]["file"].as_str().unwrap_or_default().contains(why), "{}", r.body);
    }
    let r = app.get(&api(&t, "/admin/payments/imports"), Some(&s)).await;
    assert_eq!(r.json()["total"], 2, "two imports recorded, the refused files none: {}", r.body);
    let id = r.json()["items"][0]["id"].as_i64().expect("id");
    let r = app.get(&api(&t, &format!("/admin/payments/imports/{id}")), Some(&s)).await;
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(5));
    // Buyers cannot import.
    let r = import(&app, &t, &b, &file).await;
    assert!(matches!(r.status.as_u16(), 401 | 403), "{}", r.body);
}

#[actix_web::test]
async fn orders_on_account_beyond_credit_wait_for_the_supplier_when_the_store_says_so() {
    let app = TestApp::spawn().await;
    let (t, s) = supplier(&app).await;
    let (b, company, _) = buyer(&app, &t, INNS[0]).await;
    let r = app
        .patch_json(&api(&t, &format!("/admin/customers/{company}")), &json!({"credit_limit": "300.00"}), Some(&s))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = json!({"lines": [{"sku": "PCS-1", "qty": 4}], "payment_method": "on_account"});
    // By default an order above the limit is refused.
    let r = order(&app, &t, &b, &body, Some("hold-0")).await;
    assert_eq!(r.status, 422, "{}", r.body);

    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"credit_control": "hold"}), Some(&s)).await;
    assert_eq!((r.status.as_u16(), r.json()["credit_control"].as_str()), (200, Some("hold")), "{}", r.body);
    let r = app.patch_json(&api(&t, "/admin/settings"), &json!({"credit_control": "maybe"}), Some(&s)).await;
    assert_eq!(r.status, 422, "{}", r.body);

    let r = order(&app, &t, &b, &body, Some("hold-1")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let placed = r.json();
    assert_eq!((placed["status"].as_str(), placed["invoice"].as_str()), (Some("on_hold"), None), "{placed}");
    let number = placed["number"].as_str().expect("number").to_owned();
    // The stock is kept for it meanwhile.
    assert_eq!(crate::ordering::stock_of(&app, &t, "PCS-1").await, "6");
    // Staff release it: it becomes new and gets its invoice.
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{number}")), &json!({"status": "shipped"}), Some(&s)).await;
    assert_eq!(r.status, 409, "released first: {}", r.body);
    let r = app.patch_json(&api(&t, &format!("/admin/orders/{number}")), &json!({"status": "new"}), Some(&s)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.get(&api(&t, &format!("/orders/{number}")), Some(&b)).await;
    assert_eq!(r.json()["status"], "new");
    assert!(r.json()["invoice"].is_string(), "{}", r.body);

    // Within the limit but with overdue debt: held as well.
    let (schema, due) = (t.tenant.schema.clone(), Utc::now().date_naive() - Duration::days(10));
    app.db(move |c| {
        tradeport::db::in_tenant(c, &schema, |c| {
            Ok(diesel::sql_query(format!(
                "INSERT INTO ledger_entries (company_id, side, kind, amount, booked_on, due_on, document) \
                 VALUES ({company}, 'debit', 'opening', 1.00, '{due}', '{due}', 'Сальдо')"
            ))
            .execute(c)?)
        })
        .expect("opening debt")
    })
    .await;
    let r = app
        .patch_json(&api(&t, &format!("/admin/customers/{company}")), &json!({"credit_limit": "10000.00"}), Some(&s))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = order(
        &app,
        &t,
        &b,
        &json!({"lines": [{"sku": "PCS-1", "qty": 2}], "payment_method": "on_account"}),
        Some("hold-2"),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.json()["status"].as_str()), (201, Some("on_hold")), "{}", r.body);
    // Paid by invoice (not on account), nothing waits.
    let r = order(&app, &t, &b, &json!({"lines": [{"sku": "PCS-1", "qty": 2}]}), Some("hold-3")).await;
    assert_eq!((r.status.as_u16(), r.json()["status"].as_str()), (201, Some("new")), "{}", r.body);
}
